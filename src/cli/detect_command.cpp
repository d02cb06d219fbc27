// npukit detect MODEL IMAGE|DIR -o DIR: picture in, boxes out. Decode the picture, letterbox it as Ultralytics
// does, run the model, decode the YOLO head (in the graph, or from the `patch` sidecar of a cut model), NMS, map
// the boxes back; write annotated pictures and a COCO-style detections.json, print the boxes and the time of
// each stage.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/table.h"
#include "ir/graph.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "vision/annotation.h"
#include "vision/image_decoding.h"
#include "vision/image_encoding.h"
#include "vision/letterbox.h"
#include "vision/yolo_postprocessor.h"

namespace npukit::cli {

namespace {

struct DetectArguments {
  std::string model;
  std::string images;
  std::string output_dir;
  std::string sidecar;
  float confidence = 0.25f;
  float iou = 0.7f;
  int max_detections = 300;
  bool agnostic = false;
  std::string backend = "cpu";
  int threads = 1;
  bool json = false;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct StageTimes {
  double decode = 0, pre = 0, infer = 0, post = 0;
};

// The sidecar to use: --sidecar, or MODEL.postprocess.json beside the model when `patch` wrote one there.
std::string find_sidecar(const DetectArguments& arguments) {
  if (!arguments.sidecar.empty()) return arguments.sidecar;
  if (arguments.model.starts_with("builtin:")) return {};
  const std::string beside = std::filesystem::path(arguments.model).replace_extension(".postprocess.json").string();
  std::error_code error;
  return std::filesystem::is_regular_file(beside, error) ? beside : std::string();
}

void detect(const DetectArguments& arguments) {
  if (!(arguments.confidence >= 0 && arguments.confidence < 1)) throw Error(ErrorKind::invalid_argument, "--conf must be in [0, 1)");
  if (!(arguments.iou >= 0 && arguments.iou <= 1)) throw Error(ErrorKind::invalid_argument, "--iou must be in [0, 1]");
  if (arguments.max_detections < 1) throw Error(ErrorKind::invalid_argument, "--max-det must be 1 or more");
  std::error_code error;
  std::vector<std::string> images;
  if (std::filesystem::is_directory(arguments.images, error)) images = vision::list_image_files(arguments.images);
  else if (std::filesystem::is_regular_file(arguments.images, error)) images = {arguments.images};
  else throw Error(ErrorKind::io, "no such picture file or directory", arguments.images);

  preparation::PreparedModel prepared = load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values);
  if (!arguments.json) print_preparation_notes(std::cerr, prepared.report);
  preparation::require_static_inputs(prepared.model, "detect");
  const std::map<std::string, std::string> metadata = prepared.model.metadata;
  engine::EngineOptions options;
  options.backend = arguments.backend;
  options.threads = arguments.threads;
  std::unique_ptr<engine::Engine> session = engine::Engine::adopt(std::make_shared<ir::Model>(std::move(prepared.model)), options);
  if (session->inputs().size() != 1) {
    throw Error(ErrorKind::invalid_argument, "detect needs a model with one input (a picture); this one has " +
                    std::to_string(session->inputs().size()), arguments.model);
  }
  const ValueInfo& input = session->inputs()[0];
  if (input.dtype != DType::f32 || input.shape.size() != 4 || input.shape[0] != 1 || input.shape[1] != 3) {
    throw Error(ErrorKind::invalid_argument, "detect needs a float32 [1, 3, H, W] input; '" + input.name + "' is " +
                    std::string(dtype_name(input.dtype)) + describe_dims(input.shape, input.dim_names), arguments.model);
  }
  const std::string sidecar_path = find_sidecar(arguments);
  nlohmann::json sidecar;
  if (!sidecar_path.empty()) sidecar = vision::read_sidecar(sidecar_path);
  const vision::YoloPostprocessor postprocessor = vision::YoloPostprocessor::create(
      session->outputs(), metadata, sidecar_path.empty() ? nullptr : &sidecar, sidecar_path, arguments.model);
  if (!arguments.json) {
    for (const std::string& note : postprocessor.notes()) std::cerr << "npukit: note: " << note << "\n";
  }
  vision::LetterboxOptions letterbox;
  letterbox.height = static_cast<int>(input.shape[2]);
  letterbox.width = static_cast<int>(input.shape[3]);
  vision::DetectionOptions detection_options;
  detection_options.confidence = arguments.confidence;
  detection_options.nms.iou_threshold = arguments.iou;
  detection_options.nms.max_detections = arguments.max_detections;
  detection_options.nms.agnostic = arguments.agnostic;

