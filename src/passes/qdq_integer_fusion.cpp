#include "passes/qdq_integer_fusion.h"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "ir/fused_activation.h"
#include "ir/microsoft_domain.h"
#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }
int64_t grid_minimum(DType type) { return type == DType::u8 ? 0 : -128; }
int64_t grid_maximum(DType type) { return type == DType::u8 ? 255 : 127; }

bool is_standard(const ir::Node* node, const char* op_type) {
  return node && node->domain.empty() && node->op_type == op_type;
}

// An intermediate value read by one node only, not part of the model's interface.
bool is_private(const ir::Value* value, const std::set<std::string>& protected_names) {
  return value && !value->is_graph_output && value->consumers.size() == 1 && !protected_names.count(value->name);
}

std::optional<float> constant_positive_scalar(const ir::Value* value) {
  const Tensor* tensor = constant_of(value);
  if (!tensor || tensor->dtype() != DType::f32 || tensor->element_count() != 1) return std::nullopt;
  const float scale = tensor->data<float>()[0];
  if (!std::isfinite(scale) || scale <= 0) return std::nullopt;
  return scale;
}

// One side of a QuantizeLinear / DequantizeLinear: the integer value, its scale and zero point (a constant
// of the integer's type; created as 0 when the node leaves it out).
struct QuantizedSide {
  ir::Node* node = nullptr;
  ir::Value* integer = nullptr;
  ir::Value* scale = nullptr;
  ir::Value* zero_point = nullptr;  // null: absent (0)
  DType type = DType::undefined;
};

// The zero point as a number (0 when absent), or nullopt when it is not one constant scalar.
std::optional<int64_t> scalar_zero_point(const QuantizedSide& side) {
  if (!side.zero_point) return 0;
  const Tensor* tensor = constant_of(side.zero_point);
  if (!tensor || tensor->element_count() != 1 || tensor->dtype() != side.type) return std::nullopt;
  return static_cast<int64_t>(tensor->value_as_double(0));
}

// x = DequantizeLinear(q: u8/s8, constant scalar scale and zero point).
std::optional<QuantizedSide> per_tensor_dequantize(ir::Value* value) {
  ir::Node* node = value ? value->producer : nullptr;
  if (!is_standard(node, "DequantizeLinear") || !node->input(0)) return std::nullopt;
  QuantizedSide side{node, node->input(0), node->input(1), node->input(2), node->input(0)->type.dtype};
  if (!is_8bit(side.type) || !constant_positive_scalar(side.scale) || !scalar_zero_point(side)) return std::nullopt;
  return side;
}

// w = DequantizeLinear(constant s8, scale per tensor or per `channel_axis` (of `channels`), zero point 0).
std::optional<QuantizedSide> symmetric_weight_dequantize(ir::Value* value, int64_t channel_axis, int64_t channels) {
  ir::Node* node = value ? value->producer : nullptr;
  if (!is_standard(node, "DequantizeLinear")) return std::nullopt;
  QuantizedSide side{node, node->input(0), node->input(1), node->input(2), DType::i8};
  const Tensor* weights = constant_of(side.integer);
  const Tensor* scales = constant_of(side.scale);
  if (!weights || weights->dtype() != DType::i8 || !scales || scales->dtype() != DType::f32) return std::nullopt;
  if (scales->element_count() != 1) {
    int64_t axis = node->get_int("axis", 1);
    if (axis < 0) axis += weights->rank();
    if (scales->rank() != 1 || axis != channel_axis || scales->element_count() != channels) return std::nullopt;
  }
  for (float scale : scales->values<float>()) {
    if (!std::isfinite(scale) || scale <= 0) return std::nullopt;
  }
  if (side.zero_point) {
    const Tensor* zero_points = constant_of(side.zero_point);
    if (!zero_points || zero_points->dtype() != DType::i8) return std::nullopt;
    for (int8_t zero_point : zero_points->values<int8_t>()) {
      if (zero_point != 0) return std::nullopt;
    }
  }
  return side;
}

// y = QuantizeLinear(x, constant scalar scale, constant scalar u8/s8 zero point).
std::optional<QuantizedSide> per_tensor_quantize(ir::Node* node) {
  if (!is_standard(node, "QuantizeLinear") || !node->output(0)) return std::nullopt;
  QuantizedSide side{node, node->output(0), node->input(1), node->input(2), DType::u8};
  if (side.zero_point) {
    side.type = side.zero_point->type.dtype;
  } else if (node->has_attribute("output_dtype")) {
    return std::nullopt;  // opset 21's type without a zero point: rare, left as it is
  }
  if (!is_8bit(side.type) || !constant_positive_scalar(side.scale) || !scalar_zero_point(side)) return std::nullopt;
  return side;
}

// QuantizeLinear's own arithmetic (float division, half to even, + zero point) for one real value.
int64_t quantize_like_onnx(float value, float scale, int64_t zero_point) {
  const float divided = value / scale;
  if (!std::isfinite(divided)) return divided > 0 ? INT64_MAX / 2 : -(INT64_MAX / 2);
  return static_cast<int64_t>(std::nearbyint(divided)) + zero_point;
}

std::optional<float> clip_bound(const ir::Node& clip, int64_t opset, size_t input, const char* attribute, float fallback) {
  if (opset < 11) return static_cast<float>(clip.get_float(attribute, fallback));
  const ir::Value* value = clip.input(input);
  if (!value) return fallback;
  const Tensor* tensor = constant_of(value);
  if (!tensor || tensor->element_count() != 1) return std::nullopt;
  return static_cast<float>(tensor->value_as_double(0));
}

