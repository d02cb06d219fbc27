// Named lists of passes, one per use. The cpu backend's list runs on the session's private copy of the
// model when a session is created with backend "cpu"; none of them changes the model's meaning.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

// fuse-qdq-integer (QDQ groups → QLinearConv / QLinearMatMul, as ONNX Runtime runs them), fold-constants, (then shape inference and folding again, while inference learns new static shapes),
// eliminate-identities, fold-batchnorm, fuse-activations, in that order (folding first exposes constant
// weights and Clip bounds to the later passes).
//
// `kept` names computed values the caller wants handed back (EngineOptions::keep_values: calibration's
// quantization points, `npukit run --keep c`): no pass removes them. While the passes run they count as
// graph outputs, which every pass already leaves in place (a Conv whose output is kept is not fused with
// its SiLU or BatchNorm, a kept value is not folded to a constant); afterwards they are ordinary values
// again. The word "all" (every value the backend computes) pins nothing.
std::vector<PassResult> run_cpu_pass_list(ir::Model& model, const std::vector<std::string>& kept = {});

}  // namespace npukit::passes
