// Classification top-k: the k best classes of a [1, classes] (or [classes]) output, as probabilities — a softmax
// first when the output is logits (values outside [0, 1], or not summing to 1), as torchvision and Ultralytics
// classifiers export them either way.
#pragma once

#include <vector>

#include "npukit/tensor.h"

namespace npukit::vision {

struct ClassScore {
  int class_id = 0;
  float probability = 0;
};

struct TopK {
  std::vector<ClassScore> best;  // highest first
  bool softmax_applied = false;
};

TopK top_k_classes(const Tensor& output, int k);

}  // namespace npukit::vision
