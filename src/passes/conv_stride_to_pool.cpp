#include "passes/conv_stride_to_pool.h"

#include <map>

#include "passes/graph_editing.h"

namespace npukit::passes {

PassResult conv_stride_to_pool(ir::Model& model, const KeptStridePlanner& planner, const NodeFilter& filter) {
  PassResult result;
  result.pass = "conv-stride-to-pool";
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> convs;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "Conv" && filter(*node)) convs.push_back(node.get());
  }
  for (ir::Node* conv : convs) {
    const std::string name = conv->name.empty() ? "conv" : conv->name;
    auto input = static_dims_of(conv->input(0));
    auto output = static_dims_of(conv->output(0));
    if (!input || !output || input->size() < 3 || output->size() != input->size()) {
      result.notes.push_back("Conv '" + name + "' left as is: its input or output shape is not static");
      continue;
    }
    const size_t rank = input->size() - 2;
    const std::string auto_pad = conv->get_string("auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "VALID") {
      // SAME_* pads depend on the stride: at the kept stride they would differ.
      result.notes.push_back("Conv '" + name + "' left as is: auto_pad " + auto_pad + " (export explicit pads)");
      continue;
    }
    std::vector<int64_t> strides = conv->get_ints("strides", std::vector<int64_t>(rank, 1));
    std::optional<std::vector<int64_t>> kept = planner(*conv);
    if (!kept || kept->size() != rank || strides.size() != rank) continue;
    std::vector<int64_t> pool_strides(rank), middle_shape = *output;
    bool useful = false, divides = true;
    for (size_t axis = 0; axis < rank; ++axis) {
      if ((*kept)[axis] < 1 || strides[axis] % (*kept)[axis] != 0) divides = false;
      if (!divides) break;
      pool_strides[axis] = strides[axis] / (*kept)[axis];
      if (pool_strides[axis] > 1) useful = true;
    }
    if (!divides || !useful) continue;
    // The stride-t output size per axis: floor(A/t) + 1 with A = (out − 1)·s + rest, recomputed from the input.
    std::vector<int64_t> kernel = conv->get_ints("kernel_shape");
    auto weight = static_dims_of(conv->input(1));
    if (kernel.empty() && weight && weight->size() == rank + 2) kernel.assign(weight->begin() + 2, weight->end());
    std::vector<int64_t> dilations = conv->get_ints("dilations", std::vector<int64_t>(rank, 1));
    std::vector<int64_t> pads = auto_pad == "VALID" ? std::vector<int64_t>(rank * 2, 0)
                                                    : conv->get_ints("pads", std::vector<int64_t>(rank * 2, 0));
    if (kernel.size() != rank || pads.size() != rank * 2 || dilations.size() != rank) continue;
    for (size_t axis = 0; axis < rank; ++axis) {
      const int64_t span = (*input)[axis + 2] + pads[axis] + pads[axis + rank] - ((kernel[axis] - 1) * dilations[axis] + 1);
      middle_shape[axis + 2] = span / (*kept)[axis] + 1;
    }
    if (conv->outputs.size() != 1) continue;
    ir::Value* y = conv->output(0);
    std::vector<ir::Value*> inputs = conv->inputs;
    std::map<std::string, ir::Attribute> attributes = conv->attributes;
    const std::string conv_name = conv->name;
    graph.remove_node(conv);
    ir::Value* middle = add_typed_value(graph, name + ".dense", y->type.dtype, middle_shape);
    ir::Node* dense = graph.add_node("Conv", inputs, {middle}, conv_name);
    dense->attributes = attributes;
    dense->attributes["strides"] = integers_attribute(*kept);
    ir::Node* pool = graph.add_node("MaxPool", {middle}, {y}, name + ".subsample");
    pool->attributes["kernel_shape"] = integers_attribute(std::vector<int64_t>(rank, 1));
    pool->attributes["strides"] = integers_attribute(pool_strides);
    int64_t factor = 1;
    for (int64_t s : pool_strides) factor *= s;
    std::string from, to, by;
    for (size_t axis = 0; axis < rank; ++axis) {
      from += (axis ? "×" : "") + std::to_string(strides[axis]);
      to += (axis ? "×" : "") + std::to_string((*kept)[axis]);
      by += (axis ? "×" : "") + std::to_string(pool_strides[axis]);
    }
    result.notes.push_back("Conv '" + name + "' stride " + from + " → stride " + to + " + MaxPool 1×1 stride " + by +
                           " (exact; the Conv computes " + std::to_string(factor) + "× its MACs)");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
