// Pre-processing of a cut-out text line for the recognizer and the direction classifier, as PaddleOCR's
// TextRecognizer.resize_norm_img and TextClassifier.resize_norm_img (tools/infer/predict_rec.py, predict_cls.py):
//   resized width = min(target width, ceil(height · w / h)), bilinear resize to that × height (cv2.resize),
//   BGR channels, (pixel / 255 − 0.5) / 0.5 into [−1, 1], zeros to the right up to the target width.
// The recognizer's target width is int(height · max(320 / 48, w / h)) for a batch of one line (a line is never
// squeezed); the classifier's is 192.
#pragma once

#include <cstddef>

#include "npukit/tensor.h"
#include "vision/image.h"

namespace npukit::vision {

// The recognizer's input width for a line of `line_width` × `line_height` pixels (default rec_image_shape
// 3, 48, 320).
int recognition_input_width(int line_width, int line_height, int input_height = 48, int minimum_width = 320);

// Writes a [1, 3, input_height, input_width] float32 tensor.
Tensor text_line_tensor(const Image& line, int input_height, int input_width);

}  // namespace npukit::vision