// True when an activation `node` followed by `quantize` changes nothing Q's clamp would not.
bool activation_is_absorbed(const ir::Node& node, int64_t opset, const QuantizedSide& quantize) {
  const float scale = constant_of(quantize.scale)->data<float>()[0];
  const int64_t zero_point = *scalar_zero_point(quantize);
  float low = -FLT_MAX, high = FLT_MAX;
  if (node.op_type == "Relu") {
    low = 0;
  } else {
    std::optional<float> min = clip_bound(node, opset, 1, "min", -FLT_MAX);
    std::optional<float> max = clip_bound(node, opset, 2, "max", FLT_MAX);
    if (!min || !max) return false;
    low = *min;
    high = *max;
  }
  // Quantization is monotone: clipping below `low` is invisible when `low` already lands on the bottom of the
  // grid, and likewise for `high`.
  return quantize_like_onnx(low, scale, zero_point) <= grid_minimum(quantize.type) &&
         quantize_like_onnx(high, scale, zero_point) >= grid_maximum(quantize.type);
}

ir::Value* zero_point_constant(ir::Graph& graph, const std::string& base, DType type) {
  Tensor zero(type, Shape{});
  std::memset(zero.raw_data(), 0, zero.byte_size());
  return graph.add_initializer(unused_value_name(graph, base), std::move(zero));
}

struct Group {
  ir::Node* op = nullptr;
  QuantizedSide input, weights, output;
  ir::Value* bias = nullptr;        // int32 constant (Conv only)
  std::vector<ir::Node*> swallowed; // Relu / Clip, then the QuantizeLinear
};

std::optional<Group> match_group(const ir::Model& model, ir::Node* op, const std::set<std::string>& protected_names) {
  const bool convolution = op->op_type == "Conv";
  Group group;
  group.op = op;
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input) return std::nullopt;
  group.input = *input;
  const Tensor* weights = op->input(1) && op->input(1)->producer ? constant_of(op->input(1)->producer->input(0)) : nullptr;
  if (!weights || weights->rank() != (convolution ? 4 : 2)) return std::nullopt;
  const int64_t channel_axis = convolution ? 0 : 1;
  std::optional<QuantizedSide> weight_side =
      symmetric_weight_dequantize(op->input(1), channel_axis, weights->dim(static_cast<size_t>(channel_axis)));
  if (!weight_side) return std::nullopt;
  group.weights = *weight_side;
  if (convolution && op->input(2)) {
    ir::Node* bias_dequantize = op->input(2)->producer;
    if (!is_standard(bias_dequantize, "DequantizeLinear")) return std::nullopt;
    const Tensor* bias = constant_of(bias_dequantize->input(0));
    if (!bias || bias->dtype() != DType::i32 || bias->element_count() != weights->dim(0)) return std::nullopt;
    group.bias = bias_dequantize->input(0);
  }
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  ir::Node* next = result->consumers[0];
  ir::Node* activation = nullptr;
  if (convolution && (is_standard(next, "Relu") || is_standard(next, "Clip")) && next->input(0) == result) {
    activation = next;
    if (!is_private(next->output(0), protected_names)) return std::nullopt;
    next = next->output(0)->consumers[0];
  }
  std::optional<QuantizedSide> output = per_tensor_quantize(next);
  if (!output || next->input(0) != (activation ? activation->output(0) : result)) return std::nullopt;
  if (activation && !activation_is_absorbed(*activation, model.opset(""), *output)) return std::nullopt;
  // ORT's QLinearConv / QLinearMatMul kernels take and give one 8-bit type.
  if (output->type != group.input.type) return std::nullopt;
  group.output = *output;
  if (activation) group.swallowed.push_back(activation);
  group.swallowed.push_back(next);
  return group;
}

// DQ(a) → Gemm(a, DQ(w), DQ(bias)) → Q(y): ORT's QGemm (GemmReplaceWithQuant), here as a 1x1 QLinearConv between two
// Reshapes. QGemm's arithmetic is QLinearConv's: the exact int32 sum of (a - z_a) · w, plus the int32 bias, times
// float(alpha · s_a · s_w[n]) / s_y (alpha = 1: float(s_a · s_w[n]) / s_y, QLinearConv's multiplier), rounded half to
// even, + z_y. Matched: a 2-D, transA = 0, transB = 1 (w as [N, K], per tensor or per output row), alpha = beta = 1,
// a bias of N int32 values or none, a Relu / Clip only where Q's clamp absorbs it, Q per tensor of a's type.
struct GemmGroup {
  ir::Node* op = nullptr;
  QuantizedSide input, weights, output;
  ir::Value* bias = nullptr;
  ir::Node* activation = nullptr;
};

