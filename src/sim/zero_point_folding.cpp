#include "sim/zero_point_folding.h"

#include <cstdlib>

namespace npukit::sim {

std::optional<FoldedWeights> fold_zero_points(const Tensor& weights, int64_t outputs, int64_t per_output,
                                              bool output_outermost, const std::vector<int32_t>& weight_zero_points,
                                              const Tensor* bias, int32_t input_zero_point_unsigned) {
  if (weights.dtype() != DType::i8 && weights.dtype() != DType::u8) return std::nullopt;
  if (weights.element_count() != outputs * per_output) return std::nullopt;
  if (bias && (bias->dtype() != DType::i32 || bias->element_count() != outputs)) return std::nullopt;
  int64_t largest_bias = 0;
  for (int64_t m = 0; bias && m < outputs; ++m) largest_bias = std::max<int64_t>(largest_bias, std::llabs(bias->data<int32_t>()[m]));
  // |x - z_x| <= 255 and |w - z_w| <= 255: the sum stays inside int32, so wrapping arithmetic is exact.
  if (255 * 255 * per_output + largest_bias >= int64_t{1} << 31) return std::nullopt;

  FoldedWeights folded;
  const bool is_unsigned = weights.dtype() == DType::u8;
  const int32_t shift = is_unsigned ? 128 : 0;
  const int64_t count = outputs * per_output;
  folded.weights.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int32_t value = is_unsigned ? weights.data<uint8_t>()[i] : weights.data<int8_t>()[i];
    folded.weights[static_cast<size_t>(i)] = static_cast<int8_t>(value - shift);
  }
  std::vector<int32_t> sums(static_cast<size_t>(outputs), 0);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t m = output_outermost ? i / per_output : i % outputs;
    sums[static_cast<size_t>(m)] += folded.weights[static_cast<size_t>(i)];
  }
  folded.zero_points.resize(static_cast<size_t>(outputs));
  folded.offsets.resize(static_cast<size_t>(outputs));
  for (int64_t m = 0; m < outputs; ++m) {
    const size_t index = static_cast<size_t>(m);
    const int32_t zero_point =
        (weight_zero_points.empty() ? 0 : weight_zero_points[index % weight_zero_points.size()]) - shift;
    folded.zero_points[index] = zero_point;
    folded.any_weight_zero_point = folded.any_weight_zero_point || zero_point != 0;
    int32_t offset = bias ? bias->data<int32_t>()[m] : 0;
    offset = wrapping_subtract(offset, wrapping_multiply(input_zero_point_unsigned, sums[index]));
    offset = wrapping_add(offset, wrapping_multiply(wrapping_multiply(static_cast<int32_t>(per_output), input_zero_point_unsigned), zero_point));
    folded.offsets[index] = offset;
  }
  return folded;
}

}  // namespace npukit::sim
