// Turns ONNX Runtime's QDQ node groups into the integer operators ONNX Runtime's CPU execution provider
// runs them as (its QDQSelectorActionTransformer), so the cpu backend computes what ORT computes:
//   DQ(x: u8/s8 per tensor) + DQ(w: s8 constant, per tensor or per output channel, zero point 0)
//     [+ DQ(bias: int32 constant)] → Conv (2-D) [→ Relu / Clip] → Q(y: x's type)     ⇒ QLinearConv
//   DQ(a) + DQ(b: s8 constant 2-D, per tensor or per column) → MatMul → Q(y: a's type)  ⇒ QLinearMatMul
//   DQ(a) + DQ(b) → Add [→ Relu / Clip] → Q(c), one 8-bit type, per tensor, a and b of one static shape
//                                                                              ⇒ com.microsoft QLinearAdd
//   DQ(a) + DQ(b) → Mul [→ Relu / Clip] → Q(c), as Add                        ⇒ com.microsoft QLinearMul
//   DQ(x) → Sigmoid → Q(y: x's type), per tensor                              ⇒ com.microsoft QLinearSigmoid
//   DQ(x: 4-D) → GlobalAveragePool → Q(y: x's type), per tensor  ⇒ com.microsoft QLinearGlobalAveragePool
//   DQ(x: u8) [→ Transpose] → Softmax → Q(y: u8), per tensor        ⇒ [Transpose of the bytes →]
//                                                                   com.microsoft QLinearSoftmax (ORT's integer
//                                                                   softmax, runtime/kernels/cpu/qlinear_softmax.h)
// and then QLinearMul(x, QLinearSigmoid(x)) with the Mul reading x on the sigmoid's input grid (SiLU as
// exporters write it) ⇒ com.npukit QLinearSiLU, one 256-entry table of ORT's bytes (runtime/kernels/cpu/
// qlinear_lookup.h).
// A Relu or Clip between the operator and Q is swallowed only where Q's clamp makes it a no-op (Relu: Q's zero
// point is the bottom of its grid; Clip: its bounds quantize to the grid's ends), as ORT's ReluQuantFusion /
// ClipQuantFusion do. The bias is used as its raw int32 (ORT passes the DQ's input straight to QLinearConv).
// The DequantizeLinear nodes stay for any other reader; what becomes unused is removed.
//
// Not fused (left as DQ → float op → Q, exactly as ONNX defines it): groups whose input and output types
// differ, weights with a non-zero zero point, and every other op. Where ORT drops a DQ/Q pair of equal
// parameters (MaxPool, Slice, Split, nearest Resize, Reshape, Transpose, Flatten, Squeeze, Unsqueeze), the op runs
// on the bytes here too: Q(DQ(k)) = k, so the float path gave the same integers, only slower.
#pragma once

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult fuse_qdq_into_integer_ops(ir::Model& model);

}  // namespace npukit::passes
