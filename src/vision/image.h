// Image: 8-bit interleaved RGB pixels, row-major, as every decoder in this module returns them (grayscale and
// alpha are converted on decode, so pre-processing has one input format to be fast on).
#pragma once

#include <cstdint>
#include <vector>

namespace npukit::vision {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3 bytes: R, G, B

  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width * 3; }
};

}  // namespace npukit::vision
