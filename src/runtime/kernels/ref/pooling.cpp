// Reference pooling: MaxPool (with indices), AveragePool, LpPool, their Global forms, MaxUnpool, MaxRoiPool.
//
// Every windowed pool runs the same walk: for each (image, channel) plane and each output position, collect
// the flat offsets of the taps that fall inside the input, then reduce them. Taps in the padding are
// skipped (they never win a max and count only for AveragePool with count_include_pad).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/compute_buffer.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/window_geometry.h"

namespace npukit::runtime::ref {

namespace {

struct PoolSetup {
  int64_t planes = 0;  // N * C
  WindowGeometry geometry;
  Shape output_shape;
};

PoolSetup pool_setup(const KernelContext& context, const Tensor& input, bool allow_ceil_mode) {
  if (input.rank() < 3) context.invalid("the input must have rank 3 or more (N, C, spatial...), got " + shape_to_string(input.shape()));
  const std::vector<int64_t> kernel = context.attribute_ints("kernel_shape");
  if (kernel.empty()) context.invalid("kernel_shape is required");
  PoolSetup setup;
  setup.planes = input.dim(0) * input.dim(1);
  setup.geometry = compute_window_geometry(context, std::vector<int64_t>(input.shape().begin() + 2, input.shape().end()),
                                           kernel, allow_ceil_mode);
  setup.output_shape = {input.dim(0), input.dim(1)};
  setup.output_shape.insert(setup.output_shape.end(), setup.geometry.output.begin(), setup.geometry.output.end());
  return setup;
}

// Walks every output position of one plane; for each calls visit(output_offset, tap_offsets, padded_count)
// where tap_offsets are the in-plane flat offsets of the taps inside the input and padded_count is the
// number of taps inside the padded input (what count_include_pad divides by).
template <typename Visit>
void for_each_window(const WindowGeometry& geometry, Visit&& visit) {
  const size_t rank = geometry.rank();
  std::vector<int64_t> position(rank, 0);
  std::vector<int64_t> first_tap(rank), tap_count(rank), start(rank), tap(rank);
  std::vector<int64_t> offsets;
  offsets.reserve(static_cast<size_t>(geometry.kernel_count()));
  const int64_t output_count = geometry.output_count();
  for (int64_t output = 0; output < output_count; ++output) {
    int64_t padded_count = 1;
    bool empty = false;
    for (size_t axis = 0; axis < rank; ++axis) {
      const int64_t dilation = geometry.dilations[axis];
      start[axis] = window_start(geometry, axis, position[axis]);
      int64_t inside = 0, padded = 0, first = -1;
      for (int64_t k = 0; k < geometry.kernel[axis]; ++k) {
        const int64_t coordinate = start[axis] + k * dilation;
        if (coordinate < geometry.input[axis] + geometry.pads_end[axis]) ++padded;
        if (coordinate >= 0 && coordinate < geometry.input[axis]) {
          if (first < 0) first = k;
          ++inside;
        }
      }
      first_tap[axis] = std::max<int64_t>(first, 0);
      tap_count[axis] = inside;
      padded_count *= padded;
      if (inside == 0) empty = true;
    }
    offsets.clear();
    if (!empty) {
      std::fill(tap.begin(), tap.end(), 0);
      while (true) {
        int64_t offset = 0;
        for (size_t axis = 0; axis < rank; ++axis) {
          offset = offset * geometry.input[axis] + start[axis] + (first_tap[axis] + tap[axis]) * geometry.dilations[axis];
        }
        offsets.push_back(offset);
        size_t axis = rank;
        while (axis-- > 0) {
          if (++tap[axis] < tap_count[axis]) break;
          tap[axis] = 0;
        }
        if (axis == static_cast<size_t>(-1)) break;
      }
    }
    visit(output, offsets, padded_count);
    for (size_t axis = rank; axis-- > 0;) {
      if (++position[axis] < geometry.output[axis]) break;
      position[axis] = 0;
    }
  }
}

// In-plane row-major offset -> column-major offset (MaxPool storage_order = 1).
int64_t column_major_offset(int64_t offset, const std::vector<int64_t>& sizes) {
  int64_t result = 0, stride = 1;
  std::vector<int64_t> coordinates(sizes.size());
  for (size_t axis = sizes.size(); axis-- > 0;) {
    coordinates[axis] = offset % sizes[axis];
    offset /= sizes[axis];
  }
  for (size_t axis = 0; axis < sizes.size(); ++axis) {
    result += coordinates[axis] * stride;
    stride *= sizes[axis];
  }
  return result;
}

void max_pool_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  PoolSetup setup = pool_setup(context, input, context.opset() >= 10);
  const int64_t storage_order = context.attribute_int("storage_order", 0);
  if (storage_order != 0 && storage_order != 1) context.invalid("storage_order must be 0 or 1");
  Tensor& output = context.allocate_output(0, input.dtype(), setup.output_shape);
  const bool want_indices = context.output_requested(1);
  int64_t* indices = want_indices ? context.allocate_output(1, DType::i64, setup.output_shape).data<int64_t>() : nullptr;
  const int64_t input_plane = product_from(setup.geometry.input, 0);
  const int64_t output_plane = setup.geometry.output_count();
  // int16 / uint16 beyond ONNX's MaxPool (int8 / uint8 since opset 12): the sim runs a MaxPool on a 16-bit
  // layer's grid (quantization/sixteen_bit_layers.h); a maximum is exact on any integer type.
  const DTypeSet accepted = kFloatTypes | dtype_bit(DType::i8) | dtype_bit(DType::u8) | dtype_bit(DType::i16) |
                            dtype_bit(DType::u16);
  dispatch_dtype(input.dtype(), accepted, "MaxPool", [&]<typename T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      using C = compute_type_t<T>;
      const T* source = input.data<T>();
      T* destination = output.data<T>();
      for (int64_t plane = 0; plane < setup.planes; ++plane) {
        const T* image = source + plane * input_plane;
        for_each_window(setup.geometry, [&](int64_t position, const std::vector<int64_t>& offsets, int64_t) {
          // A window entirely in the padding has no element; it yields the lowest value, as ONNX Runtime does.
          C best = std::numeric_limits<C>::lowest();
          int64_t best_offset = offsets.empty() ? 0 : offsets[0];
          for (int64_t offset : offsets) {
            const C value = static_cast<C>(image[offset]);
            if (value > best) {
              best = value;
              best_offset = offset;
            }
          }
          destination[plane * output_plane + position] = static_cast<T>(best);
          if (indices) {
            const int64_t in_plane = storage_order == 0 ? best_offset : column_major_offset(best_offset, setup.geometry.input);
            indices[plane * output_plane + position] = plane * input_plane + in_plane;
          }
        });
      }
    }
  });
}

