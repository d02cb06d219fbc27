#include "passes/yolo_sidecar.h"

#include <cctype>
#include <map>

namespace npukit::passes {

namespace {

// Ultralytics' defaults (ultralytics/cfg/default.yaml: conf 0.25, iou 0.7, max_det 300; LetterBox pads with
// 114; the model takes RGB / 255). An ONNX file records none of them, so the sidecar says they are assumed.
constexpr double default_confidence = 0.25;
constexpr double default_iou = 0.7;
constexpr int default_max_detections = 300;
constexpr int letterbox_pad_value = 114;

class PythonDictReader {
 public:
  explicit PythonDictReader(const std::string& text) : text_(text) {}

  // {int: 'str', ...} into index → name; nullopt on anything else.
  std::optional<std::map<int64_t, std::string>> read() {
    std::map<int64_t, std::string> names;
    if (!consume('{')) return std::nullopt;
    if (consume('}')) return at_end() ? std::optional(names) : std::nullopt;
    do {
      std::optional<int64_t> key = read_integer();
      if (!key || !consume(':')) return std::nullopt;
      std::optional<std::string> name = read_string();
      if (!name || !names.emplace(*key, *name).second) return std::nullopt;
    } while (consume(','));
    if (!consume('}') || !at_end()) return std::nullopt;
    return names;
  }

 private:
  void skip_spaces() {
    while (position_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[position_]))) ++position_;
  }
  bool consume(char expected) {
    skip_spaces();
    if (position_ >= text_.size() || text_[position_] != expected) return false;
    ++position_;
    return true;
  }
  bool at_end() {
    skip_spaces();
    return position_ == text_.size();
  }
  std::optional<int64_t> read_integer() {
    skip_spaces();
    const size_t start = position_;
    while (position_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[position_]))) ++position_;
    if (position_ == start || position_ - start > 9) return std::nullopt;
    return std::stoll(text_.substr(start, position_ - start));
  }
  // A Python string literal in single or double quotes (Python picks double quotes when the name has a ').
  std::optional<std::string> read_string() {
    skip_spaces();
    if (position_ >= text_.size() || (text_[position_] != '\'' && text_[position_] != '"')) return std::nullopt;
    const char quote = text_[position_++];
    std::string value;
    while (position_ < text_.size() && text_[position_] != quote) {
      char character = text_[position_++];
      if (character == '\\' && position_ < text_.size()) {
        const char escaped = text_[position_++];
        character = escaped == 'n' ? '\n' : escaped == 't' ? '\t' : escaped;
      }
      value.push_back(character);
    }
    if (position_ >= text_.size()) return std::nullopt;
    ++position_;
    return value;
  }

  const std::string& text_;
  size_t position_ = 0;
};

// index → name with keys exactly 0 … n-1.
std::optional<std::vector<std::string>> dense_names(const std::map<int64_t, std::string>& names) {
  std::vector<std::string> result;
  for (const auto& [index, name] : names) {
    if (index != static_cast<int64_t>(result.size())) return std::nullopt;
    result.push_back(name);
  }
  return result;
}

std::optional<std::vector<std::string>> json_names(const std::string& text) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_array()) {
    std::vector<std::string> names;
    for (const nlohmann::json& name : parsed) {
      if (!name.is_string()) return std::nullopt;
      names.push_back(name.get<std::string>());
    }
    return names;
  }
  if (!parsed.is_object()) return std::nullopt;
  std::map<int64_t, std::string> names;
  for (const auto& [key, name] : parsed.items()) {
    if (!name.is_string() || key.empty() || key.size() > 9 ||
        key.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    names[std::stoll(key)] = name.get<std::string>();
  }
  return dense_names(names);
}

nlohmann::json class_names(const ir::Model& model, int64_t class_count, std::vector<std::string>& notes) {
  auto entry = model.metadata.find("names");
  if (entry == model.metadata.end()) {
    notes.push_back("class names: the model's metadata has no 'names'; classes are indices 0 … " +
                    std::to_string(class_count - 1));
    return nullptr;
  }
  std::optional<std::vector<std::string>> names = parse_class_names(entry->second);
  if (!names) {
    notes.push_back("class names: metadata 'names' is neither {0: 'name', …} nor a JSON list; left out");
    return nullptr;
  }
  if (static_cast<int64_t>(names->size()) != class_count) {
    notes.push_back("class names: metadata 'names' lists " + std::to_string(names->size()) + " names but the head has " +
                    std::to_string(class_count) + " classes; left out");
    return nullptr;
  }
  return *names;
}

