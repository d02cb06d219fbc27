// npukit ocr IMAGE|DIR --det DET.onnx --rec REC.onnx [--cls CLS.onnx] --keys KEYS.txt: pictures in, text lines
// out, the PP-OCR way (vision/ocr_pipeline.h): a table of lines (number, text, score, box) in reading order,
// the time of each stage, --json for programs, and with -o DIR an annotated picture per input (boxes and line
// numbers) and ocr.json.
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "npukit/error.h"
#include "vision/image_decoding.h"
#include "vision/image_encoding.h"
#include "vision/ocr_annotation.h"
#include "vision/ocr_pipeline.h"

namespace npukit::cli {

namespace {

struct OcrArguments {
  std::string images;
  std::string detector, recognizer, classifier, keys;
  std::string output_dir;
  int limit_side_length = 960;
  std::string limit_type = "max";
  float binary_threshold = 0.3f;
  float box_threshold = 0.6f;
  double unclip_ratio = 1.5;
  float drop_score = 0.5f;
  std::string backend = "cpu";
  int threads = 1;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string describe_box(const vision::Quad& box) {
  std::string text;
  for (const vision::PointF& p : box) text += (text.empty() ? "" : " ") + format_number(p.x) + "," + format_number(p.y);
  return text;
}

nlohmann::json box_json(const vision::Quad& box) {
  nlohmann::json points = nlohmann::json::array();
  for (const vision::PointF& p : box) points.push_back({p.x, p.y});
  return points;
}

vision::OcrOptions pipeline_options(const OcrArguments& arguments) {
  vision::OcrOptions options;
  if (arguments.limit_type != "max" && arguments.limit_type != "min") {
    throw Error(ErrorKind::invalid_argument, "--det-limit-type is max or min, not '" + arguments.limit_type + "'");
  }
  if (arguments.limit_side_length < 32 || arguments.limit_side_length > 8192) {
    throw Error(ErrorKind::invalid_argument, "--det-limit-side must be between 32 and 8192 (PaddleOCR's default: 960)");
  }
  auto check_share = [](double value, const char* option) {
    if (!(value >= 0 && value <= 1)) throw Error(ErrorKind::invalid_argument, std::string(option) + " must be in [0, 1]");
  };
  check_share(arguments.binary_threshold, "--thresh");
  check_share(arguments.box_threshold, "--box-thresh");
  check_share(arguments.drop_score, "--drop-score");
  if (!(arguments.unclip_ratio > 0 && arguments.unclip_ratio <= 10)) {
    throw Error(ErrorKind::invalid_argument, "--unclip-ratio must be in (0, 10] (PaddleOCR's default: 1.5)");
  }
  options.limit_side_length = arguments.limit_side_length;
  options.limit_type = arguments.limit_type == "max" ? vision::DetectionLimitType::max : vision::DetectionLimitType::min;
  options.detection.binary_threshold = arguments.binary_threshold;
  options.detection.box_threshold = arguments.box_threshold;
  options.detection.unclip_ratio = arguments.unclip_ratio;
  options.drop_score = arguments.drop_score;
  options.backend = arguments.backend;
  options.threads = arguments.threads;
  return options;
}

void ocr(const OcrArguments& arguments) {
  const vision::OcrOptions options = pipeline_options(arguments);
  std::error_code error;
  std::vector<std::string> images;
  if (std::filesystem::is_directory(arguments.images, error)) images = vision::list_image_files(arguments.images);
  else if (std::filesystem::is_regular_file(arguments.images, error)) images = {arguments.images};
  else throw Error(ErrorKind::io, "no such picture file or directory", arguments.images);
  for (const auto& [path, option] : {std::pair{arguments.detector, "--det"}, std::pair{arguments.recognizer, "--rec"},
                                     std::pair{arguments.classifier, "--cls"}, std::pair{arguments.keys, "--keys"}}) {
    if (!path.empty() && !std::filesystem::is_regular_file(path, error)) {
      throw Error(ErrorKind::io, std::string("no such file (given as ") + option + ")", path);
    }
  }
  vision::OcrPipeline pipeline =
      vision::OcrPipeline::create(arguments.detector, arguments.recognizer, arguments.classifier, arguments.keys, options);
  if (!arguments.output_dir.empty()) {
    std::filesystem::create_directories(arguments.output_dir, error);
    if (!std::filesystem::is_directory(arguments.output_dir, error)) {
      throw Error(ErrorKind::io, "cannot create the output directory", arguments.output_dir);
    }
  }
  const bool classify = !arguments.classifier.empty();
  Table lines_table({{"picture"}, {"line", Align::right}, {"text"}, {"score", Align::right}, {"box (x,y clockwise from top-left)"}});
  Table timing_table({{"picture"}, {"lines", Align::right}, {"decode", Align::right}, {"det", Align::right},
                      {"post", Align::right}, {"crop", Align::right}, {"cls", Align::right}, {"rec", Align::right}});
  nlohmann::json report_images = nlohmann::json::array();
  double total[7] = {0, 0, 0, 0, 0, 0, 0};
  Progress progress("ocr", static_cast<int64_t>(images.size()), !arguments.json && images.size() > 1);
  for (size_t index = 0; index < images.size(); ++index) {
    const std::string& path = images[index];
    const std::string file_name = std::filesystem::path(path).filename().string();
    progress.update(static_cast<int64_t>(index), file_name);
    auto started = Clock::now();
    vision::Image image = vision::read_image(path);
    const double decode = seconds_since(started);
    const vision::OcrResult result = pipeline.read(image);
    const vision::OcrTimes& t = result.times;
    const double stages[7] = {decode, t.detection_pre + t.detection_infer, t.detection_post, t.crop, t.classify, t.recognize, 0};
    for (int i = 0; i < 6; ++i) total[i] += stages[i];
    nlohmann::json lines = nlohmann::json::array();
    std::vector<vision::Quad> boxes;
    for (size_t number = 0; number < result.lines.size(); ++number) {
      const vision::OcrLine& line = result.lines[number];
      boxes.push_back(line.box);
      lines_table.add_row({number == 0 ? file_name : "", std::to_string(number + 1), line.text, format_number(line.score, 3),
                           describe_box(line.box)});
      nlohmann::json entry = {{"line", number + 1}, {"text", line.text}, {"score", line.score}, {"box", box_json(line.box)},
                              {"box_score", line.box_score}};
      if (classify) entry["turned_180"] = line.turned, entry["direction_score"] = line.turn_score;
      lines.push_back(entry);
    }
    std::string annotated;
    if (!arguments.output_dir.empty()) {
      vision::draw_text_boxes(image, boxes);
      annotated = (std::filesystem::path(arguments.output_dir) / (std::filesystem::path(path).stem().string() + ".jpg")).string();
      vision::write_jpeg(image, annotated);
    }
    timing_table.add_row({file_name, std::to_string(result.lines.size()), format_seconds(decode),
                          format_seconds(stages[1]), format_seconds(stages[2]), format_seconds(stages[3]),
                          classify ? format_seconds(stages[4]) : "-", format_seconds(stages[5])});
    report_images.push_back(
        {{"file", path}, {"width", image.width}, {"height", image.height},
         {"detector_input", {result.detection_height, result.detection_width}}, {"boxes_detected", result.detected_boxes},
         {"lines_dropped_below_score", result.dropped_lines}, {"lines", lines},
         {"annotated", annotated.empty() ? nlohmann::json(nullptr) : nlohmann::json(annotated)},
         {"seconds", {{"decode", decode}, {"det_pre", t.detection_pre}, {"det_infer", t.detection_infer},
                      {"det_post", t.detection_post}, {"crop", t.crop}, {"cls", classify ? nlohmann::json(t.classify) : nlohmann::json(nullptr)},
                      {"rec", t.recognize}}}});
  }
  progress.finish();
  const nlohmann::json report = {
      {"det", arguments.detector}, {"rec", arguments.recognizer},
      {"cls", arguments.classifier.empty() ? nlohmann::json(nullptr) : nlohmann::json(arguments.classifier)},
      {"keys", arguments.keys}, {"backend", arguments.backend}, {"threads", arguments.threads},
      {"det_limit_side", arguments.limit_side_length}, {"det_limit_type", arguments.limit_type},
      {"thresh", arguments.binary_threshold}, {"box_thresh", arguments.box_threshold},
      {"unclip_ratio", arguments.unclip_ratio}, {"drop_score", arguments.drop_score}, {"images", report_images}};
  if (!arguments.output_dir.empty()) {
    vision::write_file_atomically((std::filesystem::path(arguments.output_dir) / "ocr.json").string(), report.dump(1) + "\n");
  }
  if (arguments.json) {
    std::cout << report.dump(2) << "\n";
    return;
  }
  std::cout << "npukit ocr: " << images.size() << " picture" << (images.size() == 1 ? "" : "s") << ", det "
            << arguments.detector << ", rec " << arguments.recognizer
            << (classify ? ", cls " + arguments.classifier : std::string()) << ", backend " << arguments.backend << "\n\n";
  if (lines_table.row_count() > 0) {
    lines_table.print(std::cout, 2, 60);
  } else {
    std::cout << "  no text found\n";
  }
  std::cout << "\n";
  if (images.size() > 1) {
    timing_table.add_row({"total", "", format_seconds(total[0]), format_seconds(total[1]), format_seconds(total[2]),
                          format_seconds(total[3]), classify ? format_seconds(total[4]) : "-", format_seconds(total[5])});
  }
  timing_table.print(std::cout, 2);
  std::cout << "\n  det = resize + detector, post = DB boxes, crop = perspective cut, rec = recognizer + CTC\n";
  if (!arguments.output_dir.empty()) std::cout << "  annotated pictures and ocr.json in " << arguments.output_dir << "\n";
}

}  // namespace

void register_ocr_command(CLI::App& app) {
  auto arguments = std::make_shared<OcrArguments>();
  CLI::App* command = app.add_subcommand("ocr", "Read text with PP-OCR models: pictures in, text lines out (top to bottom)");
  command->add_option("images", arguments->images, "A picture (JPEG, PNG, BMP) or a directory of them")->required()
      ->type_name("IMAGE|DIR");
  command->add_option("--det", arguments->detector, "The text detection model (DB), e.g. ch_PP-OCRv4_det_infer.onnx")
      ->required()->type_name("DET.onnx");
  command->add_option("--rec", arguments->recognizer, "The text recognition model (CTC), e.g. ch_PP-OCRv4_rec_infer.onnx")
      ->required()->type_name("REC.onnx");
  command->add_option("--cls", arguments->classifier,
                      "The text direction classifier (0/180 degrees), e.g. ch_ppocr_mobile_v2.0_cls_infer.onnx; without it "
                      "no line is turned")->type_name("CLS.onnx");
  command->add_option("--keys", arguments->keys, "The recognizer's dictionary, one character per line (ppocr_keys_v1.txt)")
      ->required()->type_name("KEYS.txt");
  command->add_option("-o,--output-dir", arguments->output_dir, "Write an annotated picture per input and ocr.json here")
      ->type_name("DIR");
  command->add_option("--det-limit-side", arguments->limit_side_length,
                      "Detector input size limit in pixels (default 960, PaddleOCR's)")->type_name("N");
  command->add_option("--det-limit-type", arguments->limit_type,
                      "max: shrink the longer side to the limit (default); min: enlarge the shorter side to it")->type_name("max|min");
  command->add_option("--thresh", arguments->binary_threshold, "Text probability threshold of the map (default 0.3)")->type_name("P");
  command->add_option("--box-thresh", arguments->box_threshold, "Least mean probability inside a box (default 0.6)")->type_name("P");
  command->add_option("--unclip-ratio", arguments->unclip_ratio, "How far boxes grow back around the text kernel (default 1.5)")
      ->type_name("R");
  command->add_option("--drop-score", arguments->drop_score, "Leave out lines recognized with a lower score (default 0.5)")
      ->type_name("P");
  command->add_option("--backend", arguments->backend, "Backend: cpu (default) or ref")->type_name("NAME");
  command->add_option("--threads,-t", arguments->threads, "Intra-op threads (default 1; 0 = all cores)")->type_name("N");
  command->add_flag("--json", arguments->json, "Print JSON for programs");
  command->callback([arguments] { ocr(*arguments); });
}

}  // namespace npukit::cli
