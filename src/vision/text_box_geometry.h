// Geometry of text boxes, as PaddleOCR's DB post-processing and text system compute it
// (ppocr/postprocess/db_postprocess.py, tools/infer/predict_det.py, tools/infer/predict_system.py):
//   - the minimum-area rotated rectangle around a point set (cv2.minAreaRect: rotating calipers on the hull),
//   - its corners in PaddleOCR's order (get_mini_boxes): top-left, top-right, bottom-right, bottom-left,
//   - the clockwise order of a detected box (order_points_clockwise: by x + y and y − x),
//   - the reading order of lines (sorted_boxes).
#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace npukit::vision {

struct PointF {
  double x = 0, y = 0;
};

// Four corners; for a text box: top-left, top-right, bottom-right, bottom-left.
using Quad = std::array<PointF, 4>;

// The convex hull, counter-clockwise in image coordinates (y down: clockwise on screen), without collinear
// points. Fewer than 3 points come back as they are (duplicates removed).
std::vector<PointF> convex_hull(std::vector<PointF> points);

struct RotatedRectangle {
  Quad corners{};      // in hull order (no particular start); see mini_box_corners for PaddleOCR's order
  double width = 0;    // along the edge the rectangle is aligned to
  double height = 0;   // across it
  double shorter_side() const { return width < height ? width : height; }
};

// The rectangle of least area that holds every point (an edge of it lies on an edge of the hull). One point:
// a zero-size rectangle; points on a line: height 0. Throws nothing; an empty set gives a zero rectangle.
RotatedRectangle minimum_area_rectangle(const std::vector<PointF>& points);

// PaddleOCR's get_mini_boxes ordering of a rectangle's corners: sorted by x; of the two leftmost the upper is
// the top-left, of the two rightmost the upper is the top-right.
Quad mini_box_corners(const RotatedRectangle& rectangle);

// PaddleOCR's order_points_clockwise: top-left = least x + y, bottom-right = most x + y, of the other two the
// top-right has the least y − x. Ties go to the first corner, as numpy's argmin / argmax.
Quad order_corners_clockwise(const Quad& corners);

// PaddleOCR's sorted_boxes: by the top-left corner's y, then x; then a box whose top-left y is within 10 pixels
// of the box before it and lies to its left moves ahead of it (one text line read left to right). Returns the
// reading order as indices into `boxes`.
std::vector<size_t> reading_order(const std::vector<Quad>& boxes);

double polygon_area(const std::vector<PointF>& polygon);       // absolute area (shoelace)
double polygon_perimeter(const std::vector<PointF>& polygon);  // closed

}  // namespace npukit::vision
