// DB (Differentiable Binarization) post-processing of a PP-OCR detector's probability map into text boxes,
// step for step as PaddleOCR's DBPostProcess (ppocr/postprocess/db_postprocess.py, box_type "quad",
// score_mode "fast") followed by TextDetector.filter_tag_det_res (tools/infer/predict_det.py):
//
//   1. binary map: probability > threshold (0.3);
//   2. each 8-connected region of it (PaddleOCR traces the same regions' outer contours with cv2.findContours;
//      the hull of a region's border is the hull of its pixels), at most max_candidates (1000) of them;
//   3. its minimum-area rectangle; dropped when the shorter side < min_size (3);
//   4. score = mean probability inside the rectangle (box_score_fast); dropped below box_threshold (0.6);
//   5. unclip by area · unclip_ratio (1.5) / perimeter (vision/text_box_unclip.h), the minimum-area rectangle
//      of the grown polygon; dropped when its shorter side < min_size + 2;
//   6. corners mapped from the map to the picture: round(x / map_width · picture_width), clipped to the picture;
//   7. corners ordered clockwise from the top-left, clipped to [0, width − 1] × [0, height − 1]; dropped when
//      a side is 3 pixels or less.
//
// One difference: cv2.findContours in RETR_LIST mode also returns the border of every hole inside a region,
// which PaddleOCR then scores as a box of its own; holes in a text probability map are rare and such boxes
// would duplicate part of the region's own box, so only regions are used here.
#pragma once

#include <cstdint>
#include <vector>

#include "vision/text_box_geometry.h"

namespace npukit::vision {

struct TextDetectionOptions {
  float binary_threshold = 0.3f;  // det_db_thresh
  float box_threshold = 0.6f;     // det_db_box_thresh
  double unclip_ratio = 1.5;      // det_db_unclip_ratio
  int max_candidates = 1000;
  int min_size = 3;
};

struct TextBox {
  Quad corners{};   // in picture pixels (whole numbers), top-left, top-right, bottom-right, bottom-left
  float score = 0;  // mean probability inside the box on the map (before unclip)
};

// `probability`: the map, map_height × map_width, row-major. The boxes come back in the map's region order;
// vision::reading_order puts them in reading order.
std::vector<TextBox> text_boxes_from_probability_map(const float* probability, int map_width, int map_height,
                                                     int image_width, int image_height,
                                                     const TextDetectionOptions& options = {});

// The steps, exposed for tests:
// Each 8-connected region of `mask` (map_height × map_width, non-zero = text) as the points whose hull is the
// region's hull (the first and last pixel of each of its runs), regions in raster order of their first pixel.
std::vector<std::vector<PointF>> connected_region_outlines(const std::vector<uint8_t>& mask, int width, int height);

// PaddleOCR's box_score_fast: the mean of the map over the pixels of the box's bounding rectangle that
// cv2.fillPoly would fill for the box corners truncated to integers (a pixel counts when it lies on an edge's
// 8-connected line or its centre lies inside the polygon).
float box_score(const float* probability, int map_width, int map_height, const Quad& box);

}  // namespace npukit::vision