void average_pool_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  PoolSetup setup = pool_setup(context, input, context.opset() >= 10);
  const bool count_include_pad = context.attribute_int("count_include_pad", 0) != 0;
  Tensor& output = context.allocate_output(0, input.dtype(), setup.output_shape);
  const int64_t input_plane = product_from(setup.geometry.input, 0);
  const int64_t output_plane = setup.geometry.output_count();
  dispatch_float(input.dtype(), "AveragePool", [&]<typename T>() {
    using C = compute_type_t<T>;
    const T* source = input.data<T>();
    T* destination = output.data<T>();
    for (int64_t plane = 0; plane < setup.planes; ++plane) {
      const T* image = source + plane * input_plane;
      for_each_window(setup.geometry, [&](int64_t position, const std::vector<int64_t>& offsets, int64_t padded_count) {
        C sum = 0;
        for (int64_t offset : offsets) sum += static_cast<C>(image[offset]);
        const int64_t count = count_include_pad ? padded_count : static_cast<int64_t>(offsets.size());
        destination[plane * output_plane + position] = static_cast<T>(count > 0 ? sum / static_cast<C>(count) : C(0));
      });
    }
  });
}

double lp_norm_exponent(const KernelContext& context) {
  // LpPool-1 declared p as a float, later versions as an int.
  const ir::Attribute* attribute = context.node().find_attribute("p");
  double p = 2.0;
  if (attribute) p = attribute->kind == ir::Attribute::Kind::floating ? attribute->float_value : static_cast<double>(attribute->int_value);
  if (!(p > 0)) context.invalid("p must be positive");
  return p;
}

