// Which 8-bit activations the sim backend holds channels-last (NHWC) instead of NCHW, so that a chain of
// lowered integer ops (IntegerConv → IntegerAdd / IntegerMul / IntegerLookupTable / IntegerRequantize →
// IntegerConv ...) passes its bytes from convolution to convolution without transposing them around every
// IntegerConv. The same idea as the cpu backend's int8 layout plan (runtime/kernels/cpu/blocked_layout.h),
// with the sim's own ops, and the same plan type; the engine turns kept values back to NCHW with
// channels_first_copy (byte_transpose.h).
//
// Values are grouped into components joined by element-wise ops (their inputs and output must share a layout:
// every operand of the output's shape, one multiplier for the whole tensor; also DequantizeLinear /
// QuantizeLinear with one scale and zero point, and Relu, whose float values the plan may hold NHWC as well);
// IntegerConv reads and writes either layout. A component is held NHWC when every value in it is an 8-bit or
// f32, 4-D value of static shape that
// is neither a graph input or output, an initializer nor read by a subgraph; every op touching it is one of
// the above; and it touches an IntegerConv. Any other reader (DequantizeLinear, IntegerAveragePool, MaxPool,
// Concat on ref, ...) keeps its values NCHW: the transposes happen only there, inside IntegerConv.
#pragma once

#include "ir/graph.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"

namespace npukit::sim {

// Plan after the lowering (lower_to_integer) and before the kernels are prepared.
runtime::cpu::BlockedLayoutPlan plan_channels_last(const ir::Graph& graph);

}  // namespace npukit::sim
