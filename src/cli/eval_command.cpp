// npukit eval MODEL --dataset DIR: a detector's accuracy on a YOLO-format data set, as COCO measures it
// (mAP50, mAP50-95 with 101-point interpolated AP; vision/mean_average_precision.h) and per class. The
// pictures go through the same path as `detect` (cli/yolo_detector.h) at Ultralytics' validation settings
// (conf 0.001, iou 0.7, max_det 300), so the number is the one a user of `detect` gets.
// With --detections FILE instead of a model, the boxes come from a COCO-style detections file
// (vision/detection_results_file.h: `detect -o`'s detections.json, or any other program's) and are scored as given.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "cli/yolo_detector.h"
#include "npukit/error.h"
#include "vision/dataset.h"
#include "vision/detection_results_file.h"
#include "vision/evaluation.h"
#include "vision/image_decoding.h"

namespace npukit::cli {

namespace {

struct EvalArguments {
  std::string model;
  std::string dataset;
  std::string detections;  // a COCO-style detections file, instead of a model
  std::string sidecar;
  float confidence = 0.001f;  // Ultralytics val defaults
  float iou = 0.7f;
  int max_detections = 300;
  double report_confidence = 0.25;
  bool agnostic = false;
  std::string backend = "cpu";
  std::string target;  // --backend sim only
  int threads = 1;
  bool json = false;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
};

// 0.1234 -> "0.123": metrics side by side with a fixed number of decimals, as Ultralytics prints them.
std::string format_ratio(double value, int decimals = 3) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

using ClassName = std::function<std::string(int)>;

nlohmann::json classes_json(const vision::MeanAveragePrecision& result, const ClassName& class_name) {
  nlohmann::json classes = nlohmann::json::array();
  for (const vision::ClassPrecision& c : result.classes) {
    nlohmann::json per_threshold = nlohmann::json::array();
    for (double ap : c.average_precision) per_threshold.push_back(ap);
    const bool evaluated_class = c.ground_truth_count > 0;
    classes.push_back({{"class_id", c.class_id}, {"name", class_name(c.class_id)},
                       {"instances", c.ground_truth_count}, {"detections", c.detection_count},
                       {"precision", c.precision}, {"recall", c.recall},
                       {"true_positives", c.true_positives}, {"false_positives", c.false_positives},
                       {"map50", evaluated_class ? nlohmann::json(c.ap50) : nlohmann::json(nullptr)},
                       {"map50_95", evaluated_class ? nlohmann::json(c.ap50_95) : nlohmann::json(nullptr)},
                       {"ap_per_iou_threshold", evaluated_class ? per_threshold : nlohmann::json(nullptr)}});
  }
  return classes;
}

// The per-class table and the mAP line under it.
void print_results(const vision::MeanAveragePrecision& result, const ClassName& class_name, int label_boxes,
                   double report_confidence) {
  Table table({{"class"}, {"instances", Align::right}, {"detections", Align::right},
               {"P@" + format_number(report_confidence), Align::right}, {"R", Align::right},
               {"mAP50", Align::right}, {"mAP50-95", Align::right}});
  int all_detections = 0;
  for (const vision::ClassPrecision& c : result.classes) all_detections += c.detection_count;
  table.add_row({"all", std::to_string(label_boxes), std::to_string(all_detections), format_ratio(result.precision),
                 format_ratio(result.recall), format_ratio(result.map50), format_ratio(result.map50_95)});
  for (const vision::ClassPrecision& c : result.classes) {
    const bool evaluated_class = c.ground_truth_count > 0;
    table.add_row({class_name(c.class_id), std::to_string(c.ground_truth_count), std::to_string(c.detection_count),
                   evaluated_class ? format_ratio(c.precision) : "-", evaluated_class ? format_ratio(c.recall) : "-",
                   evaluated_class ? format_ratio(c.ap50) : "no objects",
                   evaluated_class ? format_ratio(c.ap50_95) : "no objects"});
  }
  table.print(std::cout, 2);
  std::cout << "\n  mAP50-95 " << format_ratio(result.map50_95, 4) << ", mAP50 " << format_ratio(result.map50, 4)
            << " (COCO 101-point AP, mean over the " << result.evaluated_class_count
            << " classes with objects); P and R at IoU 0.5 for scores >= " << format_number(report_confidence) << "\n";
}

// --detections FILE: the file's boxes as they are (no threshold, NMS or cap: the program that made them chose),
// matched to the data set's pictures by file name. Every picture of the data set must be in the file, and every
// picture of the file in the data set: detections of another set would otherwise score as misses.
void evaluate_detections_file(const EvalArguments& arguments) {
  if (!(arguments.report_confidence >= 0 && arguments.report_confidence <= 1)) {
    throw Error(ErrorKind::invalid_argument, "--pr-conf must be in [0, 1]");
  }
  const vision::DetectionDataset dataset = vision::read_detection_dataset(arguments.dataset);
  const vision::DetectionResults results = vision::read_detection_results(arguments.detections);
  std::map<std::string, const vision::DatasetImage*> dataset_pictures;
  for (const vision::DatasetImage& image : dataset.images) {
    dataset_pictures[std::filesystem::path(image.image_path).filename().string()] = &image;
  }
  for (const auto& [file_name, picture] : results.pictures) {
    if (!dataset_pictures.count(file_name)) {
      throw Error(ErrorKind::invalid_argument, "picture '" + file_name + "' is not in the data set " + arguments.dataset +
                      ": were the detections made on another set?", arguments.detections);
    }
  }
  const int class_count = std::max({results.max_category_id + 1, dataset.max_class_id + 1,
                                    static_cast<int>(dataset.class_names.size()), 1});
  std::vector<vision::EvaluatedImage> evaluated;
  int background_images = 0, label_boxes = 0;
  for (const vision::DatasetImage& entry : dataset.images) {
    const std::string file_name = std::filesystem::path(entry.image_path).filename().string();
    const auto picture = results.pictures.find(file_name);
    if (picture == results.pictures.end()) {
      throw Error(ErrorKind::invalid_argument, "picture '" + file_name + "' of the data set has no entry in \"images\": "
                      "detect on the whole set (a picture without boxes is an entry with no annotations)",
                  arguments.detections);
    }
    evaluated.push_back(vision::evaluated_image(entry, picture->second.width, picture->second.height,
                                                picture->second.detections));
    if (entry.boxes.empty()) background_images += 1;
    label_boxes += static_cast<int>(entry.boxes.size());
  }
  const vision::MeanAveragePrecision result =
      vision::mean_average_precision(evaluated, class_count, arguments.report_confidence);
  const ClassName class_name = [&](int class_id) -> std::string {
    if (class_id < static_cast<int>(dataset.class_names.size())) return dataset.class_names[class_id];
    const auto named = results.category_names.find(class_id);
    return named != results.category_names.end() ? named->second : std::to_string(class_id);
  };
  if (arguments.json) {
    std::cout << nlohmann::json({{"detections_file", arguments.detections}, {"dataset", arguments.dataset},
                                 {"images", dataset.images.size()}, {"background_images", background_images},
                                 {"instances", label_boxes}, {"detections", results.detection_count},
                                 {"pr_confidence", arguments.report_confidence},
                                 {"map50", result.map50}, {"map50_95", result.map50_95},
                                 {"precision", result.precision}, {"recall", result.recall},
                                 {"evaluated_classes", result.evaluated_class_count},
                                 {"classes", classes_json(result, class_name)}})
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << "npukit eval: the detections in " << arguments.detections << " (" << results.detection_count
            << ", as given: no threshold or NMS applied) on " << arguments.dataset << ": " << dataset.images.size()
            << " picture" << (dataset.images.size() == 1 ? "" : "s") << " (" << background_images << " background), "
            << label_boxes << " objects\n\n";
  print_results(result, class_name, label_boxes, arguments.report_confidence);
}

void evaluate(const EvalArguments& arguments) {
  if (arguments.model.empty() == arguments.detections.empty()) {
    throw Error(ErrorKind::invalid_argument, arguments.model.empty()
                    ? "give a model to evaluate, or --detections FILE.json with boxes made elsewhere"
                    : "give a model or --detections, not both");
  }
  if (!arguments.detections.empty()) {
    for (const auto& [given, name] : {std::pair{!arguments.sidecar.empty(), "--sidecar"},
                                      std::pair{!arguments.target.empty(), "--target"},
                                      std::pair{!arguments.input_shapes.empty(), "--input-shape"},
                                      std::pair{!arguments.input_values.empty(), "--input-value"}}) {
      if (given) {
        throw Error(ErrorKind::invalid_argument, std::string(name) + " is for a model; --detections scores boxes "
                                                                     "that are already made");
      }
    }
    evaluate_detections_file(arguments);
    return;
  }
  const vision::DetectionOptions detection_options =
      make_detection_options(arguments.confidence, arguments.iou, arguments.max_detections, arguments.agnostic);
  if (!(arguments.report_confidence >= 0 && arguments.report_confidence <= 1)) {
    throw Error(ErrorKind::invalid_argument, "--pr-conf must be in [0, 1]");
  }
  const vision::DetectionDataset dataset = vision::read_detection_dataset(arguments.dataset);

  YoloDetectorOptions detector_options;
  detector_options.model = arguments.model;
  detector_options.sidecar = arguments.sidecar;
  detector_options.backend = arguments.backend;
  detector_options.target = arguments.target;
  detector_options.threads = arguments.threads;
  detector_options.input_shapes = arguments.input_shapes;
  detector_options.input_values = arguments.input_values;
  detector_options.print_notes = !arguments.json;
  YoloDetector detector(detector_options);
  const int class_count = detector.postprocessor().class_count();
  if (dataset.max_class_id >= class_count) {
    for (const vision::DatasetImage& image : dataset.images) {
      for (const vision::LabelBox& box : image.boxes) {
        if (box.class_id >= class_count) {
          throw Error(ErrorKind::invalid_argument, "class " + std::to_string(box.class_id) + " is beyond the model's " +
                          std::to_string(class_count) + " classes: is this the data set the model was trained on?",
                      image.label_path + ":" + std::to_string(box.line));
        }
      }
    }
  }
  if (!dataset.class_names.empty() && static_cast<int>(dataset.class_names.size()) != class_count) {
    throw Error(ErrorKind::invalid_argument, "data.yaml names " + std::to_string(dataset.class_names.size()) +
                    " classes but the model has " + std::to_string(class_count), dataset.names_source);
  }
  std::vector<std::string> notes;
  auto class_name = [&](int class_id) {
    return dataset.class_names.empty() ? detector.postprocessor().class_name(class_id) : dataset.class_names[class_id];
  };
  for (int c = 0; c < class_count && !dataset.class_names.empty(); ++c) {
    if (detector.postprocessor().class_name(c) != dataset.class_names[c]) {
      notes.push_back("class " + std::to_string(c) + " is '" + dataset.class_names[c] + "' in " + dataset.names_source +
                      " but '" + detector.postprocessor().class_name(c) + "' in the model; the data set's names are shown");
    }
  }
  if (!arguments.json) {
    for (const std::string& note : notes) std::cerr << "npukit: note: " << note << "\n";
  }

  std::vector<vision::EvaluatedImage> evaluated;
  evaluated.reserve(dataset.images.size());
  StageTimes total;
  int background_images = 0, label_boxes = 0;
  {
    Progress progress("eval", static_cast<int64_t>(dataset.images.size()), !arguments.json);
    for (size_t index = 0; index < dataset.images.size(); ++index) {
      const vision::DatasetImage& entry = dataset.images[index];
      progress.update(static_cast<int64_t>(index), entry.image_path);
      const auto started = Clock::now();
      const vision::Image image = vision::read_image(entry.image_path);
      total.decode += seconds_since(started);
      const std::vector<vision::Detection> detections = detector.detect(image, detection_options, &total);
      evaluated.push_back(vision::evaluated_image(entry, image.width, image.height, detections));
      if (entry.boxes.empty()) background_images += 1;
      label_boxes += static_cast<int>(entry.boxes.size());
    }
  }
  const vision::MeanAveragePrecision result =
      vision::mean_average_precision(evaluated, class_count, arguments.report_confidence);
  const size_t image_count = dataset.images.size();

  if (arguments.json) {
    const nlohmann::json classes = classes_json(result, class_name);
    std::cout << nlohmann::json({{"model", arguments.model}, {"dataset", arguments.dataset},
                                 {"head", detector.postprocessor().description()},
                                 {"sidecar", detector.sidecar_path().empty() ? nlohmann::json(nullptr)
                                                                             : nlohmann::json(detector.sidecar_path())},
                                 {"backend", arguments.backend},
                                 {"target", arguments.target.empty() ? nlohmann::json(nullptr) : nlohmann::json(arguments.target)},
                                 {"input", {detector.input_height(), detector.input_width()}},
                                 {"images", image_count}, {"background_images", background_images},
                                 {"instances", label_boxes}, {"confidence", arguments.confidence},
                                 {"iou", arguments.iou}, {"max_detections", arguments.max_detections},
                                 {"agnostic", arguments.agnostic}, {"pr_confidence", arguments.report_confidence},
                                 {"map50", result.map50}, {"map50_95", result.map50_95},
                                 {"precision", result.precision}, {"recall", result.recall},
                                 {"evaluated_classes", result.evaluated_class_count}, {"classes", classes},
                                 {"notes", notes},
                                 {"seconds", {{"decode", total.decode}, {"pre", total.pre}, {"infer", total.infer},
                                              {"post_nms", total.post}}}})
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << "npukit eval: " << arguments.model << " (" << detector.postprocessor().description() << ") on "
            << arguments.dataset << ": " << image_count << " picture" << (image_count == 1 ? "" : "s") << " ("
            << background_images << " background), " << label_boxes << " objects; input " << detector.input_height()
            << "x" << detector.input_width() << ", conf " << format_number(arguments.confidence) << ", iou "
            << format_number(arguments.iou) << ", max_det " << arguments.max_detections << "\n\n";
  print_results(result, class_name, label_boxes, arguments.report_confidence);
  std::cout << "  time: decode " << format_seconds(total.decode) << ", pre " << format_seconds(total.pre) << ", infer "
            << format_seconds(total.infer) << ", post+NMS " << format_seconds(total.post) << "\n";
}

}  // namespace

void register_eval_command(CLI::App& app) {
  auto arguments = std::make_shared<EvalArguments>();
  CLI::App* command = app.add_subcommand("eval", "Measure a detector's mAP50 and mAP50-95 on a YOLO-format data set");
  command->add_option("model", arguments->model, model_argument_help() + "\n(or --detections instead)")->type_name("MODEL");
  command->add_option("--dataset", arguments->dataset,
                      "The data set: DIR/images/*.jpg, DIR/labels/*.txt ('class cx cy w h' normalized), optional "
                      "DIR/data.yaml with names")->required()->type_name("DIR");
  command->add_option("--detections", arguments->detections,
                      "Score a COCO-style detections file instead of running a model (as `npukit detect -o DIR` "
                      "writes DIR/detections.json: images with file_name, width, height; annotations with image_id, "
                      "category_id, bbox [x, y, w, h] in pixels, score), its boxes as given")->type_name("FILE.json");
  command->add_option("--sidecar", arguments->sidecar,
                      "The post-processing sidecar of a model cut by `npukit patch` (default: MODEL.postprocess.json "
                      "when present)")->type_name("PATH");
  command->add_option("--conf", arguments->confidence, "Confidence threshold (default 0.001, as Ultralytics val)")
      ->type_name("P");
  command->add_option("--iou", arguments->iou, "NMS IoU threshold (default 0.7)")->type_name("P");
  command->add_option("--max-det", arguments->max_detections, "Most boxes per picture (default 300)")->type_name("N");
  command->add_option("--pr-conf", arguments->report_confidence,
                      "Score at which precision and recall are reported (default 0.25, as detect)")->type_name("P");
  command->add_flag("--agnostic", arguments->agnostic, "NMS across classes (default: per class)");
  command->add_option("--backend", arguments->backend, "Backend: cpu (default) or ref")->type_name("NAME");
  command->add_option("--target", arguments->target,
                      "With --backend sim: the target whose integer arithmetic is simulated (a built-in profile name "
                      "or a profile file)")->type_name("T");
  command->add_option("--threads,-t", arguments->threads, "Intra-op threads (default 1; 0 = all cores)")->type_name("N");
  command->add_flag("--json", arguments->json, "Print JSON for programs");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments] { evaluate(*arguments); });
}

}  // namespace npukit::cli