template <typename C>
C lp_norm(C sum_of_powers, double p) {
  return p == 2.0 ? std::sqrt(sum_of_powers) : static_cast<C>(std::pow(static_cast<double>(sum_of_powers), 1.0 / p));
}

template <typename C>
C lp_power(C value, double p) {
  const C magnitude = std::abs(value);
  return p == 2.0 ? magnitude * magnitude : static_cast<C>(std::pow(static_cast<double>(magnitude), p));
}

void lp_pool_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  PoolSetup setup = pool_setup(context, input, false);
  const double p = lp_norm_exponent(context);
  Tensor& output = context.allocate_output(0, input.dtype(), setup.output_shape);
  const int64_t input_plane = product_from(setup.geometry.input, 0);
  const int64_t output_plane = setup.geometry.output_count();
  dispatch_float(input.dtype(), "LpPool", [&]<typename T>() {
    using C = compute_type_t<T>;
    const T* source = input.data<T>();
    T* destination = output.data<T>();
    for (int64_t plane = 0; plane < setup.planes; ++plane) {
      const T* image = source + plane * input_plane;
      for_each_window(setup.geometry, [&](int64_t position, const std::vector<int64_t>& offsets, int64_t) {
        C sum = 0;
        for (int64_t offset : offsets) sum += lp_power(static_cast<C>(image[offset]), p);
        destination[plane * output_plane + position] = static_cast<T>(lp_norm(sum, p));
      });
    }
  });
}

// ---- Global pools -------------------------------------------------------------------------------------

enum class GlobalReduction { average, maximum, lp };

template <GlobalReduction reduction>
void global_pool_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  if (input.rank() < 3) context.invalid("the input must have rank 3 or more (N, C, spatial...), got " + shape_to_string(input.shape()));
  Shape output_shape(input.rank(), 1);
  output_shape[0] = input.dim(0);
  output_shape[1] = input.dim(1);
  const int64_t planes = input.dim(0) * input.dim(1);
  const int64_t plane_size = product_from(input.shape(), 2);
  const double p = reduction == GlobalReduction::lp ? lp_norm_exponent(context) : 2.0;
  Tensor& output = context.allocate_output(0, input.dtype(), output_shape);
  const char* name = reduction == GlobalReduction::average ? "GlobalAveragePool"
                     : reduction == GlobalReduction::maximum ? "GlobalMaxPool" : "GlobalLpPool";
  dispatch_float(input.dtype(), name, [&]<typename T>() {
    using C = compute_type_t<T>;
    const T* source = input.data<T>();
    T* destination = output.data<T>();
    for (int64_t plane = 0; plane < planes; ++plane) {
      const T* image = source + plane * plane_size;
      C result = 0;
      if constexpr (reduction == GlobalReduction::maximum) {
        result = std::numeric_limits<C>::lowest();
        for (int64_t i = 0; i < plane_size; ++i) result = std::max(result, static_cast<C>(image[i]));
      } else if constexpr (reduction == GlobalReduction::average) {
        for (int64_t i = 0; i < plane_size; ++i) result += static_cast<C>(image[i]);
        result = plane_size > 0 ? result / static_cast<C>(plane_size) : C(0);
      } else {
        for (int64_t i = 0; i < plane_size; ++i) result += lp_power(static_cast<C>(image[i]), p);
        result = lp_norm(result, p);
      }
      destination[plane] = static_cast<T>(result);
    }
  });
}

