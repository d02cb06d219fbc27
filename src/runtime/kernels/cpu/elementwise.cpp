// Own f32 kernels for the elementwise ops the target models spend time on: the four arithmetic ops with
// NumPy broadcasting, and the activations of runtime/fused_activation.h when they were not fused into a
// convolution. Rows of the (broadcast) output are split across the OpenMP threads; the inner loop runs
// along the last axis with the inputs' strides 1 or 0, which the compiler vectorizes. Sigmoid, Tanh and
// SiLU use the vectorized exp of vector_math.h.
#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "runtime/kernels/cpu/blocked_layout.h"
#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/vector_math.h"

namespace npukit::runtime::cpu {

namespace {

enum class BinaryOp { add, subtract, multiply, divide };

template <BinaryOp op>
inline float combine(float a, float b) {
  if constexpr (op == BinaryOp::add) return a + b;
  if constexpr (op == BinaryOp::subtract) return a - b;
  if constexpr (op == BinaryOp::multiply) return a * b;
  return a / b;
}

// The inner loop, specialised on whether each input advances along the last axis.
template <BinaryOp op, bool a_moves, bool b_moves>
void combine_row(const float* __restrict a, const float* __restrict b, float* __restrict out, int64_t count) {
  for (int64_t i = 0; i < count; ++i) out[i] = combine<op>(a[a_moves ? i : 0], b[b_moves ? i : 0]);
}

template <BinaryOp op>
void combine_broadcast(const Tensor& a, const Tensor& b, Tensor& out) {
  const Shape& shape = out.shape();
  const size_t rank = shape.size();
  // Strides of a and b in output coordinates: 0 where the input is broadcast along that axis.
  std::vector<int64_t> a_strides(rank, 0), b_strides(rank, 0);
  auto fill = [&](const Tensor& input, std::vector<int64_t>& strides) {
    int64_t stride = 1;
    const size_t offset = rank - input.rank();
    for (size_t axis = input.rank(); axis-- > 0;) {
      strides[axis + offset] = input.dim(axis) == 1 ? 0 : stride;
      stride *= input.dim(axis);
    }
  };
  fill(a, a_strides);
  fill(b, b_strides);
  const int64_t row = rank ? shape.back() : 1;
  const int64_t rows = row ? out.element_count() / row : 0;
  const bool a_moves = rank && a_strides.back() != 0, b_moves = rank && b_strides.back() != 0;
  const float* a_data = a.data<float>();
  const float* b_data = b.data<float>();
  float* out_data = out.data<float>();
#pragma omp parallel for schedule(static) if (out.element_count() > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t a_offset = 0, b_offset = 0, rest = r;
    for (size_t axis = rank == 0 ? 0 : rank - 1; axis-- > 0;) {
      const int64_t index = rest % shape[axis];
      rest /= shape[axis];
      a_offset += index * a_strides[axis];
      b_offset += index * b_strides[axis];
    }
    const float* a_row = a_data + a_offset;
    const float* b_row = b_data + b_offset;
    float* out_row = out_data + r * row;
    if (a_moves && b_moves) combine_row<op, true, true>(a_row, b_row, out_row, row);
    else if (a_moves) combine_row<op, true, false>(a_row, b_row, out_row, row);
    else if (b_moves) combine_row<op, false, true>(a_row, b_row, out_row, row);
    else combine_row<op, false, false>(a_row, b_row, out_row, row);
  }
}

// A blocked [1, C, H, W] tensor (C/block planes of H*W vectors of `block` channels) combined with one value
// per channel; `channels_left` says which side of the operator the per-channel operand is on.
template <BinaryOp op, bool channels_left>
void combine_blocked_with_channels(const float* full, const float* channels, float* out, int64_t channel_count,
                                   int64_t spatial, int64_t block) {
  const int64_t planes = channel_count / block;
#pragma omp parallel for schedule(static) if (channel_count * spatial > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* lane_values = channels + plane * block;
    const float* source = full + plane * spatial * block;
    float* target = out + plane * spatial * block;
    for (int64_t position = 0; position < spatial; ++position) {
      for (int64_t lane = 0; lane < block; ++lane) {
        const float value = source[position * block + lane];
        target[position * block + lane] = channels_left ? combine<op>(lane_values[lane], value)
                                                        : combine<op>(value, lane_values[lane]);
      }
    }
  }
}

