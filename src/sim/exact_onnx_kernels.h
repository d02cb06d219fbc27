// The ONNX ops a lowered graph keeps (sim/lowering.h) that the sim backend runs itself instead of leaving them
// to ref, on kernels that give ref's bytes exactly:
//   * DequantizeLinear of u8 / s8 and QuantizeLinear to u8 / s8, per tensor, on the cpu backend's kernels,
//     which do ref's float arithmetic in the same order eight lanes at a time
//     (runtime/kernels/cpu/quantize_linear.cpp). They are the float edges of the simulation (graph outputs,
//     what stayed float): ONNX-defined, not the target's arithmetic;
//   * MaxPool of u8 / s8 (the lowering's "MaxPool on integers"), NCHW as the sim holds it: a maximum picks one
//     of its inputs, so it is exact on any correct kernel; here the window's maximum is taken over its rows,
//     then over the row maxima (a maximum of maxima), with ref's lowest value for a window in the padding only.
// Anything else (float ops, 16-bit grids, per-axis parameters, dilated pools) stays on ref.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ir/graph.h"
#include "runtime/backend.h"

namespace npukit::sim {

// Empty when `node` is one of the ops above, of a type and parameters its kernel takes.
std::optional<std::string> exact_onnx_kernel_unsupported_reason(const ir::Node& node, int64_t opset);

std::unique_ptr<runtime::NodeExecutable> prepare_exact_onnx_kernel(const ir::Node& node, int64_t opset);

}  // namespace npukit::sim
