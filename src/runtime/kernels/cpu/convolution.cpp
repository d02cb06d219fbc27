// Conv and com.npukit FusedConv on oneDNN: one convolution primitive per input shape, bias, residual sum
// and activation fused as post-ops, weights reordered once into the layout the primitive chose
// (format_tag::any) when the session is created.
#include "runtime/kernels/cpu/blocked_layout.h"
#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/primitive_plan.h"
#include "runtime/kernels/ref/window_geometry.h"

#include <cstring>
#include <string>

namespace npukit::runtime::cpu {

namespace {

using tag = dnnl::memory::format_tag;
using data_type = dnnl::memory::data_type;

// oneDNN 2.6's brgemm convolution on NHWC beats its blocked (nChw16c) direct kernel on 3x3 convolutions
// over small maps with enough channels (ResNet50's layers 2-4: 1.69 -> 1.36 ms at 28x28x128, 1.99 -> 1.41 ms
// at 7x7x512, whole model 3-6% faster with the reorders around them), but not on 1x1 convolutions or on
// large maps (a 1x1 64->64 at 160x160: 2.3 -> 4.0 ms). Such convolutions run NHWC; their tensors stay held as
// before and are reordered around them (small, since the maps are).
bool prefers_channels_last(int64_t group, const std::vector<int64_t>& kernel, const Shape& input_shape) {
  return group == 1 && kernel == std::vector<int64_t>{3, 3} && input_shape[2] * input_shape[3] <= 28 * 28 &&
         input_shape[1] >= 64;
}

class ConvolutionExecutable final : public CpuExecutable {
 public:
  ConvolutionExecutable(const ir::Node& node, int64_t opset)
      : node_(node), opset_(opset), plans_([this](const Shape& shape) { return build(shape); }) {
    weights_ = *node.inputs[1]->initializer;
    if (node.input(2)) bias_ = *node.inputs[2]->initializer;
    if (node.domain == ir::fused_domain) activation_ = ir::read_fused_activation(node);
    has_residual_ = node.input(3) != nullptr;
    input_blocked_ = is_held_blocked(node.inputs[0]);
    residual_blocked_ = has_residual_ && is_held_blocked(node.inputs[3]);
    output_blocked_ = is_held_blocked(node.outputs[0]);
    const ir::Value* input = node.inputs[0];
    // Static input shape: plan (and pack the weights) now, at session creation.
    if (input->type.has_static_shape()) {
      std::shared_ptr<const PrimitivePlan> plan = plans_.get(input->type.static_shape());
      // The output may take the residual's buffer unless the residual is reordered straight into it.
      residual_in_place_ = has_residual_ && !(plan->residual_reorder && !plan->destination_reorder);
    }
  }

  std::vector<size_t> in_place_inputs() const override {
    return residual_in_place_ ? std::vector<size_t>{3} : std::vector<size_t>{};
  }

  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32 || input.rank() != 4) context.invalid("Conv on cpu needs an f32 NCHW input");
    std::shared_ptr<const PrimitivePlan> plan = plans_.get(input.shape());
    const Tensor* residual = has_residual_ ? &context.input(3) : nullptr;
    if (residual && (residual->dtype() != DType::f32 || residual->shape() != plan->output_shape)) {
      context.invalid("the residual input must be f32 with the output's shape " + shape_to_string(plan->output_shape));
    }
    Tensor& output = context.allocate_output(0, DType::f32, plan->output_shape);
    execute_plan(*plan, input, residual, output);
  }

