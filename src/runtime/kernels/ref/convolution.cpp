// Reference convolutions: Conv, ConvTranspose, ConvInteger, QLinearConv, for any number of spatial axes.
//
// Conv lowers each (image, group) to im2col + GEMM: the column matrix has one row per (input channel,
// kernel tap) and one column per output position, so the GEMM's inner loop runs over contiguous output
// positions. A 1x1, stride 1, unpadded convolution is a GEMM on the input itself. ConvTranspose is the
// adjoint: GEMM with the transposed weights, then col2im scatters the columns into the output.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/compute_buffer.h"
#include "runtime/kernels/ref/gemm.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/window_geometry.h"

namespace npukit::runtime::ref {

namespace {

// Fills col[(channel * kernel_count + tap) * output_count + position] with the input element that tap
// reads at that output position, or pad_value where it reads padding.
template <typename C>
void im2col(const C* image, int64_t channels, const WindowGeometry& geometry, C* col, C pad_value) {
  const size_t rank = geometry.rank();
  const size_t last = rank - 1;
  const int64_t input_plane = product_from(geometry.input, 0);
  const int64_t output_plane = geometry.output_count();
  const int64_t kernel_count = geometry.kernel_count();
  const int64_t output_width = geometry.output[last];
  const int64_t input_width = geometry.input[last];
  const int64_t stride_width = geometry.strides[last];
  const int64_t outer_count = output_plane / output_width;
  std::vector<int64_t> tap(rank, 0);
  std::vector<int64_t> outer_index(rank, 0);
  for (int64_t channel = 0; channel < channels; ++channel) {
    const C* plane = image + channel * input_plane;
    for (int64_t tap_index = 0; tap_index < kernel_count; ++tap_index) {
      for (int64_t rest = tap_index, axis = static_cast<int64_t>(rank) - 1; axis >= 0; --axis) {
        tap[axis] = rest % geometry.kernel[axis];
        rest /= geometry.kernel[axis];
      }
      C* row = col + (channel * kernel_count + tap_index) * output_plane;
      const int64_t width_offset = tap[last] * geometry.dilations[last] - geometry.pads_begin[last];
      std::fill(outer_index.begin(), outer_index.end(), 0);
      for (int64_t outer = 0; outer < outer_count; ++outer) {
        bool inside = true;
        int64_t offset = 0;
        for (size_t axis = 0; axis < last; ++axis) {
          const int64_t coordinate = window_start(geometry, axis, outer_index[axis]) + tap[axis] * geometry.dilations[axis];
          if (coordinate < 0 || coordinate >= geometry.input[axis]) inside = false;
          offset = offset * geometry.input[axis] + coordinate;
        }
        C* destination = row + outer * output_width;
        if (!inside) {
          std::fill(destination, destination + output_width, pad_value);
        } else {
          const C* source = plane + offset * input_width;
          for (int64_t x = 0; x < output_width; ++x) {
            const int64_t coordinate = x * stride_width + width_offset;
            destination[x] = (coordinate >= 0 && coordinate < input_width) ? source[coordinate] : pad_value;
          }
        }
        for (size_t axis = last; axis-- > 0;) {
          if (++outer_index[axis] < geometry.output[axis]) break;
          outer_index[axis] = 0;
        }
      }
    }
  }
}

// The adjoint of im2col: adds col rows into the image (ConvTranspose). Here `geometry.input` is the
// ConvTranspose output (the image) and `geometry.output` the ConvTranspose input (the columns).
template <typename C>
void col2im(const C* col, int64_t channels, const WindowGeometry& geometry, C* image) {
  const size_t rank = geometry.rank();
  const size_t last = rank - 1;
  const int64_t image_plane = product_from(geometry.input, 0);
  const int64_t column_count = geometry.output_count();
  const int64_t kernel_count = geometry.kernel_count();
  const int64_t column_width = geometry.output[last];
  const int64_t image_width = geometry.input[last];
  const int64_t stride_width = geometry.strides[last];
  const int64_t outer_count = column_count / column_width;
  std::vector<int64_t> tap(rank, 0);
  std::vector<int64_t> outer_index(rank, 0);
  for (int64_t channel = 0; channel < channels; ++channel) {
    C* plane = image + channel * image_plane;
    for (int64_t tap_index = 0; tap_index < kernel_count; ++tap_index) {
      for (int64_t rest = tap_index, axis = static_cast<int64_t>(rank) - 1; axis >= 0; --axis) {
        tap[axis] = rest % geometry.kernel[axis];
        rest /= geometry.kernel[axis];
      }
      const C* row = col + (channel * kernel_count + tap_index) * column_count;
      const int64_t width_offset = tap[last] * geometry.dilations[last] - geometry.pads_begin[last];
      std::fill(outer_index.begin(), outer_index.end(), 0);
      for (int64_t outer = 0; outer < outer_count; ++outer) {
        bool inside = true;
        int64_t offset = 0;
        for (size_t axis = 0; axis < last; ++axis) {
          const int64_t coordinate = window_start(geometry, axis, outer_index[axis]) + tap[axis] * geometry.dilations[axis];
          if (coordinate < 0 || coordinate >= geometry.input[axis]) inside = false;
          offset = offset * geometry.input[axis] + coordinate;
        }
        if (inside) {
          const C* source = row + outer * column_width;
          C* destination = plane + offset * image_width;
          for (int64_t x = 0; x < column_width; ++x) {
            const int64_t coordinate = x * stride_width + width_offset;
            if (coordinate >= 0 && coordinate < image_width) destination[coordinate] += source[x];
          }
        }
        for (size_t axis = last; axis-- > 0;) {
          if (++outer_index[axis] < geometry.output[axis]) break;
          outer_index[axis] = 0;
        }
      }
    }
  }
}

// Shape checks shared by Conv, ConvInteger and QLinearConv; returns the window geometry.
struct ConvShapes {
  int64_t batch = 0;
  int64_t input_channels = 0;
  int64_t output_channels = 0;
  int64_t group = 1;
  WindowGeometry geometry;
};

ConvShapes conv_shapes(const KernelContext& context, const Tensor& input, const Tensor& weight) {
  ConvShapes shapes;
  if (input.rank() < 3) context.invalid("the input must have rank 3 or more (N, C, spatial...), got " + shape_to_string(input.shape()));
  if (weight.rank() != input.rank()) {
    context.invalid("the weight rank " + std::to_string(weight.rank()) + " does not match the input rank " +
                    std::to_string(input.rank()));
  }
  shapes.batch = input.dim(0);
  shapes.input_channels = input.dim(1);
  shapes.output_channels = weight.dim(0);
  shapes.group = context.attribute_int("group", 1);
  if (shapes.group <= 0) context.invalid("group must be positive");
  if (shapes.input_channels % shapes.group != 0 || shapes.output_channels % shapes.group != 0) {
    context.invalid("group " + std::to_string(shapes.group) + " does not divide the channel counts");
  }
  if (weight.dim(1) * shapes.group != shapes.input_channels) {
    context.invalid("weight " + shape_to_string(weight.shape()) + " does not match input channels " +
                    std::to_string(shapes.input_channels) + " with group " + std::to_string(shapes.group));
  }
  std::vector<int64_t> spatial(input.shape().begin() + 2, input.shape().end());
  std::vector<int64_t> kernel(weight.shape().begin() + 2, weight.shape().end());
  std::vector<int64_t> kernel_attribute = context.attribute_ints("kernel_shape", kernel);
  if (kernel_attribute != kernel) context.invalid("kernel_shape does not match the weight's spatial dimensions");
  shapes.geometry = compute_window_geometry(context, spatial, kernel, false);
  return shapes;
}

Shape conv_output_shape(const ConvShapes& shapes) {
  Shape shape{shapes.batch, shapes.output_channels};
  shape.insert(shape.end(), shapes.geometry.output.begin(), shapes.geometry.output.end());
  return shape;
}

bool is_pointwise(const WindowGeometry& geometry) {
  for (size_t axis = 0; axis < geometry.rank(); ++axis) {
    if (geometry.kernel[axis] != 1 || geometry.strides[axis] != 1 || geometry.pads_begin[axis] != 0 ||
        geometry.pads_end[axis] != 0) {
      return false;
    }
  }
  return true;
}

// output[n, m, ...] = bias[m] + sum over (c, tap) weight[m, c, tap] * column[c, tap, ...], per group.
// Works for the float compute types (gemm_accumulate) and for int64_t (the integer convolutions).
template <typename C>
void convolve(const ConvShapes& shapes, const C* input, const C* weight, const C* bias, C* output) {
  const WindowGeometry& geometry = shapes.geometry;
  const int64_t group_input_channels = shapes.input_channels / shapes.group;
  const int64_t group_output_channels = shapes.output_channels / shapes.group;
  const int64_t input_plane = product_from(geometry.input, 0);
  const int64_t output_plane = geometry.output_count();
  const int64_t depth = group_input_channels * geometry.kernel_count();
  const bool pointwise = is_pointwise(geometry);
  std::vector<C> column;
  if (!pointwise) column.resize(static_cast<size_t>(depth * output_plane));
  for (int64_t n = 0; n < shapes.batch; ++n) {
    for (int64_t g = 0; g < shapes.group; ++g) {
      const C* image = input + (n * shapes.input_channels + g * group_input_channels) * input_plane;
      const C* columns = image;
      if (!pointwise) {
        im2col(image, group_input_channels, geometry, column.data(), C(0));
        columns = column.data();
      }
      C* result = output + (n * shapes.output_channels + g * group_output_channels) * output_plane;
      if (bias) {
        for (int64_t m = 0; m < group_output_channels; ++m) {
          std::fill(result + m * output_plane, result + (m + 1) * output_plane, bias[g * group_output_channels + m]);
        }
      }
      const C* group_weight = weight + g * group_output_channels * depth;
      if constexpr (std::is_floating_point_v<C>) {
        gemm_accumulate(group_output_channels, output_plane, depth, group_weight, depth, columns, output_plane, result,
                        output_plane);
      } else {
        gemm_accumulate_exact(group_output_channels, output_plane, depth, group_weight, depth, columns, output_plane,
                              result, output_plane);
      }
    }
  }
}

void conv_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& weight = context.input(1);
  const Tensor* bias = context.optional_input(2);
  if (weight.dtype() != input.dtype() || (bias && bias->dtype() != input.dtype())) {
    context.invalid("input, weight and bias must have the same element type");
  }
  ConvShapes shapes = conv_shapes(context, input, weight);
  if (bias && (bias->rank() != 1 || bias->dim(0) != shapes.output_channels)) {
    context.invalid("bias must be 1-D with one value per output channel");
  }
  Tensor& output = context.allocate_output(0, input.dtype(), conv_output_shape(shapes));
  dispatch_float(input.dtype(), "Conv", [&]<typename T>() {
    using C = compute_type_t<T>;
    std::vector<C> input_storage, weight_storage, bias_storage;
    const C* input_data = compute_view<T, C>(input, input_storage);
    const C* weight_data = compute_view<T, C>(weight, weight_storage);
    const C* bias_data = bias ? compute_view<T, C>(*bias, bias_storage) : nullptr;
    ComputeOutput<T, C> result(output);
    convolve<C>(shapes, input_data, weight_data, bias_data, result.data());
    result.finish();
  });
}

// ---- ConvTranspose ----------------------------------------------------------------------------------

void conv_transpose_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& weight = context.input(1);
  const Tensor* bias = context.optional_input(2);
  if (weight.dtype() != input.dtype() || (bias && bias->dtype() != input.dtype())) {
    context.invalid("input, weight and bias must have the same element type");
  }
  if (input.rank() < 3 || weight.rank() != input.rank()) {
    context.invalid("input " + shape_to_string(input.shape()) + " and weight " + shape_to_string(weight.shape()) +
                    " must have the same rank, 3 or more");
  }
  const size_t rank = input.rank() - 2;
  const int64_t batch = input.dim(0);
  const int64_t input_channels = input.dim(1);
  const int64_t group = context.attribute_int("group", 1);
  if (group <= 0 || input_channels % group != 0) context.invalid("group must be positive and divide the input channels");
  if (weight.dim(0) != input_channels) context.invalid("weight dimension 0 must equal the input channels");
  const int64_t group_output_channels = weight.dim(1);
  const int64_t output_channels = group_output_channels * group;
  if (bias && (bias->rank() != 1 || bias->dim(0) != output_channels)) {
    context.invalid("bias must be 1-D with one value per output channel");
  }

