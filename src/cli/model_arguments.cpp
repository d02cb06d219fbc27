#include "cli/model_arguments.h"

#include <charconv>
#include <filesystem>

#include "npukit/error.h"
#include "report/preparation_report.h"
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

void add_input_shape_option(CLI::App& command, std::vector<std::string>& shapes, std::vector<std::string>& values) {
  command
      .add_option("--input-shape", shapes,
                  "Fix an input's shape, for models with dynamic dims: NAME=1,3,640,640 (repeat per input). A "
                  "dynamic batch alone becomes 1 without it")
      ->type_name("NAME=DIMS")
      ->take_all()
      ->allow_extra_args(false);
  command
      .add_option("--input-value", values,
                  "Hold an input at a value, specializing the model for it (an If chosen by a sample rate): "
                  "NAME=16000, NAME=1,2,3 or NAME=FILE.npy")
      ->type_name("NAME=VALUE")
      ->take_all()
      ->allow_extra_args(false);
}

std::string model_argument_help() {
  std::string help = "ONNX model file, or a built-in model:";
  for (const std::string& line : zoo::builtin_model_descriptions()) help += "\n  " + line;
  return help;
}

preparation::PreparedModel load_model_argument(const std::string& reference, const std::vector<std::string>& shapes,
                                               const std::vector<std::string>& values,
                                               preparation::PreparationOptions options) {
  options.input_shapes = parse_input_shapes(shapes);
  options.input_values = preparation::parse_input_values(values);
  return preparation::load_prepared_model(reference, options);
}

void print_preparation_notes(std::ostream& stream, const preparation::PreparationReport& report) {
  for (const std::string& note : report.notes) stream << "npukit: note: " << note << "\n";
  for (const std::string& hint : report.dynamic_input_hints) stream << "npukit: note: " << hint << "\n";
}

nlohmann::json preparation_json(const preparation::PreparedModel& prepared) {
  return report::preparation_json(report::summarize_preparation(prepared));
}

std::string input_shape_example(const ValueInfo& input) {
  ir::Value value;
  value.name = input.name;
  if (input.has_shape) {
    std::vector<ir::Dim> dims;
    for (size_t axis = 0; axis < input.shape.size(); ++axis) {
      const std::string symbol = axis < input.dim_names.size() ? input.dim_names[axis] : "";
      dims.push_back(input.shape[axis] >= 0 ? ir::Dim::fixed(input.shape[axis]) : ir::Dim::symbolic(symbol));
    }
    value.type.shape = std::move(dims);
  }
  return preparation::input_shape_example(value);
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
