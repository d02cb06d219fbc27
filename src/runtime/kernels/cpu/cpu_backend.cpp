// The cpu backend: oneDNN primitives for convolution and pooling, own OpenMP/AVX2 kernels for the
// elementwise ops, Softmax, Resize and the data-movement ops (Concat, Slice, Split, Transpose). Nodes it
// does not cover run on ref (the executor falls back per node).
#include <map>

#include "runtime/kernels/cpu/cpu_backend.h"
#include "runtime/kernels/cpu/blocked_layout.h"
#include "runtime/kernels/cpu/cpu_kernels.h"
#include "ir/microsoft_domain.h"

namespace npukit::runtime {

namespace {

const std::map<std::pair<std::string, std::string>, cpu::CpuOp>& cpu_ops() {
  static const std::map<std::pair<std::string, std::string>, cpu::CpuOp> ops = [] {
    std::map<std::pair<std::string, std::string>, cpu::CpuOp> built;
    const cpu::CpuOp convolution{cpu::convolution_unsupported_reason, cpu::prepare_convolution};
    const cpu::CpuOp pooling{cpu::pooling_unsupported_reason, cpu::prepare_pooling};
    const cpu::CpuOp elementwise{cpu::elementwise_unsupported_reason, cpu::prepare_elementwise};
    built[{"", "Conv"}] = convolution;
    built[{ir::fused_domain, "FusedConv"}] = convolution;
    for (const char* op : {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}) built[{"", op}] = pooling;
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid",
                           "HardSwish", "Clip", "BatchNormalization"}) {
      built[{"", op}] = elementwise;
    }
    built[{"", "ConvTranspose"}] = cpu::CpuOp{cpu::deconvolution_unsupported_reason, cpu::prepare_deconvolution};
    built[{"", "Gemm"}] = built[{"", "MatMul"}] = cpu::CpuOp{cpu::matmul_unsupported_reason, cpu::prepare_matmul};
    built[{"", "Gelu"}] = cpu::CpuOp{cpu::gelu_unsupported_reason, cpu::prepare_gelu};
    built[{"", "Concat"}] = cpu::CpuOp{cpu::concat_unsupported_reason, cpu::prepare_concat};
    built[{"", "Resize"}] = cpu::CpuOp{cpu::resize_unsupported_reason, cpu::prepare_resize};
    built[{"", "Slice"}] = cpu::CpuOp{cpu::slice_unsupported_reason, cpu::prepare_slice};
    built[{"", "Split"}] = cpu::CpuOp{cpu::split_unsupported_reason, cpu::prepare_split};
    built[{"", "Transpose"}] = cpu::CpuOp{cpu::transpose_unsupported_reason, cpu::prepare_transpose};
    built[{"", "Softmax"}] = built[{"", "LogSoftmax"}] = cpu::CpuOp{cpu::softmax_unsupported_reason, cpu::prepare_softmax};
    built[{"", "QLinearConv"}] = cpu::CpuOp{cpu::qlinear_convolution_unsupported_reason, cpu::prepare_qlinear_convolution};
    built[{"", "QLinearMatMul"}] = cpu::CpuOp{cpu::qlinear_matmul_unsupported_reason, cpu::prepare_qlinear_matmul};
    built[{ir::microsoft_domain, "QLinearAdd"}] = cpu::CpuOp{cpu::qlinear_add_unsupported_reason, cpu::prepare_qlinear_add};
    built[{ir::microsoft_domain, "QLinearMul"}] = cpu::CpuOp{cpu::qlinear_mul_unsupported_reason, cpu::prepare_qlinear_mul};
    built[{ir::microsoft_domain, "QLinearSigmoid"}] = built[{ir::fused_domain, "QLinearSiLU"}] =
        built[{ir::fused_domain, "QLinearClip"}] =
        cpu::CpuOp{cpu::qlinear_lookup_unsupported_reason, cpu::prepare_qlinear_lookup};
    built[{ir::microsoft_domain, "QLinearSoftmax"}] =
        cpu::CpuOp{cpu::qlinear_softmax_unsupported_reason, cpu::prepare_qlinear_softmax};
    built[{ir::microsoft_domain, "QLinearGlobalAveragePool"}] =
        cpu::CpuOp{cpu::qlinear_global_average_pool_unsupported_reason, cpu::prepare_qlinear_global_average_pool};
    built[{"", "QuantizeLinear"}] = cpu::CpuOp{cpu::quantize_linear_unsupported_reason, cpu::prepare_quantize_linear};
    built[{"", "DequantizeLinear"}] = cpu::CpuOp{cpu::dequantize_linear_unsupported_reason, cpu::prepare_dequantize_linear};
    return built;
  }();
  return ops;
}

}  // namespace

CpuBackend::CpuBackend(CpuSettings settings) : settings_(std::move(settings)) {
  if (settings_.threads < 0) throw Error(ErrorKind::invalid_argument, "threads must be 0 (all cores) or more");
}

std::optional<std::string> CpuBackend::unsupported_reason(const ir::Node& node, int64_t opset) const {
  auto found = cpu_ops().find({node.domain, node.op_type});
  if (found == cpu_ops().end()) return "the cpu backend has no kernel for " + node.op_type;
  return found->second.unsupported_reason(node, opset);
}

std::unique_ptr<NodeExecutable> CpuBackend::prepare(const ir::Node& node, int64_t opset) const {
  auto found = cpu_ops().find({node.domain, node.op_type});
  if (found == cpu_ops().end()) {
    throw Error(ErrorKind::unsupported, "the cpu backend has no kernel for " + node.op_type, {}, node.describe());
  }
  cpu::keep_freed_memory();
  try {
    return found->second.prepare(node, opset, layouts_);
  } catch (const dnnl::error& error) {
    throw Error(ErrorKind::unsupported, std::string("oneDNN refused the node: ") + error.what(), {},
                node.describe());
  }
}

void CpuBackend::prepare_model(ir::Model& model) {
  if (settings_.rewrite) settings_.rewrite(model);
  layouts_ = cpu::plan_blocked_layouts(*model.graph, model.opset(""));
}

}  // namespace npukit::runtime
