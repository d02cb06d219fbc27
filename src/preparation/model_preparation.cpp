#include "preparation/model_preparation.h"

#include <charconv>
#include <cmath>
#include <filesystem>

#include "core/dtype_traits.h"
#include "core/npy.h"
#include "inspect/model_statistics.h"
#include "ir/shape_inference.h"
#include "npukit/error.h"
#include "onnx/onnx_import.h"
#include "onnx/shape_refresh.h"
#include "passes/constant_folding.h"
#include "passes/specialize_if.h"
#include "preparation/shape_discovery.h"
#include "zoo/builtin_models.h"

namespace npukit::preparation {

namespace {

using InputShapes = std::map<std::string, std::vector<int64_t>>;

ir::Model load_reference(const std::string& reference, const InputShapes& input_shapes) {
  if (zoo::is_builtin_reference(reference)) {
    zoo::BuiltinOptions options;
    options.input_shapes = input_shapes;
    ir::Model model = zoo::build_builtin_model(reference, options);
    model.source_path = reference;
    return model;
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
  // The shapes an NPU compiler sees: small shape computations evaluated during inference.
  options.propagate_shape_data = true;
  return onnx_io::load_model(reference, options);
}

// The inputs a caller feeds (initializers with a default value are not among them).
std::vector<ir::Value*> fed_inputs(const ir::Graph& graph) {
  std::vector<ir::Value*> inputs;
  for (ir::Value* input : graph.inputs) {
    if (!input->initializer) inputs.push_back(input);
  }
  return inputs;
}

std::string input_names(const ir::Graph& graph) {
  std::string names;
  for (const ir::Value* input : fed_inputs(graph)) names += (names.empty() ? "" : ", ") + input->name;
  return names.empty() ? "none" : names;
}

// Dynamic inputs whose shape the data to be fed tells: that shape, where it agrees with the static dims.
InputShapes shapes_from_data(const ir::Graph& graph, const PreparationOptions& options) {
  InputShapes fixed;
  const std::vector<ir::Value*> inputs = fed_inputs(graph);
  for (const auto& [given_name, shape] : options.data_shapes) {
    const std::string name = given_name.empty() && inputs.size() == 1 ? inputs[0]->name : given_name;
    if (options.input_shapes.count(name)) continue;
    for (const ir::Value* input : inputs) {
      if (input->name != name || input->type.has_static_shape()) continue;
      if (input->type.shape && input->type.shape->size() != shape.size()) continue;
      bool agrees = true;
      for (size_t axis = 0; input->type.shape && axis < shape.size(); ++axis) {
        const ir::Dim& dim = (*input->type.shape)[axis];
        agrees = agrees && (!dim.is_static() || dim.value == shape[axis]);
      }
      if (agrees) fixed[name] = shape;
    }
  }
  return fixed;
}

// The batch dims to fix: an input of rank >= 2 whose first dim alone is dynamic.
InputShapes symbolic_batches_to_fix(const ir::Graph& graph, const PreparationOptions& options,
                                    const InputShapes& already_fixed, PreparationReport& report) {
  InputShapes fixed;
  for (const ir::Value* input : fed_inputs(graph)) {
    if (options.input_shapes.count(input->name) || options.input_values.count(input->name) ||
        options.input_value_tensors.count(input->name) || already_fixed.count(input->name)) {
      continue;
    }
    if (!input->type.shape || input->type.shape->size() < 2) continue;
    const std::vector<ir::Dim>& dims = *input->type.shape;
    if (dims[0].is_static()) continue;
    bool rest_static = true;
    for (size_t axis = 1; axis < dims.size(); ++axis) rest_static = rest_static && dims[axis].is_static();
    if (!rest_static) continue;
    std::vector<int64_t> shape{1};
    for (size_t axis = 1; axis < dims.size(); ++axis) shape.push_back(dims[axis].value);
    fixed[input->name] = shape;
    std::string example = input->name + "=N";
    for (size_t axis = 1; axis < dims.size(); ++axis) example += "," + std::to_string(dims[axis].value);
    report.notes.push_back("input '" + input->name + "': batch dim " + dims[0].to_string() +
                           " set to 1, as edge NPUs run it (--input-shape " + example + " for another batch)");
  }
  return fixed;
}

// Numbers in `text` ("16000", "1,2,3", "0.5x2") as doubles; Error naming the argument otherwise.
std::vector<double> parse_numbers(const std::string& name, const std::string& text) {
  std::vector<double> numbers;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string piece = text.substr(start, comma - start);
    double number = 0;
    auto [end, error] = std::from_chars(piece.data(), piece.data() + piece.size(), number);
    if (piece.empty() || error != std::errc() || end != piece.data() + piece.size()) {
      if (piece == "true" || piece == "false") {
        number = piece == "true" ? 1 : 0;
      } else {
        throw Error(ErrorKind::invalid_argument, "--input-value " + name + "=" + text + ": '" + piece +
                                                     "' is not a number (expected NAME=V or NAME=V0,V1,... or NAME=FILE.npy)");
      }
    }
    numbers.push_back(number);
    start = comma + 1;
  }
  return numbers;
}

// The tensor an --input-value stands for, in the input's dtype and (declared) shape.
Tensor input_value_tensor(const ir::Value& input, const std::string& text, const std::string& model_name) {
  const std::string argument = "--input-value " + input.name + "=" + text;
  std::error_code error;
  if (text.size() > 4 && text.ends_with(".npy")) {
    if (!std::filesystem::is_regular_file(text, error)) {
      throw Error(ErrorKind::io, argument + ": no such file (save the array with numpy.save)", model_name);
    }
    Tensor tensor = read_npy(text);
    if (tensor.dtype() != input.type.dtype) {
      throw Error(ErrorKind::invalid_argument, argument + ": the file holds " + std::string(dtype_name(tensor.dtype())) +
                                                   ", the input is " + std::string(dtype_name(input.type.dtype)), model_name);
    }
    return tensor;
  }
  std::vector<double> numbers = parse_numbers(input.name, text);
  const int64_t count = static_cast<int64_t>(numbers.size());
  Shape shape;
  if (input.type.has_static_shape()) {
    shape = input.type.static_shape();
    int64_t expected = 1;
    for (int64_t dim : shape) expected *= dim;
    if (expected != count) {
      throw Error(ErrorKind::invalid_argument, argument + ": the input is " + input.type.to_string() + " (" +
                                                   std::to_string(expected) + " values), " + std::to_string(count) +
                                                   " given", model_name);
    }
  } else if (input.type.shape && input.type.shape->size() == 1) {
    shape = {count};
  } else if (!input.type.shape || (input.type.shape->empty() && count == 1)) {
    if (count != 1) shape = {count};
  } else {
    throw Error(ErrorKind::invalid_argument, argument + ": the input is " + input.type.to_string() +
                                                 "; give its values in a .npy file", model_name);
  }
  Tensor tensor(input.type.dtype, shape);
  dispatch_dtype(input.type.dtype, kAllTypes, "--input-value", [&]<typename T>() {
    T* data = tensor.data<T>();
    for (int64_t i = 0; i < count; ++i) {
      if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
        data[i] = T(static_cast<float>(numbers[i]));
      } else if constexpr (std::is_integral_v<T>) {
        if (numbers[i] != std::floor(numbers[i])) {
          throw Error(ErrorKind::invalid_argument, argument + ": the input is an integer tensor", model_name);
        }
        data[i] = static_cast<T>(numbers[i]);
      } else {
        data[i] = static_cast<T>(numbers[i]);
      }
    }
  });
  return tensor;
}

// A tensor given for an input (SessionOptions::input_values) must be what the input declares.
void check_input_value_tensor(const ir::Value& input, const Tensor& value, const std::string& model_name) {
  if (value.dtype() != input.type.dtype) {
    throw Error(ErrorKind::invalid_argument, "the value given for input '" + input.name + "' is " +
                                                 std::string(dtype_name(value.dtype())) + ", the input is " +
                                                 std::string(dtype_name(input.type.dtype)), model_name);
  }
  if (!input.type.shape) return;
  const std::vector<ir::Dim>& dims = *input.type.shape;
  bool fits = dims.size() == value.rank();
  for (size_t axis = 0; fits && axis < dims.size(); ++axis) {
    fits = !dims[axis].is_static() || dims[axis].value == value.dim(axis);
  }
  if (!fits) {
    throw Error(ErrorKind::invalid_argument, "the value given for input '" + input.name + "' has shape " +
                                                 shape_to_string(value.shape()) + ", the input is " +
                                                 input.type.to_string(), model_name);
  }
}

void hold_input_values(ir::Model& model, const PreparationOptions& options, PreparationReport& report) {
  ir::Graph& graph = *model.graph;
  auto find_input = [&](const std::string& name, const std::string& asked_by) {
    for (ir::Value* candidate : fed_inputs(graph)) {
      if (candidate->name == name) return candidate;
    }
    throw Error(ErrorKind::invalid_argument,
                asked_by + " names '" + name + "', but the model's inputs are: " + input_names(graph),
                model.source_path);
  };
  auto hold = [&](ir::Value* input, Tensor value, const std::string& described) {
    std::vector<ir::Dim> dims;
    for (int64_t dim : value.shape()) dims.push_back(ir::Dim::fixed(dim));
    input->type.shape = dims;
    input->initializer = std::move(value);
    input->is_graph_input = false;
    std::erase(graph.inputs, input);
    report.notes.push_back("input '" + input->name + "' held at " + described +
                           ": the model is specialized for that value and no longer takes it as an input");
  };
  for (const auto& [name, text] : options.input_values) {
    ir::Value* input = find_input(name, "--input-value");
    hold(input, input_value_tensor(*input, text, model.source_path), text);
  }
  for (const auto& [name, value] : options.input_value_tensors) {
    if (options.input_values.count(name)) {
      throw Error(ErrorKind::invalid_argument, "input '" + name + "' is given a value twice", model.source_path);
    }
    ir::Value* input = find_input(name, "the input values");
    check_input_value_tensor(*input, value, model.source_path);
    hold(input, value, "the given " + shape_to_string(value.shape()) + " tensor");
  }
}

size_t count_unknown_shapes(const ir::Graph& graph) {
  size_t unknown = 0;
  for (const auto& value : graph.values()) {
    if (value->producer && !value->type.has_static_shape()) ++unknown;
  }
  return unknown;
}

bool every_input_static(const ir::Graph& graph) {
  for (const ir::Value* input : fed_inputs(graph)) {
    if (!input->type.has_static_shape()) return false;
  }
  return true;
}

}  // namespace

