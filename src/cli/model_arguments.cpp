#include "cli/model_arguments.h"

#include <charconv>
#include <filesystem>

#include "npukit/error.h"
#include "onnx/onnx_import.h"
#include "zoo/builtin_models.h"

namespace npukit::cli {

namespace {

[[noreturn]] void bad_input_shape(const std::string& argument, const std::string& why) {
  throw Error(ErrorKind::invalid_argument, "--input-shape '" + argument + "': " + why +
                                               " (expected NAME=D0,D1,...; e.g. --input-shape images=1,3,640,640)");
}

}  // namespace

InputShapes parse_input_shapes(const std::vector<std::string>& arguments) {
  InputShapes shapes;
  for (const std::string& argument : arguments) {
    // Tensor names may contain '=' in principle, dims never do: split at the last one.
    size_t equals = argument.rfind('=');
    if (equals == std::string::npos || equals == 0) bad_input_shape(argument, "no input name");
    std::string name = argument.substr(0, equals);
    std::string dims_text = argument.substr(equals + 1);
    if (dims_text.empty()) bad_input_shape(argument, "no dimensions");
    std::vector<int64_t> dims;
    size_t start = 0;
    while (start <= dims_text.size()) {
      size_t comma = dims_text.find_first_of(",x", start);
      if (comma == std::string::npos) comma = dims_text.size();
      std::string_view piece(dims_text.data() + start, comma - start);
      int64_t dim = 0;
      auto [end, error] = std::from_chars(piece.data(), piece.data() + piece.size(), dim);
      if (piece.empty() || error != std::errc() || end != piece.data() + piece.size() || dim < 0) {
        bad_input_shape(argument, "'" + std::string(piece) + "' is not a dimension (a whole number >= 0)");
      }
      dims.push_back(dim);
      start = comma + 1;
    }
    if (!shapes.emplace(name, dims).second) bad_input_shape(argument, "input '" + name + "' is given twice");
  }
  return shapes;
}

void add_input_shape_option(CLI::App& command, std::vector<std::string>& target) {
  command
      .add_option("--input-shape", target,
                  "Fix an input's shape, for models with dynamic dims: NAME=1,3,640,640 (repeat per input)")
      ->type_name("NAME=DIMS")
      ->take_all()
      ->allow_extra_args(false);
}

std::string model_argument_help() {
  std::string help = "ONNX model file, or a built-in model:";
  for (const std::string& line : zoo::builtin_model_descriptions()) help += "\n  " + line;
  return help;
}

ir::Model load_model_argument(const std::string& reference, const InputShapes& input_shapes,
                              bool propagate_shape_data) {
  if (zoo::is_builtin_reference(reference)) {
    zoo::BuiltinOptions options;
    options.input_shapes = input_shapes;
    return zoo::build_builtin_model(reference, options);
  }
  std::error_code error;
  if (!std::filesystem::exists(reference, error)) {
    throw Error(ErrorKind::io, "no such file; check the path (or use a built-in model such as builtin:yolov5s)",
                reference);
  }
  if (std::filesystem::is_directory(reference, error)) {
    throw Error(ErrorKind::io, "is a directory; pass the .onnx file inside it", reference);
  }
  onnx_io::ImportOptions options;
  options.input_shapes = input_shapes;
  options.propagate_shape_data = propagate_shape_data;
  return onnx_io::load_model(reference, options);
}

std::string input_shape_example(const std::string& name, const std::optional<std::vector<ir::Dim>>& dims) {
  if (!dims) return name + "=D0,D1,...";
  // Image-like inputs get the names people know; any other rank numbers its unknown axes.
  static const char* image_axes[] = {"N", "C", "H", "W"};
  std::string text = name + "=";
  for (size_t axis = 0; axis < dims->size(); ++axis) {
    if (axis) text += ",";
    if ((*dims)[axis].is_static()) text += std::to_string((*dims)[axis].value);
    else if (dims->size() == 4) text += image_axes[axis];
    else text += "D" + std::to_string(axis);
  }
  return text;
}

std::string input_shape_example(const ValueInfo& input) {
  if (!input.has_shape) return input_shape_example(input.name, std::nullopt);
  std::vector<ir::Dim> dims;
  for (int64_t dim : input.shape) dims.push_back(dim >= 0 ? ir::Dim::fixed(dim) : ir::Dim{});
  return input_shape_example(input.name, dims);
}

std::string describe_dims(const std::vector<int64_t>& shape, const std::vector<std::string>& dim_names) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ", ";
    if (shape[i] >= 0) {
      text += std::to_string(shape[i]);
    } else {
      text += i < dim_names.size() && !dim_names[i].empty() ? dim_names[i] : "?";
    }
  }
  return text + "]";
}

}  // namespace npukit::cli