std::optional<GemmGroup> match_gemm_group(const ir::Model& model, ir::Node* op,
                                          const std::set<std::string>& protected_names) {
  if (op->get_int("transA", 0) != 0 || op->get_int("transB", 0) != 1 || op->get_float("alpha", 1.0) != 1.0 ||
      op->get_float("beta", 1.0) != 1.0 || op->inputs.size() < 2) {
    return std::nullopt;
  }
  GemmGroup group;
  group.op = op;
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input || !input->integer->type.has_static_shape() || input->integer->type.static_shape().size() != 2) {
    return std::nullopt;
  }
  group.input = *input;
  const Tensor* weights = op->input(1) && op->input(1)->producer ? constant_of(op->input(1)->producer->input(0)) : nullptr;
  if (!weights || weights->rank() != 2) return std::nullopt;
  std::optional<QuantizedSide> weight_side = symmetric_weight_dequantize(op->input(1), 0, weights->dim(0));
  if (!weight_side) return std::nullopt;
  group.weights = *weight_side;
  if (op->input(2)) {
    ir::Node* bias_dequantize = op->input(2)->producer;
    if (!is_standard(bias_dequantize, "DequantizeLinear")) return std::nullopt;
    const Tensor* bias = constant_of(bias_dequantize->input(0));
    if (!bias || bias->dtype() != DType::i32 || bias->rank() != 1 || bias->element_count() != weights->dim(0)) {
      return std::nullopt;
    }
    group.bias = bias_dequantize->input(0);
  }
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  ir::Node* next = result->consumers[0];
  // A Relu / Clip that Q's clamp makes a no-op (ORT's ReluQuantFusion removes it before the QGemm rewrite).
  if ((is_standard(next, "Relu") || is_standard(next, "Clip")) && next->input(0) == result) {
    group.activation = next;
    if (!is_private(next->output(0), protected_names)) return std::nullopt;
    next = next->output(0)->consumers[0];
  }
  std::optional<QuantizedSide> output = per_tensor_quantize(next);
  if (!output || next->input(0) != (group.activation ? group.activation->output(0) : result) ||
      output->type != group.input.type) {
    return std::nullopt;
  }
  if (group.activation && !activation_is_absorbed(*group.activation, model.opset(""), *output)) return std::nullopt;
  group.output = *output;
  return group;
}

// DQ(a) + DQ(b) → Add → Q(c), every side per tensor and of one 8-bit type, a and b of one static shape (the
// cpu QLinearAdd kernel is elementwise; ORT's broadcasting cases stay float here).
struct BinaryGroup {
  ir::Node* op = nullptr;
  QuantizedSide first, second, output;
  ir::Node* activation = nullptr;  // a Relu / Clip that Q's clamp makes a no-op (ORT's ReluQuantFusion)
};

std::optional<BinaryGroup> match_binary_group(const ir::Model& model, ir::Node* op,
                                              const std::set<std::string>& protected_names) {
  if (op->inputs.size() != 2) return std::nullopt;
  std::optional<QuantizedSide> first = per_tensor_dequantize(op->input(0));
  std::optional<QuantizedSide> second = per_tensor_dequantize(op->input(1));
  if (!first || !second || first->type != second->type) return std::nullopt;
  const ir::TensorType& first_type = first->integer->type;
  const ir::TensorType& second_type = second->integer->type;
  if (!first_type.has_static_shape() || !second_type.has_static_shape() ||
      first_type.static_shape() != second_type.static_shape()) {
    return std::nullopt;
  }
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  ir::Node* next = result->consumers[0];
  ir::Node* activation = nullptr;
  if ((is_standard(next, "Relu") || is_standard(next, "Clip")) && next->input(0) == result) {
    activation = next;
    if (!is_private(next->output(0), protected_names)) return std::nullopt;
    next = next->output(0)->consumers[0];
  }
  std::optional<QuantizedSide> output = per_tensor_quantize(next);
  if (!output || next->input(0) != (activation ? activation->output(0) : result) || output->type != first->type) {
    return std::nullopt;
  }
  if (activation && !activation_is_absorbed(*activation, model.opset(""), *output)) return std::nullopt;
  return BinaryGroup{op, *first, *second, *output, activation};
}

// DQ(x) → GlobalAveragePool → Q(y), per tensor, one 8-bit type, x 4-D of static shape with a scale ORT's
// kernel accepts: s_x / (s_y · H · W) in [2^-32, 256), H · W < 2^24 (else ORT throws; the float path stays).
struct UnaryGroup {
  ir::Node* op = nullptr;
  QuantizedSide input, output;
};

std::optional<UnaryGroup> match_global_average_pool(ir::Node* op, const std::set<std::string>& protected_names) {
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input || !input->integer->type.has_static_shape()) return std::nullopt;
  const Shape shape = input->integer->type.static_shape();
  if (shape.size() != 4) return std::nullopt;
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->type != input->type) return std::nullopt;
  const int64_t pixels = shape[2] * shape[3];
  if (pixels <= 0 || pixels >= (int64_t{1} << 24)) return std::nullopt;
  const float input_scale = constant_of(input->scale)->data<float>()[0];
  const float output_scale = constant_of(output->scale)->data<float>()[0];
  const float scale = input_scale / (output_scale * static_cast<float>(pixels));
  if (!(scale >= 0x1.0p-32f && scale < 256.0f)) return std::nullopt;
  return UnaryGroup{op, *input, *output};
}

// DQ(x) → Sigmoid → Q(y), per tensor, one 8-bit type (ORT's UnaryReplaceWithQLinear: QLinearSigmoid).
std::optional<UnaryGroup> match_sigmoid(ir::Node* op, const std::set<std::string>& protected_names) {
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input) return std::nullopt;
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->node->input(0) != result || output->type != input->type) return std::nullopt;
  return UnaryGroup{op, *input, *output};
}