  std::vector<int64_t> kernel(weight.shape().begin() + 2, weight.shape().end());
  if (context.attribute_ints("kernel_shape", kernel) != kernel) {
    context.invalid("kernel_shape does not match the weight's spatial dimensions");
  }
  std::vector<int64_t> strides = context.attribute_ints("strides", std::vector<int64_t>(rank, 1));
  std::vector<int64_t> dilations = context.attribute_ints("dilations", std::vector<int64_t>(rank, 1));
  std::vector<int64_t> pads = context.attribute_ints("pads", std::vector<int64_t>(2 * rank, 0));
  std::vector<int64_t> output_padding = context.attribute_ints("output_padding", std::vector<int64_t>(rank, 0));
  std::vector<int64_t> output_shape = context.attribute_ints("output_shape");
  const std::string auto_pad = context.attribute_string("auto_pad", "NOTSET");
  if (strides.size() != rank || dilations.size() != rank || pads.size() != 2 * rank || output_padding.size() != rank) {
    context.invalid("strides, dilations, pads and output_padding must match the number of spatial dimensions");
  }
  if (output_shape.size() == rank + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  if (!output_shape.empty() && output_shape.size() != rank) context.invalid("output_shape must have one value per spatial dimension");
  if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID") {
    context.unsupported("auto_pad '" + auto_pad + "' is not supported");
  }

