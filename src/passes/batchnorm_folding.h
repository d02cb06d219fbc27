// Folds an inference BatchNormalization that directly follows a Conv (constant weights, the Conv output
// read by nothing else) into the Conv's weights and bias:
//   W'[m] = W[m] * s[m],  B'[m] = (B[m] - mean[m]) * s[m] + beta[m],  s = gamma / sqrt(var + epsilon).
#pragma once

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult fold_batchnorm_into_conv(ir::Model& model);

}  // namespace npukit::passes
