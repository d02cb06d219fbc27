#include "passes/static_shapes.h"

#include "onnx/onnx_export.h"
#include "onnx/onnx_import.h"

namespace npukit::passes {

PassResult make_shapes_static(ir::Model& model, const std::map<std::string, std::vector<int64_t>>& given) {
  PassResult result;
  result.pass = "static-shapes";
  std::map<std::string, std::vector<int64_t>> shapes;
  bool every_value_static = true;
  for (const auto& value : model.graph->values()) {
    if (value->type.shape && !value->type.has_static_shape()) every_value_static = false;
  }
  for (const ir::Value* input : model.graph->inputs) {
    if (!input->type.shape) continue;
    std::vector<int64_t> dims;
    bool complete = true;
    int fixed = 0;
    for (size_t axis = 0; axis < input->type.shape->size(); ++axis) {
      const ir::Dim& dim = (*input->type.shape)[axis];
      if (dim.is_static()) {
        dims.push_back(dim.value);
      } else if (axis == 0) {
        dims.push_back(1);  // batch 1: what edge NPUs run
        ++fixed;
      } else {
        complete = false;
      }
    }
    auto wanted = given.find(input->name);
    // A given shape the input already has is no rewrite (a prepared model arrives with it applied): counting it
    // would keep patch's pass list from reaching its fixed point.
    if (wanted != given.end() && complete && fixed == 0 && dims == wanted->second) continue;
    if (wanted != given.end()) {
      shapes[input->name] = wanted->second;
      ++result.rewrites;
      continue;
    }
    if (!complete) {
      result.notes.push_back("input '" + input->name + "' " + input->type.to_string() +
                             " keeps dynamic dims: give --input-shape " + input->name + "=...");
      continue;
    }
    if (fixed) {
      shapes[input->name] = dims;
      result.rewrites += fixed;
      result.notes.push_back("input '" + input->name + "': dynamic batch → 1");
    }
  }
  if (shapes.empty() && every_value_static) return result;
  onnx_io::ImportOptions options;
  options.input_shapes = shapes;
  options.propagate_shape_data = true;
  std::string source = model.source_path;
  model = onnx_io::load_model_from_bytes(onnx_io::serialize_model(model), source.empty() ? "model.onnx" : source, "", options);
  model.source_path = source;
  if (result.rewrites == 0 && shapes.empty()) result.notes.push_back("shapes re-inferred");
  return result;
}

}  // namespace npukit::passes