std::string input_shape_example(const ir::Value& input) {
  return inspect::input_shape_example(input.name, input.type.shape);
}

std::map<std::string, std::string> parse_input_values(const std::vector<std::string>& arguments) {
  std::map<std::string, std::string> values;
  for (const std::string& argument : arguments) {
    const size_t equals = argument.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == argument.size()) {
      throw Error(ErrorKind::invalid_argument, "--input-value '" + argument +
                                                   "': expected NAME=VALUE, NAME=V0,V1,... or NAME=FILE.npy "
                                                   "(e.g. --input-value sr=16000)");
    }
    if (!values.emplace(argument.substr(0, equals), argument.substr(equals + 1)).second) {
      throw Error(ErrorKind::invalid_argument, "--input-value: input '" + argument.substr(0, equals) + "' is given twice");
    }
  }
  return values;
}

// Shape inference in the IR, in process: it replaces stale declared shapes and throws naming the node when the
// model cannot run at this input size (a Reshape to a size baked in at export). Declared shapes it had to
// replace at the file's own size are worth a note: the file contradicts itself.
void infer_shapes_in_ir(ir::Model& model, PreparationReport& report, bool first_round) {
  ir::ShapeInferenceReport inferred = ir::infer_shapes(*model.graph);
  if (first_round && !inferred.conflicts.empty()) {
    report.notes.push_back(std::to_string(inferred.conflicts.size()) +
                           " shape(s) the file declares disagree with what its nodes compute and were replaced, e.g. " +
                           inferred.conflicts.front());
  }
}

