// batchnorm-to-scale: an inference BatchNormalization with no Conv, ConvTranspose or Gemm to fold into
// (after a Concat, an activation, a graph input) becomes Mul + Add with per-channel constants:
//   y = x · s + t,  s = gamma / sqrt(var + epsilon),  t = beta - mean · s,
// shaped [C, 1, …] so they broadcast over the channel axis (1). Equal up to float rounding: the reference
// BatchNormalization computes (x - mean) / sqrt(var + epsilon) · gamma + beta in another order.
// For targets that run Mul and Add but not BatchNormalization, or only right after a Conv.
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

// True when `node` is an inference BatchNormalization on an f32 input of known rank >= 2 with constant f32
// statistics of the channel count: what this pass rewrites.
bool batchnorm_becomes_scale(const ir::Node& node);

PassResult batchnorm_to_scale(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
