// gemm-to-conv: a fully connected layer Gemm(A[M,K], B const, C const) becomes Reshape → 1×1 Conv →
// Reshape, for NPUs that run convolutions but list no FullyConnected/Gemm. Same products and sums; alpha and
// beta are folded into the weights and bias.
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult gemm_to_conv(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
