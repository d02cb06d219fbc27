// The YOLO detection pipeline: frames from a FrameSource → decode (libjpeg-turbo / libspng / stb) → letterbox
// into the model input → N inference workers → YOLO decode + NMS, boxes mapped back → a FrameSink, on the flow
// graph of flow_pipeline.h.
//
// The workers share one const ir::Model (its weights are not copied: each Engine gets a graph clone whose
// initializers point at the same bytes); each worker has its own Engine, so its own activation arena and, on
// the cpu backend, its own packed oneDNN weights, and runs `threads_per_worker` intra-op threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "ir/graph.h"
#include "pipeline/detection_frame.h"
#include "pipeline/flow_pipeline.h"
#include "pipeline/frame_sources.h"
#include "vision/yolo_postprocessor.h"

namespace npukit::pipeline {

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Every frame the source started, in order, from one thread at a time; `failure` is null for a frame that
  // came through. Throws Error naming the path when it cannot write (the pipeline then stops).
  virtual void write(int64_t index, DetectionFrame& frame, const StageFailure* failure) = 0;
};

struct DetectionPipelineOptions {
  std::string model_name;      // for errors and reports
  std::string sidecar_path;    // the `patch` sidecar of a cut model; empty: none
  std::string backend = "cpu";
  int workers = 1;
  int threads_per_worker = 1;  // intra-op threads of each worker's engine
  int pipeline_threads = 0;    // threads running the stages; 0: one per worker
  int queue_capacity = 0;      // frames in flight; 0: 2 × workers + 2
  vision::DetectionOptions detection;
};

class DetectionPipeline {
 public:
  // Creates the workers' engines. Throws Error naming the model when it is not a detector npukit can decode
  // (not one [1, 3, H, W] f32 input, or outputs it does not recognise), or for absurd options.
  DetectionPipeline(std::shared_ptr<const ir::Model> model, const DetectionPipelineOptions& options);
  ~DetectionPipeline();

  // Every frame of `source` through the stages into `sink`, to the end or to the first failure.
  PipelineStatistics run(FrameSource& source, FrameSink& sink);
  // The inference workers alone, `frames` times on one pre-processed input (a letterboxed synthetic picture),
  // through the same graph and threads: the model-only figure beside the end-to-end one.
  PipelineStatistics run_model_only(int64_t frames);

  const vision::YoloPostprocessor& postprocessor() const { return *postprocessor_; }
  const DetectionPipelineOptions& options() const { return options_; }
  int input_height() const { return input_height_; }
  int input_width() const { return input_width_; }
  const std::string& input_name() const { return input_name_; }
  double engine_creation_seconds() const { return engine_creation_seconds_; }  // all workers' engines together
  size_t activation_arena_bytes() const;  // one worker's

 private:
  PipelineOptions flow_options() const;

  std::shared_ptr<const ir::Model> model_;
  DetectionPipelineOptions options_;
  std::vector<std::unique_ptr<engine::Engine>> engines_;
  std::unique_ptr<vision::YoloPostprocessor> postprocessor_;
  std::string input_name_;
  int input_height_ = 0, input_width_ = 0;
  double engine_creation_seconds_ = 0;
};

// A sink that keeps nothing but counts (benchmarks: what is timed ends at the boxes).
class CountingSink final : public FrameSink {
 public:
  void write(int64_t index, DetectionFrame& frame, const StageFailure* failure) override;
  int64_t frames = 0, boxes = 0;
};

}  // namespace npukit::pipeline
