// Non-maximum suppression as Ultralytics runs it (torchvision.ops.nms): highest score first, a box is dropped
// when its IoU with a kept box is above the threshold. Class-aware by default: Ultralytics offsets boxes
// by class × 7680 so boxes of different classes never overlap, here only boxes of one class are compared (the
// same result); `agnostic` compares all.
#pragma once

#include <vector>

#include "vision/detection.h"

namespace npukit::vision {

struct NmsOptions {
  float iou_threshold = 0.7f;  // Ultralytics predict default
  int max_detections = 300;
  bool agnostic = false;
};

// Intersection over union of two corner boxes; 0 when either is empty.
float intersection_over_union(const Detection& a, const Detection& b);

// Keeps the survivors, best score first, at most max_detections. `candidates` are taken by value and sorted.
std::vector<Detection> non_maximum_suppression(std::vector<Detection> candidates, const NmsOptions& options);

}  // namespace npukit::vision
