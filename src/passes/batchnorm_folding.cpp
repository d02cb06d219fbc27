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

// How a producer's constant weights map to its output channels.
struct FoldLayout {
  int64_t channels = 0;
  bool gemm = false;
};

// The output-channel count of a foldable producer, 0 when its weights are not constant f32 of a known layout.
FoldLayout fold_layout(const ir::Node& producer) {
  const Tensor* weights = constant_of(producer.input(1));
  if (!weights || weights->dtype() != DType::f32 || !producer.domain.empty()) return {};
  if (producer.op_type == "Conv" && weights->rank() >= 3) return {weights->dim(0), false};
  if (producer.op_type == "ConvTranspose" && weights->rank() >= 3) {
    return {weights->dim(1) * producer.get_int("group", 1), false};
  }
  if (producer.op_type == "Gemm" && weights->rank() == 2 && producer.get_int("transA", 0) == 0) {
    const ir::Value* output = producer.output(0);
    if (!output || !output->type.shape || output->type.shape->size() != 2) return {};
    return {producer.get_int("transB", 0) ? weights->dim(0) : weights->dim(1), true};
  }
  return {};
}

// The producer's bias per output channel (zeros when it has none); empty when it is not a per-channel constant.
// A Gemm's C counts with its beta and may be a scalar, [N] or [1, N].
std::vector<double> producer_bias(const ir::Node& producer, const FoldLayout& layout) {
  std::vector<double> bias(static_cast<size_t>(layout.channels), 0.0);
  const ir::Value* bias_value = producer.input(2);
  if (!bias_value) return bias;
  if (!layout.gemm) return channel_vector(bias_value, layout.channels);
  const Tensor* c = constant_of(bias_value);
  if (!c || c->dtype() != DType::f32) return {};
  const bool scalar = c->element_count() == 1 && c->rank() <= 2;
  const bool per_column = c->element_count() == layout.channels && (c->rank() == 1 || (c->rank() == 2 && c->dim(0) == 1));
  if (!scalar && !per_column) return {};
  const double beta = producer.get_float("beta", 1.0);
  for (int64_t m = 0; m < layout.channels; ++m) bias[static_cast<size_t>(m)] = beta * c->data<float>()[scalar ? 0 : m];
  return bias;
}

// Scales every weight that feeds output channel m by factor[m], in the producer's layout.
Tensor scaled_weights(const ir::Node& producer, const Tensor& weights, const std::vector<double>& factor) {
  Tensor scaled = weights.clone();
  float* data = scaled.data<float>();
  const int64_t count = weights.element_count();
  if (producer.op_type == "Conv") {
    const int64_t per_channel = count / weights.dim(0);
    for (int64_t i = 0; i < count; ++i) data[i] = static_cast<float>(data[i] * factor[static_cast<size_t>(i / per_channel)]);
  } else if (producer.op_type == "ConvTranspose") {
    // [C_in, C_out / group, k...]: input channel c belongs to group c / (C_in / group).
    const int64_t groups = producer.get_int("group", 1);
    const int64_t in_channels = weights.dim(0), out_per_group = weights.dim(1);
    const int64_t kernel = count / (in_channels * out_per_group);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t c = i / (out_per_group * kernel), j = (i / kernel) % out_per_group;
      const int64_t group = c / (in_channels / groups);
      data[i] = static_cast<float>(data[i] * factor[static_cast<size_t>(group * out_per_group + j)]);
    }
  } else {  // Gemm: B is [K, N], or [N, K] with transB
    const bool transposed = producer.get_int("transB", 0) != 0;
    const int64_t columns = weights.dim(1);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t channel = transposed ? i / columns : i % columns;
      data[i] = static_cast<float>(data[i] * factor[static_cast<size_t>(channel)]);
    }
  }
  return scaled;
}

bool is_inference_batchnorm(const ir::Node& node) {
  return node.op_type == "BatchNormalization" && node.domain.empty() && node.get_int("training_mode", 0) == 0 &&
         !node.output(1) && !node.output(2);
}

}  // namespace

