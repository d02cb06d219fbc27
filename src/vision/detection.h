// A detected object: a box in pixels (corners), its score and class.
#pragma once

#include <cstdint>

namespace npukit::vision {

struct Detection {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // corners; in the model input's pixels until mapped back
  float score = 0;
  int class_id = 0;
  // The anchor (output column of a full export; level by level, anchor, row, column for a cut head) it came
  // from: per-anchor data such as segmentation mask coefficients are found by it. -1 when not from a decoder.
  int64_t anchor = -1;
};

}  // namespace npukit::vision