  // The image geometry seen from the output side: "input" is the ConvTranspose output, "output" its input.
  WindowGeometry geometry;
  geometry.kernel = kernel;
  geometry.strides = strides;
  geometry.dilations = dilations;
  geometry.pads_begin.assign(rank, 0);
  geometry.pads_end.assign(rank, 0);
  geometry.input.assign(rank, 0);
  geometry.output.assign(input.shape().begin() + 2, input.shape().end());
  for (size_t axis = 0; axis < rank; ++axis) {
    if (strides[axis] <= 0 || dilations[axis] <= 0 || kernel[axis] <= 0) {
      context.invalid("strides, dilations and kernel sizes must be positive");
    }
    const int64_t extent = (kernel[axis] - 1) * dilations[axis] + 1;
    const int64_t full = strides[axis] * (geometry.output[axis] - 1) + output_padding[axis] + extent;
    int64_t size = 0;
    if (!output_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      size = !output_shape.empty() ? output_shape[axis] : geometry.output[axis] * strides[axis];
      const int64_t total = std::max<int64_t>(0, full - size);
      // As the ONNX spec says: SAME_LOWER puts the odd padding element at the beginning, everything else
      // (SAME_UPPER, explicit output_shape) at the end.
      geometry.pads_begin[axis] = auto_pad == "SAME_LOWER" ? total - total / 2 : total / 2;
      geometry.pads_end[axis] = total - geometry.pads_begin[axis];
    } else {
      if (auto_pad == "NOTSET") {
        geometry.pads_begin[axis] = pads[axis];
        geometry.pads_end[axis] = pads[axis + rank];
      }
      size = full - geometry.pads_begin[axis] - geometry.pads_end[axis];
    }
    if (size <= 0) context.invalid("the output would be empty along spatial axis " + std::to_string(axis));
    geometry.input[axis] = size;
  }

