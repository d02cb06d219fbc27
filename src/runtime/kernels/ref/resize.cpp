// Resize (opsets 10-17) and Upsample (7-9): nearest, (bi/tri)linear and cubic interpolation with every
// coordinate_transformation_mode, following ONNX's reference implementation (resize.py in the node tests).
//
// The reference interpolates an N-D point as nested 1-D interpolations, one axis at a time. Interpolation
// is linear in the data, so the same result comes from resizing the whole tensor one axis after the
// other; that is what this file does, with the taps and weights of each output coordinate computed once
// per axis and the inner loop running over contiguous elements. tf_crop_and_resize's extrapolation also
// survives the separation: an out-of-range coordinate makes every value of its slice the extrapolation
// value, and interpolating equal values (weights sum to one) keeps it.
//
// Nearest is a pure gather, done on the element type itself so integer tensors resize exactly; linear
// and cubic compute in double (the reference computes in float64) and round once at the store.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/resize_geometry.h"
#include "runtime/kernels/ref/strided_copy.h"
#include "runtime/kernels/ref/axis_split.h"

namespace npukit::runtime::ref {

namespace {

enum class Interpolation { nearest, linear, cubic };

struct ResizeSettings {
  Interpolation interpolation = Interpolation::nearest;
  std::string coordinate_mode = "half_pixel";
  // "simple" is Upsample's and Resize-10's rounding: floor when enlarging, ceil when shrinking (ONNX Runtime).
  std::string nearest_mode = "round_prefer_floor";
  double cubic_coefficient = -0.75;
  bool exclude_outside = false;
  double extrapolation_value = 0.0;
};

using AxisGeometry = ResizeAxis;

std::vector<double> cubic_coefficients(double ratio, double a) {
  const double r1 = ratio + 1.0, r0 = 1.0 - ratio, r2 = r0 + 1.0;
  return {((a * r1 - 5.0 * a) * r1 + 8.0 * a) * r1 - 4.0 * a, ((a + 2.0) * ratio - (a + 3.0)) * ratio * ratio + 1.0,
          ((a + 2.0) * r0 - (a + 3.0)) * r0 * r0 + 1.0, ((a * r2 - 5.0 * a) * r2 + 8.0 * a) * r2 - 4.0 * a};
}

// Input taps and weights of one output coordinate (empty when it extrapolates).
struct Taps {
  std::vector<int64_t> indices;
  std::vector<double> weights;
};

Taps interpolation_taps(double original, const AxisGeometry& axis, const ResizeSettings& settings) {
  Taps taps;
  if (std::isnan(original)) return taps;
  const double floor_value = std::floor(original);
  const int64_t base = static_cast<int64_t>(floor_value);
  const double ratio = original - floor_value;
  int64_t first = base;
  if (settings.interpolation == Interpolation::linear) {
    taps.weights = {1.0 - ratio, ratio};
  } else {
    taps.weights = cubic_coefficients(ratio, settings.cubic_coefficient);
    first = base - 1;
  }
  double sum = 0.0;
  for (size_t k = 0; k < taps.weights.size(); ++k) {
    const int64_t index = first + static_cast<int64_t>(k);
    const bool outside = index < 0 || index >= axis.input_extent;
    if (settings.exclude_outside && outside) taps.weights[k] = 0.0;
    sum += taps.weights[k];
    // Outside indices read the edge element, as the reference's edge padding does.
    taps.indices.push_back(std::clamp<int64_t>(index, 0, axis.input_extent - 1));
  }
  if (settings.exclude_outside && sum != 0.0) {
    for (double& weight : taps.weights) weight /= sum;
  }
  return taps;
}

bool axis_is_identity(const AxisGeometry& axis, const ResizeSettings& settings) {
  return axis_is_identity(axis, settings.coordinate_mode);
}

template <typename T>
void resize_nearest(const Tensor& data, Tensor& output, const std::vector<AxisGeometry>& axes,
                    const ResizeSettings& settings) {
  const size_t rank = axes.size();
  const Shape& shape = output.shape();
  if (output.element_count() == 0) return;
  const T* source = data.data<T>();
  T* destination = output.data<T>();
  if (rank == 0) {
    destination[0] = source[0];
    return;
  }
  // Per axis, the input coordinate of each output coordinate; -1 extrapolates.
  const std::vector<int64_t> strides = contiguous_strides(data.shape());
  std::vector<std::vector<int64_t>> source_index(rank);
  for (size_t a = 0; a < rank; ++a) {
    for (int64_t x = 0; x < axes[a].output_extent; ++x) {
      const double original = original_coordinate(static_cast<double>(x), axes[a], settings.coordinate_mode);
      source_index[a].push_back(std::isnan(original) ? -1 : nearest_index(original, settings.nearest_mode, axes[a]));
    }
  }
  const T fill = static_cast<T>(static_cast<compute_type_t<T>>(settings.extrapolation_value));
  const int64_t inner = shape.back();
  const std::vector<int64_t>& inner_map = source_index.back();
  const int64_t rows = output.element_count() / inner;
  std::vector<int64_t> index(rank, 0);
  for (int64_t row = 0; row < rows; ++row) {
    int64_t base = 0;
    bool extrapolated = false;
    for (size_t a = 0; a + 1 < rank; ++a) {
      const int64_t position = source_index[a][static_cast<size_t>(index[a])];
      if (position < 0) extrapolated = true;
      base += position * strides[a];
    }
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t position = inner_map[static_cast<size_t>(j)];
      destination[j] = (extrapolated || position < 0) ? fill : source[base + position];
    }
    destination += inner;
    for (size_t a = rank - 1; a-- > 0;) {
      if (++index[a] < shape[a]) break;
      index[a] = 0;
    }
  }
}

template <typename T>
void resize_interpolated(const Tensor& data, Tensor& output, const std::vector<AxisGeometry>& axes,
                         const ResizeSettings& settings) {
  Shape shape = data.shape();
  std::vector<double> current(static_cast<size_t>(data.element_count()));
  const T* source = data.data<T>();
  for (size_t i = 0; i < current.size(); ++i) current[i] = static_cast<double>(static_cast<compute_type_t<T>>(source[i]));
  for (size_t a = 0; a < axes.size(); ++a) {
    if (axis_is_identity(axes[a], settings)) continue;
    std::vector<Taps> taps;
    for (int64_t x = 0; x < axes[a].output_extent; ++x) {
      taps.push_back(interpolation_taps(original_coordinate(static_cast<double>(x), axes[a], settings.coordinate_mode),
                                        axes[a], settings));
    }
    const AxisSplit split = split_at(shape, a);
    const int64_t outer = split.outer, inner = split.inner;
    const int64_t input_extent = shape[a];
    const int64_t output_extent = axes[a].output_extent;
    std::vector<double> next(static_cast<size_t>(outer * output_extent * inner), 0.0);
    for (int64_t o = 0; o < outer; ++o) {
      const double* slab = current.data() + o * input_extent * inner;
      for (int64_t x = 0; x < output_extent; ++x) {
        double* row = next.data() + (o * output_extent + x) * inner;
        const Taps& tap = taps[static_cast<size_t>(x)];
        if (tap.indices.empty()) {
          std::fill(row, row + inner, settings.extrapolation_value);
          continue;
        }
        for (size_t k = 0; k < tap.indices.size(); ++k) {
          const double weight = tap.weights[k];
          if (weight == 0.0) continue;
          const double* input_row = slab + tap.indices[k] * inner;
          for (int64_t j = 0; j < inner; ++j) row[j] += weight * input_row[j];
        }
      }
    }
    shape[a] = output_extent;
    current = std::move(next);
  }
  T* destination = output.data<T>();
  for (size_t i = 0; i < current.size(); ++i) destination[i] = static_cast<T>(static_cast<compute_type_t<T>>(current[i]));
}

void run_resize(KernelContext& context, const Tensor& data, const std::vector<double>& scales,
                const std::vector<int64_t>& sizes, const std::vector<double>& roi, const ResizeSettings& settings) {
  const size_t rank = data.rank();
  const std::vector<AxisGeometry> axes = resize_axes(context, data, scales, sizes, roi);
  Shape shape;
  for (const AxisGeometry& axis : axes) shape.push_back(axis.output_extent);
  if (settings.coordinate_mode == "tf_crop_and_resize" && roi.size() != 2 * rank) {
    context.invalid("tf_crop_and_resize needs an roi of " + std::to_string(2 * rank) + " values");
  }
  Tensor& output = context.allocate_output(0, data.dtype(), shape);
  if (output.element_count() == 0) return;
  if (data.element_count() == 0) context.invalid("cannot resize an empty tensor to a non-empty one");
  if (settings.interpolation == Interpolation::nearest) {
    dispatch_dtype(data.dtype(), kAllTypes, "Resize", [&]<typename T>() { resize_nearest<T>(data, output, axes, settings); });
  } else {
    // The spec leaves rounding of interpolated integers unspecified; refuse rather than guess.
    dispatch_dtype(data.dtype(), kFloatTypes, "Resize (linear/cubic)",
                   [&]<typename T>() { resize_interpolated<T>(data, output, axes, settings); });
  }
}

Interpolation parse_mode(const KernelContext& context) {
  const std::string mode = context.attribute_string("mode", "nearest");
  if (mode == "nearest") return Interpolation::nearest;
  if (mode == "linear" || mode == "bilinear" || mode == "trilinear") return Interpolation::linear;
  if (mode == "cubic" && context.node().op_type == "Resize" && context.opset() >= 11) return Interpolation::cubic;
  context.unsupported("mode '" + mode + "' is not supported");
}

std::vector<double> double_values(const Tensor& tensor) {
  std::vector<double> values(static_cast<size_t>(tensor.element_count()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = tensor.value_as_double(static_cast<int64_t>(i));
  return values;
}

void resize_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  ResizeSettings settings;
  settings.interpolation = parse_mode(context);
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  if (context.opset() < 11) {
    settings.coordinate_mode = "asymmetric";
    settings.nearest_mode = "simple";
    scales = double_values(context.input(1));
  } else {
    settings.coordinate_mode = context.attribute_string("coordinate_transformation_mode", "half_pixel");
    settings.nearest_mode = context.attribute_string("nearest_mode", "round_prefer_floor");
    settings.cubic_coefficient = context.attribute_float("cubic_coeff_a", -0.75);
    settings.exclude_outside = context.attribute_int("exclude_outside", 0) != 0;
    settings.extrapolation_value = context.attribute_float("extrapolation_value", 0.0);
    if (const Tensor* roi_input = context.optional_input(1)) roi = double_values(*roi_input);
    if (const Tensor* scales_input = context.optional_input(2)) scales = double_values(*scales_input);
    if (const Tensor* sizes_input = context.optional_input(3)) sizes = int64_values(*sizes_input);
    if (!scales.empty() && !sizes.empty()) context.invalid("only one of scales and sizes may be given");
    if (scales.empty() && sizes.empty()) context.invalid("one of scales and sizes must be given");
    static const char* modes[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                  "tf_half_pixel_for_nn", "tf_crop_and_resize"};
    if (std::find(std::begin(modes), std::end(modes), settings.coordinate_mode) == std::end(modes)) {
      context.unsupported("coordinate_transformation_mode '" + settings.coordinate_mode + "' is not supported");
    }
    static const char* nearest_modes[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    if (std::find(std::begin(nearest_modes), std::end(nearest_modes), settings.nearest_mode) == std::end(nearest_modes)) {
      context.unsupported("nearest_mode '" + settings.nearest_mode + "' is not supported");
    }
  }
  run_resize(context, data, scales, sizes, roi, settings);
}

void upsample_kernel(KernelContext& context) {
  const Tensor& data = context.input(0);
  ResizeSettings settings;
  settings.interpolation = parse_mode(context);
  settings.coordinate_mode = "asymmetric";
  settings.nearest_mode = "simple";
  const std::vector<double> scales =
      context.opset() < 9 ? context.attribute_floats("scales") : double_values(context.input(1));
  for (double scale : scales) {
    if (scale < 1.0) context.invalid("Upsample scales must be >= 1");
  }
  run_resize(context, data, scales, {}, {}, settings);
}

}  // namespace

void register_resize_kernels(KernelRegistry& registry) {
  registry.add("Resize", resize_kernel, 10, 17);
  registry.add("Upsample", upsample_kernel, 7, 9);
}

}  // namespace npukit::runtime::ref
