#include "zoo/builtin_models.h"

#include <charconv>

#include "npukit/error.h"
#include "zoo/yolov5.h"

namespace npukit::zoo {

bool is_builtin_reference(std::string_view reference) { return reference.starts_with(builtin_prefix); }

std::vector<std::string> builtin_model_descriptions() {
  return {"builtin:yolov5{n,s,m,l,x}[-SIZE]  YOLOv5 v6.0 with random weights, input 'images' 1x3xSIZExSIZE "
          "(default 640, a multiple of 32), output 'output0'"};
}

namespace {

[[noreturn]] void unknown_model(const std::string& reference, const std::string& why) {
  std::string known;
  for (const std::string& line : builtin_model_descriptions()) known += "\n  " + line;
  throw Error(ErrorKind::invalid_argument, why + "; built-in models:" + known, reference);
}

}  // namespace

ir::Model build_builtin_model(const std::string& reference, const BuiltinOptions& options) {
  if (!is_builtin_reference(reference)) unknown_model(reference, "not a built-in model reference");
  std::string name = reference.substr(builtin_prefix.size());
  std::string size_text;
  if (auto dash = name.find('-'); dash != std::string::npos) {
    size_text = name.substr(dash + 1);
    name = name.substr(0, dash);
  }
  if (name.size() != 7 || !name.starts_with("yolov5")) unknown_model(reference, "unknown built-in model '" + name + "'");
  Yolov5Config config;
  try {
    config = Yolov5Config::for_variant(name.substr(6));
  } catch (const Error&) {
    unknown_model(reference, "unknown built-in model '" + name + "'");
  }
  if (!size_text.empty()) {
    int64_t size = 0;
    auto [end, error] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (error != std::errc() || end != size_text.data() + size_text.size() || size <= 0) {
      unknown_model(reference, "the size after '-' must be a number of pixels, got '" + size_text + "'");
    }
    config.image_height = config.image_width = size;
  }
  for (const auto& [input, shape] : options.input_shapes) {
    if (input != "images") {
      throw Error(ErrorKind::invalid_argument, "the model has no input named '" + input + "' (inputs: images)",
                  reference);
    }
    if (shape.size() != 4 || shape[1] != 3) {
      throw Error(ErrorKind::invalid_argument,
                  "input 'images' takes a shape N,3,H,W, got " + shape_to_string(shape), reference);
    }
    config.batch = shape[0];
    config.image_height = shape[2];
    config.image_width = shape[3];
  }
  try {
    ir::Model model = build_yolov5(config);
    model.source_path = reference;
    return model;
  } catch (const Error& error) {
    throw error.with_file(reference);
  }
}

}  // namespace npukit::zoo