  std::filesystem::create_directories(arguments.output_dir, error);
  if (!std::filesystem::is_directory(arguments.output_dir, error)) {
    throw Error(ErrorKind::io, "cannot create the output directory", arguments.output_dir);
  }
  nlohmann::json coco_images = nlohmann::json::array(), coco_annotations = nlohmann::json::array();
  nlohmann::json report_images = nlohmann::json::array();
  Table boxes_table({{"picture"}, {"class"}, {"score", Align::right}, {"x1", Align::right}, {"y1", Align::right},
                     {"x2", Align::right}, {"y2", Align::right}});
  Table timing_table({{"picture"}, {"boxes", Align::right}, {"decode", Align::right}, {"pre", Align::right},
                      {"infer", Align::right}, {"post+NMS", Align::right}});
  StageTimes total;
  for (size_t index = 0; index < images.size(); ++index) {
    const std::string& path = images[index];
    StageTimes times;
    auto started = Clock::now();
    vision::Image image = vision::read_image(path);
    times.decode = seconds_since(started);
    started = Clock::now();
    vision::LetterboxGeometry geometry;
    session->set_input(input.name, vision::letterbox_to_tensor(image, letterbox, {}, &geometry));
    times.pre = seconds_since(started);
    started = Clock::now();
    session->run();
    times.infer = seconds_since(started);
    started = Clock::now();
    std::vector<vision::Detection> detections = postprocessor.detect(*session, detection_options);
    vision::map_boxes_to_original(detections, geometry);
    times.post = seconds_since(started);
    total.decode += times.decode, total.pre += times.pre, total.infer += times.infer, total.post += times.post;

    const std::string file_name = std::filesystem::path(path).filename().string();
    std::vector<std::string> labels;
    nlohmann::json image_boxes = nlohmann::json::array();
    for (const vision::Detection& d : detections) {
      const std::string name = postprocessor.class_name(d.class_id);
      labels.push_back(name + " " + format_number(d.score, 2));
      boxes_table.add_row({file_name, name, format_number(d.score, 3), format_number(d.x1, 5), format_number(d.y1, 5),
                           format_number(d.x2, 5), format_number(d.y2, 5)});
      coco_annotations.push_back({{"image_id", index}, {"category_id", d.class_id}, {"category_name", name},
                                  {"bbox", {d.x1, d.y1, d.x2 - d.x1, d.y2 - d.y1}}, {"score", d.score}});
      image_boxes.push_back({{"class_id", d.class_id}, {"class_name", name}, {"score", d.score},
                             {"box_xyxy", {d.x1, d.y1, d.x2, d.y2}}});
    }
    coco_images.push_back({{"id", index}, {"file_name", file_name}, {"width", image.width}, {"height", image.height}});
    vision::draw_detections(image, detections, labels);
    const std::string annotated = (std::filesystem::path(arguments.output_dir) /
                                   (std::filesystem::path(path).stem().string() + ".jpg")).string();
    vision::write_jpeg(image, annotated);
    timing_table.add_row({file_name, std::to_string(detections.size()), format_seconds(times.decode),
                          format_seconds(times.pre), format_seconds(times.infer), format_seconds(times.post)});
    report_images.push_back({{"file", path}, {"annotated", annotated}, {"width", image.width},
                             {"height", image.height}, {"detections", image_boxes},
                             {"seconds", {{"decode", times.decode}, {"pre", times.pre}, {"infer", times.infer},
                                          {"post_nms", times.post}}}});
  }
  nlohmann::json categories = nlohmann::json::array();
  for (int c = 0; c < postprocessor.class_count(); ++c) categories.push_back({{"id", c}, {"name", postprocessor.class_name(c)}});
  const std::string coco_path = (std::filesystem::path(arguments.output_dir) / "detections.json").string();
  vision::write_file_atomically(coco_path, nlohmann::json({{"images", coco_images}, {"annotations", coco_annotations},
                                                           {"categories", categories}}).dump(1) + "\n");
  if (arguments.json) {
    std::cout << nlohmann::json({{"model", arguments.model}, {"head", postprocessor.description()},
                                 {"notes", postprocessor.notes()},
                                 {"sidecar", sidecar_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(sidecar_path)},
                                 {"backend", arguments.backend}, {"input", {input.shape[2], input.shape[3]}},
                                 {"confidence", arguments.confidence}, {"iou", arguments.iou},
                                 {"max_detections", arguments.max_detections}, {"agnostic", arguments.agnostic},
                                 {"images", report_images}, {"coco_json", coco_path}})
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << "npukit detect: " << arguments.model << " (" << postprocessor.description()
            << (sidecar_path.empty() ? "" : ": " + sidecar_path) << "), " << images.size() << " picture"
            << (images.size() == 1 ? "" : "s") << ", input " << input.shape[2] << "x" << input.shape[3] << ", conf "
            << format_number(arguments.confidence) << ", iou " << format_number(arguments.iou) << "\n\n";
  if (boxes_table.row_count() > 0) {
    boxes_table.print(std::cout, 2);
    std::cout << "\n";
  }
  if (images.size() > 1) {
    timing_table.add_row({"total", "", format_seconds(total.decode), format_seconds(total.pre),
                          format_seconds(total.infer), format_seconds(total.post)});
  }
  timing_table.print(std::cout, 2);
  std::cout << "\n  annotated pictures and detections.json (COCO) in " << arguments.output_dir << "\n";
}

}  // namespace

void register_detect_command(CLI::App& app) {
  auto arguments = std::make_shared<DetectArguments>();
  CLI::App* command = app.add_subcommand("detect", "Detect objects with a YOLO model: pictures in, boxes out");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  command->add_option("images", arguments->images, "A picture (JPEG, PNG, BMP) or a directory of them")
      ->required()->type_name("IMAGE|DIR");
  command->add_option("-o,--output-dir", arguments->output_dir, "Where annotated pictures and detections.json go")
      ->required()->type_name("DIR");
  command->add_option("--sidecar", arguments->sidecar,
                      "The post-processing sidecar of a model cut by `npukit patch` (default: MODEL.postprocess.json "
                      "when present)")->type_name("PATH");
  command->add_option("--conf", arguments->confidence, "Confidence threshold (default 0.25)")->type_name("P");
  command->add_option("--iou", arguments->iou, "NMS IoU threshold (default 0.7)")->type_name("P");
  command->add_option("--max-det", arguments->max_detections, "Most boxes per picture (default 300)")->type_name("N");
  command->add_flag("--agnostic", arguments->agnostic, "NMS across classes (default: per class)");
  command->add_option("--backend", arguments->backend, "Backend: cpu (default) or ref")->type_name("NAME");
  command->add_option("--threads,-t", arguments->threads, "Intra-op threads (default 1; 0 = all cores)")->type_name("N");
  command->add_flag("--json", arguments->json, "Print JSON for programs");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { detect(*arguments); });
}

}  // namespace npukit::cli