// DQ(x) [→ Transpose] → Softmax → Q(y), per tensor, u8: ORT's QLinearSoftmax (UnaryReplaceWithQLinear).
// A Transpose between the DQ and the Softmax is no obstacle there: ORT's QDQ propagation carries the DQ past it
// (the Transpose then moves bytes, Q(DQ(k)) = k) and its transpose optimizer folds it into the softmax's axis;
// here the Transpose runs on the bytes and QLinearSoftmax reads them in that order (the same rows, in the same
// order along the axis, so the same sums). ORT's integer softmax is not the float one quantized
// (runtime/kernels/cpu/qlinear_softmax.h): YOLOv8's DFL softmax differed from ORT in the last bit.
// u8 only: on an s8 file ORT's QDQS8ToU8Transformer first moves some of the Q / DQ pairs to u8 (zero point + 128)
// and not others (softmax_head_int8: the softmax behind the Transpose becomes a u8 QLinearSoftmax, the one read
// from a shared DequantizeLinear stays float), which this pass does not predict; s8 groups stay float here.
struct SoftmaxGroup {
  ir::Node* op = nullptr;
  ir::Node* transpose = nullptr;  // between the DQ and the Softmax, or null
  QuantizedSide input, output;
};

std::optional<SoftmaxGroup> match_softmax(ir::Node* op, const std::set<std::string>& protected_names) {
  ir::Value* source = op->input(0);
  ir::Node* transpose = nullptr;
  if (source && is_standard(source->producer, "Transpose")) {
    transpose = source->producer;
    if (!is_private(source, protected_names) || !source->type.has_static_shape()) return std::nullopt;
    source = transpose->input(0);  // the DQ may have other readers: it stays for them (ORT duplicates it)
  }
  std::optional<QuantizedSide> input = per_tensor_dequantize(source);
  if (!input || constant_of(input->integer) || input->type != DType::u8) return std::nullopt;
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->node->input(0) != result || output->type != input->type) return std::nullopt;
  return SoftmaxGroup{op, transpose, *input, *output};
}

// Two constant scalars of one value (float bits, or integers), or both absent.
bool same_constant(const ir::Value* a, const ir::Value* b) {
  if (a == b) return true;
  const Tensor* first = constant_of(a);
  const Tensor* second = constant_of(b);
  if (!first || !second || first->dtype() != second->dtype() || first->element_count() != 1 ||
      second->element_count() != 1) {
    return false;
  }
  return std::memcmp(first->raw_data(), second->raw_data(), first->byte_size()) == 0;
}

// The fused sigmoid's output `gate` read by QLinearMul `mul` with `other` as the other operand: a SiLU when
// the sigmoid reads `other` itself on the same grid (then the product is a function of one byte).
bool is_silu_pair(const ir::Node& sigmoid, const ir::Node& mul, size_t other, const std::set<std::string>& protected_names) {
  if (sigmoid.op_type != "QLinearSigmoid" || sigmoid.domain != ir::microsoft_domain) return false;
  if (!is_private(sigmoid.output(0), protected_names)) return false;
  return sigmoid.input(0) == mul.input(other) && same_constant(sigmoid.input(1), mul.input(other + 1)) &&
         same_constant(sigmoid.input(2), mul.input(other + 2));
}

// DQ(x: per tensor, not a constant) → Relu | Clip(constant bounds) → Q(y: per tensor): ORT computes it in
// float (its ReluQuantFusion drops a Relu that Q's clamp makes a no-op, the rest stays DQ → op → Q), and every
// step is exact or ONNX's own rounding, so y is a function of x's byte: one table (com.npukit QLinearClip).
struct RequantizeGroup {
  QuantizedSide input, output;
  ir::Node* activation = nullptr;  // Relu / Clip, or null
  float low = -FLT_MAX, high = FLT_MAX;
};

std::optional<RequantizeGroup> match_requantize(const ir::Model& model, ir::Node* quantize,
                                                const std::set<std::string>& protected_names) {
  std::optional<QuantizedSide> output = per_tensor_quantize(quantize);
  if (!output || !quantize->input(0)) return std::nullopt;
  RequantizeGroup group;
  ir::Value* value = quantize->input(0);
  ir::Node* producer = value->producer;
  if (is_standard(producer, "Relu") || is_standard(producer, "Clip")) {
    if (!is_private(value, protected_names)) return std::nullopt;
    group.activation = producer;
    if (producer->op_type == "Relu") {
      group.low = 0;
    } else {
      const int64_t opset = model.opset("");
      std::optional<float> min = clip_bound(*producer, opset, 1, "min", -FLT_MAX);
      std::optional<float> max = clip_bound(*producer, opset, 2, "max", FLT_MAX);
      if (!min || !max || std::isnan(*min) || std::isnan(*max)) return std::nullopt;
      group.low = *min;
      group.high = *max;
    }
    value = producer->input(0);
  } else {
    // A bare Q → DQ → Q → DQ is not computed as written: ORT's DoubleQDQPairsRemover drops the middle pair and
    // merges the outer parameters. Left as it is.
    return std::nullopt;
  }
  std::optional<QuantizedSide> input = per_tensor_dequantize(value);
  if (!input || constant_of(input->integer) || !is_private(value, protected_names)) return std::nullopt;
  group.input = *input;
  group.output = *output;
  return group;
}


// DQ(x) → MaxPool | Slice | nearest Resize | Reshape | Transpose | Flatten | Squeeze | Unsqueeze → Q(y) with y on
// x's grid (same type, scale and zero point): the op runs on x's bytes, as ORT's DropQDQNodesRules does. Bit-exact
// with the float path: Q(DQ(k)) = k for every byte, and these ops only move whole values.
struct MovementGroup {
  ir::Node* op = nullptr;
  QuantizedSide input, output;
};

bool same_grid(const QuantizedSide& a, const QuantizedSide& b) {
  return a.type == b.type && same_constant(a.scale, b.scale) && scalar_zero_point(a) == scalar_zero_point(b);
}

