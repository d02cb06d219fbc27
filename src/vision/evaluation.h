// From a data set's labels and a detector's boxes to what mean_average_precision compares: label boxes
// (normalized centre and size) turned into corners in the picture's pixels, the frame the detections are in.
#pragma once

#include <vector>

#include "vision/dataset.h"
#include "vision/detection.h"
#include "vision/mean_average_precision.h"

namespace npukit::vision {

// A label box in a width × height picture's pixels (corners).
EvaluationBox label_box_in_pixels(const LabelBox& box, int width, int height);

// One picture's ground truth and detections, ready for mean_average_precision.
EvaluatedImage evaluated_image(const DatasetImage& image, int width, int height, const std::vector<Detection>& detections);

}  // namespace npukit::vision
