// The detect path that `detect`, `eval` and video detection share: a YOLO model (full export, or cut by
// `npukit patch` with its sidecar) loaded once, then picture in, boxes in the picture's pixels out:
// letterbox as Ultralytics, run, decode, NMS, boxes mapped back. One place, so `eval` measures exactly what
// `detect` shows.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "npukit/session.h"
#include "vision/detection.h"
#include "vision/image.h"
#include "vision/yolo_postprocessor.h"

namespace npukit::cli {

struct YoloDetectorOptions {
  std::string model;
  std::string sidecar;  // empty: MODEL.postprocess.json beside the model when `patch` wrote one
  std::string backend = "cpu";
  std::string target;  // EngineOptions::target: the sim backend's arithmetic; refused with another backend
  int threads = 1;
  std::vector<std::string> input_shapes, input_values;
  bool print_notes = true;  // preparation and head notes on stderr (off for --json)
};

// Seconds spent in each stage of one picture.
struct StageTimes {
  double decode = 0, pre = 0, infer = 0, post = 0;
  StageTimes& operator+=(const StageTimes& other) {
    decode += other.decode, pre += other.pre, infer += other.infer, post += other.post;
    return *this;
  }
};

class YoloDetector {
 public:
  // Loads the model and its sidecar; throws Error naming the model or sidecar when they are not a detector
  // npukit can decode (not one [1, 3, H, W] f32 input, or outputs it does not recognise).
  explicit YoloDetector(const YoloDetectorOptions& options);

  // Boxes in `image`'s pixels, best first. Adds the pre, infer and post times to `times` when given.
  std::vector<vision::Detection> detect(const vision::Image& image, const vision::DetectionOptions& options,
                                        StageTimes* times = nullptr);

  const vision::YoloPostprocessor& postprocessor() const { return *postprocessor_; }
  const std::string& sidecar_path() const { return sidecar_path_; }
  int input_height() const { return input_height_; }
  int input_width() const { return input_width_; }

 private:
  std::unique_ptr<engine::Engine> session_;
  std::unique_ptr<vision::YoloPostprocessor> postprocessor_;
  std::string input_name_;
  std::string sidecar_path_;
  int input_height_ = 0, input_width_ = 0;
};

// The sidecar to use: the one given, or MODEL.postprocess.json beside the model when `patch` wrote one there.
std::string find_sidecar(const YoloDetectorOptions& options);

// Checks --conf, --iou and --max-det; throws Error(invalid_argument) saying the allowed range.
vision::DetectionOptions make_detection_options(float confidence, float iou, int max_detections, bool agnostic);

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace npukit::cli
