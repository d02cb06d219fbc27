// Where Resize reads from: the coordinate transforms and nearest rounding of ONNX's Resize (resize.py in
// the node tests), per axis. The reference kernel (resize.cpp) and the cpu kernel (kernels/cpu/resize.cpp)
// both use these, so the fast kernel picks exactly the elements the oracle picks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "npukit/tensor.h"
#include "runtime/kernel.h"

namespace npukit::runtime::ref {

// One axis: extents, the scale the coordinate transform uses, and the crop box for tf_crop_and_resize.
struct ResizeAxis {
  int64_t input_extent = 1;
  int64_t output_extent = 1;
  double scale = 1.0;
  double roi_start = 0.0;
  double roi_end = 1.0;
};

// The axes of a Resize of `data`: output extents and scales from `sizes` (when given) or `scales`, and the
// crop box from `roi` (2 * rank values, or empty). Throws for counts that do not match the rank, negative
// sizes and non-positive scales.
std::vector<ResizeAxis> resize_axes(const KernelContext& context, const Tensor& data, const std::vector<double>& scales,
                                    const std::vector<int64_t>& sizes, const std::vector<double>& roi);

// Where output coordinate x lies in the input, or NaN when tf_crop_and_resize extrapolates there.
double original_coordinate(double x, const ResizeAxis& axis, const std::string& coordinate_mode);

// The input index nearest interpolation reads for `original`, rounded as `nearest_mode` says ("simple" is
// Upsample's and Resize-10's rounding: floor when enlarging, ceil when shrinking), clamped to the axis.
int64_t nearest_index(double original, const std::string& nearest_mode, const ResizeAxis& axis);

// True when interpolation along this axis returns the input unchanged (the reference then skips it).
bool axis_is_identity(const ResizeAxis& axis, const std::string& coordinate_mode);

}  // namespace npukit::runtime::ref
