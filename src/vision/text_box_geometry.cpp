#include "vision/text_box_geometry.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace npukit::vision {

namespace {

double cross(const PointF& origin, const PointF& a, const PointF& b) {
  return (a.x - origin.x) * (b.y - origin.y) - (a.y - origin.y) * (b.x - origin.x);
}

}  // namespace

std::vector<PointF> convex_hull(std::vector<PointF> points) {
  std::sort(points.begin(), points.end(), [](const PointF& a, const PointF& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
  points.erase(std::unique(points.begin(), points.end(), [](const PointF& a, const PointF& b) { return a.x == b.x && a.y == b.y; }),
               points.end());
  if (points.size() < 3) return points;
  // Andrew's monotone chain: lower then upper hull, dropping points that do not turn (collinear ones too).
  std::vector<PointF> hull(2 * points.size());
  size_t count = 0;
  for (const PointF& point : points) {
    while (count >= 2 && cross(hull[count - 2], hull[count - 1], point) <= 0) --count;
    hull[count++] = point;
  }
  for (size_t i = points.size() - 1, lower = count + 1; i-- > 0;) {
    while (count >= lower && cross(hull[count - 2], hull[count - 1], points[i]) <= 0) --count;
    hull[count++] = points[i];
  }
  hull.resize(count - 1);  // the last point repeats the first
  return hull;
}

RotatedRectangle minimum_area_rectangle(const std::vector<PointF>& points) {
  RotatedRectangle best;
  const std::vector<PointF> hull = convex_hull(points);
  if (hull.empty()) return best;
  if (hull.size() == 1) {
    best.corners = {hull[0], hull[0], hull[0], hull[0]};
    return best;
  }
  double best_area = -1;
  // Rotating calipers in their plain form: one edge direction per hull edge (a hull has tens of points here).
  const size_t edges = hull.size() == 2 ? 1 : hull.size();
  for (size_t i = 0; i < edges; ++i) {
    const PointF& a = hull[i];
    const PointF& b = hull[(i + 1) % hull.size()];
    const double length = std::hypot(b.x - a.x, b.y - a.y);
    if (length == 0) continue;
    const double ux = (b.x - a.x) / length, uy = (b.y - a.y) / length;  // along the edge
    const double vx = -uy, vy = ux;                                      // across it
    double min_u = 0, max_u = 0, min_v = 0, max_v = 0;
    for (const PointF& p : hull) {
      const double u = (p.x - a.x) * ux + (p.y - a.y) * uy;
      const double v = (p.x - a.x) * vx + (p.y - a.y) * vy;
      min_u = std::min(min_u, u), max_u = std::max(max_u, u);
      min_v = std::min(min_v, v), max_v = std::max(max_v, v);
    }
    const double area = (max_u - min_u) * (max_v - min_v);
    // A new edge wins only by more than rounding: equal rectangles (an axis-aligned box seen from two edges)
    // keep the first.
    if (best_area < 0 || area < best_area - 1e-9 * std::max(1.0, best_area)) {
      best_area = area;
      auto corner = [&](double u, double v) { return PointF{a.x + u * ux + v * vx, a.y + u * uy + v * vy}; };
      best.corners = {corner(min_u, min_v), corner(max_u, min_v), corner(max_u, max_v), corner(min_u, max_v)};
      best.width = max_u - min_u;
      best.height = max_v - min_v;
    }
  }
  return best;
}

Quad mini_box_corners(const RotatedRectangle& rectangle) {
  Quad sorted = rectangle.corners;
  std::stable_sort(sorted.begin(), sorted.end(), [](const PointF& a, const PointF& b) { return a.x < b.x; });
  const bool first_is_upper = sorted[1].y > sorted[0].y;  // PaddleOCR compares with '>': a tie takes points[1]
  const bool third_is_upper = sorted[3].y > sorted[2].y;
  const PointF& top_left = first_is_upper ? sorted[0] : sorted[1];
  const PointF& bottom_left = first_is_upper ? sorted[1] : sorted[0];
  const PointF& top_right = third_is_upper ? sorted[2] : sorted[3];
  const PointF& bottom_right = third_is_upper ? sorted[3] : sorted[2];
  return {top_left, top_right, bottom_right, bottom_left};
}

Quad order_corners_clockwise(const Quad& corners) {
  size_t least_sum = 0, most_sum = 0;
  for (size_t i = 1; i < 4; ++i) {
    const double sum = corners[i].x + corners[i].y;
    if (sum < corners[least_sum].x + corners[least_sum].y) least_sum = i;
    if (sum > corners[most_sum].x + corners[most_sum].y) most_sum = i;
  }
  if (least_sum == most_sum) most_sum = least_sum == 3 ? 2 : 3;  // all four on one anti-diagonal: keep 4 distinct
  std::vector<size_t> others;
  for (size_t i = 0; i < 4; ++i) {
    if (i != least_sum && i != most_sum) others.push_back(i);
  }
  auto difference = [&](size_t i) { return corners[i].y - corners[i].x; };
  const size_t top_right = difference(others[1]) < difference(others[0]) ? others[1] : others[0];
  const size_t bottom_left = difference(others[1]) > difference(others[0]) ? others[1] : others[0];
  // Equal differences: numpy's argmin and argmax both take the first, so both corners are the same point.
  return {corners[least_sum], corners[top_right], corners[most_sum], corners[bottom_left]};
}

std::vector<size_t> reading_order(const std::vector<Quad>& boxes) {
  std::vector<size_t> order(boxes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const PointF& p = boxes[a][0];
    const PointF& q = boxes[b][0];
    return p.y < q.y || (p.y == q.y && p.x < q.x);
  });
  // PaddleOCR's pass: each box moves left past the boxes on its line (top within 10 px) that start right of it.
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    for (size_t j = i + 1; j-- > 0;) {
      const PointF& next = boxes[order[j + 1]][0];
      const PointF& current = boxes[order[j]][0];
      if (std::fabs(next.y - current.y) < 10 && next.x < current.x) {
        std::swap(order[j], order[j + 1]);
      } else {
        break;
      }
    }
  }
  return order;
}

double polygon_area(const std::vector<PointF>& polygon) {
  double twice = 0;
  for (size_t i = 0; i < polygon.size(); ++i) {
    const PointF& a = polygon[i];
    const PointF& b = polygon[(i + 1) % polygon.size()];
    twice += a.x * b.y - b.x * a.y;
  }
  return std::fabs(twice) / 2;
}

double polygon_perimeter(const std::vector<PointF>& polygon) {
  double length = 0;
  for (size_t i = 0; i < polygon.size(); ++i) {
    const PointF& a = polygon[i];
    const PointF& b = polygon[(i + 1) % polygon.size()];
    length += std::hypot(b.x - a.x, b.y - a.y);
  }
  return length;
}

}  // namespace npukit::vision
