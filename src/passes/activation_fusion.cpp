#include "passes/activation_fusion.h"

#include <algorithm>
#include <cfloat>
#include <vector>

#include "ir/fused_activation.h"
#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

// An intermediate result the fusion may swallow: read by exactly `readers` nodes, not part of the interface.
bool is_private(const ir::Value* value, size_t readers, const std::set<std::string>& protected_names) {
  return value && !value->is_graph_output && value->consumers.size() == readers && !protected_names.count(value->name);
}

bool is_f32(const ir::Value* value) { return value && value->type.dtype == DType::f32; }

// Reads a constant scalar input (Clip bounds); nullopt when absent or not constant.
std::optional<float> constant_scalar(const ir::Value* value) {
  const Tensor* tensor = constant_of(value);
  if (!tensor || tensor->element_count() != 1) return std::nullopt;
  return static_cast<float>(tensor->value_as_double(0));
}

// The activation a single-input node computes, when the fused node can compute it exactly.
std::optional<ir::FusedActivation> activation_of(const ir::Node& node, int64_t opset) {
  if (!node.domain.empty()) return std::nullopt;
  ir::FusedActivation activation;
  if (node.op_type == "Relu") {
    activation.kind = ir::ActivationKind::relu;
  } else if (node.op_type == "LeakyRelu") {
    activation.kind = ir::ActivationKind::leaky_relu;
    activation.alpha = static_cast<float>(node.get_float("alpha", 0.01));
  } else if (node.op_type == "Sigmoid") {
    activation.kind = ir::ActivationKind::sigmoid;
  } else if (node.op_type == "Tanh") {
    activation.kind = ir::ActivationKind::tanh;
  } else if (node.op_type == "HardSigmoid") {
    activation.kind = ir::ActivationKind::hard_sigmoid;
    activation.alpha = static_cast<float>(node.get_float("alpha", 0.2));
    activation.beta = static_cast<float>(node.get_float("beta", 0.5));
  } else if (node.op_type == "HardSwish") {
    activation.kind = ir::ActivationKind::hard_swish;
  } else if (node.op_type == "Clip") {
    activation.kind = ir::ActivationKind::clip;
    if (opset < 11) {
      activation.alpha = static_cast<float>(node.get_float("min", -FLT_MAX));
      activation.beta = static_cast<float>(node.get_float("max", FLT_MAX));
    } else {
      activation.alpha = -FLT_MAX;
      activation.beta = FLT_MAX;
      if (node.input(1)) {
        std::optional<float> low = constant_scalar(node.input(1));
        if (!low) return std::nullopt;
        activation.alpha = *low;
      }
      if (node.input(2)) {
        std::optional<float> high = constant_scalar(node.input(2));
        if (!high) return std::nullopt;
        activation.beta = *high;
      }
    }
  } else {
    return std::nullopt;
  }
  return activation;
}

struct ActivationMatch {
  ir::FusedActivation activation;
  std::vector<ir::Node*> nodes;  // to remove
  ir::Value* output = nullptr;   // what the fused node will produce
};

// The activation that reads `value` (and only it reads `value`), if any.
std::optional<ActivationMatch> match_activation(const ir::Model& model, ir::Value* value,
                                                const std::set<std::string>& protected_names) {
  if (is_private(value, 1, protected_names)) {
    ir::Node* reader = value->consumers[0];
    std::optional<ir::FusedActivation> activation = activation_of(*reader, model.opset(reader->domain));
    if (activation && reader->input(0) == value && reader->output(0)) {
      return ActivationMatch{*activation, {reader}, reader->output(0)};
    }
  }
  // SiLU: Sigmoid(x) and Mul(x, Sigmoid(x)) are x's only two readers.
  if (is_private(value, 2, protected_names)) {
    ir::Node* sigmoid = nullptr;
    ir::Node* multiply = nullptr;
    for (ir::Node* reader : value->consumers) {
      if (reader->op_type == "Sigmoid" && reader->domain.empty()) sigmoid = reader;
      if (reader->op_type == "Mul" && reader->domain.empty()) multiply = reader;
    }
    if (sigmoid && multiply && is_private(sigmoid->output(0), 1, protected_names) &&
        sigmoid->output(0)->consumers[0] == multiply && multiply->inputs.size() == 2 && multiply->output(0) &&
        ((multiply->inputs[0] == value && multiply->inputs[1] == sigmoid->output(0)) ||
         (multiply->inputs[1] == value && multiply->inputs[0] == sigmoid->output(0)))) {
      ir::FusedActivation activation;
      activation.kind = ir::ActivationKind::silu;
      return ActivationMatch{activation, {sigmoid, multiply}, multiply->output(0)};
    }
  }
  return std::nullopt;
}

