#include "pipeline/detection_pipeline.h"

#include "npukit/error.h"
#include "vision/image_decoding.h"
#include "vision/letterbox.h"

namespace npukit::pipeline {

namespace {

std::string describe_input(const ValueInfo& input) {
  std::string dims;
  for (size_t i = 0; i < input.shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(input.shape[i]);
  return std::string(dtype_name(input.dtype)) + "[" + dims + "]";
}

}  // namespace

DetectionPipeline::DetectionPipeline(std::shared_ptr<const ir::Model> model, const DetectionPipelineOptions& options)
    : model_(std::move(model)), options_(options) {
  const PipelineRunSettings checked = resolve_pipeline_options(flow_options());
  (void)checked;
  if (options.threads_per_worker < 1 || options.threads_per_worker > 256) {
    throw Error(ErrorKind::invalid_argument, "--threads-per-worker must be between 1 and 256 (got " +
                                                 std::to_string(options.threads_per_worker) + ")");
  }
  engine::EngineOptions engine_options;
  engine_options.backend = options.backend;
  engine_options.threads = options.threads_per_worker;
  const auto started = Clock::now();
  for (int worker = 0; worker < options.workers; ++worker) engines_.push_back(engine::Engine::from_model(model_, engine_options));
  engine_creation_seconds_ = std::chrono::duration<double>(Clock::now() - started).count();
  const engine::Engine& first = *engines_.front();
  if (first.inputs().size() != 1) {
    throw Error(ErrorKind::invalid_argument, "a detector needs a model with one input (a picture); this one has " +
                                                 std::to_string(first.inputs().size()), options.model_name);
  }
  const ValueInfo& input = first.inputs()[0];
  if (input.dtype != DType::f32 || input.shape.size() != 4 || input.shape[0] != 1 || input.shape[1] != 3 || input.shape[2] < 1 ||
      input.shape[3] < 1) {
    throw Error(ErrorKind::invalid_argument, "a detector needs a float32 [1, 3, H, W] input; '" + input.name + "' is " +
                                                 describe_input(input), options.model_name);
  }
  input_name_ = input.name;
  input_height_ = static_cast<int>(input.shape[2]);
  input_width_ = static_cast<int>(input.shape[3]);
  nlohmann::json sidecar;
  if (!options.sidecar_path.empty()) sidecar = vision::read_sidecar(options.sidecar_path);
  postprocessor_ = std::make_unique<vision::YoloPostprocessor>(vision::YoloPostprocessor::create(
      first.outputs(), model_->metadata, options.sidecar_path.empty() ? nullptr : &sidecar, options.sidecar_path,
      options.model_name));
}

DetectionPipeline::~DetectionPipeline() = default;

PipelineOptions DetectionPipeline::flow_options() const {
  PipelineOptions options;
  options.workers = options_.workers;
  options.threads = options_.pipeline_threads;
  options.queue_capacity = options_.queue_capacity;
  return options;
}

size_t DetectionPipeline::activation_arena_bytes() const { return engines_.front()->activation_arena_bytes(); }

PipelineStatistics DetectionPipeline::run(FrameSource& source, FrameSink& sink) {
  vision::LetterboxOptions letterbox;
  letterbox.height = input_height_;
  letterbox.width = input_width_;
  PipelineStages<DetectionFrame> stages;
  stages.read = [&source](int64_t index, DetectionFrame& frame) { return source.read(index, frame); };
  stages.decode = [](DetectionFrame& frame) {
    if (frame.encoded.empty()) return;  // the source decoded it (video)
    frame.image = vision::decode_image(frame.encoded.data(), frame.encoded.size(), frame.path.empty() ? frame.name : frame.path);
    frame.encoded = {};
  };
  stages.preprocess = [letterbox](DetectionFrame& frame) {
    frame.input = vision::letterbox_to_tensor(frame.image, letterbox, {}, &frame.geometry);
  };
  stages.infer = [this](int worker, DetectionFrame& frame) {
    engine::Engine& engine = *engines_[static_cast<size_t>(worker)];
    engine.set_input(input_name_, std::move(frame.input));
    frame.input = Tensor();
    engine.run();
    // The outputs are copied out: the engine's buffers belong to its next frame.
    for (const ValueInfo& output : engine.outputs()) frame.outputs[output.name] = engine.output(output.name).clone();
  };
  stages.postprocess = [this](DetectionFrame& frame) {
    frame.detections = postprocessor_->detect(frame.outputs, options_.detection);
    vision::map_boxes_to_original(frame.detections, frame.geometry);
    frame.outputs.clear();
  };
  stages.write = [&sink](int64_t index, DetectionFrame& frame, const StageFailure* failure) { sink.write(index, frame, failure); };
  FlowPipeline<DetectionFrame> pipeline(std::move(stages), flow_options());
  return pipeline.run();
}

PipelineStatistics DetectionPipeline::run_model_only(int64_t frames) {
  vision::LetterboxOptions letterbox;
  letterbox.height = input_height_;
  letterbox.width = input_width_;
  std::unique_ptr<FrameSource> synthetic = make_synthetic_source(input_width_, input_height_, 1);
  DetectionFrame sample;
  synthetic->read(0, sample);
  const Tensor input =
      vision::letterbox_to_tensor(vision::decode_image(sample.encoded.data(), sample.encoded.size(), sample.name), letterbox, {});
  PipelineStages<DetectionFrame> stages;
  stages.read = [frames](int64_t index, DetectionFrame&) { return index < frames; };
  stages.infer = [this, &input](int worker, DetectionFrame&) {
    engine::Engine& engine = *engines_[static_cast<size_t>(worker)];
    engine.set_input(input_name_, input);
    engine.run();
  };
  stages.write = [](int64_t, DetectionFrame&, const StageFailure*) {};
  FlowPipeline<DetectionFrame> pipeline(std::move(stages), flow_options());
  return pipeline.run();
}

void CountingSink::write(int64_t, DetectionFrame& frame, const StageFailure* failure) {
  if (failure) return;
  ++frames;
  boxes += static_cast<int64_t>(frame.detections.size());
}

}  // namespace npukit::pipeline
