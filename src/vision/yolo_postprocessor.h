// What a detection model's outputs are and how to turn them into boxes: read once from the model (a full export
// with its decode: one output [1, 4 + classes, N] or [1, N, 5 + classes]) or from the sidecar `npukit patch`
// wrote for a cut model (docs/sidecar.md), checked against the model's outputs so a sidecar of another model is
// an error, not wrong boxes. Then: decode, NMS, and the boxes mapped back through the letterbox.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "npukit/session.h"
#include "vision/detection.h"
#include "vision/letterbox.h"
#include "vision/non_maximum_suppression.h"

namespace npukit::vision {

struct DetectionOptions {
  float confidence = 0.25f;  // Ultralytics predict default
  NmsOptions nms;
};

class YoloPostprocessor {
 public:
  // `model_outputs`: the session's outputs; `metadata`: the ONNX metadata (for "names"); `sidecar` with its file
  // name for errors, or nullptr. Throws Error naming the model or the sidecar when they do not fit.
  static YoloPostprocessor create(const std::vector<ValueInfo>& model_outputs,
                                  const std::map<std::string, std::string>& metadata, const nlohmann::json* sidecar,
                                  const std::string& sidecar_name, const std::string& model_name);

  // Decoded boxes above the confidence, in model input pixels, in the model's anchor order (level, anchor,
  // row, column), before NMS.
  std::vector<Detection> candidates(const Session& session, float confidence) const;
  std::vector<Detection> candidates(const engine::Engine& session, float confidence) const;
  // Decoded and suppressed boxes, in model input pixels, best first.
  std::vector<Detection> detect(const Session& session, const DetectionOptions& options) const;
  std::vector<Detection> detect(const engine::Engine& session, const DetectionOptions& options) const;
  // The same from outputs copied out of a session (the pipeline's workers hand them to another thread).
  // Throws Error(invalid_argument) naming an output the map lacks.
  std::vector<Detection> detect(const std::map<std::string, Tensor>& outputs, const DetectionOptions& options) const;

  int class_count() const { return class_count_; }
  // "class 7" where the model and sidecar give no names.
  std::string class_name(int class_id) const;
  // "YOLOv8 full export", "anchor-free cut head (sidecar)", ...
  const std::string& description() const { return description_; }
  // What was assumed (YOLOv5's default anchors for a raw head), one line each, for the user.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  // The outputs of the last run, by name (a Session's or an Engine's).
  using OutputByName = std::function<const Tensor&(const std::string&)>;
  std::vector<Detection> decode(const OutputByName& output, float confidence) const;

  struct Level {
    std::string boxes, scores;
    int stride = 0;
    std::vector<float> anchors;  // anchor-based
  };
  enum class Kind { yolov8_full, yolov5_full, anchor_free_cut, anchor_based_cut };
  Kind kind_ = Kind::yolov8_full;
  std::string output_;  // full exports
  std::vector<Level> levels_;
  int reg_max_ = 16;
  int class_count_ = 0;
  std::vector<std::string> class_names_;
  std::string description_;
  std::vector<std::string> notes_;
};

// Reads and parses a sidecar file; Error(io / invalid_argument) naming it.
nlohmann::json read_sidecar(const std::string& path);

// Boxes from model input pixels back to the original picture (remove padding, divide by the scale), clipped to it.
void map_boxes_to_original(std::vector<Detection>& detections, const LetterboxGeometry& geometry);

}  // namespace npukit::vision
