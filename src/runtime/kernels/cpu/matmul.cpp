// Gemm and MatMul with constant weights on oneDNN's matmul primitive: the activations flattened to
// [rows, K], the weights packed once (format_tag::any) at session creation, Gemm's C as the bias.
// A MatMul of two activations (attention) or a Gemm with alpha/beta != 1 or transA stays on ref.
#include <cstring>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/primitive_plan.h"

namespace npukit::runtime::cpu {

namespace {

using tag = dnnl::memory::format_tag;
using data_type = dnnl::memory::data_type;

class MatMulExecutable final : public CpuExecutable {
 public:
  explicit MatMulExecutable(const ir::Node& node)
      : node_(node), plans_([this](const Shape& shape) { return build(shape); }) {
    const Tensor& weights = *node.inputs[1]->initializer;
    transposed_ = node.op_type == "Gemm" && node.get_int("transB", 0) != 0;
    depth_ = transposed_ ? weights.dim(1) : weights.dim(0);
    columns_ = transposed_ ? weights.dim(0) : weights.dim(1);
    weights_ = weights;
    if (node.op_type == "Gemm" && node.input(2)) bias_ = *node.inputs[2]->initializer;
    const ir::Value* input = node.inputs[0];
    if (input->type.has_static_shape()) plans_.get(flattened(input->type.static_shape()));
  }

  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32 || input.rank() < 2) context.invalid("cpu MatMul needs an f32 input of rank >= 2");
    if (node_.op_type == "Gemm" && input.rank() != 2) context.invalid("Gemm needs a 2-D input");
    if (input.shape().back() != depth_) {
      context.invalid("input " + shape_to_string(input.shape()) + " does not match the weights' inner size " +
                      std::to_string(depth_));
    }
    std::shared_ptr<const PrimitivePlan> plan = plans_.get(flattened(input.shape()));
    Shape output_shape = input.shape();
    output_shape.back() = columns_;
    Tensor& output = context.allocate_output(0, DType::f32, output_shape);
    execute_plan(*plan, input, nullptr, output);
  }

 private:
  static Shape flattened(const Shape& shape) {
    int64_t rows = 1;
    for (size_t axis = 0; axis + 1 < shape.size(); ++axis) rows *= shape[axis];
    return {rows, shape.back()};
  }

  std::shared_ptr<const PrimitivePlan> build(const Shape& input_shape) const {
    auto plan = std::make_shared<PrimitivePlan>();
    const int64_t rows = input_shape[0];
    plan->output_shape = {rows, columns_};
    const dnnl::memory::desc source({rows, depth_}, data_type::f32, tag::ab);
    const dnnl::memory::desc any_weights({depth_, columns_}, data_type::f32, tag::any);
    const dnnl::memory::desc destination({rows, columns_}, data_type::f32, tag::ab);
    const dnnl::memory::desc bias_desc =
        bias_.empty() ? dnnl::memory::desc() : dnnl::memory::desc({1, columns_}, data_type::f32, tag::ab);
    dnnl::primitive_attr attributes;
    attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::matmul::desc description(source, any_weights, bias_desc, destination);
    dnnl::matmul::primitive_desc primitive_description(description, attributes, engine());
    plan->primitive = dnnl::matmul(primitive_description);
    plan->source = primitive_description.src_desc();
    plan->destination = primitive_description.dst_desc();
    plan->scratchpad_bytes = primitive_description.scratchpad_desc().get_size();
    // Weights packed once: B as [K, N] (Gemm's transB reads the [N, K] data as its transpose).
    const dnnl::memory::desc plain_weights({depth_, columns_}, data_type::f32, transposed_ ? tag::ba : tag::ab);
    pack_weights_and_bias(*plan, plain_weights, primitive_description.weights_desc(), weights_, bias_desc, bias_);
    add_reorders(*plan, input_shape);
    return plan;
  }

  const ir::Node& node_;
  bool transposed_ = false;
  int64_t depth_ = 0, columns_ = 0;
  Tensor weights_, bias_;
  PlanCache plans_;
};

}  // namespace

std::optional<std::string> matmul_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (!inputs_are_float(node)) return "cpu " + node.op_type + " runs f32 only";
  const ir::Value* weights = node.input(1);
  if (!weights || !weights->initializer || weights->initializer->dtype() != DType::f32 ||
      weights->initializer->rank() != 2) {
    return "cpu " + node.op_type + " needs constant 2-D f32 weights";
  }
  if (node.op_type == "Gemm") {
    if (node.get_int("transA", 0) != 0) return "cpu Gemm does not transpose A";
    if (node.get_float("alpha", 1.0) != 1.0 || node.get_float("beta", 1.0) != 1.0) return "cpu Gemm needs alpha = beta = 1";
    const ir::Value* bias = node.input(2);
    if (bias) {
      const int64_t columns = node.get_int("transB", 0) ? weights->initializer->dim(0) : weights->initializer->dim(1);
      if (!bias->initializer || bias->initializer->dtype() != DType::f32 ||
          bias->initializer->element_count() != columns || bias->initializer->rank() > 2 ||
          (bias->initializer->rank() == 2 && bias->initializer->dim(0) != 1)) {
        return "cpu Gemm needs C to be a constant bias of one value per column";
      }
    }
  }
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_matmul(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<MatMulExecutable>(node);
}

}  // namespace npukit::runtime::cpu
