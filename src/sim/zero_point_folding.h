// The constants the fast IntegerConv / IntegerMatMul fold their zero points into (fast_integer_kernels.h):
// the weights moved to the s8 grid, and per output channel
//   offset[m] = bias[m] - z_u · Σw'[m] + K · z_u · z_w'[m]          (wrapping int32)
// so that   accumulator = oneDNN's Σ x_u·w'  +  offset[m]  -  z_w'[m] · (window sum of x_u).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "npukit/tensor.h"

namespace npukit::sim {

struct FoldedWeights {
  std::vector<int8_t> weights;          // w' = w - 128 for u8 weights, w for s8; the tensor's layout
  std::vector<int32_t> zero_points;     // z_w' per output channel
  std::vector<int32_t> offsets;         // per output channel, as above
  bool any_weight_zero_point = false;   // some z_w' != 0: the window sums are needed
};

inline int32_t wrapping_add(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
inline int32_t wrapping_subtract(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }
inline int32_t wrapping_multiply(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

// `weights`: i8 or u8, `outputs` channels of `per_output` values each, the output channel outermost when
// `output_outermost` (Conv [M, C/g, kh, kw]) or innermost (MatMul [K, N]). `weight_zero_points`: empty, one,
// or one per output. `bias`: null or one int32 per output. `input_zero_point_unsigned`: z_u. Empty when the
// true accumulator could leave int32 (255 · 255 · per_output + max |bias| >= 2^31) or the weights are not 8-bit.
std::optional<FoldedWeights> fold_zero_points(const Tensor& weights, int64_t outputs, int64_t per_output,
                                              bool output_outermost, const std::vector<int32_t>& weight_zero_points,
                                              const Tensor* bias, int32_t input_zero_point_unsigned);

}  // namespace npukit::sim
