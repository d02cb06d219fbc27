#include "vision/text_detection_postprocessing.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "vision/text_box_unclip.h"

namespace npukit::vision {

namespace {

struct Run {
  int row = 0, first = 0, last = 0;  // pixels first..last (inclusive) of one row
};

size_t find_root(std::vector<size_t>& parent, size_t i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

}  // namespace

std::vector<std::vector<PointF>> connected_region_outlines(const std::vector<uint8_t>& mask, int width, int height) {
  // Run-length labelling: runs of one row join the runs of the row above that touch them, diagonals included.
  std::vector<Run> runs;
  std::vector<size_t> parent;
  size_t previous_row_begin = 0, previous_row_end = 0;
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = mask.data() + static_cast<size_t>(y) * width;
    const size_t row_begin = runs.size();
    for (int x = 0; x < width;) {
      if (!row[x]) {
        ++x;
        continue;
      }
      const int first = x;
      while (x < width && row[x]) ++x;
      const size_t index = runs.size();
      runs.push_back({y, first, x - 1});
      parent.push_back(index);
      for (size_t above = previous_row_begin; above < previous_row_end; ++above) {
        if (runs[above].first <= x && runs[above].last >= first - 1) {  // overlap by 8-connectivity
          const size_t a = find_root(parent, above), b = find_root(parent, index);
          if (a != b) parent[std::max(a, b)] = std::min(a, b);
        }
      }
    }
    previous_row_begin = row_begin;
    previous_row_end = runs.size();
  }
  std::vector<std::vector<PointF>> regions;
  std::vector<size_t> region_of_root(runs.size(), SIZE_MAX);
  for (size_t i = 0; i < runs.size(); ++i) {
    const size_t root = find_root(parent, i);
    if (region_of_root[root] == SIZE_MAX) {
      region_of_root[root] = regions.size();
      regions.emplace_back();
    }
    std::vector<PointF>& outline = regions[region_of_root[root]];
    outline.push_back({static_cast<double>(runs[i].first), static_cast<double>(runs[i].row)});
    if (runs[i].last != runs[i].first) outline.push_back({static_cast<double>(runs[i].last), static_cast<double>(runs[i].row)});
  }
  return regions;
}

float box_score(const float* probability, int map_width, int map_height, const Quad& box) {
  double min_x = box[0].x, max_x = box[0].x, min_y = box[0].y, max_y = box[0].y;
  for (const PointF& p : box) {
    min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
  }
  const int x_begin = std::clamp(static_cast<int>(std::floor(min_x)), 0, map_width - 1);
  const int x_end = std::clamp(static_cast<int>(std::ceil(max_x)), 0, map_width - 1);
  const int y_begin = std::clamp(static_cast<int>(std::floor(min_y)), 0, map_height - 1);
  const int y_end = std::clamp(static_cast<int>(std::ceil(max_y)), 0, map_height - 1);
  // The polygon as PaddleOCR hands it to cv2.fillPoly: relative to the crop, truncated to int32.
  std::array<PointF, 4> polygon;
  for (size_t i = 0; i < 4; ++i) {
    polygon[i] = {std::trunc(box[i].x - x_begin), std::trunc(box[i].y - y_begin)};
  }
  const int crop_width = x_end - x_begin + 1, crop_height = y_end - y_begin + 1;
  std::vector<uint8_t> mask(static_cast<size_t>(crop_width) * crop_height, 0);
  auto mark = [&](long x, long y) {
    if (x >= 0 && y >= 0 && x < crop_width && y < crop_height) mask[static_cast<size_t>(y) * crop_width + x] = 1;
  };
  // cv2.fillPoly first draws each edge as an 8-connected line (its CollectPolyEdges), then fills the rows
  // between the edges: a pixel counts when it is on an edge's line or its centre lies inside the polygon.
  for (size_t i = 0; i < 4; ++i) {
    const PointF& a = polygon[i];
    const PointF& b = polygon[(i + 1) % 4];
    const long steps = static_cast<long>(std::max(std::fabs(b.x - a.x), std::fabs(b.y - a.y)));
    for (long k = 0; k <= steps; ++k) {
      const double t = steps > 0 ? static_cast<double>(k) / steps : 0;
      mark(static_cast<long>(std::floor(a.x + (b.x - a.x) * t + 0.5)), static_cast<long>(std::floor(a.y + (b.y - a.y) * t + 0.5)));
    }
  }
  for (int y = 0; y < crop_height; ++y) {
    // Where the row's centre line meets the polygon's edges: the filled span runs from the least to the most.
    double span_begin = INFINITY, span_end = -INFINITY;
    for (size_t i = 0; i < 4; ++i) {
      const PointF& a = polygon[i];
      const PointF& b = polygon[(i + 1) % 4];
      if ((y < std::min(a.y, b.y)) || (y > std::max(a.y, b.y))) continue;
      if (a.y == b.y) {
        span_begin = std::min({span_begin, a.x, b.x});
        span_end = std::max({span_end, a.x, b.x});
      } else {
        const double x = a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y);
        span_begin = std::min(span_begin, x);
        span_end = std::max(span_end, x);
      }
    }
    if (span_begin > span_end) continue;
    const long first = static_cast<long>(std::ceil(span_begin - 1e-9));
    const long last = static_cast<long>(std::floor(span_end + 1e-9));
    for (long x = first; x <= last; ++x) mark(x, y);
  }
  double sum = 0;
  int64_t count = 0;
  for (int y = 0; y < crop_height; ++y) {
    const float* row = probability + static_cast<size_t>(y + y_begin) * map_width + x_begin;
    const uint8_t* inside = mask.data() + static_cast<size_t>(y) * crop_width;
    for (int x = 0; x < crop_width; ++x) {
      if (inside[x]) sum += row[x], ++count;
    }
  }
  return count > 0 ? static_cast<float>(sum / count) : 0.0f;
}

