#include "runtime/kernels/ref/resize_geometry.h"

#include <algorithm>
#include <cmath>

namespace npukit::runtime::ref {

std::vector<ResizeAxis> resize_axes(const KernelContext& context, const Tensor& data, const std::vector<double>& scales,
                                    const std::vector<int64_t>& sizes, const std::vector<double>& roi) {
  const size_t rank = data.rank();
  if (!sizes.empty() && sizes.size() != rank) {
    context.invalid("sizes has " + std::to_string(sizes.size()) + " entries for an input of rank " + std::to_string(rank));
  }
  if (sizes.empty() && scales.size() != rank) {
    context.invalid("scales has " + std::to_string(scales.size()) + " entries for an input of rank " + std::to_string(rank));
  }
  std::vector<ResizeAxis> axes(rank);
  for (size_t a = 0; a < rank; ++a) {
    ResizeAxis& axis = axes[a];
    axis.input_extent = data.dim(a);
    if (!sizes.empty()) {
      if (sizes[a] < 0) context.invalid("sizes must not be negative");
      axis.output_extent = sizes[a];
      axis.scale = axis.input_extent == 0 ? 1.0 : static_cast<double>(sizes[a]) / static_cast<double>(axis.input_extent);
    } else {
      if (!(scales[a] > 0.0)) context.invalid("scales must be positive");
      axis.scale = scales[a];
      axis.output_extent = static_cast<int64_t>(scales[a] * static_cast<double>(axis.input_extent));
    }
    if (roi.size() == 2 * rank) {
      axis.roi_start = roi[a];
      axis.roi_end = roi[a + rank];
    }
  }
  return axes;
}

double original_coordinate(double x, const ResizeAxis& axis, const std::string& mode) {
  const double input_extent = static_cast<double>(axis.input_extent);
  // As in the reference, the "output length" of the formulas is scale * input length (exactly the output
  // size when sizes were given).
  const double output_length = axis.scale * input_extent;
  if (mode == "half_pixel") return (x + 0.5) / axis.scale - 0.5;
  if (mode == "pytorch_half_pixel") return output_length > 1.0 ? (x + 0.5) / axis.scale - 0.5 : -0.5;
  if (mode == "asymmetric") return x / axis.scale;
  if (mode == "tf_half_pixel_for_nn") return (x + 0.5) / axis.scale;
  if (mode == "align_corners") return output_length == 1.0 ? 0.0 : x * (input_extent - 1.0) / (output_length - 1.0);
  // tf_crop_and_resize
  double original = output_length == 1.0
                        ? (axis.roi_end - axis.roi_start) * (input_extent - 1.0) / 2.0
                        : x * (axis.roi_end - axis.roi_start) * (input_extent - 1.0) / (output_length - 1.0);
  original += axis.roi_start * (input_extent - 1.0);
  if (original < 0.0 || original > input_extent - 1.0) return std::nan("");
  return original;
}

int64_t nearest_index(double original, const std::string& nearest_mode, const ResizeAxis& axis) {
  const double floor_value = std::floor(original);
  int64_t index = static_cast<int64_t>(floor_value);
  const double ratio = original - floor_value;
  if (ratio != 0.0) {
    bool up = false;
    if (nearest_mode == "round_prefer_floor") up = ratio > 0.5;
    else if (nearest_mode == "round_prefer_ceil") up = ratio >= 0.5;
    else if (nearest_mode == "ceil") up = true;
    else if (nearest_mode == "simple") up = axis.scale < 1.0;
    if (up) ++index;
  }
  return std::clamp<int64_t>(index, 0, axis.input_extent - 1);
}

bool axis_is_identity(const ResizeAxis& axis, const std::string& coordinate_mode) {
  if (axis.input_extent != axis.output_extent || axis.scale != 1.0) return false;
  if (coordinate_mode == "tf_crop_and_resize" || coordinate_mode == "tf_half_pixel_for_nn") return false;
  return !(coordinate_mode == "pytorch_half_pixel" && axis.output_extent == 1);
}

}  // namespace npukit::runtime::ref
