#include "vision/non_maximum_suppression.h"

#include <algorithm>

namespace npukit::vision {

namespace {
// Ultralytics' max_nms: candidates beyond the best 30000 are dropped before NMS.
constexpr size_t maximum_candidates = 30000;
}  // namespace

float intersection_over_union(const Detection& a, const Detection& b) {
  const float width = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float height = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const float intersection = width * height;
  const float area_a = (a.x2 - a.x1) * (a.y2 - a.y1);
  const float area_b = (b.x2 - b.x1) * (b.y2 - b.y1);
  const float union_area = area_a + area_b - intersection;
  return union_area > 0 ? intersection / union_area : 0.0f;
}

std::vector<Detection> non_maximum_suppression(std::vector<Detection> candidates, const NmsOptions& options) {
  // Stable: equal scores keep their anchor order, as torch.sort on CPU does in practice for ties.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  if (candidates.size() > maximum_candidates) candidates.resize(maximum_candidates);
  std::vector<Detection> kept;
  std::vector<size_t> kept_indices;
  for (size_t i = 0; i < candidates.size() && static_cast<int>(kept.size()) < options.max_detections; ++i) {
    bool suppressed = false;
    for (size_t k : kept_indices) {
      // Ultralytics' class offset makes boxes of two classes disjoint; comparing the classes is the same, without
      // the float precision the offset costs at class 79 (606720 + x).
      if (!options.agnostic && candidates[k].class_id != candidates[i].class_id) continue;
      if (intersection_over_union(candidates[i], candidates[k]) > options.iou_threshold) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    kept_indices.push_back(i);
    kept.push_back(candidates[i]);
  }
  return kept;
}

}  // namespace npukit::vision