bool same_static_shape(const ir::Value* a, const ir::Value* b);

// Exactly `value` if the constant is one scalar equal to it.
bool is_constant_scalar(const ir::Value* value, float expected) {
  std::optional<float> scalar = constant_scalar(value);
  return scalar && *scalar == expected;
}

// The other input of a two-input node, given one of them.
ir::Value* other_input(const ir::Node* node, const ir::Value* one) {
  if (!node || node->inputs.size() != 2) return nullptr;
  return node->inputs[0] == one ? node->inputs[1] : node->inputs[0];
}

// HardSwish written out, as Paddle exports it: x * Clip(x + 3, 0, 6) / 6.
std::optional<ActivationMatch> match_decomposed_hard_swish(const ir::Model& model, ir::Value* value,
                                                           const std::set<std::string>& protected_names) {
  if (!is_private(value, 2, protected_names)) return std::nullopt;
  ir::Node* add = nullptr;
  ir::Node* multiply = nullptr;
  for (ir::Node* reader : value->consumers) {
    if (reader->domain.empty() && reader->op_type == "Add") add = reader;
    if (reader->domain.empty() && reader->op_type == "Mul") multiply = reader;
  }
  if (!add || !multiply || !is_constant_scalar(other_input(add, value), 3.0f)) return std::nullopt;
  if (!is_private(add->output(0), 1, protected_names)) return std::nullopt;
  ir::Node* clip = add->output(0)->consumers[0];
  if (clip->op_type != "Clip" || !clip->domain.empty() || clip->input(0) != add->output(0)) return std::nullopt;
  std::optional<ir::FusedActivation> bounds = activation_of(*clip, model.opset(""));
  if (!bounds || bounds->alpha != 0.0f || bounds->beta != 6.0f) return std::nullopt;
  if (!is_private(clip->output(0), 1, protected_names) || clip->output(0)->consumers[0] != multiply ||
      other_input(multiply, value) != clip->output(0) || !is_private(multiply->output(0), 1, protected_names)) {
    return std::nullopt;
  }
  ir::Node* divide = multiply->output(0)->consumers[0];
  const bool by_six = divide->domain.empty() && divide->op_type == "Div" && divide->inputs.size() == 2 &&
                      divide->inputs[0] == multiply->output(0) && is_constant_scalar(divide->inputs[1], 6.0f);
  if (!by_six || !divide->output(0)) return std::nullopt;
  ir::FusedActivation activation;
  activation.kind = ir::ActivationKind::hard_swish;
  return ActivationMatch{activation, {add, clip, multiply, divide}, divide->output(0)};
}

// Conv → Add or Mul by a constant that is one value or one value per output channel: folded into the Conv's
// weights and bias (Paddle exports the bias as a separate Add, and MobileOne blocks scale by a learnt
// scalar). Returns true when it rewrote the graph.
bool absorb_affine(ir::Graph& graph, ir::Node* conv, const std::set<std::string>& protected_names) {
  ir::Value* output = conv->output(0);
  if (!is_private(output, 1, protected_names)) return false;
  ir::Node* reader = output->consumers[0];
  const bool add = reader->op_type == "Add", multiply = reader->op_type == "Mul";
  if ((!add && !multiply) || !reader->domain.empty() || !reader->output(0)) return false;
  const Tensor* operand = constant_of(other_input(reader, output));
  const Tensor* weights = constant_of(conv->input(1));
  if (!operand || !weights || operand->dtype() != DType::f32 || weights->dtype() != DType::f32) return false;
  const int64_t channels = weights->dim(0);
  const Shape& shape = operand->shape();
  // One value, or [C, 1, 1] / [1, C, 1, 1]: one value per output channel.
  const bool per_channel = operand->element_count() == channels && shape.size() >= 3 && shape.size() <= 4 &&
                           shape[shape.size() - 3] == channels;
  if (operand->element_count() != 1 && !per_channel) return false;
  if (operand->rank() > 4 || !same_static_shape(reader->output(0), output)) return false;
  const Tensor* bias = constant_of(conv->input(2));
  if (conv->input(2) && (!bias || bias->dtype() != DType::f32 || bias->element_count() != channels)) return false;
  auto value_for = [&](int64_t channel) { return operand->data<float>()[operand->element_count() == 1 ? 0 : channel]; };
  Tensor new_bias(DType::f32, {channels});
  Tensor new_weights = multiply ? weights->clone() : *weights;
  const int64_t per_output = weights->element_count() / channels;
  for (int64_t c = 0; c < channels; ++c) {
    const float old_bias = bias ? bias->data<float>()[c] : 0.0f;
    new_bias.data<float>()[c] = multiply ? old_bias * value_for(c) : old_bias + value_for(c);
    if (multiply) {
      float* row = new_weights.data<float>() + c * per_output;
      for (int64_t i = 0; i < per_output; ++i) row[i] *= value_for(c);
    }
  }
  auto rebind = [&](size_t index, ir::Value* value) {
    if (conv->inputs.size() <= index) conv->inputs.resize(index + 1, nullptr);
    if (ir::Value* old = conv->inputs[index]) {
      auto position = std::find(old->consumers.begin(), old->consumers.end(), conv);
      if (position != old->consumers.end()) old->consumers.erase(position);
    }
    conv->inputs[index] = value;
    value->consumers.push_back(conv);
  };
  if (multiply) {
    rebind(1, graph.add_initializer(unused_value_name(graph, conv->name + "_scaled_weights"), std::move(new_weights)));
  }
  rebind(2, graph.add_initializer(unused_value_name(graph, conv->name + "_bias"), std::move(new_bias)));
  ir::Value* result = reader->output(0);
  graph.remove_node(reader);
  conv->outputs[0] = result;
  result->producer = conv;
  output->producer = nullptr;
  return true;
}