// ---- MaxUnpool ----------------------------------------------------------------------------------------

void max_unpool_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& indices = context.input(1);
  if (input.rank() < 3) context.invalid("the input must have rank 3 or more (N, C, spatial...)");
  if (indices.shape() != input.shape()) context.invalid("indices must have the shape of the input");
  const size_t rank = input.rank() - 2;
  const std::vector<int64_t> kernel = context.attribute_ints("kernel_shape");
  if (kernel.size() != rank) context.invalid("kernel_shape must have one value per spatial dimension");
  const std::vector<int64_t> strides = context.attribute_ints("strides", std::vector<int64_t>(rank, 1));
  const std::vector<int64_t> pads = context.attribute_ints("pads", std::vector<int64_t>(2 * rank, 0));
  if (strides.size() != rank || pads.size() != 2 * rank) context.invalid("strides and pads must match the spatial rank");
  Shape output_shape{input.dim(0), input.dim(1)};
  for (size_t axis = 0; axis < rank; ++axis) {
    output_shape.push_back((input.dim(axis + 2) - 1) * strides[axis] + kernel[axis] - pads[axis] - pads[axis + rank]);
  }
  const Shape default_shape = output_shape;
  if (const Tensor* requested = context.optional_input(2)) {
    std::vector<int64_t> values = requested->to_int64_vector();
    if (values.size() != input.rank()) context.invalid("output_shape must have one value per input dimension");
    for (size_t axis = 0; axis < values.size(); ++axis) {
      if (axis < 2 ? values[axis] != input.dim(axis) : values[axis] < output_shape[axis]) {
        context.invalid("output_shape " + shape_to_string(values) + " is smaller than the unpooled shape " +
                        shape_to_string(output_shape));
      }
    }
    output_shape = values;
  }
  Tensor& output = context.allocate_output(0, input.dtype(), output_shape);
  std::vector<int64_t> positions = indices.to_int64_vector();
  // The indices address the unpooled shape; a larger output_shape keeps each element at the same
  // coordinates (as the ONNX reference does), so indices are re-encoded for the output's strides.
  if (output_shape != default_shape) {
    const int64_t default_count = shape_element_count(default_shape);
    for (int64_t& position : positions) {
      if (position < 0 || position >= default_count) {
        context.invalid("index " + std::to_string(position) + " is outside the unpooled shape " + shape_to_string(default_shape));
      }
      int64_t rest = position, encoded = 0, stride = 1;
      for (size_t axis = default_shape.size(); axis-- > 0;) {
        encoded += (rest % default_shape[axis]) * stride;
        rest /= default_shape[axis];
        stride *= output_shape[axis];
      }
      position = encoded;
    }
  }
  const int64_t output_count = output.element_count();
  const size_t element_size = dtype_size(input.dtype());
  const auto* source = static_cast<const std::byte*>(input.raw_data());
  auto* destination = static_cast<std::byte*>(output.raw_data());
  for (size_t i = 0; i < positions.size(); ++i) {
    if (positions[i] < 0 || positions[i] >= output_count) {
      context.invalid("index " + std::to_string(positions[i]) + " is outside the output of " +
                      std::to_string(output_count) + " elements");
    }
    std::memcpy(destination + positions[i] * element_size, source + i * element_size, element_size);
  }
}

// ---- MaxRoiPool ---------------------------------------------------------------------------------------

