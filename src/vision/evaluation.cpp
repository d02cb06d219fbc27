#include "vision/evaluation.h"

namespace npukit::vision {

EvaluationBox label_box_in_pixels(const LabelBox& box, int width, int height) {
  EvaluationBox result;
  result.x1 = (box.center_x - box.width / 2) * width;
  result.y1 = (box.center_y - box.height / 2) * height;
  result.x2 = (box.center_x + box.width / 2) * width;
  result.y2 = (box.center_y + box.height / 2) * height;
  result.class_id = box.class_id;
  return result;
}

EvaluatedImage evaluated_image(const DatasetImage& image, int width, int height, const std::vector<Detection>& detections) {
  EvaluatedImage result;
  for (const LabelBox& box : image.boxes) result.ground_truth.push_back(label_box_in_pixels(box, width, height));
  for (const Detection& detection : detections) {
    result.detections.push_back({detection.x1, detection.y1, detection.x2, detection.y2, detection.class_id, detection.score});
  }
  return result;
}

}  // namespace npukit::vision
