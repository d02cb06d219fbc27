#include "vision/text_box_unclip.h"

#include <polyclipping/clipper.hpp>

namespace npukit::vision {

double unclip_distance(const std::vector<PointF>& polygon, double ratio) {
  const double perimeter = polygon_perimeter(polygon);
  return perimeter > 0 ? polygon_area(polygon) * ratio / perimeter : 0;
}

std::vector<std::vector<PointF>> unclip_polygon(const std::vector<PointF>& polygon, double ratio) {
  const double distance = unclip_distance(polygon, ratio);
  if (!(distance > 0)) return {};
  ClipperLib::Path path;
  // pyclipper converts each float coordinate to Clipper's integer with C's truncation toward zero.
  for (const PointF& point : polygon) {
    path.emplace_back(static_cast<ClipperLib::cInt>(point.x), static_cast<ClipperLib::cInt>(point.y));
  }
  ClipperLib::ClipperOffset offset(2.0, 0.25);
  offset.AddPath(path, ClipperLib::jtRound, ClipperLib::etClosedPolygon);
  ClipperLib::Paths solution;
  offset.Execute(solution, distance);
  std::vector<std::vector<PointF>> grown;
  for (const ClipperLib::Path& result : solution) {
    std::vector<PointF> points;
    for (const ClipperLib::IntPoint& point : result) points.push_back({static_cast<double>(point.X), static_cast<double>(point.Y)});
    grown.push_back(std::move(points));
  }
  return grown;
}

}  // namespace npukit::vision