template <BinaryOp op>
void combine_blocked(const Tensor& a, const Tensor& b, Tensor& out) {
  const Shape& shape = out.shape();
  const bool channels_left = a.element_count() != out.element_count();
  const Tensor& full = channels_left ? b : a;
  const Tensor& channels = channels_left ? a : b;
  const int64_t spatial = shape[2] * shape[3];
  if (channels_left) {
    combine_blocked_with_channels<op, true>(full.data<float>(), channels.data<float>(), out.data<float>(), shape[1],
                                            spatial, channel_block());
  } else {
    combine_blocked_with_channels<op, false>(full.data<float>(), channels.data<float>(), out.data<float>(), shape[1],
                                             spatial, channel_block());
  }
}

Shape broadcast_shape(const KernelContext& context, const Shape& a, const Shape& b) {
  Shape shape(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t da = i < shape.size() - a.size() ? 1 : a[i - (shape.size() - a.size())];
    const int64_t db = i < shape.size() - b.size() ? 1 : b[i - (shape.size() - b.size())];
    if (da != db && da != 1 && db != 1) {
      context.invalid("shapes " + shape_to_string(a) + " and " + shape_to_string(b) + " do not broadcast");
    }
    shape[i] = da == 1 ? db : da;
  }
  return shape;
}

class BinaryExecutable final : public CpuExecutable {
 public:
  BinaryExecutable(BinaryOp op, bool output_blocked) : op_(op), output_blocked_(output_blocked) {}
  // An operand with the output's size is read at the index it is written: either may be overwritten.
  std::vector<size_t> in_place_inputs() const override { return {0, 1}; }
  void run(KernelContext& context) const override {
    const Tensor& a = context.input(0);
    const Tensor& b = context.input(1);
    if (a.dtype() != DType::f32 || b.dtype() != DType::f32) context.invalid("cpu elementwise ops need f32 inputs");
    Tensor& out = context.allocate_output(0, DType::f32, broadcast_shape(context, a.shape(), b.shape()));
    // Blocked output with a per-channel operand (blocked_layout.h): channels are interleaved by block.
    // Equal shapes and scalars index alike in both layouts and take the general path.
    const bool channel_operand = is_channel_operand(a.shape(), out.shape()) || is_channel_operand(b.shape(), out.shape());
    if (output_blocked_ && channel_operand && a.element_count() != b.element_count() &&
        std::min(a.element_count(), b.element_count()) != 1) {
      switch (op_) {
        case BinaryOp::add: combine_blocked<BinaryOp::add>(a, b, out); break;
        case BinaryOp::subtract: combine_blocked<BinaryOp::subtract>(a, b, out); break;
        case BinaryOp::multiply: combine_blocked<BinaryOp::multiply>(a, b, out); break;
        case BinaryOp::divide: combine_blocked<BinaryOp::divide>(a, b, out); break;
      }
      return;
    }
    switch (op_) {
      case BinaryOp::add: combine_broadcast<BinaryOp::add>(a, b, out); break;
      case BinaryOp::subtract: combine_broadcast<BinaryOp::subtract>(a, b, out); break;
      case BinaryOp::multiply: combine_broadcast<BinaryOp::multiply>(a, b, out); break;
      case BinaryOp::divide: combine_broadcast<BinaryOp::divide>(a, b, out); break;
    }
  }

 private:
  BinaryOp op_;
  bool output_blocked_;
};

// Applies a float -> float map to every element; the map is a plain expression the compiler vectorizes.
template <typename Map>
void map_elements(const float* in, float* out, int64_t count, Map map) {
#pragma omp parallel for schedule(static) if (count > 32768)
  for (int64_t i = 0; i < count; ++i) out[i] = map(in[i]);
}