// Ops that only reorder or relabel elements (ORT's DropQDQNodesRules lists them with Gather, Expand, Tile).
bool is_shape_only(const ir::Node* node) {
  return is_standard(node, "Reshape") || is_standard(node, "Transpose") || is_standard(node, "Flatten") ||
         is_standard(node, "Squeeze") || is_standard(node, "Unsqueeze");
}

std::optional<MovementGroup> match_same_grid(ir::Node* op, const std::set<std::string>& protected_names) {
  if (op->outputs.size() > 1 && op->output(1)) return std::nullopt;  // indices are not bytes
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input || constant_of(input->integer)) return std::nullopt;
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->node->input(0) != result || !same_grid(*input, *output)) return std::nullopt;
  return MovementGroup{op, *input, *output};
}

// DQ(x) → Split → Q(y_i) with every part on x's grid (ORT's QDQ Split selector): the split runs on x's bytes.
struct SplitGroup {
  ir::Node* op = nullptr;
  QuantizedSide input;
  std::vector<QuantizedSide> outputs;
};

std::optional<SplitGroup> match_split(ir::Node* op, const std::set<std::string>& protected_names) {
  std::optional<QuantizedSide> input = per_tensor_dequantize(op->input(0));
  if (!input || constant_of(input->integer)) return std::nullopt;
  SplitGroup group{op, *input, {}};
  for (ir::Value* result : op->outputs) {
    if (!result || !is_private(result, protected_names)) return std::nullopt;
    std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
    if (!output || output->node->input(0) != result || !same_grid(*input, *output)) return std::nullopt;
    group.outputs.push_back(*output);
  }
  return group;
}

// DQ(x_1) … DQ(x_n) → Concat → Q(y), per tensor, one 8-bit type (ORT's QLinearConcat): an input on y's grid is
// copied, any other goes through a byte table of Q(DQ(x)) on y's grid (ORT's table: identity between its DQ and
// MlasQuantizeLinear, which is QLinearClip's table without bounds), then one Concat of bytes.
struct ConcatGroup {
  ir::Node* op = nullptr;
  std::vector<QuantizedSide> inputs;
  QuantizedSide output;
};

std::optional<ConcatGroup> match_concat(ir::Node* op, const std::set<std::string>& protected_names) {
  ConcatGroup group;
  group.op = op;
  if (op->inputs.empty()) return std::nullopt;
  for (ir::Value* value : op->inputs) {
    std::optional<QuantizedSide> input = per_tensor_dequantize(value);
    if (!input || constant_of(input->integer) || !input->integer->type.has_static_shape()) return std::nullopt;
    group.inputs.push_back(*input);
  }
  ir::Value* result = op->output(0);
  if (!is_private(result, protected_names)) return std::nullopt;
  std::optional<QuantizedSide> output = per_tensor_quantize(result->consumers[0]);
  if (!output || output->node->input(0) != result) return std::nullopt;
  for (const QuantizedSide& input : group.inputs) {
    if (input.type != output->type) return std::nullopt;
  }
  group.output = *output;
  return group;
}

}  // namespace

