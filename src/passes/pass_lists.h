// Named lists of passes, one per use. The cpu backend's list runs on the session's private copy of the
// model when a session is created with backend "cpu"; none of them changes the model's meaning.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

// fuse-qdq-integer (QDQ groups → QLinearConv / QLinearMatMul, as ONNX Runtime runs them), fold-constants, (then shape inference and folding again, while inference learns new static shapes),
// eliminate-identities, fold-batchnorm, fuse-activations, in that order (folding first exposes constant
// weights and Clip bounds to the later passes).
std::vector<PassResult> run_cpu_pass_list(ir::Model& model);

}  // namespace npukit::passes
