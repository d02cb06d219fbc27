#include "runtime/kernels/cpu/blocked_layout.h"

#include <algorithm>
#include <unordered_map>

#include "ir/fused_activation.h"
#include "ir/microsoft_domain.h"
#include "ir/value_components.h"
#include "runtime/kernels/cpu/cpu_kernels.h"

namespace npukit::runtime::cpu {

namespace {

bool is_cpu_convolution(const ir::Node& node) {
  const bool convolution = (node.op_type == "Conv" && node.domain.empty()) ||
                           (node.op_type == "FusedConv" && node.domain == ir::fused_domain);
  if (!convolution || convolution_unsupported_reason(node, 1)) return false;
  // A grouped (not depthwise) convolution whose groups do not fill whole blocks has no blocked kernel in
  // oneDNN (only its slow reference one); it runs plain, so its neighbours must hand it plain tensors.
  const int64_t group = node.get_int("group", 1);
  const Tensor& weights = *node.inputs[1]->initializer;
  const int64_t output_per_group = weights.dim(0) / group, input_per_group = weights.dim(1);
  const bool depthwise = input_per_group == 1 && output_per_group == 1;
  if (group > 1 && !depthwise && (output_per_group % channel_block() || input_per_group % channel_block())) return false;
  return true;
}

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }

bool is_cpu_qlinear_convolution(const ir::Node& node) {
  return node.op_type == "QLinearConv" && node.domain.empty() && !qlinear_convolution_unsupported_reason(node, 1);
}

// QLinearSigmoid / QLinearSiLU / QLinearClip: a byte table, elementwise.
bool is_int8_table(const ir::Node& node) {
  return (node.op_type == "QLinearSigmoid" && node.domain == ir::microsoft_domain) ||
         ((node.op_type == "QLinearSiLU" || node.op_type == "QLinearClip") && node.domain == ir::fused_domain);
}

// MaxPool of bytes (oneDNN pools NHWC u8 / s8), a Concat or Split of bytes on channels (an interleaved copy per
// pixel, concat.cpp / split.cpp), any 4-D Slice of bytes (slice.cpp), a nearest Resize over H and W of bytes: the
// data movement a QDQ graph keeps in
// int8 (qdq_integer_fusion.cpp).
bool static_shape_of(const ir::Value* value, Shape& shape);

bool is_int8_movement(const ir::Node& node, int64_t opset) {
  if (!node.domain.empty() || node.inputs.empty() || !node.inputs[0] || !is_8bit(node.inputs[0]->type.dtype)) return false;
  if (node.op_type == "MaxPool") return !pooling_unsupported_reason(node, opset);
  if (node.op_type == "Resize") {
    // Nearest over H and W only (resize.cpp's channels-last kernel moves whole pixels).
    Shape input, output;
    return !resize_unsupported_reason(node, opset) && node.get_string("mode", "nearest") == "nearest" &&
           static_shape_of(node.input(0), input) && static_shape_of(node.output(0), output) && input.size() == 4 &&
           output.size() == 4 && input[0] == output[0] && input[1] == output[1];
  }
  if (node.op_type == "Slice") {
    // Any 4-D slice (slice.cpp reads its view in NHWC order); bounds must be constants.
    Shape input, output;
    for (size_t i = 1; i < node.inputs.size(); ++i) {
      if (node.inputs[i] && !node.inputs[i]->initializer) return false;
    }
    return !slice_unsupported_reason(node, opset) && static_shape_of(node.input(0), input) &&
           static_shape_of(node.output(0), output) && input.size() == 4 && output.size() == 4;
  }
  if (node.op_type == "Split") {
    const ir::Value* input = node.input(0);
    const int64_t axis = node.get_int("axis", 0);
    return !split_unsupported_reason(node, opset) && input->type.has_static_shape() &&
           input->type.static_shape().size() == 4 && (axis == 1 || axis == -3);
  }
  if (node.op_type != "Concat" || concat_unsupported_reason(node, opset)) return false;
  const ir::Value* output = node.output(0);
  const int64_t axis = node.get_int("axis", 0);
  return output && output->type.has_static_shape() && output->type.static_shape().size() == 4 && (axis == 1 || axis == -3);
}

// The int8 operators that read and write channels-last (NHWC) activations.
bool is_int8_layout_operator(const ir::Node& node, int64_t opset) {
  return is_cpu_qlinear_convolution(node) || is_int8_movement(node, opset) ||
         (node.op_type == "QLinearAdd" && node.domain == ir::microsoft_domain && !qlinear_add_unsupported_reason(node, 1)) ||
         (node.op_type == "QLinearGlobalAveragePool" && node.domain == ir::microsoft_domain &&
          !qlinear_global_average_pool_unsupported_reason(node, 1)) ||
         (node.op_type == "QLinearMul" && node.domain == ir::microsoft_domain && !qlinear_mul_unsupported_reason(node, 1)) ||
         (is_int8_table(node) && !qlinear_lookup_unsupported_reason(node, 1));
}

// How a node may hold one of its values.
enum class Role {
  refuses,          // plain only
  joins,            // same layout as the node's other joining values (layout-transparent ops)
  either,           // whichever layout the value has (convolutions, the per-channel operand of arithmetic)
};

bool static_shape_of(const ir::Value* value, Shape& shape) {
  if (!value || !value->type.has_static_shape()) return false;
  shape = value->type.static_shape();
  return true;
}

// Slice of a [1, C, H, W] tensor along channels only, from a whole block, with step 1: its output is one
// contiguous range of the input in either layout. Bounds must be constants.
bool is_channel_block_slice(const ir::Node& node) {
  Shape input, output;
  if (!static_shape_of(node.input(0), input) || !static_shape_of(node.output(0), output) || input.size() != 4) return false;
  for (size_t axis = 0; axis < 4; ++axis) {
    if (axis != 1 && input[axis] != output[axis]) return false;
  }
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    if (node.inputs[i] && !node.inputs[i]->initializer) return false;
  }
  if (node.inputs.size() < 3) return false;  // opset 1 Slice (attributes) is not worth a rule
  const std::vector<int64_t> starts = node.inputs[1]->initializer->to_int64_vector();
  std::vector<int64_t> axes(starts.size());
  for (size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int64_t>(i);
  if (node.input(3)) axes = node.inputs[3]->initializer->to_int64_vector();
  std::vector<int64_t> steps(starts.size(), 1);
  if (node.input(4)) steps = node.inputs[4]->initializer->to_int64_vector();
  if (axes.size() != starts.size() || steps.size() != starts.size()) return false;
  for (size_t i = 0; i < starts.size(); ++i) {
    if (steps[i] != 1) return false;
    const int64_t axis = axes[i] < 0 ? axes[i] + 4 : axes[i];
    if (axis != 1) continue;
    const int64_t start = std::clamp<int64_t>(starts[i] < 0 ? starts[i] + input[1] : starts[i], 0, input[1]);
    if (start % channel_block() != 0) return false;
  }
  return true;
}

// The role of the node's input `index`, or of its output -1 - `index` when `index` is negative.
Role role_of(const ir::Node& node, int index, int64_t opset) {
  if (is_cpu_qlinear_convolution(node)) return index == -1 || index == 0 ? Role::either : Role::refuses;
  if ((node.op_type == "QLinearAdd" || node.op_type == "QLinearMul") && node.domain == ir::microsoft_domain) {
    // Elementwise on equal shapes (its kernel checks): A, B and C share a layout. A constant operand is stored
    // NCHW and is not in the plan, so then every value of the node stays plain.
    if (node.op_type == "QLinearAdd" ? qlinear_add_unsupported_reason(node, opset)
                                     : qlinear_mul_unsupported_reason(node, opset)) {
      return Role::refuses;
    }
    if (node.inputs[0]->initializer || node.inputs[3]->initializer) return Role::refuses;
    return index == -1 || index == 0 || index == 3 ? Role::joins : Role::either;
  }
  if (is_int8_table(node)) {
    // Elementwise: X and Y share a layout; the parameters are constants.
    if (qlinear_lookup_unsupported_reason(node, opset) || node.inputs[0]->initializer) return Role::refuses;
    return index == -1 || index == 0 ? Role::joins : Role::either;
  }
  if (node.op_type == "QLinearGlobalAveragePool" && node.domain == ir::microsoft_domain) {
    // Reads either layout; writes [N, C, 1, 1], whose bytes are the same in both, plain.
    if (qlinear_global_average_pool_unsupported_reason(node, opset)) return Role::refuses;
    return index == 0 ? Role::either : Role::refuses;
  }
  if (!node.domain.empty() && node.domain != ir::fused_domain) return Role::refuses;
  const bool is_output = index < 0;
  if (is_cpu_convolution(node)) {
    // Data input, residual (FusedConv input 3) and output; the weights and bias are constants anyway.
    return index == -1 || index == 0 || index == 3 ? Role::either : Role::refuses;
  }
  if (!node.domain.empty()) return Role::refuses;
  const std::string& op = node.op_type;
  if (op == "Split") {
    Shape input;
    if (split_unsupported_reason(node, opset) || !static_shape_of(node.input(0), input) || input.size() != 4) {
      return Role::refuses;
    }
    // With batch 1, channel parts that fill whole blocks are the same contiguous ranges in both layouts.
    const int64_t axis = node.get_int("axis", 0);
    if (axis != 1 && axis != -3) return Role::refuses;
    return is_output || index == 0 ? Role::joins : Role::either;
  }
  if (index < -1 || (index >= 0 && static_cast<size_t>(index) >= node.inputs.size())) return Role::refuses;
  if (op == "Slice") {
    // Bytes are held NHWC, any slice of them is one view (is_int8_movement); f32 blocks need whole-block channels.
    const bool bytes = is_8bit(node.inputs[0]->type.dtype) && is_int8_movement(node, opset);
    if (slice_unsupported_reason(node, opset) || (!bytes && !is_channel_block_slice(node))) return Role::refuses;
    return index <= 0 ? Role::joins : Role::either;
  }
  if (op == "Resize") {
    // Nearest over H and W only: the blocked kernel moves whole channel vectors.
    Shape input, output;
    if (resize_unsupported_reason(node, opset) || node.get_string("mode", "nearest") != "nearest" ||
        !static_shape_of(node.input(0), input) || !static_shape_of(node.output(0), output) || input.size() != 4 ||
        output.size() != 4 || input[0] != output[0] || input[1] != output[1]) {
      return Role::refuses;
    }
    return index <= 0 ? Role::joins : Role::either;
  }
  static const char* const activations[] = {"Relu",        "Sigmoid",   "Tanh", "LeakyRelu",
                                            "HardSigmoid", "HardSwish", "Clip"};
  for (const char* activation : activations) {
    if (op != activation) continue;
    if (elementwise_unsupported_reason(node, opset)) return Role::refuses;
    return index <= 0 ? Role::joins : Role::either;  // Clip's bounds are constants
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    if (elementwise_unsupported_reason(node, opset) || node.inputs.size() != 2) return Role::refuses;
    Shape output;
    if (!static_shape_of(node.output(0), output)) return Role::refuses;
    // Each operand has the output's shape (joins), one value per channel or a scalar (either layout reads
    // the same); any other broadcast indexes by position, and then no value of the node may be blocked.
    auto operand_role = [&](const ir::Value* value) {
      Shape operand;
      if (!static_shape_of(value, operand)) return Role::refuses;
      if (operand == output) return Role::joins;
      if (shape_element_count(operand) == 1 || is_channel_operand(operand, output)) return Role::either;
      return Role::refuses;
    };
    const Role left = operand_role(node.inputs[0]), right = operand_role(node.inputs[1]);
    if (left == Role::refuses || right == Role::refuses) return Role::refuses;
    return index == -1 ? Role::joins : (index == 0 ? left : right);
  }
  if (op == "BatchNormalization") {
    if (elementwise_unsupported_reason(node, opset) || node.outputs.size() > 1) return Role::refuses;
    return index <= 0 ? Role::joins : Role::either;
  }
  if (op == "Concat") {
    Shape output;
    if (concat_unsupported_reason(node, opset) || !static_shape_of(node.output(0), output) || output.size() != 4) {
      return Role::refuses;
    }
    const int64_t axis = node.get_int("axis", 0);
    // With batch 1, a channel concat of blocked tensors whose channels fill whole blocks copies the same
    // contiguous byte ranges as the plain one: the kernel needs no change.
    return axis == 1 || axis == -3 ? Role::joins : Role::refuses;
  }
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    if (pooling_unsupported_reason(node, opset) || node.outputs.size() > 1) return Role::refuses;
    return index <= 0 ? Role::joins : Role::refuses;
  }
  return Role::refuses;
}