// The exp-based activations go through vector_math (AVX2 when the machine has it); the piecewise-linear
// ones are loops the compiler vectorizes, each spelled exactly as ir::FusedActivation::apply so cpu and ref
// agree bit for bit.
class ActivationExecutable final : public CpuExecutable {
 public:
  explicit ActivationExecutable(ir::FusedActivation activation) : activation_(activation) {}
  std::vector<size_t> in_place_inputs() const override { return {0}; }
  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32) context.invalid("cpu activations need an f32 input");
    Tensor& out = context.allocate_output(0, DType::f32, input.shape());
    const float* in = input.data<float>();
    float* result = out.data<float>();
    const int64_t count = input.element_count();
    const float alpha = activation_.alpha, beta = activation_.beta;
    switch (activation_.kind) {
      case ir::ActivationKind::sigmoid: vector_math::apply_in_parallel(vector_math::sigmoid, in, result, count); return;
      case ir::ActivationKind::tanh: vector_math::apply_in_parallel(vector_math::tanh, in, result, count); return;
      case ir::ActivationKind::silu: vector_math::apply_in_parallel(vector_math::silu, in, result, count); return;
      case ir::ActivationKind::relu: map_elements(in, result, count, [](float x) { return x > 0 ? x : 0.0f; }); return;
      case ir::ActivationKind::leaky_relu:
        map_elements(in, result, count, [alpha](float x) { return x >= 0 ? x : alpha * x; });
        return;
      case ir::ActivationKind::clip:
        map_elements(in, result, count, [alpha, beta](float x) { return std::min(std::max(x, alpha), beta); });
        return;
      case ir::ActivationKind::hard_sigmoid:
        map_elements(in, result, count,
                     [alpha, beta](float x) { return std::max(0.0f, std::min(1.0f, alpha * x + beta)); });
        return;
      case ir::ActivationKind::hard_swish:
        map_elements(in, result, count,
                     [](float x) { return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f)); });
        return;
      case ir::ActivationKind::none:
      case ir::ActivationKind::gelu: break;
    }
    const ir::FusedActivation activation = activation_;
    map_elements(in, result, count, [activation](float x) { return activation.apply(x); });
  }

 private:
  ir::FusedActivation activation_;
};

std::optional<BinaryOp> binary_op(const std::string& op_type) {
  if (op_type == "Add") return BinaryOp::add;
  if (op_type == "Sub") return BinaryOp::subtract;
  if (op_type == "Mul") return BinaryOp::multiply;
  if (op_type == "Div") return BinaryOp::divide;
  return std::nullopt;
}

// The activation a plain ONNX activation node computes; nullopt when its parameters are not constant.
std::optional<ir::FusedActivation> node_activation(const ir::Node& node) {
  ir::FusedActivation activation;
  if (node.op_type == "Relu") activation.kind = ir::ActivationKind::relu;
  else if (node.op_type == "Sigmoid") activation.kind = ir::ActivationKind::sigmoid;
  else if (node.op_type == "Tanh") activation.kind = ir::ActivationKind::tanh;
  else if (node.op_type == "HardSwish") activation.kind = ir::ActivationKind::hard_swish;
  else if (node.op_type == "LeakyRelu") {
    activation.kind = ir::ActivationKind::leaky_relu;
    activation.alpha = static_cast<float>(node.get_float("alpha", 0.01));
  } else if (node.op_type == "HardSigmoid") {
    activation.kind = ir::ActivationKind::hard_sigmoid;
    activation.alpha = static_cast<float>(node.get_float("alpha", 0.2));
    activation.beta = static_cast<float>(node.get_float("beta", 0.5));
  } else if (node.op_type == "Clip") {
    // Bounds: attributes before opset 11, constant inputs after (absent = unbounded).
    activation.kind = ir::ActivationKind::clip;
    activation.alpha = -FLT_MAX;
    activation.beta = FLT_MAX;
    if (node.has_attribute("min") || node.has_attribute("max")) {
      activation.alpha = static_cast<float>(node.get_float("min", -FLT_MAX));
      activation.beta = static_cast<float>(node.get_float("max", FLT_MAX));
    }
    for (size_t i = 1; i < 3; ++i) {
      const ir::Value* bound = node.input(i);
      if (!bound) continue;
      if (!bound->initializer || bound->initializer->element_count() != 1) return std::nullopt;
      (i == 1 ? activation.alpha : activation.beta) = static_cast<float>(bound->initializer->value_as_double(0));
    }
  } else {
    return std::nullopt;
  }
  return activation;
}