const ir::Node* batchnorm_fold_target(const ir::Node& batch_norm, const std::set<std::string>& protected_names) {
  if (!is_inference_batchnorm(batch_norm)) return nullptr;
  const ir::Value* producer_output = batch_norm.input(0);
  const ir::Node* producer = producer_output ? producer_output->producer : nullptr;
  if (!producer || producer->output(0) != producer_output) return nullptr;
  if (producer_output->consumers.size() != 1 || producer_output->is_graph_output ||
      protected_names.count(producer_output->name)) {
    return nullptr;
  }
  const FoldLayout layout = fold_layout(*producer);
  if (layout.channels <= 0) return nullptr;
  for (size_t input = 1; input <= 4; ++input) {
    if (channel_vector(batch_norm.input(input), layout.channels).empty()) return nullptr;
  }
  if (producer_bias(*producer, layout).empty()) return nullptr;
  return producer;
}

PassResult fold_batchnorm_into_conv(ir::Model& model) {
  PassResult result;
  result.pass = "fold-batchnorm";
  ir::Graph& graph = *model.graph;
  const std::set<std::string> protected_names = names_read_by_subgraphs(graph);
  std::vector<ir::Node*> batch_norms;
  for (const auto& node : graph.nodes()) {
    if (batchnorm_fold_target(*node, protected_names)) batch_norms.push_back(node.get());
  }
  for (ir::Node* batch_norm : batch_norms) {
    ir::Value* producer_output = batch_norm->input(0);
    ir::Node* producer = producer_output->producer;
    const FoldLayout layout = fold_layout(*producer);
    const int64_t channels = layout.channels;
    const std::vector<double> scale = channel_vector(batch_norm->input(1), channels);
    const std::vector<double> shift = channel_vector(batch_norm->input(2), channels);
    const std::vector<double> mean = channel_vector(batch_norm->input(3), channels);
    const std::vector<double> variance = channel_vector(batch_norm->input(4), channels);
    const std::vector<double> bias = producer_bias(*producer, layout);
    const double epsilon = batch_norm->get_float("epsilon", 1e-5);

    std::vector<double> factor(static_cast<size_t>(channels));
    Tensor folded_bias(DType::f32, {channels});
    for (int64_t m = 0; m < channels; ++m) {
      const size_t c = static_cast<size_t>(m);
      factor[c] = scale[c] / std::sqrt(variance[c] + epsilon);
      folded_bias.data<float>()[m] = static_cast<float>((bias[c] - mean[c]) * factor[c] + shift[c]);
    }
    Tensor folded_weights = scaled_weights(*producer, *constant_of(producer->input(1)), factor);
    // New initializers: the originals may be shared with other nodes.
    ir::Value* weight_value = graph.add_initializer(unused_value_name(graph, producer->name + "_folded_weights"),
                                                    std::move(folded_weights));
    ir::Value* bias_value =
        graph.add_initializer(unused_value_name(graph, producer->name + "_folded_bias"), std::move(folded_bias));
    auto rebind = [&](size_t index, ir::Value* value) {
      if (producer->inputs.size() <= index) producer->inputs.resize(index + 1, nullptr);
      if (ir::Value* old = producer->inputs[index]) {
        auto position = std::find(old->consumers.begin(), old->consumers.end(), producer);
        if (position != old->consumers.end()) old->consumers.erase(position);
      }
      producer->inputs[index] = value;
      value->consumers.push_back(producer);
    };
    rebind(1, weight_value);
    rebind(2, bias_value);
    if (layout.gemm) producer->attributes["beta"] = float_attribute(1.0);  // beta · C is inside the new C
    // The producer now computes what the BatchNormalization did.
    ir::Value* bn_output = batch_norm->output(0);
    const std::string folded = batch_norm->describe();
    graph.remove_node(batch_norm);
    producer->outputs[0] = bn_output;
    bn_output->producer = producer;
    producer_output->producer = nullptr;
    result.notes.push_back("folded " + folded + " into " + producer->describe());
    ++result.rewrites;
  }
  remove_unused_values(graph, protected_names);
  graph.renumber();
  return result;
}

}  // namespace npukit::passes