void prepare_loaded_model(ir::Model& model, const PreparationOptions& options, PreparationReport& report) {
  report.nodes_in_file = model.graph->nodes().size();
  hold_input_values(model, options, report);
  infer_shapes_in_ir(model, report, true);
  // Folding can make an If condition constant, an inlined branch can make more folding possible, and both can
  // make a Reshape target or Slice bound constant that the next inference round sees through.
  bool reinfer = !options.input_values.empty() || !options.input_value_tensors.empty();
  for (int round = 0; round < 16; ++round) {
    bool changed = false;
    passes::PassResult folded = passes::fold_constants(model, /*keep_weight_dequantization=*/true);
    if (folded.rewrites) {
      changed = true;
      report.passes.push_back(std::move(folded));
    }
    passes::PassResult specialized = passes::specialize_constant_ifs(model);
    if (specialized.rewrites || !specialized.notes.empty()) {
      changed = changed || specialized.rewrites > 0;
      for (const std::string& note : specialized.notes) report.notes.push_back(note);
      report.passes.push_back(std::move(specialized));
    }
    if (changed || reinfer) {
      const size_t unknown_before = count_unknown_shapes(*model.graph);
      infer_shapes_in_ir(model, report, false);
      // libonnx for what the IR has no rule for (ops of other domains): a protobuf round trip, so only when static
      // inputs leave values unknown (with a dynamic input, dynamic values are the truth, not a gap).
      if (every_input_static(*model.graph) && count_unknown_shapes(*model.graph) > 0) {
        onnx_io::refresh_static_shapes(model);
      }
      if (count_unknown_shapes(*model.graph) < unknown_before) changed = true;
    }
    reinfer = false;
    if (!changed) break;
  }
  if (options.run_reference_for_unknown_shapes && every_input_static(*model.graph) &&
      count_unknown_shapes(*model.graph) > 0) {
    const int learned = discover_missing_shapes(model);
    if (learned > 0) {
      report.notes.push_back(std::to_string(learned) + " shape(s) that inference cannot see were measured by running "
                             "the model once on the reference backend at this input size");
      passes::PassResult folded = passes::fold_constants(model, /*keep_weight_dequantization=*/true);
      if (folded.rewrites) report.passes.push_back(std::move(folded));
    }
  }
  report.values_with_unknown_shape = count_unknown_shapes(*model.graph);
  for (const ir::Value* input : fed_inputs(*model.graph)) {
    if (input->type.has_static_shape()) continue;
    report.dynamic_inputs.push_back(input->name);
    report.dynamic_input_hints.push_back("input '" + input->name + "' is " + input->type.to_string() +
                           ": figures that depend on its size are unknown; fix it with --input-shape " +
                           input_shape_example(*input));
  }
}

