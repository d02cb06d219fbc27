// One frame on its way through the detection pipeline: what the source gave (picture file bytes, or a frame a
// video decoder already decoded), the decoded picture, the model input, the model outputs, the boxes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "npukit/tensor.h"
#include "vision/detection.h"
#include "vision/image.h"
#include "vision/letterbox.h"

namespace npukit::pipeline {

struct DetectionFrame {
  std::string name;                    // the picture's file name, or "frame 12" of a video
  std::string path;                    // the picture's path; empty for video and synthetic frames
  std::optional<double> video_seconds; // a video frame's time, where the file gives a frame rate
  std::vector<uint8_t> encoded;        // picture file bytes for the decode stage; empty when the source decoded
  vision::Image image;
  vision::LetterboxGeometry geometry;
  Tensor input;
  std::map<std::string, Tensor> outputs;
  std::vector<vision::Detection> detections;
};

}  // namespace npukit::pipeline
