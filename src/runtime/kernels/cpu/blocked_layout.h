// Which tensors the cpu backend keeps in oneDNN's blocked layout (nChw16c with AVX-512, nChw8c with AVX2)
// instead of plain NCHW, so that activations flow from convolution to convolution through the ops between
// them (activations, arithmetic, BatchNorm, Concat, Split, Slice, Resize, pooling) without a reorder out
// and a reorder back in.
//
// The decision is made once per graph, before the kernels are prepared (plan_blocked_layouts), and kept by
// the cpu backend as a BlockedLayoutPlan that every kernel it prepares reads; producer and readers of a value
// read the same plan, so no kernel ever sees a layout it does not expect. Values are grouped into components joined by
// layout-transparent ops (whose inputs and output must share a layout: Relu, Add of equal shapes, Concat,
// Split and block-aligned Slice on channels, nearest Resize over H and W …); a component is blocked when
//   - every value in it is f32, 4-D, batch 1, of static shape, with channels that fill whole blocks (then
//     the blocked tensor has exactly the plain tensor's bytes, so it fits the same Tensor and arena slot),
//     and is neither a graph input or output nor read by a subgraph;
//   - every node touching it runs on cpu in a role that can read or write blocked tensors;
//   - it touches at least one convolution (otherwise there is nothing to gain).
// Convolutions choose each side on its own (oneDNN takes either layout); any other node the rules do
// not know makes its values plain.
//
// int8 activations (u8 / s8, 4-D, static shape) follow the same rules with their own operators: QLinearConv
// takes either layout on each side, QLinearAdd / QLinearMul and the byte tables (QLinearSigmoid, QLinearSiLU,
// QLinearClip), MaxPool and channel Concat of bytes join their operands and result, any other reader (DequantizeLinear,
// QLinearMatMul, ...) makes the value plain. Their "blocked" layout is channels-last (NHWC), whose bytes
// a plain tensor of the same shape holds exactly; a component is held NHWC when it touches a QLinearConv.
#pragma once

#include <dnnl.hpp>

#include "ir/graph.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"
#include "npukit/tensor.h"

namespace npukit::runtime::cpu {

// Channels per block of the blocked layout on this machine (16 with AVX-512, else 8).
int64_t channel_block();

// The values of the graph to hold blocked (top level; subgraph values stay plain). Plan after the graph's last
// rewrite and before its kernels are prepared. `opset`: the model's ai.onnx version, which decides what the cpu
// kernels support.
BlockedLayoutPlan plan_blocked_layouts(const ir::Graph& graph, int64_t opset);

// How a value of this shape is held: blocked or plain.
dnnl::memory::desc held_desc(const Shape& shape, bool blocked);
// The same for a value of `type`: f32 as above; u8 / s8 "blocked" means channels-last (NHWC), the layout the
// int8 operators (QLinearConv, QLinearAdd) keep between them.
dnnl::memory::desc held_desc(const Shape& shape, DType type, bool blocked);

// A plain (NCHW) copy of a tensor held in the blocked layout, for handing a value to the caller
// (Session's kept values). The tensor's shape is the plain shape; its bytes are in blocked order.
Tensor plain_copy_of_blocked(const Tensor& held);

// The per-channel operand of a binary op on a blocked tensor: shape [1, C, 1, 1] or [C, 1, 1] against an
// output [1, C, H, W]. Its bytes are the same in either layout, so it may come from anywhere.
bool is_channel_operand(const Shape& operand, const Shape& output);

}  // namespace npukit::runtime::cpu
