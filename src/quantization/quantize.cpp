#include "quantization/quantize.h"

#include <algorithm>
#include <cmath>

#include "npukit/error.h"

namespace npukit::quantization {

double round_with(double value, RoundingMode mode) {
  const double floor_value = std::floor(value);
  const double fraction = value - floor_value;  // exact: value and its floor share the exponent range
  if (fraction < 0.5) return floor_value;
  if (fraction > 0.5) return floor_value + 1;
  switch (mode) {  // a tie: x.5
    case RoundingMode::half_to_even: return std::fmod(floor_value, 2.0) == 0 ? floor_value : floor_value + 1;
    case RoundingMode::half_away_from_zero: return value < 0 ? floor_value : floor_value + 1;
    case RoundingMode::half_up: return floor_value + 1;
  }
  return floor_value;
}

int64_t quantize_value(float value, float scale, int64_t zero_point, Grid grid, RoundingMode mode, ClampOrder order) {
  if (std::isnan(value)) return std::clamp(zero_point, grid.minimum, grid.maximum);
  const float scaled = value / scale;
  if (order == ClampOrder::clamp_then_round) {
    const float shifted = scaled + static_cast<float>(zero_point);
    const float clamped = std::clamp(shifted, static_cast<float>(grid.minimum), static_cast<float>(grid.maximum));
    return static_cast<int64_t>(round_with(clamped, mode));
  }
  // Clamp the rounded value in double first: a huge x / s must saturate, not overflow int64.
  const double rounded = round_with(scaled, mode) + static_cast<double>(zero_point);
  return static_cast<int64_t>(std::clamp(rounded, static_cast<double>(grid.minimum), static_cast<double>(grid.maximum)));
}

DType container_dtype(DType storage) {
  if (storage == DType::i4) return DType::i8;
  if (storage == DType::u4) return DType::u8;
  return storage;
}

size_t parameter_index(const ir::QuantParams& params, const Shape& dims, int64_t flat_index) {
  if (params.axis < 0) return 0;
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(params.axis) + 1; d < dims.size(); ++d) inner *= dims[d];
  const int64_t extent = dims[static_cast<size_t>(params.axis)];
  const int64_t channel = (flat_index / inner) % extent;
  if (params.group_size <= 0) return static_cast<size_t>(channel);
  // The element's place among its channel's elements (row-major over the other dims), then its group.
  const int64_t outer = flat_index / (inner * extent);
  const int64_t position = outer * inner + flat_index % inner;
  const int64_t groups = params.groups_per_channel(dims);
  return static_cast<size_t>(channel * groups + position / params.group_size);
}

namespace {

template <typename T>
void store(Tensor& out, int64_t index, int64_t value) {
  out.data<T>()[index] = static_cast<T>(value);
}

}  // namespace

Tensor quantize_tensor(const Tensor& real, const ir::QuantParams& params, ClampOrder order) {
  if (real.dtype() != DType::f32) {
    throw Error(ErrorKind::invalid_argument,
                "quantize_tensor needs an f32 tensor, got " + std::string(dtype_name(real.dtype())));
  }
  params.validate(real.shape(), "the tensor");
  const DType container = container_dtype(params.storage);
  Tensor out(container, real.shape());
  const Grid grid{params.storage_min(), params.storage_max()};
  const float* source = real.data<float>();
  for (int64_t i = 0; i < real.element_count(); ++i) {
    const size_t p = parameter_index(params, real.shape(), i);
    const int64_t q = quantize_value(source[i], params.scales[p], params.zero_point(p), grid, params.rounding, order);
    switch (container) {
      case DType::i8: store<int8_t>(out, i, q); break;
      case DType::u8: store<uint8_t>(out, i, q); break;
      case DType::i16: store<int16_t>(out, i, q); break;
      case DType::u16: store<uint16_t>(out, i, q); break;
      case DType::i32: store<int32_t>(out, i, q); break;
      default: throw Error(ErrorKind::internal, "quantize_tensor: unexpected container type");
    }
  }
  return out;
}

}  // namespace npukit::quantization
