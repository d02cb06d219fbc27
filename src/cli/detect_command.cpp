// npukit detect MODEL IMAGE|DIR|VIDEO -o DIR: picture in, boxes out. Decode the picture, letterbox it as Ultralytics
// does, run the model, decode the YOLO head (in the graph, or from the `patch` sidecar of a cut model), NMS, map
// the boxes back; write annotated pictures and a COCO-style detections.json, print the boxes and the time of
// each stage. A video goes frame by frame through the same path into an annotated video and per-frame JSON.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "cli/yolo_detector.h"
#include "ir/graph.h"
#include "npukit/session.h"
#include "vision/annotation.h"
#include "vision/image_decoding.h"
#include "vision/image_encoding.h"
#include "vision/letterbox.h"
#include "vision/video.h"
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
  std::string target;  // --backend sim only
  int threads = 1;
  bool json = false;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
};

YoloDetectorOptions detector_options_of(const DetectArguments& arguments) {
  YoloDetectorOptions detector_options;
  detector_options.model = arguments.model;
  detector_options.sidecar = arguments.sidecar;
  detector_options.backend = arguments.backend;
  detector_options.target = arguments.target;
  detector_options.threads = arguments.threads;
  detector_options.input_shapes = arguments.input_shapes;
  detector_options.input_values = arguments.input_values;
  detector_options.print_notes = !arguments.json;
  return detector_options;
}

// A file that does not start like a JPEG, PNG or BMP is taken for a video (FFmpeg says clearly if it is not).
bool is_picture_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  uint8_t head[16] = {};
  file.read(reinterpret_cast<char*>(head), sizeof head);
  return vision::detect_image_format(head, static_cast<size_t>(file.gcount())) != vision::ImageFormat::unknown;
}

// VIDEO -o DIR: every frame through the detector; DIR/STEM.annotated.mp4 (boxes drawn) and
// DIR/STEM.detections.json (per frame: index, time, boxes). Both are written under temporary names and
// renamed at the end, so a corrupt or truncated video leaves nothing half written.
void detect_video(const DetectArguments& arguments, const vision::DetectionOptions& detection_options) {
  vision::VideoReader reader(arguments.images);
  YoloDetector detector(detector_options_of(arguments));
  const vision::YoloPostprocessor& postprocessor = detector.postprocessor();
  std::error_code error;
  std::filesystem::create_directories(arguments.output_dir, error);
  if (!std::filesystem::is_directory(arguments.output_dir, error)) {
    throw Error(ErrorKind::io, "cannot create the output directory", arguments.output_dir);
  }
  const std::string stem = std::filesystem::path(arguments.images).stem().string();
  const std::string video_path = (std::filesystem::path(arguments.output_dir) / (stem + ".annotated.mp4")).string();
  const std::string json_path = (std::filesystem::path(arguments.output_dir) / (stem + ".detections.json")).string();
  const double rate = reader.frames_per_second();
  vision::VideoWriter writer(video_path, reader.width(), reader.height(), rate);
  nlohmann::json frames = nlohmann::json::array();
  std::map<int, int> boxes_per_class;
  int64_t box_count = 0;
  StageTimes total;
  vision::Image frame;
  {
    // A container that does not declare its frame count (some mkv, avi) gets no bar rather than a wrong one.
    const int64_t declared = reader.declared_frame_count();
    Progress progress("detect", std::max<int64_t>(declared, 1), !arguments.json && declared > 0);
    while (true) {
      progress.update(reader.frames_read(), "frame " + std::to_string(reader.frames_read() + 1));
      const auto started = Clock::now();
      if (!reader.read(frame)) break;
      total.decode += seconds_since(started);
      const std::vector<vision::Detection> detections = detector.detect(frame, detection_options, &total);
      nlohmann::json boxes = nlohmann::json::array();
      std::vector<std::string> labels;
      for (const vision::Detection& d : detections) {
        const std::string name = postprocessor.class_name(d.class_id);
        labels.push_back(name + " " + format_number(d.score, 2));
        boxes.push_back({{"class_id", d.class_id}, {"class_name", name}, {"score", d.score},
                         {"box_xyxy", {d.x1, d.y1, d.x2, d.y2}}});
        boxes_per_class[d.class_id] += 1;
      }
      box_count += static_cast<int64_t>(detections.size());
      const int64_t index = reader.frames_read() - 1;
      frames.push_back({{"index", index}, {"seconds", rate > 0 ? nlohmann::json(index / rate) : nlohmann::json(nullptr)},
                        {"detections", boxes}});
      vision::draw_detections(frame, detections, labels);
      writer.write(frame);
    }
  }
  writer.finish();
  nlohmann::json categories = nlohmann::json::array();
  for (int c = 0; c < postprocessor.class_count(); ++c) categories.push_back({{"id", c}, {"name", postprocessor.class_name(c)}});
  const nlohmann::json report = {
      {"model", arguments.model}, {"video", arguments.images}, {"head", postprocessor.description()},
      {"sidecar", detector.sidecar_path().empty() ? nlohmann::json(nullptr) : nlohmann::json(detector.sidecar_path())},
      {"codec", reader.codec_name()}, {"width", reader.width()}, {"height", reader.height()},
      {"frames_per_second", rate > 0 ? nlohmann::json(rate) : nlohmann::json(nullptr)},
      {"frame_count", reader.frames_read()}, {"boxes", box_count}, {"confidence", arguments.confidence},
      {"iou", arguments.iou}, {"max_detections", arguments.max_detections}, {"categories", categories},
      {"annotated_video", video_path}, {"detections_json", json_path},
      {"seconds", {{"decode", total.decode}, {"pre", total.pre}, {"infer", total.infer}, {"post_nms", total.post}}},
      {"frames", frames}};
  vision::write_file_atomically(json_path, report.dump(1) + "\n");
  if (arguments.json) {
    std::cout << report.dump(2) << "\n";
    return;
  }
  std::cout << "npukit detect: " << arguments.model << " (" << postprocessor.description() << ") on "
            << arguments.images << ": " << reader.frames_read() << " frames of " << reader.width() << "x"
            << reader.height() << " (" << reader.codec_name() << ", "
            << (rate > 0 ? format_number(rate, 4) + " fps" : std::string("frame rate unknown")) << "), input "
            << detector.input_height() << "x" << detector.input_width() << ", conf "
            << format_number(arguments.confidence) << ", iou " << format_number(arguments.iou) << "\n\n";
  Table classes_table({{"class"}, {"boxes", Align::right}, {"per frame", Align::right}});
  for (const auto& [class_id, count] : boxes_per_class) {
    classes_table.add_row({postprocessor.class_name(class_id), std::to_string(count),
                           format_number(static_cast<double>(count) / reader.frames_read(), 3)});
  }
  if (classes_table.row_count() > 0) {
    classes_table.print(std::cout, 2);
    std::cout << "\n";
  }
  const double frames_read = static_cast<double>(reader.frames_read());
  Table timing_table({{"per frame"}, {"decode", Align::right}, {"pre", Align::right}, {"infer", Align::right},
                      {"post+NMS", Align::right}});
  timing_table.add_row({"mean", format_seconds(total.decode / frames_read), format_seconds(total.pre / frames_read),
                        format_seconds(total.infer / frames_read), format_seconds(total.post / frames_read)});
  timing_table.print(std::cout, 2);
  std::cout << "\n  annotated video: " << video_path << "\n  boxes per frame: " << json_path << "\n";
}

