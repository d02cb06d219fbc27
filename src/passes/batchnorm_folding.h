// Folds an inference BatchNormalization that directly follows a Conv, ConvTranspose or Gemm (constant
// weights, the producer's output read by nothing else) into the producer's weights and bias:
//   W'[m] = W[m] * s[m],  B'[m] = (B[m] - mean[m]) * s[m] + beta[m],  s = gamma / sqrt(var + epsilon),
// where m is the output channel: dim 0 of a Conv weight, dim 1 (per group) of a ConvTranspose weight, the
// output column of a Gemm (whose beta · C becomes the new C, with beta 1).
#pragma once

#include <set>
#include <string>

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

// The Conv / ConvTranspose / Gemm node `batch_norm` folds into, or nullptr when it does not fold (not an
// inference BatchNormalization, a producer of another kind, weights or statistics not constant f32 of the
// right size, or the producer's output read elsewhere or named in `protected_names`).
const ir::Node* batchnorm_fold_target(const ir::Node& batch_norm, const std::set<std::string>& protected_names = {});

PassResult fold_batchnorm_into_conv(ir::Model& model);

}  // namespace npukit::passes