  Shape result_shape{batch, output_channels};
  result_shape.insert(result_shape.end(), geometry.input.begin(), geometry.input.end());
  Tensor& output = context.allocate_output(0, input.dtype(), result_shape);

  dispatch_float(input.dtype(), "ConvTranspose", [&]<typename T>() {
    using C = compute_type_t<T>;
    std::vector<C> input_storage, weight_storage, bias_storage;
    const C* input_data = compute_view<T, C>(input, input_storage);
    const C* weight_data = compute_view<T, C>(weight, weight_storage);
    const C* bias_data = bias ? compute_view<T, C>(*bias, bias_storage) : nullptr;
    ComputeOutput<T, C> result(output);
    C* output_data = result.data();

    const int64_t group_input_channels = input_channels / group;
    const int64_t kernel_count = geometry.kernel_count();
    const int64_t rows = group_output_channels * kernel_count;
    const int64_t input_plane = geometry.output_count();
    const int64_t output_plane = product_from(geometry.input, 0);
    std::vector<C> transposed_weight(static_cast<size_t>(rows * group_input_channels));
    std::vector<C> column(static_cast<size_t>(rows * input_plane));
    for (int64_t g = 0; g < group; ++g) {
      // weight[g] is [group_input_channels, rows]; the GEMM wants its transpose.
      const C* group_weight = weight_data + g * group_input_channels * rows;
      for (int64_t c = 0; c < group_input_channels; ++c) {
        for (int64_t r = 0; r < rows; ++r) transposed_weight[r * group_input_channels + c] = group_weight[c * rows + r];
      }
      for (int64_t n = 0; n < batch; ++n) {
        const C* image = input_data + (n * input_channels + g * group_input_channels) * input_plane;
        std::fill(column.begin(), column.end(), C(0));
        gemm_accumulate(rows, input_plane, group_input_channels, transposed_weight.data(), group_input_channels, image,
                        input_plane, column.data(), input_plane);
        C* destination = output_data + (n * output_channels + g * group_output_channels) * output_plane;
        col2im(column.data(), group_output_channels, geometry, destination);
      }
    }
    if (bias_data) {
      for (int64_t n = 0; n < batch; ++n) {
        for (int64_t m = 0; m < output_channels; ++m) {
          C* plane = output_data + (n * output_channels + m) * output_plane;
          for (int64_t i = 0; i < output_plane; ++i) plane[i] += bias_data[m];
        }
      }
    }
    result.finish();
  });
}

