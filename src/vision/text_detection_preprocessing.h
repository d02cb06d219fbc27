// Pre-processing for a PP-OCR (DB) text detector, as PaddleOCR's DetResizeForTest (limit type "max", the
// default of tools/infer/predict_det.py) and NormalizeImage:
//   ratio = limit / longer side when that side exceeds the limit ("max"), or limit / shorter side when that side
//   is below it ("min"), else 1; size = int(side · ratio), then rounded to a multiple of 32 (at least 32);
//   bilinear resize (cv2.resize); BGR channels, (pixel / 255 − mean) / std with ImageNet's mean and std in
//   PaddleOCR's order (0.485, 0.456, 0.406 applied to B, G, R, as PaddleOCR does on cv2's BGR pictures);
//   a [1, 3, H, W] float32 tensor.
#pragma once

#include <cstddef>

#include <string>

#include "npukit/tensor.h"
#include "vision/image.h"

namespace npukit::vision {

enum class DetectionLimitType { max, min };

struct TextDetectionResize {
  int width = 0, height = 0;  // the tensor's spatial size, multiples of 32
};

// Throws Error(invalid_argument) for a limit below 1.
TextDetectionResize text_detection_resize(int image_width, int image_height, int limit_side_length,
                                          DetectionLimitType limit_type);

Tensor text_detection_tensor(const Image& image, const TextDetectionResize& size);

}  // namespace npukit::vision
