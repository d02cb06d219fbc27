// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool on oneDNN pooling primitives (2-D, f32), and MaxPool of
// u8 / s8 bytes (a QDQ MaxPool between equal grids, qdq_integer_fusion.cpp; held channels-last when the layout
// plan says so, blocked_layout.h: a vectorized max over whole pixels).
// ceil_mode becomes extra end padding; AveragePool with count_include_pad and ceil_mode would then count
// padding ONNX does not count, so that one combination stays on ref.
#include "runtime/kernels/cpu/blocked_layout.h"
#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/primitive_plan.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/window_geometry.h"

namespace npukit::runtime::cpu {

namespace {

using tag = dnnl::memory::format_tag;
using data_type = dnnl::memory::data_type;

bool is_global(const ir::Node& node) { return node.op_type.rfind("Global", 0) == 0; }
bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }
bool is_max(const ir::Node& node) { return node.op_type.find("Max") != std::string::npos; }

class PoolingExecutable final : public CpuExecutable {
 public:
  PoolingExecutable(const ir::Node& node, int64_t opset, bool blocked)
      : node_(node),
        opset_(opset),
        blocked_(blocked),
        type_(node.inputs[0]->type.dtype == DType::undefined ? DType::f32 : node.inputs[0]->type.dtype),
        plans_([this](const Shape& shape) { return build(shape); }) {
    const ir::Value* input = node.inputs[0];
    if (input->type.has_static_shape()) plans_.get(input->type.static_shape());
  }

  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != type_ || input.rank() != 4) {
      // Shape inference did not know the input (some exports): anything but 2-D f32 pooling goes to ref.
      const KernelEntry* reference = ref::reference_registry().find(node_.domain, node_.op_type, opset_);
      if (!reference) context.unsupported("no kernel for this " + node_.op_type);
      reference->function(context);
      return;
    }
    std::shared_ptr<const PrimitivePlan> plan = plans_.get(input.shape());
    Tensor& output = context.allocate_output(0, type_, plan->output_shape);
    execute_plan(*plan, input, nullptr, output);
  }

 private:
  std::shared_ptr<const PrimitivePlan> build(const Shape& input_shape) const {
    std::vector<Tensor> no_outputs;
    KernelContext context(node_, opset_, {}, no_outputs, nullptr);
    if (input_shape.size() != 4) context.invalid("pooling on cpu needs a 4-D input");
    const bool global = is_global(node_);
    const bool max = node_.op_type.find("Max") != std::string::npos;
    ref::WindowGeometry geometry;
    if (global) {
      geometry.kernel = {input_shape[2], input_shape[3]};
      geometry.strides = {1, 1};
      geometry.pads_begin = geometry.pads_end = {0, 0};
      geometry.output = {1, 1};
    } else {
      std::vector<int64_t> kernel = context.attribute_ints("kernel_shape");
      if (kernel.size() != 2) context.invalid("kernel_shape must have two values for a 2-D pool");
      geometry = ref::compute_window_geometry(context, {input_shape[2], input_shape[3]}, kernel, true);
    }
    dnnl::memory::dims pads_end(2);
    for (size_t axis = 0; axis < 2; ++axis) {
      // End padding that makes oneDNN's floor formula give the (possibly ceil_mode) output size.
      pads_end[axis] = (geometry.output[axis] - 1) * geometry.strides[axis] + geometry.kernel[axis] -
                       input_shape[axis + 2] - geometry.pads_begin[axis];
      if (pads_end[axis] < 0) pads_end[axis] = 0;
    }
    const bool include_padding = context.attribute_int("count_include_pad", 0) != 0;
    auto plan = std::make_shared<PrimitivePlan>();
    plan->output_shape = {input_shape[0], input_shape[1], geometry.output[0], geometry.output[1]};
    const dnnl::algorithm algorithm = max ? dnnl::algorithm::pooling_max
                                          : (include_padding ? dnnl::algorithm::pooling_avg_include_padding
                                                             : dnnl::algorithm::pooling_avg_exclude_padding);
    // Pooling works in the layout its tensors are held in (both blocked or both plain, blocked_layout.h):
    // no reorder around a memory-bound op.
    const dnnl::memory::desc source = held_desc(input_shape, type_, blocked_);
    const dnnl::memory::desc destination = held_desc(plan->output_shape, type_, blocked_);
    dnnl::primitive_attr attributes;
    attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::pooling_forward::desc description(
        dnnl::prop_kind::forward_inference, algorithm, source, destination,
        dnnl::memory::dims(geometry.strides.begin(), geometry.strides.end()),
        dnnl::memory::dims(geometry.kernel.begin(), geometry.kernel.end()),
        dnnl::memory::dims(geometry.pads_begin.begin(), geometry.pads_begin.end()), pads_end);
    dnnl::pooling_forward::primitive_desc primitive_description(description, attributes, engine());
    plan->primitive = dnnl::pooling_forward(primitive_description);
    plan->source = primitive_description.src_desc();
    plan->destination = primitive_description.dst_desc();
    plan->scratchpad_bytes = primitive_description.scratchpad_desc().get_size();
    add_reorders(*plan, source, destination, destination);
    return plan;
  }

  const ir::Node& node_;
  int64_t opset_;
  bool blocked_;
  DType type_;  // f32, or u8 / s8 for MaxPool
  PlanCache plans_;
};

}  // namespace

std::optional<std::string> pooling_unsupported_reason(const ir::Node& node, int64_t opset) {
  const ir::Value* data = node.input(0);
  const bool bytes = data && is_8bit(data->type.dtype) && is_max(node);
  if (!bytes && !inputs_are_float(node)) return "cpu pooling runs f32 only (MaxPool also u8 / s8)";
  if (node.outputs.size() > 1 && node.output(1)) return "cpu MaxPool does not produce indices";
  const ir::Value* input = node.input(0);
  // An unknown rank is accepted: run() hands anything but a 4-D f32 input to the reference kernel.
  if (!input || (input->type.shape && input->type.shape->size() != 4)) return "cpu pooling runs 2-D pools only";
  if (is_global(node)) return std::nullopt;
  for (int64_t dilation : node.get_ints("dilations", {})) {
    if (dilation != 1) return "cpu pooling has no dilation";
  }
  if (node.get_int("storage_order", 0) != 0) return "cpu MaxPool has no column-major indices";
  if (node.op_type == "AveragePool" && node.get_int("count_include_pad", 0) && node.get_int("ceil_mode", 0)) {
    return "cpu AveragePool does not combine count_include_pad with ceil_mode";
  }
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_pooling(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<PoolingExecutable>(node, opset, layouts.is_blocked(node.outputs[0]));
}

}  // namespace npukit::runtime::cpu
