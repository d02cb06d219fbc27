// The pipeline's sink for `npukit pipeline`: boxes drawn on every picture (DIR/STEM.jpg, each written under a
// temporary name and renamed) or on every video frame (DIR/STEM.annotated.mp4, renamed into place at the end),
// and every frame's boxes kept for detections.json. A frame whose picture cannot be written keeps its boxes in
// the JSON; the error stops the pipeline (the sink stops writing pictures), and the frames after it that were
// already computed are still kept in the JSON.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "pipeline/detection_pipeline.h"
#include "vision/video.h"

namespace npukit::pipeline {

class DetectionFileSink final : public FrameSink {
 public:
  // `video_stem` non-empty: frames go into DIR/STEM.annotated.mp4 at `frames_per_second` (0: 25).
  DetectionFileSink(std::string output_dir, const vision::YoloPostprocessor& postprocessor, std::string video_stem = {},
                    double frames_per_second = 0);
  ~DetectionFileSink() override;

  void write(int64_t index, DetectionFrame& frame, const StageFailure* failure) override;
  // Closes the video (the frames written so far make a complete file). Throws Error(io) naming it.
  void finish();

  // One entry per frame: index, name, detections, the annotated file (or null and why not), the error if it failed.
  const nlohmann::json& frames_json() const { return frames_; }
  int64_t frames_written() const { return frames_written_; }   // annotated pictures / video frames on disk
  int64_t frames_with_boxes_kept() const { return frames_kept_; }
  int64_t boxes() const { return boxes_; }
  std::string annotated_video() const { return video_path_; }  // empty for pictures or when nothing was written
  const std::optional<std::string>& write_error() const { return write_error_; }

 private:
  std::string output_dir_;
  const vision::YoloPostprocessor& postprocessor_;
  std::string video_stem_;
  double frames_per_second_;
  std::unique_ptr<vision::VideoWriter> video_;
  std::string video_path_;
  nlohmann::json frames_ = nlohmann::json::array();
  int64_t frames_written_ = 0, frames_kept_ = 0, boxes_ = 0;
  std::optional<std::string> write_error_;  // set once writing failed: later frames keep their boxes only
};

}  // namespace npukit::pipeline
