#include "passes/batchnorm_folding.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

// The per-channel f32 vector of a constant 1-D input with `channels` values, or empty.
std::vector<double> channel_vector(const ir::Value* value, int64_t channels) {
  const Tensor* tensor = constant_of(value);
  if (!tensor || tensor->dtype() != DType::f32 || tensor->rank() != 1 || tensor->dim(0) != channels) return {};
  std::vector<double> values(static_cast<size_t>(channels));
  for (int64_t i = 0; i < channels; ++i) values[static_cast<size_t>(i)] = tensor->data<float>()[i];
  return values;
}

}  // namespace

PassResult fold_batchnorm_into_conv(ir::Model& model) {
  PassResult result;
  result.pass = "fold-batchnorm";
  ir::Graph& graph = *model.graph;
  const std::set<std::string> protected_names = names_read_by_subgraphs(graph);
  std::vector<ir::Node*> batch_norms;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "BatchNormalization" && node->domain.empty()) batch_norms.push_back(node.get());
  }
  for (ir::Node* batch_norm : batch_norms) {
    ir::Value* conv_output = batch_norm->input(0);
    ir::Node* conv = conv_output ? conv_output->producer : nullptr;
    if (!conv || conv->op_type != "Conv" || !conv->domain.empty()) continue;
    // Training mode, or the running statistics requested as outputs: not an inference BatchNormalization.
    if (batch_norm->get_int("training_mode", 0) != 0 || batch_norm->output(1) || batch_norm->output(2)) continue;
    if (conv_output->consumers.size() != 1 || conv_output->is_graph_output || protected_names.count(conv_output->name)) {
      continue;
    }
    const Tensor* weights = constant_of(conv->input(1));
    if (!weights || weights->dtype() != DType::f32 || weights->rank() < 3) continue;
    const int64_t channels = weights->dim(0);
    const std::vector<double> scale = channel_vector(batch_norm->input(1), channels);
    const std::vector<double> shift = channel_vector(batch_norm->input(2), channels);
    const std::vector<double> mean = channel_vector(batch_norm->input(3), channels);
    const std::vector<double> variance = channel_vector(batch_norm->input(4), channels);
    if (scale.empty() || shift.empty() || mean.empty() || variance.empty()) continue;
    std::vector<double> bias(static_cast<size_t>(channels), 0.0);
    if (conv->input(2)) {
      bias = channel_vector(conv->input(2), channels);
      if (bias.empty()) continue;
    }
    const double epsilon = batch_norm->get_float("epsilon", 1e-5);

    Tensor folded_weights = weights->clone();
    Tensor folded_bias(DType::f32, {channels});
    const int64_t per_channel = weights->element_count() / channels;
    for (int64_t m = 0; m < channels; ++m) {
      const size_t c = static_cast<size_t>(m);
      const double factor = scale[c] / std::sqrt(variance[c] + epsilon);
      float* row = folded_weights.data<float>() + m * per_channel;
      for (int64_t i = 0; i < per_channel; ++i) row[i] = static_cast<float>(row[i] * factor);
      folded_bias.data<float>()[m] = static_cast<float>((bias[c] - mean[c]) * factor + shift[c]);
    }
    // New initializers: the originals may be shared with other nodes.
    ir::Value* weight_value = graph.add_initializer(unused_value_name(graph, conv->name + "_folded_weights"),
                                                    std::move(folded_weights));
    ir::Value* bias_value =
        graph.add_initializer(unused_value_name(graph, conv->name + "_folded_bias"), std::move(folded_bias));
    auto rebind = [&](size_t index, ir::Value* value) {
      if (conv->inputs.size() <= index) conv->inputs.resize(index + 1, nullptr);
      if (ir::Value* old = conv->inputs[index]) {
        auto position = std::find(old->consumers.begin(), old->consumers.end(), conv);
        if (position != old->consumers.end()) old->consumers.erase(position);
      }
      conv->inputs[index] = value;
      value->consumers.push_back(conv);
    };
    rebind(1, weight_value);
    rebind(2, bias_value);
    // The Conv now produces what the BatchNormalization did.
    ir::Value* bn_output = batch_norm->output(0);
    const std::string folded = batch_norm->describe();
    graph.remove_node(batch_norm);
    conv->outputs[0] = bn_output;
    bn_output->producer = conv;
    conv_output->producer = nullptr;
    result.notes.push_back("folded " + folded + " into " + conv->describe());
    ++result.rewrites;
  }
  remove_unused_values(graph, protected_names);
  graph.renumber();
  return result;
}

}  // namespace npukit::passes
