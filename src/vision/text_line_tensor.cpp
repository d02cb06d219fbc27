#include "vision/text_line_tensor.h"

#include <algorithm>
#include <cmath>

#include "npukit/error.h"
#include "vision/letterbox.h"

namespace npukit::vision {

int recognition_input_width(int line_width, int line_height, int input_height, int minimum_width) {
  if (line_width < 1 || line_height < 1) throw Error(ErrorKind::invalid_argument, "an empty text line has no input width");
  const double max_ratio = std::max(static_cast<double>(minimum_width) / input_height, static_cast<double>(line_width) / line_height);
  return static_cast<int>(input_height * max_ratio);
}

Tensor text_line_tensor(const Image& line, int input_height, int input_width) {
  if (line.width < 1 || line.height < 1) throw Error(ErrorKind::invalid_argument, "an empty text line cannot be recognized");
  const double ratio = static_cast<double>(line.width) / line.height;
  const int resized_width = std::min(input_width, static_cast<int>(std::ceil(input_height * ratio)));
  LetterboxOptions resize;
  resize.width = std::max(resized_width, 1);
  resize.height = input_height;
  resize.scale_fill = true;
  const Image resized = letterbox_image(line, resize);  // uint8 as cv2.resize returns it, then normalized
  Tensor tensor(DType::f32, {1, 3, input_height, input_width});
  float* data = tensor.data<float>();
  std::fill(data, data + tensor.element_count(), 0.0f);
  const size_t plane = static_cast<size_t>(input_height) * input_width;
  for (int y = 0; y < input_height; ++y) {
    const uint8_t* row = resized.row(y);
    for (int x = 0; x < resized.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        // Channel c of the tensor is B, G, R: pixel channel 2 − c of the RGB picture.
        const float value = static_cast<float>(row[3 * x + 2 - c]) / 255.0f;
        data[c * plane + static_cast<size_t>(y) * input_width + x] = (value - 0.5f) / 0.5f;
      }
    }
  }
  return tensor;
}

}  // namespace npukit::vision