 private:
  std::shared_ptr<const PrimitivePlan> build(const Shape& input_shape) const {
    std::vector<Tensor> no_outputs;
    KernelContext context(node_, opset_, {}, no_outputs, nullptr);  // for attribute reading and errors
    const Shape& weight_shape = weights_.shape();
    if (weight_shape.size() != 4) context.invalid("the weights must be 4-D for a 2-D convolution");
    const int64_t group = context.attribute_int("group", 1);
    const int64_t channels = input_shape[1], output_channels = weight_shape[0];
    if (group <= 0 || channels % group || output_channels % group || weight_shape[1] * group != channels) {
      context.invalid("input channels " + std::to_string(channels) + ", weights " + shape_to_string(weight_shape) +
                      " and group " + std::to_string(group) + " do not agree");
    }
    std::vector<int64_t> kernel = context.attribute_ints("kernel_shape", {weight_shape[2], weight_shape[3]});
    if (kernel != std::vector<int64_t>{weight_shape[2], weight_shape[3]}) {
      context.invalid("kernel_shape does not match the weights");
    }
    const ref::WindowGeometry geometry =
        ref::compute_window_geometry(context, {input_shape[2], input_shape[3]}, kernel, false);
    auto plan = std::make_shared<PrimitivePlan>();
    plan->output_shape = {input_shape[0], output_channels, geometry.output[0], geometry.output[1]};
    plan->has_residual = has_residual_;

    const dnnl::memory::dims strides(geometry.strides.begin(), geometry.strides.end());
    const dnnl::memory::dims dilations{geometry.dilations[0] - 1, geometry.dilations[1] - 1};
    const dnnl::memory::dims pads_begin(geometry.pads_begin.begin(), geometry.pads_begin.end());
    const dnnl::memory::dims pads_end(geometry.pads_end.begin(), geometry.pads_end.end());
    const dnnl::memory::dims weight_dims =
        group == 1 ? to_dims(weight_shape)
                   : dnnl::memory::dims{group, output_channels / group, weight_shape[1], kernel[0], kernel[1]};
    const dnnl::memory::desc plain_weights(weight_dims, data_type::f32, group == 1 ? tag::oihw : tag::goihw);
    // A blocked neighbour fixes the layout on that side; the other side follows it when its channels fill
    // whole blocks (oneDNN's depthwise kernels want the same layout on both sides, and left to choose with
    // one side fixed it can land on its reference kernel); otherwise oneDNN chooses (any) and we reorder.
    const int64_t block = channel_block();
    const bool blocked_source = input_blocked_ || (output_blocked_ && input_shape[1] % block == 0);
    const bool blocked_destination = output_blocked_ || (input_blocked_ && output_channels % block == 0);
    const dnnl::memory::desc any_source =
        blocked_source ? held_desc(input_shape, true) : dnnl::memory::desc(to_dims(input_shape), data_type::f32, tag::any);
    const dnnl::memory::desc any_weights(weight_dims, data_type::f32, tag::any);
    const dnnl::memory::desc any_destination =
        blocked_destination ? held_desc(plan->output_shape, true)
                            : dnnl::memory::desc(to_dims(plan->output_shape), data_type::f32, tag::any);
    const dnnl::memory::desc bias_desc =
        bias_.empty() ? dnnl::memory::desc() : dnnl::memory::desc({output_channels}, data_type::f32, tag::a);

    dnnl::post_ops post_ops;
    if (has_residual_) post_ops.append_sum(1.0f);
    append_activation(post_ops, activation_);
    dnnl::primitive_attr attributes;
    attributes.set_post_ops(post_ops);
    attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);

    auto describe = [&](const dnnl::memory::desc& source, const dnnl::memory::desc& destination) {
      dnnl::convolution_forward::desc description(dnnl::prop_kind::forward_inference,
                                                  dnnl::algorithm::convolution_direct, source, any_weights,
                                                  bias_desc, destination, strides, dilations, pads_begin, pads_end);
      return dnnl::convolution_forward::primitive_desc(description, attributes, engine());
    };
    dnnl::convolution_forward::primitive_desc primitive_description = describe(any_source, any_destination);
    if (prefers_channels_last(group, kernel, input_shape)) {
      const dnnl::memory::desc nhwc_source(to_dims(input_shape), data_type::f32, tag::nhwc);
      const dnnl::memory::desc nhwc_destination(to_dims(plan->output_shape), data_type::f32, tag::nhwc);
      primitive_description = describe(nhwc_source, nhwc_destination);
    }
    if (std::string(primitive_description.impl_info_str()).rfind("ref", 0) == 0) {
      // No optimized kernel for those layouts (grouped convolutions whose groups do not fill whole blocks):
      // plain NCHW on the free sides gets oneDNN's im2col + GEMM kernel, far faster than the reference one.
      const dnnl::memory::desc plain_source =
          input_blocked_ ? held_desc(input_shape, true) : dnnl::memory::desc(to_dims(input_shape), data_type::f32, tag::nchw);
      const dnnl::memory::desc plain_destination =
          output_blocked_ ? held_desc(plan->output_shape, true)
                          : dnnl::memory::desc(to_dims(plan->output_shape), data_type::f32, tag::nchw);
      dnnl::convolution_forward::primitive_desc retry = describe(plain_source, plain_destination);
      if (std::string(retry.impl_info_str()).rfind("ref", 0) != 0) primitive_description = retry;
    }
    plan->primitive = dnnl::convolution_forward(primitive_description);
    plan->source = primitive_description.src_desc();
    plan->destination = primitive_description.dst_desc();
    plan->scratchpad_bytes = primitive_description.scratchpad_desc().get_size();