bool is_eligible(const ir::Value* value) {
  if (!value || value->is_graph_output || value->is_graph_input || value->initializer || value->outer_scope) {
    return false;
  }
  // int8 activations are held channels-last (NHWC), which has the plain tensor's bytes for any channel count.
  if (is_8bit(value->type.dtype) && value->type.has_static_shape()) return value->type.static_shape().size() == 4;
  if (value->type.dtype != DType::f32 || !value->type.has_static_shape()) return false;
  const Shape shape = value->type.static_shape();
  return shape.size() == 4 && shape[0] == 1 && shape[1] % channel_block() == 0;
}

}  // namespace

int64_t channel_block() {
  static const int64_t block = [] {
    const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
    return (isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni ||
            isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx)
               ? int64_t{16}
               : int64_t{8};
  }();
  return block;
}

BlockedLayoutPlan plan_blocked_layouts(const ir::Graph& graph, int64_t opset) {
  ir::ValueComponents components;
  struct Verdict {
    bool possible = true;
    bool touches_convolution = false;
  };
  std::unordered_map<const ir::Value*, Verdict> verdicts;  // by component root, filled below
  std::vector<std::pair<const ir::Value*, Role>> uses;     // every (value, role) of every node
  for (const auto& node : graph.nodes()) {
    const ir::Value* joined = nullptr;
    auto note = [&](const ir::Value* value, Role role) {
      if (!value || value->name.empty() || value->initializer) return;
      // The float rules know blocked f32 tensors only: an int8 value any other op touches stays plain.
      if (is_8bit(value->type.dtype) && !is_int8_layout_operator(*node, opset)) role = Role::refuses;
      uses.emplace_back(value, role);
      if (role != Role::joins) return;
      if (joined) components.join(value, joined);
      joined = value;
    };
    for (size_t i = 0; i < node->inputs.size(); ++i) note(node->inputs[i], role_of(*node, static_cast<int>(i), opset));
    for (size_t j = 0; j < node->outputs.size(); ++j) {
      // Only Split has several outputs it can hold blocked; every other op's extra outputs stay plain.
      const bool any_output = node->op_type == "Split" && node->domain.empty();
      note(node->output(j), j == 0 || any_output ? role_of(*node, -1 - static_cast<int>(j), opset) : Role::refuses);
    }
    for (const ir::Value* read : ir::values_read_by_subgraphs(*node, graph)) uses.emplace_back(read, Role::refuses);
  }
  for (const auto& [value, role] : uses) {
    Verdict& verdict = verdicts[components.root(value)];
    if (role == Role::refuses || !is_eligible(value)) verdict.possible = false;
    if (role == Role::either && value->producer &&
        (is_cpu_convolution(*value->producer) || is_cpu_qlinear_convolution(*value->producer))) {
      verdict.touches_convolution = true;
    }
    for (const ir::Node* consumer : value->consumers) {
      if (is_cpu_convolution(*consumer) || is_cpu_qlinear_convolution(*consumer)) verdict.touches_convolution = true;
    }
  }
  BlockedLayoutPlan plan;
  for (const auto& value : graph.values()) {
    auto found = verdicts.find(components.root(value.get()));
    if (found != verdicts.end() && found->second.possible && found->second.touches_convolution && is_eligible(value.get())) {
      plan.hold_blocked(value.get());
    }
  }
  return plan;
}

