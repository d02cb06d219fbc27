// Quantization parameters of one value: how a real tensor is stored on an integer grid,
//   real = (q - zero_point) * scale,  q in [storage_min(), storage_max()].
//
// Which value carries them says what they mean (the value's own dtype tells):
//   * an integer value (the output of a QuantizeLinear, the input of a DequantizeLinear, an integer weight
//     initializer a DequantizeLinear reads): its elements ARE q; the import fills these from the Q/DQ nodes;
//   * a float value: a quantization point a quantizer chose; the export writes it as a QuantizeLinear /
//     DequantizeLinear pair (a float weight initializer is stored quantized, read through a DequantizeLinear).
//
// Granularity: one scale for the tensor; one per channel along `axis`; or, per group, one per block of
// `group_size` consecutive elements of each channel: a channel's elements (every index along the other dims, in
// row-major order) are cut into groups of group_size, the last one shorter when group_size does not divide them.
// The scales are then a [channels, groups per channel] table, row-major. With the channel axis of a weight this
// is the grouping of GPTQ and of ONNX Runtime's MatMulNBits: a Conv weight [M, C, KH, KW] (axis 0) groups each
// output channel's C x KH x KW inputs in (c, kh, kw) order; a MatMul weight [K, N] (axis 1) groups the K axis of
// each column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "npukit/dtype.h"

namespace npukit::ir {

// How a real value divided by its scale is rounded to the grid.
enum class RoundingMode {
  half_to_even,         // ONNX QuantizeLinear, numpy, torch, TensorRT, ORT
  half_away_from_zero,  // C std::round: AIMET 1.x, NCNN/MNN per PPQ
  half_up,              // floor(x + 0.5): toward +infinity on ties (NXP per PPQ, ESP-DL)
};
std::string_view rounding_mode_name(RoundingMode mode);  // "half_to_even", ...
std::optional<RoundingMode> rounding_mode_from_name(std::string_view name);

// Where the clamp to the grid happens when quantizing (see quantization/quantize.h for the arithmetic).
enum class ClampOrder {
  round_then_clamp,  // clamp(round(x / s) + zp): ONNX QuantizeLinear, AIMET 2.x, PPQ
  clamp_then_round,  // round(clamp(x / s + zp)): TVM's qnn.quantize implementation
};
std::string_view clamp_order_name(ClampOrder order);

enum class QuantGranularity { per_tensor, per_channel, per_group };
std::string_view granularity_name(QuantGranularity granularity);  // "per_tensor", ...

struct QuantParams {
  // The grid's element type: i8, u8, i16, u16, i32 (bias), or i4 / u4 (4-bit grids held one value per int8 /
  // uint8 byte, see npukit/dtype.h).
  DType storage = DType::i8;
  // Signed grids only: leave out the lowest value, [-127, 127] instead of [-128, 127] (TFLite weights).
  bool narrow_range = false;
  std::vector<float> scales;          // one (per tensor), one per channel, or [channels, groups] row-major
  std::vector<int64_t> zero_points;   // empty: all zero; otherwise as many as scales
  int64_t axis = -1;                  // per channel / per group: the axis (non-negative); per tensor: -1
  int64_t group_size = 0;             // per group: elements per group within a channel; otherwise 0
  RoundingMode rounding = RoundingMode::half_to_even;

  QuantGranularity granularity() const;
  int bits() const;             // 4, 8, 16 or 32
  int64_t storage_min() const;  // -128 (-127 narrow), 0, -32768, -8, ...
  int64_t storage_max() const;
  int64_t zero_point(size_t index) const { return zero_points.empty() ? 0 : zero_points[index]; }
  bool symmetric() const;       // every zero point is 0

  // Throws Error(invalid_argument) naming `what` (a value or node) when the parameters are not usable: a
  // storage type that is not an integer grid, no scale, a scale that is not finite and > 0, zero points that
  // do not match the scales or lie outside the grid, an axis or a group size that does not fit `dims` (when
  // the dims are known), a count of scales other than the channels along the axis (per group: channels times
  // groups per channel).
  void validate(const std::optional<std::vector<int64_t>>& dims, const std::string& what) const;

  // Per group: the groups of each channel of a tensor of `dims` (ceil(elements per channel / group_size));
  // 1 otherwise.
  int64_t groups_per_channel(const std::vector<int64_t>& dims) const;

  bool operator==(const QuantParams& other) const = default;
};

// "i8 per_channel(axis 0, 64 scales) zero point 0", for messages and reports.
std::string describe(const QuantParams& params);

}  // namespace npukit::ir