// ---- Integer convolutions -----------------------------------------------------------------------------

// Zero point of a quantized input: a scalar (or 1-element tensor) for per-tensor, or one value per
// channel of length `channels` when `per_channel_allowed`.
std::vector<int64_t> zero_points(const KernelContext& context, const Tensor* tensor, DType expected, int64_t channels,
                                 bool per_channel_allowed, const char* what) {
  if (!tensor) return std::vector<int64_t>(static_cast<size_t>(channels), 0);
  if (tensor->dtype() != expected) context.invalid(std::string(what) + " must have the element type of its data");
  std::vector<int64_t> values = tensor->to_int64_vector();
  if (values.size() == 1) return std::vector<int64_t>(static_cast<size_t>(channels), values[0]);
  if (per_channel_allowed && static_cast<int64_t>(values.size()) == channels && tensor->rank() == 1) return values;
  context.invalid(std::string(what) + " must be a scalar" + (per_channel_allowed ? " or have one value per output channel" : ""));
}

std::vector<int64_t> as_int64(const Tensor& tensor, int64_t subtract_per_tensor) {
  std::vector<int64_t> values = tensor.to_int64_vector();
  for (int64_t& value : values) value -= subtract_per_tensor;
  return values;
}

void require_8bit(const KernelContext& context, const Tensor& tensor, const char* what) {
  if (tensor.dtype() != DType::u8 && tensor.dtype() != DType::i8) {
    context.unsupported(std::string(what) + " of element type " + std::string(dtype_name(tensor.dtype())) +
                        " is not supported (int8 or uint8 expected)");
  }
}

// Integer convolution of (x - x_zero_point) and (w - w_zero_point[m]) accumulated in int64, plus bias.
std::vector<int64_t> integer_convolution(const KernelContext& context, const ConvShapes& shapes, const Tensor& input,
                                         int64_t input_zero_point, const Tensor& weight,
                                         const std::vector<int64_t>& weight_zero_points, const Tensor* bias) {
  std::vector<int64_t> input_values = as_int64(input, input_zero_point);
  std::vector<int64_t> weight_values = as_int64(weight, 0);
  const int64_t per_channel = weight.element_count() / std::max<int64_t>(1, shapes.output_channels);
  for (int64_t m = 0; m < shapes.output_channels; ++m) {
    for (int64_t i = 0; i < per_channel; ++i) weight_values[m * per_channel + i] -= weight_zero_points[m];
  }
  std::vector<int64_t> bias_values;
  if (bias) {
    if (bias->dtype() != DType::i32 || bias->rank() != 1 || bias->dim(0) != shapes.output_channels) {
      context.invalid("bias must be int32 with one value per output channel");
    }
    bias_values = bias->to_int64_vector();
  }
  std::vector<int64_t> accumulators(static_cast<size_t>(shape_element_count(conv_output_shape(shapes))), 0);
  convolve<int64_t>(shapes, input_values.data(), weight_values.data(), bias ? bias_values.data() : nullptr,
                    accumulators.data());
  return accumulators;
}

