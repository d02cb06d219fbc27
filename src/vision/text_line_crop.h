// Cutting a detected text box out of the picture as a horizontal line image, as PaddleOCR's
// get_rotate_crop_image (tools/infer/utility.py):
//   width  = int(max(|p0 − p1|, |p2 − p3|)), height = int(max(|p0 − p3|, |p1 − p2|)),
//   the perspective transform taking p0, p1, p2, p3 to (0,0), (width,0), (width,height), (0,height),
//   cv2.warpPerspective with bicubic interpolation (a = −0.75, sample positions on a 1/32 pixel grid as
//   OpenCV's tables) and a replicated border;
//   a crop at least 1.5 times taller than wide is turned 90° counter-clockwise (np.rot90): vertical text.
#pragma once

#include <cstddef>

#include <array>

#include "vision/image.h"
#include "vision/text_box_geometry.h"

namespace npukit::vision {

// The 3 × 3 matrix (row-major) that maps `from[i]` to `to[i]` (cv2.getPerspectiveTransform). Throws
// Error(invalid_argument) when three of the points are collinear (no such transform).
std::array<double, 9> perspective_transform(const Quad& from, const Quad& to);

// The line image of a box (corners: top-left, top-right, bottom-right, bottom-left). A box thinner than one
// pixel gives an empty image (width or height 0).
Image crop_text_line(const Image& image, const Quad& corners);

// np.rot90: 90° counter-clockwise. cv2.rotate(…, ROTATE_180) for the direction classifier.
Image rotate_counter_clockwise(const Image& image);
Image rotate_half_turn(const Image& image);

}  // namespace npukit::vision
