// Reference QuantizeLinear, DequantizeLinear (per tensor and per axis) and DynamicQuantizeLinear.
//
// Rounding is half to even and values saturate to the integer type's range, as the ONNX spec says; the
// arithmetic is float (x / scale, then round), which is what ONNX Runtime computes, so results match it
// bit for bit.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/window_geometry.h"

namespace npukit::runtime::ref {

namespace {

// Scale and zero point per element group: `count` groups along the quantization axis, each covering
// `inner` consecutive elements (count = 1, inner = everything for per-tensor).
struct QuantizationLayout {
  int64_t count = 1;
  int64_t inner = 1;
  std::vector<float> scales;
  std::vector<int64_t> zero_points;

  int64_t group_of(int64_t flat_index) const { return (flat_index / inner) % count; }
};

QuantizationLayout quantization_layout(const KernelContext& context, const Tensor& data, const Tensor& scale,
                                       const Tensor* zero_point) {
  if (scale.dtype() != DType::f32) context.unsupported("scale of element type " + std::string(dtype_name(scale.dtype())) + " is not supported (float expected)");
  QuantizationLayout layout;
  layout.scales = scale.to_float_vector();
  // A one-element scale is per-tensor whatever its rank (ONNX Runtime reads a [1] scale the same way).
  if (scale.element_count() == 1) {
    layout.inner = std::max<int64_t>(1, data.element_count());
  } else {
    if (context.opset() < 13) context.invalid("per-axis scales need opset 13, and scale is " + shape_to_string(scale.shape()));
    if (scale.rank() != 1) context.invalid("scale must be a scalar or 1-D, got " + shape_to_string(scale.shape()));
    const int64_t axis = normalize_axis(context.attribute_int("axis", 1), static_cast<int64_t>(data.rank()), context);
    if (scale.dim(0) != data.dim(axis)) {
      context.invalid("scale has " + std::to_string(scale.dim(0)) + " values but axis " + std::to_string(axis) +
                      " of the input has size " + std::to_string(data.dim(axis)));
    }
    layout.count = data.dim(axis);
    layout.inner = product_from(data.shape(), static_cast<size_t>(axis + 1));
  }
  if (zero_point) {
    if (zero_point->shape() != scale.shape() && zero_point->element_count() != static_cast<int64_t>(layout.scales.size())) {
      context.invalid("zero point shape " + shape_to_string(zero_point->shape()) + " differs from scale shape " +
                      shape_to_string(scale.shape()));
    }
    layout.zero_points = zero_point->to_int64_vector();
  } else {
    layout.zero_points.assign(layout.scales.size(), 0);
  }
  return layout;
}

struct IntegerRange {
  int64_t low = 0, high = 255;
};

IntegerRange range_of(const KernelContext& context, DType type) {
  switch (type) {
    case DType::u8: return {0, 255};
    case DType::i8: return {-128, 127};
    case DType::u16: return {0, 65535};
    case DType::i16: return {-32768, 32767};
    case DType::i32: return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    default: context.unsupported("quantized element type " + std::string(dtype_name(type)) + " is not supported");
  }
}

// round_half_to_even(value) + zero_point, saturated; in float as ONNX Runtime does.
int64_t quantize_value(float value, float scale, int64_t zero_point, IntegerRange range) {
  float rounded = std::nearbyint(value / scale) + static_cast<float>(zero_point);
  if (std::isnan(rounded)) rounded = 0;
  rounded = std::clamp(rounded, static_cast<float>(range.low), static_cast<float>(range.high));
  return std::clamp(static_cast<int64_t>(rounded), range.low, range.high);
}

void store_integer(Tensor& output, int64_t index, int64_t value) {
  switch (output.dtype()) {
    case DType::u8: output.data<uint8_t>()[index] = static_cast<uint8_t>(value); break;
    case DType::i8: output.data<int8_t>()[index] = static_cast<int8_t>(value); break;
    case DType::u16: output.data<uint16_t>()[index] = static_cast<uint16_t>(value); break;
    case DType::i16: output.data<int16_t>()[index] = static_cast<int16_t>(value); break;
    case DType::i32: output.data<int32_t>()[index] = static_cast<int32_t>(value); break;
    default: break;
  }
}

void quantize_linear_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& scale = context.input(1);
  const Tensor* zero_point = context.optional_input(2);
  const DType output_type = zero_point ? zero_point->dtype() : DType::u8;
  // int16 / uint16: ONNX opset 21, and com.microsoft QuantizeLinear (read as this op: onnx_import_conversion.cpp).
  if (output_type != DType::u8 && output_type != DType::i8 && output_type != DType::u16 && output_type != DType::i16) {
    context.unsupported("QuantizeLinear to " + std::string(dtype_name(output_type)) + " is not supported");
  }
  const IntegerRange range = range_of(context, output_type);
  const QuantizationLayout layout = quantization_layout(context, input, scale, zero_point);
  Tensor& output = context.allocate_output(0, output_type, input.shape());
  dispatch_dtype(input.dtype(), kFloatTypes | dtype_bit(DType::i32), "QuantizeLinear", [&]<typename T>() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, Float16> ||
                  std::is_same_v<T, BFloat16> || std::is_same_v<T, int32_t>) {
      const T* source = input.data<T>();
      for (int64_t i = 0; i < input.element_count(); ++i) {
        const int64_t group = layout.group_of(i);
        store_integer(output, i,
                      quantize_value(static_cast<float>(source[i]), layout.scales[group], layout.zero_points[group], range));
      }
    }
  });
}

