// Unclip: DB detectors predict a shrunken text kernel; the box is grown back by offsetting its polygon
// outwards by  distance = area · ratio / perimeter  (the DB paper's inverse of its shrink), with round joins.
// As PaddleOCR (ppocr/postprocess/db_postprocess.py `unclip`) does through pyclipper, this calls Angus
// Johnson's Clipper 6.4.2 (Debian's libpolyclipping, the library pyclipper wraps) on the corners truncated
// to integers, so the offset polygon has the same integer vertices as PaddleOCR's.
#pragma once

#include <vector>

#include "vision/text_box_geometry.h"

namespace npukit::vision {

// The offset distance PaddleOCR uses: polygon area × ratio / perimeter (shapely's area and length).
double unclip_distance(const std::vector<PointF>& polygon, double ratio);

// The polygon grown by unclip_distance(polygon, ratio): Clipper's offset with round joins (arc tolerance 0.25,
// miter limit 2, pyclipper's defaults). Returns every resulting polygon; PaddleOCR drops a box that gives
// more than one. A degenerate polygon (zero area) gives none.
std::vector<std::vector<PointF>> unclip_polygon(const std::vector<PointF>& polygon, double ratio);

}  // namespace npukit::vision
