#include "vision/ocr_pipeline.h"

#include <chrono>

#include "npukit/error.h"
#include "vision/text_box_geometry.h"
#include "vision/text_line_crop.h"
#include "vision/text_line_tensor.h"

namespace npukit::vision {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string describe_shape(const ValueInfo& value) {
  std::string text = "[";
  for (size_t i = 0; i < value.shape.size(); ++i) text += (i ? ", " : "") + (value.shape[i] < 0 ? std::string("?") : std::to_string(value.shape[i]));
  return text + "]";
}

// A picture model's single input: float32 [N, 3, H, W] (N, H, W may be dynamic). Returns it.
const ValueInfo& picture_input(const Session& session, const std::string& path, const std::string& role) {
  if (session.inputs().size() != 1 || session.outputs().size() != 1) {
    throw Error(ErrorKind::invalid_argument, "a PP-OCR " + role + " model has one input and one output; this one has " +
                    std::to_string(session.inputs().size()) + " and " + std::to_string(session.outputs().size()), path);
  }
  const ValueInfo& input = session.inputs()[0];
  const bool fits = input.dtype == DType::f32 && input.has_shape && input.shape.size() == 4 &&
                    (input.shape[0] < 0 || input.shape[0] == 1) && (input.shape[1] < 0 || input.shape[1] == 3);
  if (!fits) {
    throw Error(ErrorKind::invalid_argument, "a PP-OCR " + role + " model takes a float32 [N, 3, H, W] picture; input '" +
                    input.name + "' is " + std::string(dtype_name(input.dtype)) + " " + describe_shape(input) +
                    " (is this the " + role + " model?)", path);
  }
  return input;
}

std::unique_ptr<Session> load_session(const std::string& path, const OcrOptions& options) {
  SessionOptions session_options;
  session_options.backend = options.backend;
  session_options.threads = options.threads;
  try {
    return Session::load(path, session_options);
  } catch (const Error& error) {
    throw error.file().empty() ? error.with_file(path) : error;
  }
}

}  // namespace

OcrPipeline OcrPipeline::create(const std::string& detector_path, const std::string& recognizer_path,
                                const std::string& classifier_path, const std::string& keys_path,
                                const OcrOptions& options) {
  OcrPipeline pipeline;
  pipeline.options_ = options;
  pipeline.detector_path_ = detector_path;
  pipeline.recognizer_path_ = recognizer_path;
  pipeline.classifier_path_ = classifier_path;
  // The keys file first: it is the cheapest to check and the likeliest to be wrong.
  pipeline.dictionary_ = TextDictionary::read(keys_path);

  pipeline.recognizer_ = load_session(recognizer_path, options);
  const ValueInfo& rec_input = picture_input(*pipeline.recognizer_, recognizer_path, "recognition");
  const ValueInfo& rec_output = pipeline.recognizer_->outputs()[0];
  if (!rec_output.has_shape || rec_output.shape.size() != 3) {
    throw Error(ErrorKind::invalid_argument, "a PP-OCR recognition model gives [N, T, classes]; output '" +
                    rec_output.name + "' is " + describe_shape(rec_output) + " (is this the recognition model?)", recognizer_path);
  }
  if (rec_output.shape[2] >= 0 && rec_output.shape[2] != pipeline.dictionary_.class_count()) {
    throw Error(ErrorKind::invalid_argument,
                "the keys file has " + std::to_string(pipeline.dictionary_.key_count()) + " characters, which with the CTC blank and "
                "the space make " + std::to_string(pipeline.dictionary_.class_count()) + " classes, but the recognition model " +
                    recognizer_path + " has " + std::to_string(rec_output.shape[2]) +
                    ": give the keys file the model was trained with (ppocr_keys_v1.txt for PP-OCRv4 Chinese/English)", keys_path);
  }
  if (rec_input.shape[2] > 0) pipeline.recognizer_height_ = static_cast<int>(rec_input.shape[2]);
  if (rec_input.shape[3] > 0) pipeline.recognizer_fixed_width_ = static_cast<int>(rec_input.shape[3]);

  pipeline.detector_ = load_session(detector_path, options);
  const ValueInfo& det_input = picture_input(*pipeline.detector_, detector_path, "detection");
  if (det_input.shape[2] >= 0 || det_input.shape[3] >= 0) {
    throw Error(ErrorKind::invalid_argument, "the detection model's input '" + det_input.name + "' is " + describe_shape(det_input) +
                    ": PP-OCR detection resizes each picture to its own size, so H and W must be dynamic "
                    "(use the model as exported, before --input-shape)", detector_path);
  }
  const ValueInfo& det_output = pipeline.detector_->outputs()[0];
  if (!det_output.has_shape || det_output.shape.size() != 4 || (det_output.shape[1] >= 0 && det_output.shape[1] != 1)) {
    throw Error(ErrorKind::invalid_argument, "a PP-OCR detection model gives a [N, 1, H, W] probability map; output '" +
                    det_output.name + "' is " + describe_shape(det_output) + " (is this the detection model?)", detector_path);
  }

  if (!classifier_path.empty()) {
    pipeline.classifier_ = load_session(classifier_path, options);
    const ValueInfo& cls_input = picture_input(*pipeline.classifier_, classifier_path, "direction classifier");
    const ValueInfo& cls_output = pipeline.classifier_->outputs()[0];
    if (!cls_output.has_shape || cls_output.shape.size() != 2 || (cls_output.shape[1] >= 0 && cls_output.shape[1] != 2)) {
      throw Error(ErrorKind::invalid_argument, "a PP-OCR direction classifier gives [N, 2] (0°, 180°); output '" +
                      cls_output.name + "' is " + describe_shape(cls_output) + " (is this the classifier?)", classifier_path);
    }
    if (cls_input.shape[2] > 0) pipeline.classifier_height_ = static_cast<int>(cls_input.shape[2]);
    if (cls_input.shape[3] > 0) pipeline.classifier_width_ = static_cast<int>(cls_input.shape[3]);
  }
  return pipeline;
}

