#include "passes/static_shapes.h"

#include "ir/shape_inference.h"
#include "onnx/shape_refresh.h"

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
  // The new sizes go on the inputs in place; shapes computed from the old ones are stale and are inferred again
  // (the IR's inference, then libonnx for ops the IR has no rule for), as preparation does.
  for (const auto& [name, dims] : shapes) {
    ir::Value* input = model.graph->find_value(name);
    std::vector<ir::Dim> fixed;
    for (int64_t dim : dims) fixed.push_back(ir::Dim::fixed(dim));
    input->type.shape = std::move(fixed);
  }
  if (!shapes.empty()) {
    for (const auto& value : model.graph->values()) {
      if (value->producer) value->type.shape.reset();
    }
  }
  ir::infer_shapes(*model.graph);
  bool inputs_static = true, values_static = true;
  for (const ir::Value* input : model.graph->inputs) inputs_static = inputs_static && input->type.has_static_shape();
  for (const auto& value : model.graph->values()) {
    if (value->producer && !value->type.has_static_shape()) values_static = false;
  }
  if (inputs_static && !values_static) onnx_io::refresh_static_shapes(model);
  if (result.rewrites == 0 && shapes.empty()) result.notes.push_back("shapes re-inferred");
  return result;
}

}  // namespace npukit::passes
