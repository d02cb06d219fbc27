#include "pipeline/detection_file_sink.h"

#include <cstdio>
#include <filesystem>

#include "npukit/error.h"
#include "vision/annotation.h"
#include "vision/image_encoding.h"

namespace npukit::pipeline {

namespace {

std::string score_text(float score) {
  char text[16];
  std::snprintf(text, sizeof text, "%.2f", score);
  return text;
}

}  // namespace

DetectionFileSink::DetectionFileSink(std::string output_dir, const vision::YoloPostprocessor& postprocessor, std::string video_stem,
                                     double frames_per_second)
    : output_dir_(std::move(output_dir)),
      postprocessor_(postprocessor),
      video_stem_(std::move(video_stem)),
      frames_per_second_(frames_per_second > 0 ? frames_per_second : 25) {}

DetectionFileSink::~DetectionFileSink() = default;

void DetectionFileSink::write(int64_t index, DetectionFrame& frame, const StageFailure* failure) {
  nlohmann::json entry = {{"index", index}, {"name", frame.name}};
  if (frame.video_seconds) entry["seconds"] = *frame.video_seconds;
  if (failure) {
    entry["error"] = {{"stage", stage_key(failure->stage)}, {"message", failure->message}};
    entry["annotated"] = nullptr;
    frames_.push_back(std::move(entry));
    return;
  }
  nlohmann::json boxes = nlohmann::json::array();
  std::vector<std::string> labels;
  for (const vision::Detection& d : frame.detections) {
    const std::string name = postprocessor_.class_name(d.class_id);
    labels.push_back(name + " " + score_text(d.score));
    boxes.push_back({{"class_id", d.class_id}, {"class_name", name}, {"score", d.score}, {"box_xyxy", {d.x1, d.y1, d.x2, d.y2}}});
  }
  entry["detections"] = boxes;
  entry["annotated"] = nullptr;
  // The boxes are kept before anything is written, so a write that fails loses the picture, not the result.
  ++frames_kept_;
  boxes_ += static_cast<int64_t>(frame.detections.size());
  if (write_error_) {
    entry["not_written"] = "writing stopped at an earlier frame: " + *write_error_;
    frames_.push_back(std::move(entry));
    return;
  }
  try {
    vision::draw_detections(frame.image, frame.detections, labels);
    if (!video_stem_.empty()) {
      if (!video_) {
        video_path_ = (std::filesystem::path(output_dir_) / (video_stem_ + ".annotated.mp4")).string();
        video_ = std::make_unique<vision::VideoWriter>(video_path_, frame.image.width, frame.image.height, frames_per_second_);
      }
      video_->write(frame.image);
      entry["annotated"] = video_path_;
    } else {
      const std::string stem = frame.path.empty() ? "frame_" + std::to_string(index) : std::filesystem::path(frame.path).stem().string();
      const std::string path = (std::filesystem::path(output_dir_) / (stem + ".jpg")).string();
      vision::write_jpeg(frame.image, path);
      entry["annotated"] = path;
    }
    ++frames_written_;
  } catch (const std::exception& error) {
    write_error_ = error.what();
    entry["not_written"] = error.what();
    frames_.push_back(std::move(entry));
    throw;
  }
  frames_.push_back(std::move(entry));
}

void DetectionFileSink::finish() {
  if (video_) {
    video_->finish();
    video_.reset();
  }
}

}  // namespace npukit::pipeline