RecognizedText OcrPipeline::recognize(const Image& line) {
  const int width = recognizer_fixed_width_ > 0 ? recognizer_fixed_width_
                                                : recognition_input_width(line.width, line.height, recognizer_height_);
  recognizer_->set_input(recognizer_->inputs()[0].name, text_line_tensor(line, recognizer_height_, width));
  recognizer_->run();
  const Tensor& output = recognizer_->output(recognizer_->outputs()[0].name);
  if (output.rank() != 3 || output.dim(0) != 1) {
    throw Error(ErrorKind::invalid_argument, "the recognition model gave " + shape_to_string(output.shape()) +
                    " for one line; expected [1, T, classes]", recognizer_path_);
  }
  const int classes = static_cast<int>(output.dim(2));
  if (classes != dictionary_.class_count()) {
    throw Error(ErrorKind::invalid_argument, "the recognition model gives " + std::to_string(classes) +
                    " classes but the keys file makes " + std::to_string(dictionary_.class_count()) +
                    " (keys + blank + space): give the keys file the model was trained with", recognizer_path_);
  }
  return ctc_greedy_decode(output.data<float>(), static_cast<int>(output.dim(1)), classes, dictionary_);
}

OcrResult OcrPipeline::read(const Image& image) {
  OcrResult result;
  auto started = Clock::now();
  const TextDetectionResize size = text_detection_resize(image.width, image.height, options_.limit_side_length, options_.limit_type);
  result.detection_width = size.width;
  result.detection_height = size.height;
  detector_->set_input(detector_->inputs()[0].name, text_detection_tensor(image, size));
  result.times.detection_pre = seconds_since(started);
  started = Clock::now();
  detector_->run();
  result.times.detection_infer = seconds_since(started);
  started = Clock::now();
  const Tensor& map = detector_->output(detector_->outputs()[0].name);
  if (map.rank() != 4 || map.dim(0) != 1 || map.dim(1) != 1 || map.dim(2) != size.height || map.dim(3) != size.width) {
    throw Error(ErrorKind::invalid_argument, "the detection model gave a map of " + shape_to_string(map.shape()) + " for a " +
                    std::to_string(size.height) + "x" + std::to_string(size.width) + " input; expected [1, 1, " +
                    std::to_string(size.height) + ", " + std::to_string(size.width) + "]", detector_path_);
  }
  std::vector<TextBox> boxes = text_boxes_from_probability_map(map.data<float>(), size.width, size.height, image.width,
                                                               image.height, options_.detection);
  std::vector<Quad> corners;
  for (const TextBox& box : boxes) corners.push_back(box.corners);
  const std::vector<size_t> order = reading_order(corners);
  result.detected_boxes = static_cast<int>(boxes.size());
  result.times.detection_post = seconds_since(started);

  for (size_t index : order) {
    started = Clock::now();
    Image line = crop_text_line(image, boxes[index].corners);
    result.times.crop += seconds_since(started);
    if (line.width < 1 || line.height < 1) continue;
    OcrLine ocr_line;
    ocr_line.box = boxes[index].corners;
    ocr_line.box_score = boxes[index].score;
    if (classifier_) {
      started = Clock::now();
      classifier_->set_input(classifier_->inputs()[0].name, text_line_tensor(line, classifier_height_, classifier_width_));
      classifier_->run();
      const Tensor& output = classifier_->output(classifier_->outputs()[0].name);
      if (output.element_count() != 2) {
        throw Error(ErrorKind::invalid_argument, "the direction classifier gave " + shape_to_string(output.shape()) +
                        " for one line; expected [1, 2]", classifier_path_);
      }
      const float* probabilities = output.data<float>();
      const bool upside_down = probabilities[1] > probabilities[0];
      ocr_line.turn_score = upside_down ? probabilities[1] : probabilities[0];
      if (upside_down && ocr_line.turn_score > options_.classifier_threshold) {
        line = rotate_half_turn(line);
        ocr_line.turned = true;
      }
      result.times.classify += seconds_since(started);
    }
    started = Clock::now();
    const RecognizedText recognized = recognize(line);
    result.times.recognize += seconds_since(started);
    if (recognized.score < options_.drop_score) {
      ++result.dropped_lines;
      continue;
    }
    ocr_line.text = recognized.text;
    ocr_line.score = recognized.score;
    result.lines.push_back(std::move(ocr_line));
  }
  return result;
}

}  // namespace npukit::vision