    // Weights are packed once here: reorder from OIHW into the primitive's blocked layout.
    pack_weights_and_bias(*plan, plain_weights, primitive_description.weights_desc(), weights_, bias_desc, bias_);
    add_reorders(*plan, held_desc(input_shape, input_blocked_), held_desc(plan->output_shape, output_blocked_),
                 held_desc(plan->output_shape, residual_blocked_));
    return plan;
  }

  const ir::Node& node_;
  int64_t opset_;
  Tensor weights_, bias_;
  ir::FusedActivation activation_;
  bool has_residual_ = false;
  bool input_blocked_ = false, residual_blocked_ = false, output_blocked_ = false;
  bool residual_in_place_ = false;
  PlanCache plans_;
};

// ConvTranspose on oneDNN's deconvolution: weights [C_in, C_out / group, kH, kW] read as oneDNN's
// (g)iohw and packed once; plain tensors on both sides (reordered around the primitive).
class DeconvolutionExecutable final : public CpuExecutable {
 public:
  DeconvolutionExecutable(const ir::Node& node, int64_t opset)
      : node_(node), opset_(opset), plans_([this](const Shape& shape) { return build(shape); }) {
    weights_ = *node.inputs[1]->initializer;
    if (node.input(2)) bias_ = *node.inputs[2]->initializer;
    if (node.inputs[0]->type.has_static_shape()) plans_.get(node.inputs[0]->type.static_shape());
  }

  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32 || input.rank() != 4) context.invalid("ConvTranspose on cpu needs an f32 NCHW input");
    std::shared_ptr<const PrimitivePlan> plan = plans_.get(input.shape());
    Tensor& output = context.allocate_output(0, DType::f32, plan->output_shape);
    execute_plan(*plan, input, nullptr, output);
  }

 private:
  std::shared_ptr<const PrimitivePlan> build(const Shape& input_shape) const {
    std::vector<Tensor> no_outputs;
    KernelContext context(node_, opset_, {}, no_outputs, nullptr);
    const Shape& weight_shape = weights_.shape();
    const int64_t group = context.attribute_int("group", 1);
    if (input_shape.size() != 4 || group <= 0 || input_shape[1] != weight_shape[0] || weight_shape[0] % group) {
      context.invalid("input " + shape_to_string(input_shape) + ", weights " + shape_to_string(weight_shape) +
                      " and group " + std::to_string(group) + " do not agree");
    }
    const int64_t output_channels = weight_shape[1] * group;
    const std::vector<int64_t> strides = context.attribute_ints("strides", {1, 1});
    const std::vector<int64_t> dilations = context.attribute_ints("dilations", {1, 1});
    const std::vector<int64_t> pads = context.attribute_ints("pads", {0, 0, 0, 0});
    if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4) context.invalid("2-D attributes expected");
    auto plan = std::make_shared<PrimitivePlan>();
    plan->output_shape = {input_shape[0], output_channels, 0, 0};
    for (size_t axis = 0; axis < 2; ++axis) {
      plan->output_shape[axis + 2] = strides[axis] * (input_shape[axis + 2] - 1) +
                                     (weight_shape[axis + 2] - 1) * dilations[axis] + 1 - pads[axis] - pads[axis + 2];
      if (plan->output_shape[axis + 2] <= 0) context.invalid("the output would be empty");
    }
    const dnnl::memory::dims weight_dims =
        group == 1 ? dnnl::memory::dims{output_channels, weight_shape[0], weight_shape[2], weight_shape[3]}
                   : dnnl::memory::dims{group, weight_shape[1], weight_shape[0] / group, weight_shape[2], weight_shape[3]};
    const dnnl::memory::desc plain_weights(weight_dims, data_type::f32, group == 1 ? tag::iohw : tag::giohw);
    const dnnl::memory::desc any_weights(weight_dims, data_type::f32, tag::any);
    const dnnl::memory::desc bias_desc =
        bias_.empty() ? dnnl::memory::desc() : dnnl::memory::desc({output_channels}, data_type::f32, tag::a);
    dnnl::primitive_attr attributes;
    attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::deconvolution_forward::desc description(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
        dnnl::memory::desc(to_dims(input_shape), data_type::f32, tag::any), any_weights, bias_desc,
        dnnl::memory::desc(to_dims(plan->output_shape), data_type::f32, tag::any), {strides[0], strides[1]},
        {dilations[0] - 1, dilations[1] - 1}, {pads[0], pads[1]}, {pads[2], pads[3]});
    dnnl::deconvolution_forward::primitive_desc primitive_description(description, attributes, engine());
    plan->primitive = dnnl::deconvolution_forward(primitive_description);
    plan->source = primitive_description.src_desc();
    plan->destination = primitive_description.dst_desc();
    plan->scratchpad_bytes = primitive_description.scratchpad_desc().get_size();
    pack_weights_and_bias(*plan, plain_weights, primitive_description.weights_desc(), weights_, bias_desc, bias_);
    add_reorders(*plan, input_shape);
    return plan;
  }

  const ir::Node& node_;
  int64_t opset_;
  Tensor weights_, bias_;
  PlanCache plans_;
};

}  // namespace

