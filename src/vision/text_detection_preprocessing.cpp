#include "vision/text_detection_preprocessing.h"

#include <algorithm>
#include <cmath>

#include "npukit/error.h"
#include "vision/letterbox.h"

namespace npukit::vision {

TextDetectionResize text_detection_resize(int image_width, int image_height, int limit_side_length,
                                          DetectionLimitType limit_type) {
  if (limit_side_length < 1) throw Error(ErrorKind::invalid_argument, "the detection side limit must be 1 or more");
  const double h = image_height, w = image_width, limit = limit_side_length;
  double ratio = 1;
  if (limit_type == DetectionLimitType::max) {
    if (std::max(h, w) > limit) ratio = h > w ? limit / h : limit / w;
  } else if (std::min(h, w) < limit) {
    ratio = h < w ? limit / h : limit / w;
  }
  const double resize_h = std::trunc(h * ratio), resize_w = std::trunc(w * ratio);
  // Python's round: half to even, which nearbyint does in the default rounding mode.
  TextDetectionResize size;
  size.height = std::max(static_cast<int>(std::nearbyint(resize_h / 32) * 32), 32);
  size.width = std::max(static_cast<int>(std::nearbyint(resize_w / 32) * 32), 32);
  return size;
}

Tensor text_detection_tensor(const Image& image, const TextDetectionResize& size) {
  LetterboxOptions resize;  // a stretch to exactly size (no padding): cv2.resize
  resize.width = size.width;
  resize.height = size.height;
  resize.scale_fill = true;
  Normalization normalization;
  normalization.bgr = true;
  normalization.mean = {0.485f * 255, 0.456f * 255, 0.406f * 255};
  normalization.scale = {1 / (0.229f * 255), 1 / (0.224f * 255), 1 / (0.225f * 255)};
  return letterbox_to_tensor(image, resize, normalization);
}

}  // namespace npukit::vision