namespace {
// Steps 2 to 5 on a model just loaded (input shapes applied); `reference` names it in errors.
void prepare_after_loading(PreparedModel& prepared, const std::string& reference, const PreparationOptions& options) {
  // Dims the model leaves dynamic that the caller's data or the batch rule fix.
  InputShapes fixes = shapes_from_data(*prepared.model.graph, options);
  if (options.fix_symbolic_batch) {
    InputShapes batches = symbolic_batches_to_fix(*prepared.model.graph, options, fixes, prepared.report);
    fixes.insert(batches.begin(), batches.end());
  }
  // The fixed dims go on the inputs in the IR; the shape inference that preparation runs next carries them through
  // the graph (no second import).
  for (const auto& [name, dims] : fixes) {
    ir::Value* input = prepared.model.graph->find_value(name);
    std::vector<ir::Dim> fixed;
    for (int64_t dim : dims) fixed.push_back(ir::Dim::fixed(dim));
    input->type.shape = std::move(fixed);
  }
  if (prepared.model.source_path.empty()) prepared.model.source_path = reference;
  try {
    prepare_loaded_model(prepared.model, options, prepared.report);
  } catch (const Error& error) {
    throw error.file().empty() ? error.with_file(reference) : error;
  }
}
}  // namespace

PreparedModel load_prepared_model(const std::string& reference, const PreparationOptions& options) {
  PreparedModel prepared;
  prepared.model = load_reference(reference, options.input_shapes);
  prepare_after_loading(prepared, reference, options);
  return prepared;
}

PreparedModel load_prepared_model_from_bytes(const std::string& bytes, const std::string& name,
                                             const PreparationOptions& options) {
  onnx_io::ImportOptions import_options;
  import_options.input_shapes = options.input_shapes;
  import_options.propagate_shape_data = true;
  PreparedModel prepared;
  prepared.model = onnx_io::load_model_from_bytes(bytes, name, "", import_options);
  prepare_after_loading(prepared, name, options);
  return prepared;
}

void require_static_inputs(const ir::Model& model, const std::string& command) {
  for (const ir::Value* input : fed_inputs(*model.graph)) {
    if (input->type.has_static_shape()) continue;
    throw Error(ErrorKind::invalid_argument,
                "input '" + input->name + "' is " + input->type.to_string() + ": " + command +
                    " needs a static shape; give it with --input-shape " + input_shape_example(*input),
                model.source_path);
  }
}

}  // namespace npukit::preparation
