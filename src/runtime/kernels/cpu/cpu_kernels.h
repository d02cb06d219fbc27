// The cpu backend's kernel families. Each family says whether it can run a node (a reason in words when
// not, so the executor falls back to ref and `npukit run --verbose` can say why) and prepares it once.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "runtime/backend.h"
#include "ir/fused_activation.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"
#include "runtime/kernels/cpu/dnnl_runtime.h"

namespace npukit::runtime::cpu {

// Every cpu kernel writes each element of its outputs, so the executor hands it arena memory as it is.
class CpuExecutable : public NodeExecutable {
 public:
  bool writes_whole_outputs() const override { return true; }
};

struct CpuOp {
  // Empty when the node can run here.
  std::optional<std::string> (*unsupported_reason)(const ir::Node& node, int64_t opset) = nullptr;
  // `layouts`: the values the backend holds blocked (blocked_layout.h); kernels that handle both layouts read it.
  std::unique_ptr<NodeExecutable> (*prepare)(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) = nullptr;
};

// Conv, com.npukit FusedConv (convolution.cpp)
std::optional<std::string> convolution_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_convolution(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// ConvTranspose (convolution.cpp); prepare chooses the patch path below when it applies
std::optional<std::string> deconvolution_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_deconvolution(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// ConvTranspose with strides == kernel, no pads, dilation 1, group 1: non-overlapping output patches
// (patch_deconvolution.cpp)
bool is_patch_deconvolution(const ir::Node& node);
std::unique_ptr<NodeExecutable> prepare_patch_deconvolution(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (pooling.cpp)
std::optional<std::string> pooling_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_pooling(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// Add, Sub, Mul, Div, Relu, Sigmoid, Tanh, ... (elementwise.cpp)
std::optional<std::string> elementwise_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_elementwise(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// Gemm, MatMul with constant weights (matmul.cpp)
std::optional<std::string> matmul_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_matmul(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// Gelu, erf and tanh forms (gelu.cpp)
std::optional<std::string> gelu_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_gelu(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// Concat (concat.cpp)
std::optional<std::string> concat_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_concat(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// Resize of 4-D tensors, nearest and bilinear (resize.cpp)
std::optional<std::string> resize_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_resize(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// Slice, any rank and dtype (slice.cpp)
std::optional<std::string> slice_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_slice(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// Split, any rank and dtype (split.cpp)
std::optional<std::string> split_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_split(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// Transpose, any perm and dtype (transpose.cpp)
std::optional<std::string> transpose_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_transpose(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// Softmax, LogSoftmax (softmax.cpp)
std::optional<std::string> softmax_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_softmax(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);

// QLinearConv, QLinearMatMul with constant s8 weights: exact s32 accumulation on oneDNN, ONNX Runtime's
// float-scale requantization (qlinear_convolution.cpp, qlinear_matmul.cpp, int8_accumulation.h)
std::optional<std::string> qlinear_convolution_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_qlinear_convolution(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
std::optional<std::string> qlinear_matmul_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_qlinear_matmul(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);

// com.microsoft QLinearAdd of two u8 / s8 tensors of one shape, ONNX Runtime's MLAS arithmetic (qlinear_add.cpp)
std::optional<std::string> qlinear_add_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_qlinear_add(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);

// com.microsoft QLinearMul of two u8 / s8 tensors of one shape, ONNX Runtime's MLAS arithmetic (qlinear_mul.cpp)
std::optional<std::string> qlinear_mul_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_qlinear_mul(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
// com.microsoft QLinearSigmoid, com.npukit QLinearSiLU and QLinearClip: 256-entry tables of ORT's bytes (qlinear_lookup.cpp)
std::optional<std::string> qlinear_lookup_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_qlinear_lookup(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);

// com.microsoft QLinearSoftmax, ORT's exp table and float row arithmetic (qlinear_softmax.{h,cpp})
std::optional<std::string> qlinear_softmax_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_qlinear_softmax(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);

// com.microsoft QLinearGlobalAveragePool (NCHW, or NHWC when held channels-last), ORT's arithmetic
// (qlinear_global_average_pool.cpp)
std::optional<std::string> qlinear_global_average_pool_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_qlinear_global_average_pool(const ir::Node& node, int64_t opset,
                                                                    const BlockedLayoutPlan& layouts);

// QuantizeLinear (f32 → u8 / s8), DequantizeLinear (u8 / s8 → f32), per tensor (quantize_linear.cpp)
std::optional<std::string> quantize_linear_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_quantize_linear(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);
std::optional<std::string> dequantize_linear_unsupported_reason(const ir::Node& node, int64_t opset);
std::unique_ptr<NodeExecutable> prepare_dequantize_linear(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts);

// Appends `activation` to oneDNN post-ops (HardSigmoid takes two: linear, then clip to [0, 1]).
void append_activation(dnnl::post_ops& post_ops, const ir::FusedActivation& activation);

// True when every listed input of the node is declared f32 (or its dtype is unknown).
bool inputs_are_float(const ir::Node& node);

}  // namespace npukit::runtime::cpu
