#include "passes/activation_fusion.h"

#include <cfloat>
#include <vector>

#include "passes/graph_rewrite.h"
#include "runtime/fused_activation.h"

namespace npukit::passes {

namespace {

using runtime::ActivationKind;
using runtime::FusedActivation;

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
std::optional<FusedActivation> activation_of(const ir::Node& node, int64_t opset) {
  if (!node.domain.empty()) return std::nullopt;
  FusedActivation activation;
  if (node.op_type == "Relu") {
    activation.kind = ActivationKind::relu;
  } else if (node.op_type == "LeakyRelu") {
    activation.kind = ActivationKind::leaky_relu;
    activation.alpha = static_cast<float>(node.get_float("alpha", 0.01));
  } else if (node.op_type == "Sigmoid") {
    activation.kind = ActivationKind::sigmoid;
  } else if (node.op_type == "Tanh") {
    activation.kind = ActivationKind::tanh;
  } else if (node.op_type == "HardSigmoid") {
    activation.kind = ActivationKind::hard_sigmoid;
    activation.alpha = static_cast<float>(node.get_float("alpha", 0.2));
    activation.beta = static_cast<float>(node.get_float("beta", 0.5));
  } else if (node.op_type == "HardSwish") {
    activation.kind = ActivationKind::hard_swish;
  } else if (node.op_type == "Clip") {
    activation.kind = ActivationKind::clip;
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
  FusedActivation activation;
  std::vector<ir::Node*> nodes;  // to remove
  ir::Value* output = nullptr;   // what the fused node will produce
};

// The activation that reads `value` (and only it reads `value`), if any.
std::optional<ActivationMatch> match_activation(const ir::Model& model, ir::Value* value,
                                                const std::set<std::string>& protected_names) {
  if (is_private(value, 1, protected_names)) {
    ir::Node* reader = value->consumers[0];
    std::optional<FusedActivation> activation = activation_of(*reader, model.opset(reader->domain));
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
      FusedActivation activation;
      activation.kind = ActivationKind::silu;
      return ActivationMatch{activation, {sigmoid, multiply}, multiply->output(0)};
    }
  }
  return std::nullopt;
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
    name_attribute.string_value = activation ? runtime::activation_name(activation->activation.kind) : "";
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
    ir::Node* fused = graph.add_node("FusedConv", inputs, {tail}, name, runtime::fused_domain);
    fused->attributes = std::move(attributes);
    result.notes.push_back("fused " + description);
    ++result.rewrites;
  }
  if (result.rewrites) {
    model.opset_imports[runtime::fused_domain] = 1;
    remove_unused_values(graph, protected_names);
    graph.sort_topologically();
    graph.renumber();
  }
  return result;
}

}  // namespace npukit::passes
