#include "quantization/output_grid_check.h"

#include <algorithm>

#include "report/table.h"

namespace npukit::quantization {

std::vector<std::string> mixed_output_grid_notes(const QuantizationPlan& plan, const std::set<std::string>& output_values,
                                                 const std::map<std::string, Range>& ranges) {
  std::set<std::string> groups;
  for (const PlannedPoint& point : plan.points) {
    if (point.role == PointRole::activation && output_values.count(point.value)) groups.insert(point.scale_group);
  }
  std::vector<std::string> notes;
  for (const std::string& group : groups) {
    std::string widest, narrowest;
    double widest_span = 0, narrowest_span = 0;
    for (const PlannedPoint& point : plan.points) {
      if (point.role != PointRole::activation || point.scale_group != group) continue;
      const auto range = ranges.find(point.value);
      if (range == ranges.end()) continue;
      const double span = range->second.maximum - range->second.minimum;
      if (!(span > 0)) continue;
      if (widest.empty() || span > widest_span) widest = point.value, widest_span = span;
      if (narrowest.empty() || span < narrowest_span) narrowest = point.value, narrowest_span = span;
    }
    if (widest.empty() || widest == narrowest || widest_span / narrowest_span <= kMixedGridRatio) continue;
    notes.push_back("scale group '" + group + "' (read by a graph output) holds '" + widest + "' (span " +
                    report::format_number(widest_span, 4) + ") and '" + narrowest + "' (span " +
                    report::format_number(narrowest_span, 4) + "), " +
                    report::format_number(widest_span / narrowest_span, 3) +
                    "x apart: the narrow one gets about " +
                    report::format_number(std::max(1.0, 256.0 * narrowest_span / widest_span), 2) +
                    " of 256 levels; quantize them apart (for a YOLO head: npukit patch cuts boxes and scores into "
                    "separate outputs)");
  }
  return notes;
}

}  // namespace npukit::quantization