dnnl::memory::desc held_desc(const Shape& shape, bool blocked) {
  if (!blocked) return plain_desc(shape);
  return held_desc(shape, DType::f32, true);
}

dnnl::memory::desc held_desc(const Shape& shape, DType type, bool blocked) {
  if (is_8bit(type)) {
    return dnnl::memory::desc(to_dims(shape), type == DType::u8 ? dnnl::memory::data_type::u8 : dnnl::memory::data_type::s8,
                              blocked ? dnnl::memory::format_tag::nhwc : dnnl::memory::format_tag::nchw);
  }
  if (!blocked) return plain_desc(shape);
  return dnnl::memory::desc(to_dims(shape), dnnl::memory::data_type::f32,
                            channel_block() == 16 ? dnnl::memory::format_tag::nChw16c
                                                  : dnnl::memory::format_tag::nChw8c);
}

Tensor plain_copy_of_blocked(const Tensor& held) {
  Tensor plain(held.dtype(), held.shape());
  dnnl::memory source(held_desc(held.shape(), held.dtype(), true), engine(), const_cast<void*>(held.raw_data()));
  dnnl::memory destination(held_desc(held.shape(), held.dtype(), false), engine(), plain.raw_data());
  dnnl::stream stream(engine());
  dnnl::reorder(source, destination).execute(stream, source, destination);
  stream.wait();
  return plain;
}

bool is_channel_operand(const Shape& operand, const Shape& output) {
  if (output.size() != 4 || operand.empty() || operand.size() > 4) return false;
  Shape aligned(4 - operand.size(), 1);
  aligned.insert(aligned.end(), operand.begin(), operand.end());
  return aligned[0] == 1 && aligned[1] == output[1] && aligned[2] == 1 && aligned[3] == 1;
}

}  // namespace npukit::runtime::cpu
