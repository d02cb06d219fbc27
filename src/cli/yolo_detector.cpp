#include "cli/yolo_detector.h"

#include <filesystem>
#include <iostream>

#include "cli/model_arguments.h"
#include "ir/graph.h"
#include "vision/letterbox.h"

namespace npukit::cli {

std::string find_sidecar(const YoloDetectorOptions& options) {
  if (!options.sidecar.empty()) return options.sidecar;
  if (options.model.starts_with("builtin:")) return {};
  const std::string beside = std::filesystem::path(options.model).replace_extension(".postprocess.json").string();
  std::error_code error;
  return std::filesystem::is_regular_file(beside, error) ? beside : std::string();
}

YoloDetector::YoloDetector(const YoloDetectorOptions& options) {
  // Only the sim backend reads a target; taking it quietly with cpu or ref would print float results under the
  // name of a board.
  if (!options.target.empty() && options.backend != "sim") {
    throw Error(ErrorKind::invalid_argument, "--target " + options.target + " chooses the arithmetic of --backend sim; "
                "the " + options.backend + " backend computes in float and ignores it: add --backend sim, or drop --target");
  }
  preparation::PreparedModel prepared = load_model_argument(options.model, options.input_shapes, options.input_values);
  if (options.print_notes) print_preparation_notes(std::cerr, prepared.report);
  preparation::require_static_inputs(prepared.model, "detect");
  const std::map<std::string, std::string> metadata = prepared.model.metadata;
  engine::EngineOptions engine_options;
  engine_options.backend = options.backend;
  engine_options.target = options.target;
  engine_options.threads = options.threads;
  session_ = engine::Engine::adopt(std::make_shared<ir::Model>(std::move(prepared.model)), engine_options);
  if (session_->inputs().size() != 1) {
    throw Error(ErrorKind::invalid_argument, "a detector needs a model with one input (a picture); this one has " +
                    std::to_string(session_->inputs().size()), options.model);
  }
  const ValueInfo& input = session_->inputs()[0];
  if (input.dtype != DType::f32 || input.shape.size() != 4 || input.shape[0] != 1 || input.shape[1] != 3) {
    throw Error(ErrorKind::invalid_argument, "a detector needs a float32 [1, 3, H, W] input; '" + input.name + "' is " +
                    std::string(dtype_name(input.dtype)) + describe_dims(input.shape, input.dim_names), options.model);
  }
  input_name_ = input.name;
  input_height_ = static_cast<int>(input.shape[2]);
  input_width_ = static_cast<int>(input.shape[3]);
  sidecar_path_ = find_sidecar(options);
  nlohmann::json sidecar;
  if (!sidecar_path_.empty()) sidecar = vision::read_sidecar(sidecar_path_);
  postprocessor_ = std::make_unique<vision::YoloPostprocessor>(vision::YoloPostprocessor::create(
      session_->outputs(), metadata, sidecar_path_.empty() ? nullptr : &sidecar, sidecar_path_, options.model));
  if (options.print_notes) {
    for (const std::string& note : postprocessor_->notes()) std::cerr << "npukit: note: " << note << "\n";
  }
}

std::vector<vision::Detection> YoloDetector::detect(const vision::Image& image, const vision::DetectionOptions& options,
                                                    StageTimes* times) {
  vision::LetterboxOptions letterbox;
  letterbox.height = input_height_;
  letterbox.width = input_width_;
  auto started = Clock::now();
  vision::LetterboxGeometry geometry;
  session_->set_input(input_name_, vision::letterbox_to_tensor(image, letterbox, {}, &geometry));
  const double pre = seconds_since(started);
  started = Clock::now();
  session_->run();
  const double infer = seconds_since(started);
  started = Clock::now();
  std::vector<vision::Detection> detections = postprocessor_->detect(*session_, options);
  vision::map_boxes_to_original(detections, geometry);
  if (times) times->pre += pre, times->infer += infer, times->post += seconds_since(started);
  return detections;
}

vision::DetectionOptions make_detection_options(float confidence, float iou, int max_detections, bool agnostic) {
  if (!(confidence >= 0 && confidence < 1)) throw Error(ErrorKind::invalid_argument, "--conf must be in [0, 1)");
  if (!(iou >= 0 && iou <= 1)) throw Error(ErrorKind::invalid_argument, "--iou must be in [0, 1]");
  if (max_detections < 1) throw Error(ErrorKind::invalid_argument, "--max-det must be 1 or more");
  vision::DetectionOptions options;
  options.confidence = confidence;
  options.nms.iou_threshold = iou;
  options.nms.max_detections = max_detections;
  options.nms.agnostic = agnostic;
  return options;
}

}  // namespace npukit::cli