bool same_static_shape(const ir::Value* a, const ir::Value* b) {
  return a && b && a->type.has_static_shape() && b->type.has_static_shape() &&
         a->type.static_shape() == b->type.static_shape();
}

}  // namespace

PassResult fuse_activations(ir::Model& model) {
  PassResult result;
  result.pass = "fuse-activations";
  ir::Graph& graph = *model.graph;
  const std::set<std::string> protected_names = names_read_by_subgraphs(graph);
  std::vector<ir::Node*> convolutions;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "Conv" && node->domain.empty() && is_f32(node->input(0)) && node->output(0)) {
      convolutions.push_back(node.get());
    }
  }
  for (ir::Node* conv : convolutions) {
    while (absorb_affine(graph, conv, protected_names)) {
      result.notes.push_back("folded a constant Add/Mul into the weights and bias of " + conv->describe());
      ++result.rewrites;
    }
    ir::Value* tail = conv->output(0);
    std::vector<ir::Node*> swallowed;
    ir::Value* residual = nullptr;
    // Residual: Conv → Add(conv, z) with z of the same shape (z computed elsewhere, so no cycle).
    if (is_private(tail, 1, protected_names)) {
      ir::Node* add = tail->consumers[0];
      if (add->op_type == "Add" && add->domain.empty() && add->inputs.size() == 2 && add->output(0)) {
        ir::Value* other = add->inputs[0] == tail ? add->inputs[1] : add->inputs[0];
        if (other != tail && is_f32(other) && same_static_shape(other, tail) && same_static_shape(add->output(0), tail)) {
          residual = other;
          swallowed.push_back(add);
          tail = add->output(0);
        }
      }
    }
    std::optional<ActivationMatch> activation = match_activation(model, tail, protected_names);
    if (!activation) activation = match_decomposed_hard_swish(model, tail, protected_names);
    if (activation) {
      swallowed.insert(swallowed.end(), activation->nodes.begin(), activation->nodes.end());
      tail = activation->output;
    }
    if (swallowed.empty()) continue;

    std::vector<ir::Value*> inputs{conv->input(0), conv->input(1), conv->input(2)};
    if (residual) inputs.push_back(residual);
    std::map<std::string, ir::Attribute> attributes = conv->attributes;
    ir::Attribute name_attribute;
    name_attribute.kind = ir::Attribute::Kind::string;
    name_attribute.string_value = activation ? ir::activation_name(activation->activation.kind) : "";
    attributes["activation"] = name_attribute;
    if (activation) {
      ir::Attribute alpha, beta;
      alpha.kind = beta.kind = ir::Attribute::Kind::floating;
      alpha.float_value = activation->activation.alpha;
      beta.float_value = activation->activation.beta;
      attributes["activation_alpha"] = alpha;
      attributes["activation_beta"] = beta;
    }
    std::string description = conv->describe();
    for (ir::Node* node : swallowed) description += " + " + node->op_type;
    const std::string name = conv->name;
    graph.remove_node(conv);
    for (ir::Node* node : swallowed) graph.remove_node(node);
    ir::Node* fused = graph.add_node("FusedConv", inputs, {tail}, name, ir::fused_domain);
    fused->attributes = std::move(attributes);
    result.notes.push_back("fused " + description);
    ++result.rewrites;
  }
  if (result.rewrites) {
    model.opset_imports[ir::fused_domain] = 1;
    remove_unused_values(graph, protected_names);
    graph.sort_topologically();
    graph.renumber();
  }
  return result;
}

}  // namespace npukit::passes