void detect(const DetectArguments& arguments) {
  const vision::DetectionOptions detection_options = make_detection_options(
      arguments.confidence, arguments.iou, arguments.max_detections, arguments.agnostic);
  std::error_code error;
  std::vector<std::string> images;
  if (std::filesystem::is_directory(arguments.images, error)) images = vision::list_image_files(arguments.images);
  else if (std::filesystem::is_regular_file(arguments.images, error)) images = {arguments.images};
  else throw Error(ErrorKind::io, "no such picture, video or directory", arguments.images);
  if (images.size() == 1 && images[0] == arguments.images && !is_picture_file(arguments.images)) {
    detect_video(arguments, detection_options);
    return;
  }

  YoloDetector detector(detector_options_of(arguments));
  const vision::YoloPostprocessor& postprocessor = detector.postprocessor();
  const std::string& sidecar_path = detector.sidecar_path();

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
    std::vector<vision::Detection> detections = detector.detect(image, detection_options, &times);
    total += times;

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
                                 {"backend", arguments.backend},
                                 {"target", arguments.target.empty() ? nlohmann::json(nullptr) : nlohmann::json(arguments.target)},
                                 {"input", {detector.input_height(), detector.input_width()}},
                                 {"confidence", arguments.confidence}, {"iou", arguments.iou},
                                 {"max_detections", arguments.max_detections}, {"agnostic", arguments.agnostic},
                                 {"images", report_images}, {"coco_json", coco_path}})
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << "npukit detect: " << arguments.model << " (" << postprocessor.description()
            << (sidecar_path.empty() ? "" : ": " + sidecar_path) << "), " << images.size() << " picture"
            << (images.size() == 1 ? "" : "s") << ", input " << detector.input_height() << "x" << detector.input_width() << ", conf "
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
  command->add_option("images", arguments->images, "A picture (JPEG, PNG, BMP), a directory of them, or a video file (mp4, mkv, avi, ...: "
                      "writes STEM.annotated.mp4 and STEM.detections.json)")
      ->required()->type_name("IMAGE|DIR|VIDEO");
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
  command->add_option("--target", arguments->target,
                      "With --backend sim: the target whose integer arithmetic is simulated (a built-in profile name "
                      "or a profile file)")->type_name("T");
  command->add_option("--threads,-t", arguments->threads, "Intra-op threads (default 1; 0 = all cores)")->type_name("N");
  command->add_flag("--json", arguments->json, "Print JSON for programs");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { detect(*arguments); });
}

}  // namespace npukit::cli