void dequantize_linear_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& scale = context.input(1);
  const Tensor* zero_point = context.optional_input(2);
  if (input.dtype() != DType::u8 && input.dtype() != DType::i8 && input.dtype() != DType::u16 &&
      input.dtype() != DType::i16 && input.dtype() != DType::i32) {
    context.unsupported("DequantizeLinear from " + std::string(dtype_name(input.dtype())) + " is not supported");
  }
  if (zero_point && zero_point->dtype() != input.dtype()) context.invalid("x_zero_point must have the element type of x");
  const QuantizationLayout layout = quantization_layout(context, input, scale, zero_point);
  if (input.dtype() == DType::i32) {
    for (int64_t value : layout.zero_points) {
      if (value != 0) context.invalid("an int32 input must have a zero point of 0");
    }
  }
  Tensor& output = context.allocate_output(0, DType::f32, input.shape());
  float* destination = output.data<float>();
  const std::vector<int64_t> values = input.to_int64_vector();
  for (int64_t i = 0; i < input.element_count(); ++i) {
    const int64_t group = layout.group_of(i);
    destination[i] = static_cast<float>(values[i] - layout.zero_points[group]) * layout.scales[group];
  }
}

void dynamic_quantize_linear_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  if (input.dtype() != DType::f32) context.unsupported("DynamicQuantizeLinear of " + std::string(dtype_name(input.dtype())) + " is not supported");
  const float* source = input.data<float>();
  // The range always includes 0 so that 0 is exactly representable.
  float minimum = 0, maximum = 0;
  for (int64_t i = 0; i < input.element_count(); ++i) {
    if (std::isnan(source[i])) context.invalid("the input contains NaN");
    minimum = std::min(minimum, source[i]);
    maximum = std::max(maximum, source[i]);
  }
  const float scale = (maximum - minimum) / 255.0f;
  int64_t zero_point = 0;
  if (scale > 0) zero_point = static_cast<int64_t>(std::nearbyint(std::clamp(0.0f - minimum / scale, 0.0f, 255.0f)));
  Tensor& output = context.allocate_output(0, DType::u8, input.shape());
  uint8_t* destination = output.data<uint8_t>();
  if (scale > 0) {
    for (int64_t i = 0; i < input.element_count(); ++i) {
      destination[i] = static_cast<uint8_t>(quantize_value(source[i], scale, zero_point, {0, 255}));
    }
  }
  context.allocate_output(1, DType::f32, {}).data<float>()[0] = scale;
  context.allocate_output(2, DType::u8, {}).data<uint8_t>()[0] = static_cast<uint8_t>(zero_point);
}

}  // namespace

void register_quantization_kernels(KernelRegistry& registry) {
  registry.add("QuantizeLinear", quantize_linear_kernel, 10, 18);
  registry.add("DequantizeLinear", dequantize_linear_kernel, 10, 18);
  registry.add("DynamicQuantizeLinear", dynamic_quantize_linear_kernel, 11, 18);
}

}  // namespace npukit::runtime::ref
