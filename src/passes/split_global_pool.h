// split-global-pool: a GlobalAveragePool or GlobalMaxPool over a map larger than the target pools globally
// (RKNN: at most 7×7) becomes a chain of AveragePool / MaxPool steps with kernel = stride, each within the
// target's window limit, then a GlobalAveragePool / GlobalMaxPool over what is left:
//   160×160 → AveragePool 5×5 s5 → 32×32 → 4×4 s4 → 8×8 → 4×4 s4 → 2×2 → GlobalAveragePool.
// Exact (up to float summation order) only when the factors divide the size: every step then averages
// equal, non-overlapping blocks, and the mean of equal-sized block means is the mean. A size with a prime
// factor above the window limit (11, 13, 17 …, 22 = 2·11) has no exact average chain: the node is left alone
// and the pass says so. The maximum needs no equal blocks, only windows that cover the map: where no
// dividing chain exists, GlobalMaxPool gets overlapping windows (13 → MaxPool 7 stride 6 → 2), still exact.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

// One pooling step of a chain.
struct PoolStep {
  int64_t kernel_height = 1, kernel_width = 1;
  int64_t stride_height = 1, stride_width = 1;
  bool operator==(const PoolStep&) const = default;
};
using PoolSteps = std::vector<PoolStep>;

// The pooling steps that take height × width down to at most `max_global` per axis with kernels and strides
// of at most `max_window`: windows tiling what is left (kernel = stride, dividing it), or, when
// `overlapping_windows` (exact for the maximum only) and no tiling exists, windows that overlap but cover it.
// Empty when the map already fits; nullopt when no exact chain exists.
std::optional<PoolSteps> plan_global_pool_chain(int64_t height, int64_t width, int64_t max_window, int64_t max_global,
                                                bool overlapping_windows = false);

// The 4-D input's (height, width) of a GlobalAveragePool / GlobalMaxPool, or nullopt.
std::optional<std::pair<int64_t, int64_t>> global_pool_map_size(const ir::Node& node);

// Limits per pooling kind; a limit of 0 leaves that kind alone.
struct GlobalPoolLimits {
  int64_t max_global = 0;  // the largest map side the global pool takes
  int64_t max_window = 0;  // the largest kernel (= stride) of one windowed pooling step
};

PassResult split_global_pool(ir::Model& model, const GlobalPoolLimits& average, const GlobalPoolLimits& maximum,
                             const NodeFilter& filter = every_node);

}  // namespace npukit::passes
