// npukit eval MODEL --dataset DIR: a detector's accuracy on a YOLO-format data set, as COCO measures it
// (mAP50, mAP50-95 with 101-point interpolated AP; vision/mean_average_precision.h) and per class. The
// pictures go through the same path as `detect` (cli/yolo_detector.h) at Ultralytics' validation settings
// (conf 0.001, iou 0.7, max_det 300), so the number is the one a user of `detect` gets.
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_arguments.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "cli/yolo_detector.h"
#include "npukit/error.h"
#include "vision/dataset.h"
#include "vision/evaluation.h"
#include "vision/image_decoding.h"

namespace npukit::cli {

namespace {

struct EvalArguments {
  std::string model;
  std::string dataset;
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

void evaluate(const EvalArguments& arguments) {
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
  Table table({{"class"}, {"instances", Align::right}, {"detections", Align::right},
               {"P@" + format_number(arguments.report_confidence), Align::right}, {"R", Align::right},
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
            << " classes with objects); P and R at IoU 0.5 for scores >= " << format_number(arguments.report_confidence)
            << "\n  time: decode " << format_seconds(total.decode) << ", pre " << format_seconds(total.pre) << ", infer "
            << format_seconds(total.infer) << ", post+NMS " << format_seconds(total.post) << "\n";
}

}  // namespace

void register_eval_command(CLI::App& app) {
  auto arguments = std::make_shared<EvalArguments>();
  CLI::App* command = app.add_subcommand("eval", "Measure a detector's mAP50 and mAP50-95 on a YOLO-format data set");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  command->add_option("--dataset", arguments->dataset,
                      "The data set: DIR/images/*.jpg, DIR/labels/*.txt ('class cx cy w h' normalized), optional "
                      "DIR/data.yaml with names")->required()->type_name("DIR");
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