void conv_integer_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& weight = context.input(1);
  require_8bit(context, input, "ConvInteger input");
  require_8bit(context, weight, "ConvInteger weight");
  ConvShapes shapes = conv_shapes(context, input, weight);
  const int64_t input_zero_point = zero_points(context, context.optional_input(2), input.dtype(), 1, false, "x_zero_point")[0];
  std::vector<int64_t> weight_zero_points =
      zero_points(context, context.optional_input(3), weight.dtype(), shapes.output_channels, true, "w_zero_point");
  std::vector<int64_t> accumulators =
      integer_convolution(context, shapes, input, input_zero_point, weight, weight_zero_points, nullptr);
  Tensor& output = context.allocate_output(0, DType::i32, conv_output_shape(shapes));
  int32_t* destination = output.data<int32_t>();
  for (size_t i = 0; i < accumulators.size(); ++i) destination[i] = static_cast<int32_t>(accumulators[i]);
}

float scalar_scale(const KernelContext& context, const Tensor& tensor, const char* what) {
  if (tensor.dtype() != DType::f32 || tensor.element_count() != 1) context.invalid(std::string(what) + " must be a float scalar");
  return tensor.data<float>()[0];
}

void qlinear_conv_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const float input_scale = scalar_scale(context, context.input(1), "x_scale");
  const Tensor& weight = context.input(3);
  const Tensor& weight_scale_tensor = context.input(4);
  const float output_scale = scalar_scale(context, context.input(6), "y_scale");
  require_8bit(context, input, "QLinearConv input");
  require_8bit(context, weight, "QLinearConv weight");
  ConvShapes shapes = conv_shapes(context, input, weight);
  const int64_t input_zero_point = zero_points(context, &context.input(2), input.dtype(), 1, false, "x_zero_point")[0];
  std::vector<int64_t> weight_zero_points =
      zero_points(context, &context.input(5), weight.dtype(), shapes.output_channels, true, "w_zero_point");
  const Tensor& output_zero_point_tensor = context.input(7);
  const int64_t output_zero_point = zero_points(context, &output_zero_point_tensor, output_zero_point_tensor.dtype(), 1, false, "y_zero_point")[0];
  if (weight_scale_tensor.dtype() != DType::f32) context.invalid("w_scale must be float");
  std::vector<float> weight_scales = weight_scale_tensor.to_float_vector();
  if (weight_scales.size() == 1) weight_scales.assign(static_cast<size_t>(shapes.output_channels), weight_scales[0]);
  if (static_cast<int64_t>(weight_scales.size()) != shapes.output_channels) {
    context.invalid("w_scale must be a scalar or have one value per output channel");
  }
  std::vector<int64_t> accumulators = integer_convolution(context, shapes, input, input_zero_point, weight,
                                                          weight_zero_points, context.optional_input(8));
  const DType output_type = output_zero_point_tensor.dtype();
  require_8bit(context, output_zero_point_tensor, "y_zero_point");
  Tensor& output = context.allocate_output(0, output_type, conv_output_shape(shapes));
  const int64_t low = output_type == DType::u8 ? 0 : -128;
  const int64_t high = output_type == DType::u8 ? 255 : 127;
  const int64_t output_plane = shapes.geometry.output_count();
  for (size_t i = 0; i < accumulators.size(); ++i) {
    const int64_t channel = (static_cast<int64_t>(i) / output_plane) % shapes.output_channels;
    // Requantize in float with round-half-to-even, the arithmetic ONNX Runtime uses.
    const float multiplier = input_scale * weight_scales[channel] / output_scale;
    const float scaled = std::clamp(std::nearbyint(static_cast<float>(accumulators[i]) * multiplier), -65536.0f, 65536.0f);
    const int64_t value = std::clamp<int64_t>(static_cast<int64_t>(scaled) + output_zero_point, low, high);
    if (output_type == DType::u8) {
      output.data<uint8_t>()[i] = static_cast<uint8_t>(value);
    } else {
      output.data<int8_t>()[i] = static_cast<int8_t>(value);
    }
  }
}

}  // namespace

void register_convolution_kernels(KernelRegistry& registry) {
  registry.add("Conv", conv_kernel, 1, 17);
  registry.add("ConvTranspose", conv_transpose_kernel, 1, 17);
  registry.add("ConvInteger", conv_integer_kernel, 10, 17);
  registry.add("QLinearConv", qlinear_conv_kernel, 10, 17);
}

}  // namespace npukit::runtime::ref
