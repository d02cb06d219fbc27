#include "runtime/backend.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime {

namespace ref {

const KernelRegistry& reference_registry() {
  static const KernelRegistry registry = [] {
    KernelRegistry built;
    register_elementwise_unary_kernels(built);
    register_elementwise_binary_kernels(built);
    register_activation_kernels(built);
    register_gelu_kernels(built);
    register_cast_kernels(built);
    register_quantization_kernels(built);
    register_convolution_kernels(built);
    register_pooling_kernels(built);
    register_matmul_kernels(built);
    register_normalization_kernels(built);
    register_softmax_kernels(built);
    register_reduction_kernels(built);
    register_recurrent_kernels(built);
    register_shape_kernels(built);
    register_data_movement_kernels(built);
    register_indexing_kernels(built);
    register_generator_kernels(built);
    register_resize_kernels(built);
    register_detection_kernels(built);
    register_text_kernels(built);
    register_control_flow_kernels(built);
    register_einsum_kernels(built);
    register_loss_kernels(built);
    register_grid_sample_kernels(built);
    register_training_kernels(built);
    register_signal_processing_kernels(built);
    register_cumulative_sum_kernels(built);
    register_determinant_kernels(built);
    register_fused_convolution_kernels(built);
    return built;
  }();
  return registry;
}

}  // namespace ref

namespace {

class ReferenceExecutable final : public NodeExecutable {
 public:
  explicit ReferenceExecutable(KernelFunction function) : function_(function) {}
  void run(KernelContext& context) const override { function_(context); }

 private:
  KernelFunction function_;
};

class ReferenceBackend final : public Backend {
 public:
  std::string_view name() const override { return "ref"; }

  std::optional<std::string> unsupported_reason(const ir::Node& node, int64_t opset) const override {
    const KernelRegistry& registry = ref::reference_registry();
    if (registry.find(node.domain, node.op_type, opset)) return std::nullopt;
    std::string domain = node.domain.empty() ? "ai.onnx" : node.domain;
    if (registry.has_op(node.domain, node.op_type)) {
      return "the reference backend has no kernel for " + node.op_type + " at " + domain + " opset " +
             std::to_string(opset);
    }
    return "the reference backend has no kernel for op " + node.op_type + " (domain " + domain + ")";
  }

  std::unique_ptr<NodeExecutable> prepare(const ir::Node& node, int64_t opset) const override {
    const KernelEntry* entry = ref::reference_registry().find(node.domain, node.op_type, opset);
    if (!entry) throw Error(ErrorKind::unsupported, *unsupported_reason(node, opset), {}, node.describe());
    return std::make_unique<ReferenceExecutable>(entry->function);
  }
};

}  // namespace

const Backend& reference_backend() {
  static const ReferenceBackend backend;
  return backend;
}

}  // namespace npukit::runtime
