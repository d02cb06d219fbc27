#include "passes/batchnorm_to_scale.h"

#include <cmath>
#include <string>
#include <vector>

#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

// The channel count (dim 1 of the input), or 0 when unknown.
int64_t channel_count(const ir::Node& node) {
  const ir::Value* x = node.input(0);
  if (!x || !x->type.shape || x->type.shape->size() < 2 || !(*x->type.shape)[1].is_static()) return 0;
  return (*x->type.shape)[1].value;
}

const float* statistic(const ir::Node& node, size_t input, int64_t channels) {
  const Tensor* tensor = constant_of(node.input(input));
  if (!tensor || tensor->dtype() != DType::f32 || tensor->rank() != 1 || tensor->dim(0) != channels) return nullptr;
  return tensor->data<float>();
}

}  // namespace

bool batchnorm_becomes_scale(const ir::Node& node) {
  if (node.op_type != "BatchNormalization" || !node.domain.empty() || node.get_int("training_mode", 0) != 0 ||
      node.output(1) || node.output(2) || !node.input(0) || node.input(0)->type.dtype != DType::f32) {
    return false;
  }
  const int64_t channels = channel_count(node);
  if (channels <= 0) return false;
  for (size_t input = 1; input <= 4; ++input) {
    if (!statistic(node, input, channels)) return false;
  }
  return true;
}

PassResult batchnorm_to_scale(ir::Model& model, const NodeFilter& filter) {
  PassResult result;
  result.pass = "batchnorm-to-scale";
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> batch_norms;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "BatchNormalization" && filter(*node) && batchnorm_becomes_scale(*node)) {
      batch_norms.push_back(node.get());
    }
  }
  for (ir::Node* batch_norm : batch_norms) {
    const int64_t channels = channel_count(*batch_norm);
    const float* gamma = statistic(*batch_norm, 1, channels);
    const float* beta = statistic(*batch_norm, 2, channels);
    const float* mean = statistic(*batch_norm, 3, channels);
    const float* variance = statistic(*batch_norm, 4, channels);
    const double epsilon = batch_norm->get_float("epsilon", 1e-5);
    std::vector<float> scale(static_cast<size_t>(channels)), shift(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      const double s = gamma[c] / std::sqrt(static_cast<double>(variance[c]) + epsilon);
      scale[static_cast<size_t>(c)] = static_cast<float>(s);
      shift[static_cast<size_t>(c)] = static_cast<float>(beta[c] - mean[c] * s);
    }
    // [C, 1, …]: one trailing 1 per spatial axis, so the constants line up with axis 1.
    ir::Value* x = batch_norm->input(0);
    ir::Value* y = batch_norm->output(0);
    std::vector<int64_t> constant_shape(x->type.shape->size() - 1, 1);
    constant_shape[0] = channels;
    const std::string name = batch_norm->name.empty() ? "batchnorm" : batch_norm->name;
    ir::Value* scale_value = add_float_constant(graph, name + ".scale", constant_shape, scale);
    ir::Value* shift_value = add_float_constant(graph, name + ".shift", constant_shape, shift);
    graph.remove_node(batch_norm);
    ir::Value* scaled = graph.add_value(unused_value_name(graph, name + ".scaled"), y->type);
    graph.add_node("Mul", {x, scale_value}, {scaled}, name + ".scale");
    graph.add_node("Add", {scaled, shift_value}, {y}, name + ".shift");
    result.notes.push_back("BatchNormalization '" + name + "' → Mul + Add per channel");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