// Inference BatchNormalization as a per-channel affine map, its scale and shift computed once.
class BatchNormExecutable final : public CpuExecutable {
 public:
  explicit BatchNormExecutable(const ir::Node& node) : blocked_(is_held_blocked(node.outputs[0])) {
    const Tensor& gamma = *node.inputs[1]->initializer;
    const Tensor& beta = *node.inputs[2]->initializer;
    const Tensor& mean = *node.inputs[3]->initializer;
    const Tensor& variance = *node.inputs[4]->initializer;
    const double epsilon = node.get_float("epsilon", 1e-5);
    for (int64_t c = 0; c < gamma.element_count(); ++c) {
      const double factor = gamma.data<float>()[c] / std::sqrt(double(variance.data<float>()[c]) + epsilon);
      scale_.push_back(static_cast<float>(factor));
      shift_.push_back(static_cast<float>(beta.data<float>()[c] - mean.data<float>()[c] * factor));
    }
  }
  std::vector<size_t> in_place_inputs() const override { return {0}; }
  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32 || input.rank() < 2 || input.dim(1) != static_cast<int64_t>(scale_.size())) {
      context.invalid("BatchNormalization needs an f32 input with " + std::to_string(scale_.size()) + " channels");
    }
    Tensor& out = context.allocate_output(0, DType::f32, input.shape());
    const int64_t channels = input.dim(1);
    const int64_t inner = input.element_count() / std::max<int64_t>(1, input.dim(0) * channels);
    const int64_t planes = input.dim(0) * channels;
    const float* in = input.data<float>();
    float* result = out.data<float>();
    if (blocked_) {  // [C/block][H*W][block]: scale and shift vary along the innermost axis
      const int64_t block = channel_block();
#pragma omp parallel for schedule(static) if (input.element_count() > 32768)
      for (int64_t plane = 0; plane < channels / block; ++plane) {
        const float* scale = scale_.data() + plane * block;
        const float* shift = shift_.data() + plane * block;
        for (int64_t position = 0; position < inner; ++position) {
          const float* source = in + (plane * inner + position) * block;
          float* target = result + (plane * inner + position) * block;
          for (int64_t lane = 0; lane < block; ++lane) target[lane] = source[lane] * scale[lane] + shift[lane];
        }
      }
      return;
    }
#pragma omp parallel for schedule(static) if (input.element_count() > 32768)
    for (int64_t plane = 0; plane < planes; ++plane) {
      const float scale = scale_[static_cast<size_t>(plane % channels)], shift = shift_[static_cast<size_t>(plane % channels)];
      const float* source = in + plane * inner;
      float* target = result + plane * inner;
      for (int64_t i = 0; i < inner; ++i) target[i] = source[i] * scale + shift;
    }
  }

 private:
  bool blocked_;
  std::vector<float> scale_, shift_;
};

bool is_inference_batch_norm(const ir::Node& node) {
  if (node.op_type != "BatchNormalization" || node.get_int("training_mode", 0) != 0) return false;
  if (node.output(1) || node.output(2) || node.inputs.size() != 5) return false;
  const ir::Value* gamma = node.input(1);
  if (!gamma || !gamma->initializer || gamma->initializer->rank() != 1) return false;
  for (size_t i = 1; i < 5; ++i) {
    const ir::Value* input = node.input(i);
    if (!input || !input->initializer || input->initializer->dtype() != DType::f32 ||
        input->initializer->element_count() != gamma->initializer->element_count()) {
      return false;
    }
  }
  return true;
}

bool all_declared_f32(const ir::Node& node) {
  for (const ir::Value* input : node.inputs) {
    if (!input || input->type.dtype != DType::f32) return false;
  }
  return !node.inputs.empty();
}

}  // namespace

std::optional<std::string> elementwise_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (node.op_type == "BatchNormalization") {
    if (!is_inference_batch_norm(node)) return "cpu BatchNormalization needs inference mode and constant statistics";
    return node.input(0)->type.dtype == DType::f32 ? std::nullopt
                                                   : std::optional<std::string>("cpu BatchNormalization runs f32 only");
  }
  if (!binary_op(node.op_type) && !node_activation(node)) return "no cpu kernel for " + node.op_type;
  if (!all_declared_f32(node)) return "cpu elementwise kernels run inputs declared f32 only";
  if (binary_op(node.op_type) && node.inputs.size() != 2) return node.op_type + " needs two inputs";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_elementwise(const ir::Node& node, int64_t opset) {
  if (node.op_type == "BatchNormalization") return std::make_unique<BatchNormExecutable>(node);
  if (std::optional<BinaryOp> op = binary_op(node.op_type)) {
    return std::make_unique<BinaryExecutable>(*op, is_held_blocked(node.outputs[0]));
  }
  return std::make_unique<ActivationExecutable>(*node_activation(node));
}

}  // namespace npukit::runtime::cpu
