// A detected object: a box in pixels (corners), its score and class.
#pragma once

#include <cstdint>

namespace npukit::vision {

struct Detection {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // corners; in the model input's pixels until mapped back
  float score = 0;
  int class_id = 0;
};

}  // namespace npukit::vision