PassResult fuse_qdq_into_integer_ops(ir::Model& model) {
  PassResult result;
  result.pass = "fuse-qdq-integer";
  ir::Graph& graph = *model.graph;
  const std::set<std::string> protected_names = names_read_by_subgraphs(graph);
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes()) {
    if (node->domain.empty() && (node->op_type == "Conv" || node->op_type == "MatMul")) candidates.push_back(node.get());
  }
  for (ir::Node* op : candidates) {
    std::optional<Group> group = match_group(model, op, protected_names);
    if (!group) continue;
    const bool convolution = op->op_type == "Conv";
    ir::Value* input_zero_point = group->input.zero_point
                                      ? group->input.zero_point
                                      : zero_point_constant(graph, op->name + "_x_zero_point", group->input.type);
    ir::Value* weight_zero_point = group->weights.zero_point
                                       ? group->weights.zero_point
                                       : zero_point_constant(graph, op->name + "_w_zero_point", DType::i8);
    ir::Value* output_zero_point = group->output.zero_point
                                       ? group->output.zero_point
                                       : zero_point_constant(graph, op->name + "_y_zero_point", group->output.type);
    std::vector<ir::Value*> inputs{group->input.integer, group->input.scale, input_zero_point,
                                   group->weights.integer, group->weights.scale, weight_zero_point,
                                   group->output.scale, output_zero_point};
    if (group->bias) inputs.push_back(group->bias);
    std::map<std::string, ir::Attribute> attributes = op->attributes;
    std::string description = op->describe();
    for (ir::Node* node : group->swallowed) description += " + " + node->op_type;
    const std::string name = op->name;
    ir::Value* output = group->output.integer;
    graph.remove_node(op);
    for (ir::Node* node : group->swallowed) graph.remove_node(node);
    ir::Node* fused = graph.add_node(convolution ? "QLinearConv" : "QLinearMatMul", inputs, {output}, name);
    if (convolution) fused->attributes = std::move(attributes);
    result.notes.push_back("fused " + description + " into " + fused->op_type);
    ++result.rewrites;
  }
  // Gemm groups → Reshape [M, K, 1, 1] → QLinearConv 1x1 → Reshape [M, N] (ORT runs them as QGemm).
  std::vector<ir::Node*> gemms;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "Gemm")) gemms.push_back(node.get());
  }
  for (ir::Node* op : gemms) {
    std::optional<GemmGroup> group = match_gemm_group(model, op, protected_names);
    if (!group) continue;
    const Tensor& weights = *constant_of(group->weights.integer);
    const int64_t outputs = weights.dim(0), depth = weights.dim(1);
    const int64_t rows = group->input.integer->type.static_shape()[0];
    const std::string name = op->name.empty() ? "gemm" : op->name;
    Tensor convolution_weights(DType::i8, {outputs, depth, 1, 1});
    std::memcpy(convolution_weights.raw_data(), weights.raw_data(), weights.byte_size());
    ir::Value* weights_4d = graph.add_initializer(unused_value_name(graph, name + ".weight_1x1"), std::move(convolution_weights));
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem, DType type) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, name + stem, type);
    };
    ir::Value* input_4d = add_typed_value(graph, name + ".as_map", group->input.type, {rows, depth, 1, 1});
    ir::Value* result_4d = add_typed_value(graph, name + ".conv_out", group->output.type, {rows, outputs, 1, 1});
    std::vector<ir::Value*> inputs{input_4d, group->input.scale, zero_point_of(group->input, "_x_zero_point", group->input.type),
                                   weights_4d, group->weights.scale, zero_point_of(group->weights, "_w_zero_point", DType::i8),
                                   group->output.scale, zero_point_of(group->output, "_y_zero_point", group->output.type)};
    if (group->bias) inputs.push_back(group->bias);
    const std::string description =
        op->describe() + (group->activation ? " + " + group->activation->op_type : std::string()) + " + QuantizeLinear";
    ir::Value* output = group->output.integer;
    ir::Value* input = group->input.integer;
    graph.remove_node(op);
    if (group->activation) graph.remove_node(group->activation);
    graph.remove_node(group->output.node);
    graph.add_node("Reshape", {input, add_int64_constant(graph, name + ".map_shape", {rows, depth, 1, 1})}, {input_4d},
                   name + ".to_map");
    ir::Node* fused = graph.add_node("QLinearConv", inputs, {result_4d}, name);
    fused->attributes["kernel_shape"] = integers_attribute({1, 1});
    graph.add_node("Reshape", {result_4d, add_int64_constant(graph, name + ".out_shape", {rows, outputs})}, {output},
                   name + ".to_matrix");
    result.notes.push_back("fused " + description + " into a 1x1 QLinearConv (ORT's QGemm)");
    ++result.rewrites;
  }
  // Sigmoid groups → com.microsoft QLinearSigmoid (ORT's UnaryReplaceWithQLinear), before the Mul groups so
  // that a SiLU's two halves can be joined below.
  std::vector<ir::Node*> sigmoids;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "Sigmoid")) sigmoids.push_back(node.get());
  }
  for (ir::Node* op : sigmoids) {
    std::optional<UnaryGroup> group = match_sigmoid(op, protected_names);
    if (!group) continue;
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, op->name + stem, side.type);
    };
    std::vector<ir::Value*> inputs{group->input.integer, group->input.scale, zero_point_of(group->input, "_x_zero_point"),
                                   group->output.scale, zero_point_of(group->output, "_y_zero_point")};
    const std::string description = op->describe() + " + QuantizeLinear";
    const std::string name = op->name;
    ir::Value* output = group->output.integer;
    graph.remove_node(op);
    graph.remove_node(group->output.node);
    graph.add_node("QLinearSigmoid", inputs, {output}, name, ir::microsoft_domain);
    model.opset_imports[ir::microsoft_domain] = 1;
    result.notes.push_back("fused " + description + " into QLinearSigmoid");
    ++result.rewrites;
  }
  // Softmax groups → com.microsoft QLinearSoftmax, a Transpose before it moved onto the bytes (match_softmax).
  std::vector<ir::Node*> softmaxes;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "Softmax")) softmaxes.push_back(node.get());
  }
  for (ir::Node* op : softmaxes) {
    std::optional<SoftmaxGroup> group = match_softmax(op, protected_names);
    if (!group) continue;
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, op->name + stem, side.type);
    };
    const int64_t opset = model.opset("");
    const int64_t axis = op->get_int("axis", opset < 13 ? 1 : -1);
    std::string description = op->describe() + " + QuantizeLinear";
    const std::string name = op->name;
    ir::Value* bytes = group->input.integer;
    ir::Value* output = group->output.integer;
    std::vector<ir::Value*> parameters{group->input.scale, zero_point_of(group->input, "_x_zero_point"),
                                       group->output.scale, zero_point_of(group->output, "_y_zero_point")};
    graph.remove_node(op);
    graph.remove_node(group->output.node);
    if (group->transpose) {
      ir::Node* transpose = group->transpose;
      description = transpose->describe() + " + " + description;
      const Shape shape = transpose->output(0)->type.static_shape();
      const std::string transpose_name = transpose->name;
      std::map<std::string, ir::Attribute> attributes = transpose->attributes;
      ir::Value* moved = add_typed_value(graph, transpose->output(0)->name + "_quantized", group->input.type, shape);
      graph.remove_node(transpose);
      graph.add_node("Transpose", {bytes}, {moved}, transpose_name)->attributes = std::move(attributes);
      bytes = moved;
    }
    std::vector<ir::Value*> inputs{bytes};
    inputs.insert(inputs.end(), parameters.begin(), parameters.end());
    ir::Node* fused = graph.add_node("QLinearSoftmax", inputs, {output}, name, ir::microsoft_domain);
    fused->attributes["axis"] = integer_attribute(axis);
    fused->attributes["opset"] = integer_attribute(opset);
    model.opset_imports[ir::microsoft_domain] = 1;
    result.notes.push_back("fused " + description + " into QLinearSoftmax");
    ++result.rewrites;
  }
  // Add / Mul groups → com.microsoft QLinearAdd / QLinearMul (ORT's BinaryReplaceWithQLinear).
  std::vector<ir::Node*> additions;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "Add") || is_standard(node.get(), "Mul")) additions.push_back(node.get());
  }
  for (ir::Node* op : additions) {
    std::optional<BinaryGroup> group = match_binary_group(model, op, protected_names);
    if (!group) continue;
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, op->name + stem, side.type);
    };
    std::vector<ir::Value*> inputs{group->first.integer,  group->first.scale,  zero_point_of(group->first, "_a_zero_point"),
                                   group->second.integer, group->second.scale, zero_point_of(group->second, "_b_zero_point"),
                                   group->output.scale,   zero_point_of(group->output, "_c_zero_point")};
    const std::string description =
        op->describe() + (group->activation ? " + " + group->activation->op_type : std::string()) + " + QuantizeLinear";
    const std::string name = op->name;
    const std::string fused_type = op->op_type == "Add" ? "QLinearAdd" : "QLinearMul";
    ir::Value* output = group->output.integer;
    graph.remove_node(op);
    if (group->activation) graph.remove_node(group->activation);
    graph.remove_node(group->output.node);
    graph.add_node(fused_type, inputs, {output}, name, ir::microsoft_domain);
    model.opset_imports[ir::microsoft_domain] = 1;
    result.notes.push_back("fused " + description + " into " + fused_type);
    ++result.rewrites;
  }
  // QLinearMul(x, QLinearSigmoid(x)) on x's own grid → com.npukit QLinearSiLU: ORT computes the sigmoid's byte
  // from x's byte and the product from the two, so the pair is one 256-entry table of x (qlinear_lookup.h).
  // DQ [→ Relu / Clip] → Q left in float → com.npukit QLinearClip, a table (match_requantize says why).
  std::vector<ir::Node*> quantizers;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "QuantizeLinear")) quantizers.push_back(node.get());
  }
  for (ir::Node* quantize : quantizers) {
    std::optional<RequantizeGroup> group = match_requantize(model, quantize, protected_names);
    if (!group) continue;
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, quantize->name + stem, side.type);
    };
    std::vector<ir::Value*> inputs{group->input.integer, group->input.scale, zero_point_of(group->input, "_x_zero_point"),
                                   group->output.scale, zero_point_of(group->output, "_y_zero_point")};
    const std::string description = group->input.node->describe() +
                                    (group->activation ? " + " + group->activation->op_type : std::string()) +
                                    " + QuantizeLinear";
    const std::string name = quantize->name;
    ir::Value* output = group->output.integer;
    graph.remove_node(quantize);
    if (group->activation) graph.remove_node(group->activation);
    graph.remove_node(group->input.node);
    ir::Node* fused = graph.add_node("QLinearClip", inputs, {output}, name, ir::fused_domain);
    for (const auto& [key, bound] : {std::pair<const char*, float>{"min", group->low}, {"max", group->high}}) {
      ir::Attribute attribute;
      attribute.kind = ir::Attribute::Kind::floating;
      attribute.float_value = bound;
      fused->attributes[key] = attribute;
    }
    model.opset_imports[ir::fused_domain] = 1;
    result.notes.push_back("fused " + description + " into a QLinearClip table");
    ++result.rewrites;
  }
  // The DequantizeLinear nodes the fused groups no longer read must go first: until then they still read the
  // sigmoid's output, which would not look private.
  if (result.rewrites) tidy_after_rewrites(graph);
  std::vector<ir::Node*> products;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "QLinearMul" && node->domain == ir::microsoft_domain) products.push_back(node.get());
  }
  for (ir::Node* mul : products) {
    ir::Node* sigmoid = nullptr;
    size_t other = 0;
    for (size_t gate : {size_t{0}, size_t{3}}) {
      ir::Node* producer = mul->input(gate) ? mul->input(gate)->producer : nullptr;
      if (producer && is_silu_pair(*producer, *mul, gate == 0 ? 3 : 0, protected_names)) {
        sigmoid = producer;
        other = gate == 0 ? 3 : 0;
        break;
      }
    }
    if (!sigmoid) continue;
    const size_t gate = other == 0 ? 3 : 0;
    std::vector<ir::Value*> inputs{mul->input(other), mul->input(other + 1), mul->input(other + 2),
                                   mul->input(gate + 1), mul->input(gate + 2), mul->input(6), mul->input(7)};
    const std::string name = mul->name;
    ir::Value* output = mul->output(0);
    graph.remove_node(mul);
    graph.remove_node(sigmoid);
    graph.add_node("QLinearSiLU", inputs, {output}, name, ir::fused_domain);
    model.opset_imports[ir::fused_domain] = 1;
    result.notes.push_back("joined QLinearSigmoid + QLinearMul " + name + " into one QLinearSiLU table");
    ++result.rewrites;
  }
  // GlobalAveragePool groups → com.microsoft QLinearGlobalAveragePool (ORT's UnaryReplaceWithQLinear).
  std::vector<ir::Node*> pools;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "GlobalAveragePool")) pools.push_back(node.get());
  }
  for (ir::Node* op : pools) {
    std::optional<UnaryGroup> group = match_global_average_pool(op, protected_names);
    if (!group) continue;
    ir::Value* input_zero_point = group->input.zero_point ? group->input.zero_point
                                                          : zero_point_constant(graph, op->name + "_x_zero_point", group->input.type);
    ir::Value* output_zero_point = group->output.zero_point
                                       ? group->output.zero_point
                                       : zero_point_constant(graph, op->name + "_y_zero_point", group->output.type);
    std::vector<ir::Value*> inputs{group->input.integer, group->input.scale, input_zero_point, group->output.scale,
                                   output_zero_point};
    const std::string description = op->describe() + " + QuantizeLinear";
    const std::string name = op->name;
    ir::Value* output = group->output.integer;
    graph.remove_node(op);
    graph.remove_node(group->output.node);
    ir::Node* fused = graph.add_node("QLinearGlobalAveragePool", inputs, {output}, name, ir::microsoft_domain);
    ir::Attribute channels_last;
    channels_last.kind = ir::Attribute::Kind::integer;
    channels_last.int_value = 0;
    fused->attributes["channels_last"] = channels_last;
    model.opset_imports[ir::microsoft_domain] = 1;
    result.notes.push_back("fused " + description + " into QLinearGlobalAveragePool");
    ++result.rewrites;
  }
  // MaxPool, Slice, nearest Resize and Split between equal grids run on the bytes; Concat becomes byte tables where
  // grids differ and a Concat of bytes. Both keep int8 chains channels-last (blocked_layout.h). Reshape, Transpose,
  // Flatten, Squeeze and Unsqueeze between equal grids move bytes too (ORT's DropQDQNodesRules; YOLO heads).
  std::vector<ir::Node*> movements;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "MaxPool") || is_standard(node.get(), "Slice") || is_standard(node.get(), "Concat") ||
        is_standard(node.get(), "Split") || is_shape_only(node.get()) ||
        (is_standard(node.get(), "Resize") && node->get_string("mode", "nearest") == "nearest")) {
      movements.push_back(node.get());
    }
  }
  for (ir::Node* op : movements) {
    if (op->op_type == "Split") {
      std::optional<SplitGroup> group = match_split(op, protected_names);
      if (!group) continue;
      std::vector<ir::Value*> inputs = op->inputs, outputs;
      inputs[0] = group->input.integer;
      for (const QuantizedSide& output : group->outputs) outputs.push_back(output.integer);
      std::map<std::string, ir::Attribute> attributes = op->attributes;
      const std::string name = op->name, description = op->describe();
      graph.remove_node(op);
      for (const QuantizedSide& output : group->outputs) graph.remove_node(output.node);
      graph.add_node("Split", inputs, outputs, name)->attributes = std::move(attributes);
      result.notes.push_back("dropped the DequantizeLinear / QuantizeLinear around " + description + " (one grid)");
      ++result.rewrites;
      continue;
    }
    if (op->op_type == "MaxPool" || op->op_type == "Slice" || op->op_type == "Resize" || is_shape_only(op)) {
      std::optional<MovementGroup> group = match_same_grid(op, protected_names);
      if (!group) continue;
      ir::Value* output = group->output.integer;
      ir::Node* quantize = group->output.node;
      const std::string op_type = op->op_type;
      std::vector<ir::Value*> inputs = op->inputs;
      inputs[0] = group->input.integer;
      std::map<std::string, ir::Attribute> attributes = op->attributes;
      const std::string name = op->name, description = op->describe();
      graph.remove_node(op);
      graph.remove_node(quantize);
      graph.add_node(op_type, inputs, {output}, name)->attributes = std::move(attributes);
      result.notes.push_back("dropped the DequantizeLinear / QuantizeLinear around " + description + " (one grid)");
      ++result.rewrites;
      continue;
    }
    std::optional<ConcatGroup> group = match_concat(op, protected_names);
    if (!group) continue;
    std::vector<ir::Value*> inputs;
    int tables = 0;
    for (size_t i = 0; i < group->inputs.size(); ++i) {
      const QuantizedSide& input = group->inputs[i];
      if (same_grid(input, group->output)) {
        inputs.push_back(input.integer);
        continue;
      }
      auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
        return side.zero_point ? side.zero_point : zero_point_constant(graph, op->name + stem, side.type);
      };
      ir::Value* requantized = add_typed_value(graph, input.integer->name + "_requantized", group->output.type,
                                               input.integer->type.static_shape());
      ir::Node* table = graph.add_node(
          "QLinearClip",
          {input.integer, input.scale, zero_point_of(input, "_x_zero_point_" + std::to_string(i)), group->output.scale,
           zero_point_of(group->output, "_y_zero_point")},
          {requantized}, op->name + "_requantize_" + std::to_string(i), ir::fused_domain);
      for (const char* key : {"min", "max"}) {
        ir::Attribute attribute;
        attribute.kind = ir::Attribute::Kind::floating;
        attribute.float_value = key[1] == 'i' ? -FLT_MAX : FLT_MAX;
        table->attributes[key] = attribute;
      }
      model.opset_imports[ir::fused_domain] = 1;
      inputs.push_back(requantized);
      ++tables;
    }
    ir::Value* output = group->output.integer;
    ir::Node* quantize = group->output.node;
    std::map<std::string, ir::Attribute> attributes = op->attributes;
    const std::string name = op->name, description = op->describe();
    graph.remove_node(op);
    graph.remove_node(quantize);
    graph.add_node("Concat", inputs, {output}, name)->attributes = std::move(attributes);
    result.notes.push_back("fused " + description + " + QuantizeLinear into a Concat of bytes (" +
                           std::to_string(tables) + " requantization tables)");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
