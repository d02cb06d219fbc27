// The sim backend's fast kernels: the same integers as the plain kernels of runtime/kernels/integer (the
// oracle), computed the way the cpu backend computes int8:
//   * IntegerConv / IntegerMatMul: an exact s32 accumulation of u8 activations × s8 weights on oneDNN
//     (runtime/kernels/cpu/int8_accumulation.h), the zero points folded in afterwards (below), then the
//     target's requantization over whole rows (vector_output_stage.h);
//   * IntegerAdd / IntegerMul / IntegerRequantize: eight lanes at a time through the same output stage;
//   * IntegerLookupTable: one byte table indexed by the input byte;
//   * IntegerQuantize (a float input onto an 8-bit grid): quantize_value eight lanes at a time (vector_quantize.h).
//
// Zero points. With x_u the activation on the u8 grid (s8 + 128, the padding filled with its zero point z_u)
// and w' the weight on the s8 grid (u8 - 128), every output sums K = C/group · kh · kw products:
//   Σ (x_u - z_u)(w' - z_w') = Σ x_u·w'  -  z_u·Σw'  -  z_w'·Σ x_u  +  K·z_u·z_w'
// oneDNN gives Σ x_u·w'; Σw' is a constant per output channel, and Σ x_u (the window's sum of activations,
// per group) is computed here only when some weight zero point is not 0. All of it in wrapping int32
// arithmetic, which is exact because the true accumulator provably fits int32: the fast kernel is used only
// when 255 · 255 · K + max |bias| < 2^31 (otherwise the plain kernel runs and reports an overflow it finds).
//
// prepare_fast_* returns null when its kernel does not cover the node (16-bit grids, weights that are not
// constants, broadcasting, ...): the caller then runs the plain kernel. The fast kernels check each input at
// run time and hand anything unexpected to the plain kernel too, so both always give the same answer.
#pragma once

#include <memory>

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/kernels/integer/convolution.h"
#include "runtime/kernels/integer/elementwise.h"
#include "runtime/kernels/integer/lookup_table.h"
#include "runtime/kernels/integer/matmul.h"
#include "runtime/kernels/integer/requantize.h"

namespace npukit::sim {

// input_channels_last / output_channels_last: the data input / the output is held NHWC (channels_last_plan.h).
std::unique_ptr<runtime::NodeExecutable> prepare_fast_convolution(const ir::Node& node,
                                                                  const runtime::integer::ConvolutionParameters& parameters,
                                                                  bool input_channels_last = false,
                                                                  bool output_channels_last = false);
std::unique_ptr<runtime::NodeExecutable> prepare_fast_matmul(const ir::Node& node,
                                                             const runtime::integer::MatMulParameters& parameters);
std::unique_ptr<runtime::NodeExecutable> prepare_fast_add(const ir::Node& node, const runtime::integer::AddParameters& parameters);
std::unique_ptr<runtime::NodeExecutable> prepare_fast_mul(const ir::Node& node, const runtime::integer::MulParameters& parameters);
std::unique_ptr<runtime::NodeExecutable> prepare_fast_requantize(const ir::Node& node,
                                                                 const runtime::integer::RequantizeParameters& parameters);
std::unique_ptr<runtime::NodeExecutable> prepare_fast_lookup_table(const ir::Node& node,
                                                                   const runtime::integer::LookupTable& table);
std::unique_ptr<runtime::NodeExecutable> prepare_fast_quantize(const runtime::integer::QuantizeParameters& parameters);

}  // namespace npukit::sim
