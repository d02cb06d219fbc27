#include "passes/split_qkv_heads.h"

#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

struct HeadSplit {
  ir::Node* reshape = nullptr;
  ir::Node* transpose = nullptr;
  std::vector<int64_t> input_dims;  // X: [B, T, S·H·D]
  std::vector<int64_t> split_dims;  // [B, T, S, H, D]
};

std::optional<int64_t> scalar_index(const ir::Value* value) {
  const Tensor* data = constant_of(value);
  if (!data || data->element_count() != 1 || (data->dtype() != DType::i64 && data->dtype() != DType::i32)) return std::nullopt;
  return static_cast<int64_t>(data->value_as_double(0));
}

std::optional<HeadSplit> find_split(const ir::Node& node) {
  const ir::Node* transpose = &node;
  if (node.op_type == "Reshape") {
    const ir::Value* out = node.output(0);
    if (!out || out->consumers.size() != 1 || out->is_graph_output) return std::nullopt;
    transpose = out->consumers.front();
  }
  if (transpose->op_type != "Transpose" || transpose->get_ints("perm") != std::vector<int64_t>{2, 0, 3, 1, 4}) {
    return std::nullopt;
  }
  const ir::Value* middle = transpose->input(0);
  if (!middle || !middle->producer || middle->producer->op_type != "Reshape" || middle->consumers.size() != 1 ||
      middle->is_graph_output) {
    return std::nullopt;
  }
  HeadSplit split;
  split.reshape = middle->producer;
  split.transpose = const_cast<ir::Node*>(transpose);
  auto in = static_dims_of(split.reshape->input(0));
  auto dims = static_dims_of(middle);
  if (!in || !dims || in->size() != 3 || dims->size() != 5) return std::nullopt;
  if ((*dims)[0] != (*in)[0] || (*dims)[1] != (*in)[1] || (*dims)[2] * (*dims)[3] * (*dims)[4] != (*in)[2]) return std::nullopt;
  const ir::Value* out = transpose->output(0);
  if (!out || out->is_graph_output || out->consumers.empty()) return std::nullopt;
  for (const ir::Node* reader : out->consumers) {
    if (reader->op_type != "Gather" || reader->input(0) != out || reader->get_int("axis", 0) != 0) return std::nullopt;
    auto index = scalar_index(reader->input(1));
    if (!index || *index < 0 || *index >= (*dims)[2]) return std::nullopt;
    const Tensor* data = constant_of(reader->input(1));
    if (data->rank() != 0) return std::nullopt;  // a [1] index keeps the axis: another shape
  }
  split.input_dims = *in;
  split.split_dims = *dims;
  return split;
}

}  // namespace

bool is_qkv_head_split(const ir::Node& node) {
  return (node.op_type == "Reshape" || node.op_type == "Transpose") && find_split(node).has_value();
}

PassResult split_qkv_heads(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "split-qkv-heads";
  ir::Graph& graph = *model.graph;
  if (model.opset() < 10) return result;  // Slice takes its bounds as inputs from opset 10
  std::vector<ir::Node*> transposes;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "Transpose" && find_split(*node) &&
        (filter(*node) || filter(*find_split(*node)->reshape))) {
      transposes.push_back(node.get());
    }
  }
  for (ir::Node* transpose : transposes) {
    std::optional<HeadSplit> split = find_split(*transpose);
    if (!split) continue;
    ir::Value* x = split->reshape->input(0);
    const std::vector<int64_t>& d = split->split_dims;  // B, T, S, H, D
    const int64_t width = d[3] * d[4];
    const std::string name = transpose->name.empty() ? "qkv" : transpose->name;
    std::vector<ir::Node*> gathers(transpose->output(0)->consumers.begin(), transpose->output(0)->consumers.end());
    for (ir::Node* gather : gathers) {
      const int64_t index = *scalar_index(gather->input(1));
      ir::Value* y = gather->output(0);
      graph.remove_node(gather);
      const std::string part = name + ".part" + std::to_string(index);
      ir::Value* sliced = add_typed_value(graph, part + ".slice", x->type.dtype, {d[0], d[1], width});
      graph.add_node("Slice",
                     {x, add_int64_constant(graph, part + ".starts", {index * width}),
                      add_int64_constant(graph, part + ".ends", {(index + 1) * width}),
                      add_int64_constant(graph, part + ".axes", {2})},
                     {sliced}, part + ".slice");
      ir::Value* heads = add_typed_value(graph, part + ".heads", x->type.dtype, {d[0], d[1], d[3], d[4]});
      graph.add_node("Reshape", {sliced, add_int64_constant(graph, part + ".shape", {d[0], d[1], d[3], d[4]})}, {heads},
                     part + ".reshape");
      ir::Node* swap = graph.add_node("Transpose", {heads}, {y}, part + ".transpose");
      swap->attributes["perm"] = integers_attribute({0, 2, 1, 3});
    }
    result.notes.push_back("qkv head split '" + name + "' (5-D Reshape + Transpose + " + std::to_string(gathers.size()) +
                           " Gathers) → per part Slice, 4-D Reshape, Transpose");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
