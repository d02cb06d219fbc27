#include "passes/focus_to_conv.h"

#include <map>

#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

std::optional<std::vector<int64_t>> constant_ints(const ir::Value* value) {
  if (!value || !value->initializer) return std::nullopt;
  std::vector<int64_t> values;
  for (int64_t i = 0; i < value->initializer->element_count(); ++i) {
    values.push_back(static_cast<int64_t>(value->initializer->value_as_double(i)));
  }
  return values;
}

struct Offsets {
  ir::Value* source = nullptr;
  int64_t row = -1, column = -1;  // start on H and W (0 or 1), step 2, to the end
};

// Follows Slices back from `value`; each must step 2 from 0 or 1 to the end on axis 2 or 3 of a 4-D tensor.
std::optional<Offsets> slice_offsets(ir::Value* value) {
  Offsets offsets;
  while (value && value->producer && value->producer->op_type == "Slice") {
    const ir::Node& slice = *value->producer;
    auto starts = constant_ints(slice.input(1)), ends = constant_ints(slice.input(2));
    auto axes = slice.input(3) ? constant_ints(slice.input(3)) : std::optional<std::vector<int64_t>>();
    auto steps = slice.input(4) ? constant_ints(slice.input(4)) : std::optional<std::vector<int64_t>>();
    auto dims = static_dims_of(slice.input(0));
    if (!starts || !ends || !dims || dims->size() != 4 || !axes || !steps) return std::nullopt;
    for (size_t i = 0; i < starts->size(); ++i) {
      int64_t axis = (*axes)[i] < 0 ? (*axes)[i] + 4 : (*axes)[i];
      if ((axis != 2 && axis != 3) || (*steps)[i] != 2 || ((*starts)[i] != 0 && (*starts)[i] != 1) ||
          (*ends)[i] < (*dims)[axis]) {
        return std::nullopt;
      }
      int64_t& slot = axis == 2 ? offsets.row : offsets.column;
      if (slot >= 0) return std::nullopt;
      slot = (*starts)[i];
    }
    value = slice.input(0);
  }
  if (offsets.row < 0 || offsets.column < 0) return std::nullopt;
  offsets.source = value;
  return offsets;
}

}  // namespace

PassResult focus_to_conv(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "focus-to-conv";
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> concats;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "Concat" && node->inputs.size() == 4 && node->get_int("axis", 0) == 1 && filter(*node)) {
      concats.push_back(node.get());
    }
  }
  for (ir::Node* concat : concats) {
    std::vector<Offsets> parts;
    for (ir::Value* input : concat->inputs) {
      auto offsets = slice_offsets(input);
      if (!offsets || (!parts.empty() && offsets->source != parts.front().source)) break;
      parts.push_back(*offsets);
    }
    if (parts.size() != 4) continue;
    auto dims = static_dims_of(parts.front().source);
    if (!dims || (*dims)[2] % 2 || (*dims)[3] % 2 || parts.front().source->type.dtype != DType::f32) continue;
    const int64_t channels = (*dims)[1];
    // Output channel block i copies input channel c from offset (row_i, column_i) of each 2×2 cell.
    std::vector<float> weights(static_cast<size_t>(4 * channels * channels * 4), 0.0f);
    for (int64_t block = 0; block < 4; ++block) {
      for (int64_t c = 0; c < channels; ++c) {
        int64_t out = block * channels + c;
        weights[static_cast<size_t>(((out * channels + c) * 2 + parts[block].row) * 2 + parts[block].column)] = 1.0f;
      }
    }
    ir::Value* weight = add_float_constant(graph, concat->name + ".focus_weight", {4 * channels, channels, 2, 2}, weights);
    ir::Value* output = concat->output(0);
    std::string name = concat->name;
    graph.remove_node(concat);
    ir::Node* conv = graph.add_node("Conv", {parts.front().source, weight}, {output}, name + ".focus_conv");
    conv->attributes["kernel_shape"] = integers_attribute({2, 2});
    conv->attributes["strides"] = integers_attribute({2, 2});
    result.notes.push_back("Focus '" + name + "' (4 Slices + Concat) → one 2×2 stride-2 Conv");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