void max_roi_pool_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& rois = context.input(1);
  if (input.rank() != 4) context.invalid("the input must be 4-D (N, C, H, W)");
  if (rois.rank() != 2 || rois.dim(1) != 5) context.invalid("rois must have shape [num_rois, 5]");
  const std::vector<int64_t> pooled = context.attribute_ints("pooled_shape");
  if (pooled.size() != 2 || pooled[0] <= 0 || pooled[1] <= 0) context.invalid("pooled_shape must be two positive sizes");
  const double spatial_scale = context.attribute_float("spatial_scale", 1.0);
  const int64_t channels = input.dim(1), height = input.dim(2), width = input.dim(3);
  const int64_t roi_count = rois.dim(0);
  Tensor& output = context.allocate_output(0, input.dtype(), {roi_count, channels, pooled[0], pooled[1]});
  dispatch_float(input.dtype(), "MaxRoiPool", [&]<typename T>() {
    using C = compute_type_t<T>;
    const T* source = input.data<T>();
    T* destination = output.data<T>();
    for (int64_t r = 0; r < roi_count; ++r) {
      const int64_t batch = static_cast<int64_t>(rois.value_as_double(r * 5));
      if (batch < 0 || batch >= input.dim(0)) context.invalid("roi " + std::to_string(r) + " names batch index " + std::to_string(batch));
      // Caffe's convention, which the ONNX operator comes from: rounded corners, inclusive ends.
      const int64_t x1 = static_cast<int64_t>(std::round(rois.value_as_double(r * 5 + 1) * spatial_scale));
      const int64_t y1 = static_cast<int64_t>(std::round(rois.value_as_double(r * 5 + 2) * spatial_scale));
      const int64_t x2 = static_cast<int64_t>(std::round(rois.value_as_double(r * 5 + 3) * spatial_scale));
      const int64_t y2 = static_cast<int64_t>(std::round(rois.value_as_double(r * 5 + 4) * spatial_scale));
      const double bin_height = static_cast<double>(std::max<int64_t>(y2 - y1 + 1, 1)) / static_cast<double>(pooled[0]);
      const double bin_width = static_cast<double>(std::max<int64_t>(x2 - x1 + 1, 1)) / static_cast<double>(pooled[1]);
      for (int64_t c = 0; c < channels; ++c) {
        const T* plane = source + (batch * channels + c) * height * width;
        for (int64_t py = 0; py < pooled[0]; ++py) {
          const int64_t y_start = std::clamp<int64_t>(static_cast<int64_t>(std::floor(py * bin_height)) + y1, 0, height);
          const int64_t y_end = std::clamp<int64_t>(static_cast<int64_t>(std::ceil((py + 1) * bin_height)) + y1, 0, height);
          for (int64_t px = 0; px < pooled[1]; ++px) {
            const int64_t x_start = std::clamp<int64_t>(static_cast<int64_t>(std::floor(px * bin_width)) + x1, 0, width);
            const int64_t x_end = std::clamp<int64_t>(static_cast<int64_t>(std::ceil((px + 1) * bin_width)) + x1, 0, width);
            C best = 0;  // an empty bin gives 0
            bool any = false;
            for (int64_t y = y_start; y < y_end; ++y) {
              for (int64_t x = x_start; x < x_end; ++x) {
                const C value = static_cast<C>(plane[y * width + x]);
                if (!any || value > best) best = value;
                any = true;
              }
            }
            destination[((r * channels + c) * pooled[0] + py) * pooled[1] + px] = static_cast<T>(best);
          }
        }
      }
    }
  });
}

}  // namespace

void register_pooling_kernels(KernelRegistry& registry) {
  registry.add("MaxPool", max_pool_kernel, 1, 17);
  registry.add("AveragePool", average_pool_kernel, 1, 17);
  registry.add("LpPool", lp_pool_kernel, 1, 17);
  registry.add("GlobalAveragePool", global_pool_kernel<GlobalReduction::average>, 1, 17);
  registry.add("GlobalMaxPool", global_pool_kernel<GlobalReduction::maximum>, 1, 17);
  registry.add("GlobalLpPool", global_pool_kernel<GlobalReduction::lp>, 1, 17);
  registry.add("MaxUnpool", max_unpool_kernel, 9, 17);
  registry.add("MaxRoiPool", max_roi_pool_kernel, 1, 17);
}

}  // namespace npukit::runtime::ref
