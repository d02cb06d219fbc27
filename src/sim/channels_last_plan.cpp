#include "sim/channels_last_plan.h"

#include <unordered_map>

#include "ir/value_components.h"
#include "sim/integer_ops.h"
#include "sim/lowering.h"

namespace npukit::sim {

namespace {

// How a node may hold one of its values (as in runtime/kernels/cpu/blocked_layout.cpp).
enum class Role {
  refuses,  // NCHW only
  joins,    // the same layout as the node's other joining values (element-wise ops)
  either,   // whichever layout the value has (IntegerConv's data input and output)
};

DType storage_of(const ir::Value* value) { return value->quant ? value->quant->storage : value->type.dtype; }

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }

bool static_shape_of(const ir::Value* value, Shape& shape) {
  if (!value || !value->type.has_static_shape()) return false;
  shape = value->type.static_shape();
  return true;
}

// One multiplier for the whole tensor in every *multipliers attribute: the op treats all elements alike.
bool has_tensor_multipliers(const ir::Node& node) {
  for (const char* key : {"multipliers", "a_multipliers", "b_multipliers"}) {
    if (node.has_attribute(key) && node.get_floats(key).size() != 1) return false;
  }
  return true;
}

bool is_convolution(const ir::Node& node) { return node.domain == kIntegerDomain && node.op_type == ops::convolution; }

// An element-wise integer op whose every value has one shape: its bytes mean the same in either layout.
bool is_layout_free_elementwise(const ir::Node& node) {
  if (node.domain != kIntegerDomain) return false;
  const std::string& op = node.op_type;
  size_t operands = 0;
  if (op == ops::add || op == ops::mul) operands = 2;
  else if (op == ops::lookup_table || op == ops::requantize) operands = 1;
  else return false;
  if (node.inputs.size() != operands || node.outputs.size() != 1 || !has_tensor_multipliers(node)) return false;
  Shape output;
  if (!static_shape_of(node.output(0), output)) return false;
  for (size_t i = 0; i < operands; ++i) {
    Shape operand;
    if (!node.inputs[i] || node.inputs[i]->initializer || !static_shape_of(node.inputs[i], operand) || operand != output) {
      return false;
    }
  }
  return true;
}

// One number for the whole tensor (a constant): a per-tensor scale or zero point.
bool is_scalar_constant(const ir::Value* value) { return value && value->initializer && value->initializer->element_count() == 1; }

// DequantizeLinear / QuantizeLinear with a per-tensor scale and zero point (the sim's exact kernels: each
// element on its own) and Relu (on ref): element-wise, so the float values between an IntegerAdd and the next
// QuantizeLinear (ResNet's Add -> DQ -> Relu -> Q) may stay channels-last too.
bool is_layout_free_onnx(const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.empty() || node.outputs.size() != 1) return false;
  if (node.op_type == "Relu") return node.inputs.size() == 1;
  if (node.op_type != "DequantizeLinear" && node.op_type != "QuantizeLinear") return false;
  if (!is_scalar_constant(node.input(1))) return false;
  if (node.inputs.size() > 2 && node.inputs[2] && !is_scalar_constant(node.inputs[2])) return false;
  Shape input, output;
  return static_shape_of(node.input(0), input) && static_shape_of(node.output(0), output) && input == output;
}

// The role of the node's input `index`, or of its output -1 - `index` when `index` is negative.
Role role_of(const ir::Node& node, int index) {
  if (is_convolution(node)) return index == 0 || index == -1 ? Role::either : Role::refuses;
  if (is_layout_free_elementwise(node)) return Role::joins;
  if (is_layout_free_onnx(node)) return index == 0 || index == -1 ? Role::joins : Role::refuses;
  return Role::refuses;
}

bool is_eligible(const ir::Value* value) {
  if (!value || value->is_graph_output || value->is_graph_input || value->initializer || value->outer_scope) return false;
  Shape shape;
  const DType type = storage_of(value);
  return (is_8bit(type) || type == DType::f32) && static_shape_of(value, shape) && shape.size() == 4;
}

}  // namespace

runtime::cpu::BlockedLayoutPlan plan_channels_last(const ir::Graph& graph) {
  ir::ValueComponents components;
  std::vector<std::pair<const ir::Value*, Role>> uses;
  for (const auto& node : graph.nodes()) {
    const ir::Value* joined = nullptr;
    auto note = [&](const ir::Value* value, Role role) {
      if (!value || value->name.empty() || value->initializer) return;
      uses.emplace_back(value, role);
      if (role != Role::joins) return;
      if (joined) components.join(value, joined);
      joined = value;
    };
    for (size_t i = 0; i < node->inputs.size(); ++i) note(node->inputs[i], role_of(*node, static_cast<int>(i)));
    for (size_t j = 0; j < node->outputs.size(); ++j) note(node->output(j), j == 0 ? role_of(*node, -1) : Role::refuses);
    for (const ir::Value* read : ir::values_read_by_subgraphs(*node, graph)) uses.emplace_back(read, Role::refuses);
  }
  struct Verdict {
    bool possible = true;
    bool touches_convolution = false;
  };
  std::unordered_map<const ir::Value*, Verdict> verdicts;  // by component root
  for (const auto& [value, role] : uses) {
    Verdict& verdict = verdicts[components.root(value)];
    if (role == Role::refuses || !is_eligible(value)) verdict.possible = false;
    if (role == Role::either) verdict.touches_convolution = true;  // only IntegerConv's values are "either"
  }
  runtime::cpu::BlockedLayoutPlan plan;
  for (const auto& value : graph.values()) {
    auto found = verdicts.find(components.root(value.get()));
    if (found != verdicts.end() && found->second.possible && found->second.touches_convolution && is_eligible(value.get())) {
      plan.hold_blocked(value.get());
    }
  }
  return plan;
}

}  // namespace npukit::sim