nlohmann::json expected_input(const ir::Model& model, const YoloHead& head) {
  const ir::Graph& graph = *model.graph;
  const ir::Value* input = nullptr;
  for (const ir::Value* candidate : graph.inputs) {
    if (!candidate->initializer) {
      input = candidate;
      break;
    }
  }
  nlohmann::json batch = nullptr;
  if (input && input->type.shape && !input->type.shape->empty()) {
    const ir::Dim& first = input->type.shape->front();
    batch = first.is_static() ? nlohmann::json(first.value) : nlohmann::json("dynamic");
  }
  return {{"name", input ? input->name : ""},
          {"batch", batch},
          {"height", head.input_height},
          {"width", head.input_width},
          {"layout", "NCHW"},
          {"channel_order", "RGB"},
          {"dtype", "float32"},
          {"normalization", {{"scale", 1.0 / 255.0}, {"mean", {0, 0, 0}}, {"formula", "pixel / 255, values 0 to 1"}}},
          {"letterbox", {{"keep_aspect_ratio", true}, {"centered", true},
                         {"pad_value", {letterbox_pad_value, letterbox_pad_value, letterbox_pad_value}}}},
          {"assumed", "layout, channel order, normalization and letterbox are Ultralytics' preprocessing: an ONNX "
                      "file does not record them"}};
}

}  // namespace

std::optional<std::vector<std::string>> parse_class_names(const std::string& text) {
  if (std::optional<std::map<int64_t, std::string>> names = PythonDictReader(text).read()) return dense_names(*names);
  return json_names(text);
}

nlohmann::json make_yolo_sidecar(const ir::Model& model, const YoloHead& head, const nlohmann::json& outputs,
                                 std::vector<std::string>& notes) {
  std::vector<std::string> sidecar_notes = head.notes;
  nlohmann::json sidecar;
  sidecar["format"] = "npukit-yolo-postprocess/2";
  sidecar["family"] = head.family == YoloFamily::anchor_free ? "anchor-free (YOLOv8 / YOLO11, DFL)" : "anchor-based (YOLOv5)";
  sidecar["decode_in_original"] = head.decode_in_graph;
  sidecar["input"] = expected_input(model, head);
  sidecar["classes"] = head.class_count;
  sidecar["class_names"] = class_names(model, head.class_count, sidecar_notes);
  sidecar["strides"] = nlohmann::json::array();
  for (const YoloLevel& level : head.levels) sidecar["strides"].push_back(level.stride);
  sidecar["outputs"] = outputs;
  sidecar["score_activation"] = "sigmoid (the outputs are logits)";
  sidecar["thresholds"] = {{"confidence", default_confidence}, {"iou", default_iou},
                           {"max_detections", default_max_detections},
                           {"assumed", "Ultralytics' predict defaults; tune them for your data"}};
  if (head.family == YoloFamily::anchor_free) {
    sidecar["reg_max"] = head.reg_max;
    sidecar["decode"] =
        "per cell (x, y) of a level with stride s: softmax over each side's reg_max logits, expectation = distance "
        "in cells; box = ((x + 0.5 - left, y + 0.5 - top), (x + 0.5 + right, y + 0.5 + bottom)) * s; score = "
        "sigmoid(class logit); then NMS";
  } else {
    sidecar["anchors_per_cell"] = head.anchors_per_cell;
    nlohmann::json anchors = nlohmann::json::array();
    bool all_found = true;
    for (const YoloLevel& level : head.levels) {
      anchors.push_back(level.anchors);
      all_found = all_found && !level.anchors.empty();
    }
    // The matcher's notes already say, per level, why anchors are missing.
    sidecar["anchors"] = all_found ? anchors : nlohmann::json(nullptr);
    sidecar["decode"] =
        "per anchor a, cell (x, y), stride s: xy = (sigmoid(txy) * 2 - 0.5 + (x, y)) * s; wh = (sigmoid(twh) * 2)^2 * "
        "anchor[a] (pixels); score = sigmoid(objectness) * sigmoid(class logit); then NMS";
  }
  sidecar["notes"] = sidecar_notes;
  notes.insert(notes.end(), sidecar_notes.begin(), sidecar_notes.end());
  return sidecar;
}

}  // namespace npukit::passes