std::vector<TextBox> text_boxes_from_probability_map(const float* probability, int map_width, int map_height,
                                                     int image_width, int image_height,
                                                     const TextDetectionOptions& options) {
  std::vector<uint8_t> mask(static_cast<size_t>(map_width) * map_height);
  for (size_t i = 0; i < mask.size(); ++i) mask[i] = probability[i] > options.binary_threshold;
  std::vector<std::vector<PointF>> regions = connected_region_outlines(mask, map_width, map_height);
  if (regions.size() > static_cast<size_t>(std::max(options.max_candidates, 0))) regions.resize(options.max_candidates);
  std::vector<TextBox> boxes;
  for (const std::vector<PointF>& region : regions) {
    const RotatedRectangle kernel = minimum_area_rectangle(region);
    if (kernel.shorter_side() < options.min_size) continue;
    const Quad kernel_corners = mini_box_corners(kernel);
    const float score = box_score(probability, map_width, map_height, kernel_corners);
    if (options.box_threshold > score) continue;
    const std::vector<std::vector<PointF>> grown =
        unclip_polygon(std::vector<PointF>(kernel_corners.begin(), kernel_corners.end()), options.unclip_ratio);
    if (grown.size() != 1) continue;
    const RotatedRectangle expanded = minimum_area_rectangle(grown[0]);
    if (expanded.shorter_side() < options.min_size + 2) continue;
    Quad corners = mini_box_corners(expanded);
    for (PointF& p : corners) {
      // PaddleOCR computes this in float32 (the corners come from cv2.boxPoints) and rounds half to even.
      const float x = static_cast<float>(p.x) / static_cast<float>(map_width) * static_cast<float>(image_width);
      const float y = static_cast<float>(p.y) / static_cast<float>(map_height) * static_cast<float>(image_height);
      p.x = std::clamp(static_cast<double>(std::nearbyint(x)), 0.0, static_cast<double>(image_width));
      p.y = std::clamp(static_cast<double>(std::nearbyint(y)), 0.0, static_cast<double>(image_height));
    }
    corners = order_corners_clockwise(corners);
    for (PointF& p : corners) {
      p.x = std::clamp(p.x, 0.0, static_cast<double>(image_width - 1));
      p.y = std::clamp(p.y, 0.0, static_cast<double>(image_height - 1));
    }
    const int side_width = static_cast<int>(std::hypot(corners[0].x - corners[1].x, corners[0].y - corners[1].y));
    const int side_height = static_cast<int>(std::hypot(corners[0].x - corners[3].x, corners[0].y - corners[3].y));
    if (side_width <= 3 || side_height <= 3) continue;
    boxes.push_back({corners, score});
  }
  return boxes;
}

}  // namespace npukit::vision
