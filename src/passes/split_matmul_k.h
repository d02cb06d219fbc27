// split-matmul-k: MatMul(A[..., M, K], B[K, N] constant) with a reduction K beyond what the target accepts
// becomes the sum of MatMuls over K chunks: A[..., k0:k1] · B[k0:k1, :] + … Same products; only the order of
// the float additions changes (one partial sum per chunk).
#pragma once

#include <cstdint>

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult split_matmul_k(ir::Model& model, int64_t max_k, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