std::optional<std::string> deconvolution_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (!inputs_are_float(node)) return "cpu ConvTranspose runs f32 only";
  const ir::Value* weights = node.input(1);
  if (!weights || !weights->initializer || weights->initializer->dtype() != DType::f32 ||
      weights->initializer->rank() != 4) {
    return "cpu ConvTranspose needs constant 2-D f32 weights";
  }
  const ir::Value* bias = node.input(2);
  if (bias && (!bias->initializer || bias->initializer->dtype() != DType::f32)) return "cpu ConvTranspose needs a constant bias";
  if (node.get_string("auto_pad", "NOTSET") != "NOTSET" || node.has_attribute("output_shape")) {
    return "cpu ConvTranspose takes explicit pads only";
  }
  for (int64_t padding : node.get_ints("output_padding", {})) {
    if (padding != 0) return "cpu ConvTranspose has no output_padding";
  }
  for (int64_t pad : node.get_ints("pads", {})) {
    if (pad < 0) return "negative pads";
  }
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_deconvolution(const ir::Node& node, int64_t opset) {
  if (is_patch_deconvolution(node)) return prepare_patch_deconvolution(node, opset);
  return std::make_unique<DeconvolutionExecutable>(node, opset);
}

std::optional<std::string> convolution_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (!inputs_are_float(node)) return "cpu Conv runs f32 only";
  const ir::Value* weights = node.input(1);
  if (!weights || !weights->initializer) return "cpu Conv needs constant weights";
  if (weights->initializer->dtype() != DType::f32 || weights->initializer->rank() != 4) {
    return "cpu Conv runs 2-D f32 convolutions only";
  }
  const ir::Value* bias = node.input(2);
  if (bias && (!bias->initializer || bias->initializer->dtype() != DType::f32)) return "cpu Conv needs a constant f32 bias";
  const ir::Value* input = node.input(0);
  if (input && input->type.shape && input->type.shape->size() != 4) return "cpu Conv needs a 4-D input";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_convolution(const ir::Node& node, int64_t opset) {
  return std::make_unique<ConvolutionExecutable>(node, opset);
}

void append_activation(dnnl::post_ops& post_ops, const ir::FusedActivation& activation) {
  using algorithm = dnnl::algorithm;
  switch (activation.kind) {
    case ir::ActivationKind::none: return;
    case ir::ActivationKind::relu: post_ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f); return;
    case ir::ActivationKind::leaky_relu:
      post_ops.append_eltwise(1.0f, algorithm::eltwise_relu, activation.alpha, 0.0f);
      return;
    case ir::ActivationKind::clip:
      post_ops.append_eltwise(1.0f, algorithm::eltwise_clip, activation.alpha, activation.beta);
      return;
    case ir::ActivationKind::sigmoid: post_ops.append_eltwise(1.0f, algorithm::eltwise_logistic, 0.0f, 0.0f); return;
    case ir::ActivationKind::tanh: post_ops.append_eltwise(1.0f, algorithm::eltwise_tanh, 0.0f, 0.0f); return;
    case ir::ActivationKind::hard_sigmoid:
      post_ops.append_eltwise(1.0f, algorithm::eltwise_linear, activation.alpha, activation.beta);
      post_ops.append_eltwise(1.0f, algorithm::eltwise_clip, 0.0f, 1.0f);
      return;
    case ir::ActivationKind::hard_swish: post_ops.append_eltwise(1.0f, algorithm::eltwise_hardswish, 0.0f, 0.0f); return;
    case ir::ActivationKind::silu: post_ops.append_eltwise(1.0f, algorithm::eltwise_swish, 1.0f, 0.0f); return;
    case ir::ActivationKind::gelu: post_ops.append_eltwise(1.0f, algorithm::eltwise_gelu_erf, 0.0f, 0.0f); return;
  }
}

bool inputs_are_float(const ir::Node& node) {
  for (const ir::Value* input : node.inputs) {
    if (input && input->type.dtype != DType::f32 && input->type.dtype != DType::undefined) return false;
  }
  return true;
}

}  // namespace npukit::runtime::cpu
