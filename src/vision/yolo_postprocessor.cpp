#include "vision/yolo_postprocessor.h"

#include <algorithm>
#include <fstream>

#include "npukit/error.h"
#include "passes/yolo_sidecar.h"
#include "vision/yolo_decoding.h"

namespace npukit::vision {

namespace {

const ValueInfo* find_output(const std::vector<ValueInfo>& outputs, const std::string& name) {
  for (const ValueInfo& output : outputs) {
    if (output.name == name) return &output;
  }
  return nullptr;
}

std::string output_names(const std::vector<ValueInfo>& outputs) {
  std::string names;
  for (const ValueInfo& output : outputs) {
    names += (names.empty() ? "'" : ", '") + output.name + "' " +
             (output.has_shape ? shape_to_string(output.shape) : std::string("(no shape)"));
  }
  return names;
}

// YOLOv5's default anchors (models/yolov5s.yaml, in pixels) for strides 8, 16, 32: every released YOLOv5 model
// was trained with them, so a raw head exported without its decode (whose graph cannot tell them) uses them.
const std::map<int, std::vector<float>> yolov5_default_anchors = {
    {8, {10, 13, 16, 30, 33, 23}}, {16, {30, 61, 62, 45, 59, 119}}, {32, {116, 90, 156, 198, 373, 326}}};

// A declared dim, or -1 when the model does not tell it.
int64_t declared_dim(const ValueInfo& value, size_t axis) {
  return value.has_shape && axis < value.shape.size() ? value.shape[axis] : -1;
}

}  // namespace

nlohmann::json read_sidecar(const std::string& path) {
  std::ifstream stream(path);
  if (!stream) throw Error(ErrorKind::io, "cannot read the sidecar file", path);
  try {
    return nlohmann::json::parse(stream);
  } catch (const nlohmann::json::exception& error) {
    throw Error(ErrorKind::invalid_argument, std::string("the sidecar is not JSON: ") + error.what(), path);
  }
}

YoloPostprocessor YoloPostprocessor::create(const std::vector<ValueInfo>& model_outputs,
                                            const std::map<std::string, std::string>& metadata,
                                            const nlohmann::json* sidecar, const std::string& sidecar_name,
                                            const std::string& model_name) {
  YoloPostprocessor result;
  if (auto names = metadata.find("names"); names != metadata.end()) {
    if (auto parsed = passes::parse_class_names(names->second)) result.class_names_ = *parsed;
  }
  if (sidecar == nullptr) {
    // A full export: one output with the decode in the graph.
    if (model_outputs.size() != 1 || declared_dim(model_outputs[0], 2) < 0 || model_outputs[0].shape.size() != 3) {
      throw Error(ErrorKind::invalid_argument,
                  "not a YOLO full export (one output [1, 4 + classes, N] or [1, N, 5 + classes]); its outputs are " +
                      output_names(model_outputs) + ". For a model cut by `npukit patch`, give its --sidecar",
                  model_name);
    }
    const ValueInfo& output = model_outputs[0];
    result.output_ = output.name;
    const int64_t rows = output.shape[1], columns = output.shape[2];
    if (rows > 4 && rows < columns) {
      result.kind_ = Kind::yolov8_full;
      result.class_count_ = static_cast<int>(rows - 4);
      result.description_ = "YOLOv8/YOLO11 full export [1, 4 + classes, N]";
    } else if (columns > 5 && columns < rows) {
      result.kind_ = Kind::yolov5_full;
      result.class_count_ = static_cast<int>(columns - 5);
      result.description_ = "YOLOv5 full export [1, N, 5 + classes]";
    } else {
      throw Error(ErrorKind::invalid_argument, "output '" + output.name + "' " + shape_to_string(output.shape) +
                      " is neither [1, 4 + classes, N] nor [1, N, 5 + classes]", model_name);
    }
  } else {
    auto fail = [&](const std::string& reason) {
      return Error(ErrorKind::invalid_argument, "the sidecar does not match the model " + model_name + ": " + reason,
                   sidecar_name);
    };
    try {
      if (!sidecar->value("format", std::string()).starts_with("npukit-yolo-postprocess/")) {
        throw fail("no \"format\": \"npukit-yolo-postprocess/N\" (see docs/sidecar.md)");
      }
      const std::string family = sidecar->at("family").get<std::string>();
      const bool anchor_free = family.starts_with("anchor-free");
      result.kind_ = anchor_free ? Kind::anchor_free_cut : Kind::anchor_based_cut;
      result.class_count_ = sidecar->at("classes").get<int>();
      if (anchor_free) result.reg_max_ = sidecar->at("reg_max").get<int>();
      if (sidecar->contains("class_names") && sidecar->at("class_names").is_array()) {
        result.class_names_ = sidecar->at("class_names").get<std::vector<std::string>>();
      }
      const nlohmann::json anchors = sidecar->value("anchors", nlohmann::json());
      const bool default_anchors = !anchor_free && !anchors.is_array();
      std::map<int, Level> by_stride;
      for (const nlohmann::json& entry : sidecar->at("outputs")) {
        const std::string name = entry.at("name").get<std::string>();
        const int stride = entry.at("stride").get<int>();
        const ValueInfo* output = find_output(model_outputs, name);
        if (output == nullptr) throw fail("output '" + name + "' is not in the model (its outputs: " + output_names(model_outputs) + ")");
        Level& level = by_stride[stride];
        level.stride = stride;
        const int64_t channels = declared_dim(*output, 1);
        if (entry.at("kind") == "boxes") {
          level.boxes = name;
          if (anchor_free && channels >= 0 && channels != 4 * result.reg_max_) {
            throw fail("'" + name + "' has " + std::to_string(channels) + " channels, not 4 * reg_max = " +
                       std::to_string(4 * result.reg_max_));
          }
        } else {
          level.scores = name;
          if (anchor_free && channels >= 0 && channels != result.class_count_) {
            throw fail("'" + name + "' has " + std::to_string(channels) + " channels, not the sidecar's " +
                       std::to_string(result.class_count_) + " classes");
          }
        }
      }
      size_t index = 0;
      for (auto& [stride, level] : by_stride) {
        if (level.boxes.empty() || level.scores.empty()) throw fail("stride " + std::to_string(stride) + " lacks a box or score output");
        if (default_anchors) {
          auto found = yolov5_default_anchors.find(stride);
          if (found == yolov5_default_anchors.end()) {
            throw fail("\"anchors\" is null and stride " + std::to_string(stride) +
                       " has no YOLOv5 default; write the model's anchors into the sidecar (docs/sidecar.md)");
          }
          level.anchors = found->second;
        } else if (!anchor_free) {
          // Anchors are listed largest map first, as the levels are: by increasing stride.
          if (index >= anchors.size()) throw fail("fewer anchor levels than output levels");
          level.anchors = anchors[index].get<std::vector<float>>();
        }
        // The declared channel counts must be the sidecar's: a sidecar of another model is caught here.
        const int64_t anchor_count = static_cast<int64_t>(level.anchors.size() / 2);
        const int64_t box_channels = declared_dim(*find_output(model_outputs, level.boxes), 1);
        const int64_t score_channels = declared_dim(*find_output(model_outputs, level.scores), 1);
        if (!anchor_free && box_channels >= 0 && box_channels != 4 * anchor_count) {
          throw fail("'" + level.boxes + "' has " + std::to_string(box_channels) + " channels, not 4 per anchor for " +
                     std::to_string(anchor_count) + " anchors");
        }
        if (!anchor_free && score_channels >= 0 && score_channels != anchor_count * (1 + result.class_count_)) {
          throw fail("'" + level.scores + "' has " + std::to_string(score_channels) + " channels, not " +
                     std::to_string(anchor_count) + " anchors × (1 + " + std::to_string(result.class_count_) + " classes)");
        }
        result.levels_.push_back(level);
        ++index;
      }
      if (result.levels_.empty()) throw fail("no outputs listed");
      if (default_anchors) {
        result.notes_.push_back(sidecar_name + ": \"anchors\" is null (a raw head); YOLOv5's defaults used (P3 10,13 "
                                "16,30 33,23; P4 30,61 62,45 59,119; P5 116,90 156,198 373,326): write the model's "
                                "own into the sidecar if it was trained with others");
      }
    } catch (const nlohmann::json::exception& error) {
      throw fail(std::string("a field is missing or of the wrong type: ") + error.what());
    }
    result.description_ = result.kind_ == Kind::anchor_free_cut ? "anchor-free (DFL) cut head, decoded from the sidecar"
                                      : "anchor-based (YOLOv5) cut head, decoded from the sidecar";
  }
  if (!result.class_names_.empty() && static_cast<int>(result.class_names_.size()) != result.class_count_) {
    result.class_names_.clear();  // names for another class count are not this model's
  }
  return result;
}

std::string YoloPostprocessor::class_name(int class_id) const {
  if (class_id >= 0 && class_id < static_cast<int>(class_names_.size())) return class_names_[class_id];
  return "class " + std::to_string(class_id);
}

std::vector<Detection> YoloPostprocessor::candidates(const Session& session, float confidence) const {
  return decode([&](const std::string& name) -> const Tensor& { return session.output(name); }, confidence);
}

std::vector<Detection> YoloPostprocessor::candidates(const engine::Engine& session, float confidence) const {
  return decode([&](const std::string& name) -> const Tensor& { return session.output(name); }, confidence);
}

std::vector<Detection> YoloPostprocessor::decode(const OutputByName& output, float confidence) const {
  std::vector<Detection> candidates;
  switch (kind_) {
    case Kind::yolov8_full: decode_yolov8_output(output(output_), confidence, candidates); break;
    case Kind::yolov5_full: decode_yolov5_output(output(output_), confidence, candidates); break;
    case Kind::anchor_free_cut:
      for (int64_t first_anchor = 0; const Level& level : levels_) {
        const Tensor& scores = output(level.scores);
        decode_dfl_level(output(level.boxes), scores, level.stride, reg_max_, confidence, candidates,
                         first_anchor);
        first_anchor += scores.rank() == 4 ? scores.dim(2) * scores.dim(3) : 0;
      }
      break;
    case Kind::anchor_based_cut:
      for (int64_t first_anchor = 0; const Level& level : levels_) {
        const Tensor& scores = output(level.scores);
        decode_anchor_level(output(level.boxes), scores, level.stride, level.anchors, confidence, candidates,
                            first_anchor);
        first_anchor += scores.rank() == 4 ? static_cast<int64_t>(level.anchors.size() / 2) * scores.dim(2) * scores.dim(3) : 0;
      }
      break;
  }
  return candidates;
}

std::vector<Detection> YoloPostprocessor::detect(const Session& session, const DetectionOptions& options) const {
  return non_maximum_suppression(candidates(session, options.confidence), options.nms);
}

std::vector<Detection> YoloPostprocessor::detect(const engine::Engine& session, const DetectionOptions& options) const {
  return non_maximum_suppression(candidates(session, options.confidence), options.nms);
}

std::vector<Detection> YoloPostprocessor::detect(const std::map<std::string, Tensor>& outputs,
                                                 const DetectionOptions& options) const {
  const OutputByName output = [&](const std::string& name) -> const Tensor& {
    const auto found = outputs.find(name);
    if (found == outputs.end()) throw Error(ErrorKind::invalid_argument, "the model's output '" + name + "' is missing");
    return found->second;
  };
  return non_maximum_suppression(decode(output, options.confidence), options.nms);
}

void map_boxes_to_original(std::vector<Detection>& detections, const LetterboxGeometry& geometry) {
  const float width = static_cast<float>(geometry.input_width), height = static_cast<float>(geometry.input_height);
  for (Detection& box : detections) {
    box.x1 = std::clamp(static_cast<float>((box.x1 - geometry.left) / geometry.scale_x), 0.0f, width);
    box.x2 = std::clamp(static_cast<float>((box.x2 - geometry.left) / geometry.scale_x), 0.0f, width);
    box.y1 = std::clamp(static_cast<float>((box.y1 - geometry.top) / geometry.scale_y), 0.0f, height);
    box.y2 = std::clamp(static_cast<float>((box.y2 - geometry.top) / geometry.scale_y), 0.0f, height);
  }
}

}  // namespace npukit::vision
