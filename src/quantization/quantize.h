// Quantizing real numbers onto an integer grid, with the rounding and clamp order a target uses.
//
//   round_then_clamp (ONNX QuantizeLinear, AIMET 2.x, PPQ):   q = clamp(round(x / s) + zp, qmin, qmax)
//   clamp_then_round (TVM's qnn.quantize implementation):     q = round(clamp(x / s + zp, qmin, qmax))
// With an integer zero point the two agree exactly in real arithmetic; they differ in float arithmetic, where
// x / s + zp is rounded to float before the tie rule sees it (2.5000002 + 100 is 102.5 in float32, which
// half_to_even takes to 102, where round(2.5000002) + 100 is 103). Division, not multiplication by 1/s: the
// two differ in the last bit (PPQ's CUDA comment; quant_anchors.md §3.3 item 3).
#pragma once

#include <cstdint>

#include "ir/quant_params.h"
#include "npukit/tensor.h"

namespace npukit::quantization {

using ir::ClampOrder;
using ir::RoundingMode;

// Rounds to an integer with the given tie rule (exact for every double; no FP environment involved).
double round_with(double value, RoundingMode mode);

struct Grid {
  int64_t minimum;
  int64_t maximum;
};

// One real value onto the grid; arithmetic in float32, as ONNX Runtime and TFLite compute x / s. NaN goes to
// the zero point (ONNX Runtime's behaviour: the saturating cast of NaN is unspecified, every runtime we
// compared maps it to zp).
int64_t quantize_value(float value, float scale, int64_t zero_point, Grid grid, RoundingMode mode,
                       ClampOrder order = ClampOrder::round_then_clamp);

// A whole f32 tensor with `params` (per tensor, per channel or per group): an integer tensor of the storage
// container type (i4 in i8, u4 in u8, otherwise params.storage). Throws Error(invalid_argument) for a tensor
// that is not f32 or parameters that do not fit its dims.
Tensor quantize_tensor(const Tensor& real, const ir::QuantParams& params, ClampOrder order = ClampOrder::round_then_clamp);

// The element type that holds a grid in memory: i8 for i4, u8 for u4, the storage type otherwise.
DType container_dtype(DType storage);

// The index into params.scales of element `flat_index` of a tensor of `dims`.
size_t parameter_index(const ir::QuantParams& params, const Shape& dims, int64_t flat_index);

}  // namespace npukit::quantization
