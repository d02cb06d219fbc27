#include "passes/fuse_layernorm.h"

#include <algorithm>
#include <string>

#include "passes/graph_editing.h"
#include "passes/layernorm_pattern.h"

namespace npukit::passes {

namespace {

// gamma or beta broadcast to exactly the normalized shape (LayerNormalization takes no broadcasting).
std::vector<float> broadcast_to(const Tensor* constant, const std::vector<int64_t>& normalized, float fill) {
  int64_t count = 1;
  for (int64_t dim : normalized) count *= dim;
  std::vector<float> values(static_cast<size_t>(count), fill);
  if (!constant) return values;
  // Right-aligned: each normalized index maps to the constant's index, with size-1 dims repeating.
  const Shape& dims = constant->shape();
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t remainder = flat, source = 0, stride = 1;
    for (size_t from_right = 1; from_right <= normalized.size(); ++from_right) {
      const int64_t size = normalized[normalized.size() - from_right];
      const int64_t index = remainder % size;
      remainder /= size;
      if (from_right <= dims.size()) {
        const int64_t dim = dims[dims.size() - from_right];
        source += (dim == 1 ? 0 : index) * stride;
        stride *= dim;
      }
    }
    values[static_cast<size_t>(flat)] = constant->data<float>()[source];
  }
  return values;
}

}  // namespace

PassResult fuse_layernorm(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "fuse-layernorm";
  ir::Graph& graph = *model.graph;
  std::vector<WrittenLayerNorm> matches = find_written_layernorms(graph);
  for (WrittenLayerNorm& match : matches) {
    if (std::none_of(match.nodes.begin(), match.nodes.end(), [&](const ir::Node* node) { return filter(*node); })) continue;
    const std::string name = match.nodes.front()->name.empty() ? "layernorm" : match.nodes.front()->name;
    if (model.opset() < 17) {
      result.notes.push_back("written LayerNorm at '" + name + "' kept: LayerNormalization needs opset 17, the model has " +
                             std::to_string(model.opset()));
      continue;
    }
    const std::vector<int64_t> dims = *static_dims_of(match.input);
    const std::vector<int64_t> normalized(dims.begin() + match.axis, dims.end());
    ir::Value* scale = add_float_constant(graph, name + ".scale", normalized,
                                          broadcast_to(constant_of(match.scale), normalized, 1.0f));
    ir::Value* shift = add_float_constant(graph, name + ".shift", normalized,
                                          broadcast_to(constant_of(match.shift), normalized, 0.0f));
    const size_t pieces = match.nodes.size();
    for (ir::Node* node : match.nodes) graph.remove_node(node);
    ir::Node* norm = graph.add_node("LayerNormalization", {match.input, scale, shift}, {match.output}, name + ".layernorm");
    norm->attributes["axis"] = integer_attribute(match.axis);
    norm->attributes["epsilon"] = float_attribute(match.epsilon);
    result.notes.push_back("written LayerNorm at '" + name + "' (" + std::to_string(pieces) + " nodes) → LayerNormalization");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
