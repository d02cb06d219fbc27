// Lowering a QDQ model to the integer graph a target runs (the `sim` backend's first step).
//
// A QDQ model computes in float between DequantizeLinear and QuantizeLinear nodes. On a chip, each group
//     DQ(q_x) [DQ(q_w) DQ(q_b)] -> op -> [Relu | Clip] -> Q -> q_y
// is one integer op: int32 accumulation of (q_x - z_x)(q_w - z_w), the int32 bias, the requantization of the
// target's NumericsSpec (fixed-point multiplier and its rounding, or a float scale), the output zero point and
// a clamp to the grid that absorbs the fused Relu / Clip. This rewrite replaces every such group by one node
// of the domain "npukit.integer" whose attributes hold everything the integer kernel needs (zero points, the
// real multipliers, the variant, the clamp bounds, the lookup table), so the lowered graph can be read.
//
//   * data-movement ops (MaxPool, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Slice, nearest Resize,
//     Concat, ...) run on the integers as ONNX defines them; when the output's scale or zero point differs
//     from an input's, an IntegerRequantize rescales (the target's QUANTIZE int8 -> int8);
//   * Sigmoid, Tanh, HardSwish, HardSigmoid become lookup tables when the spec lists them in lookup_table_ops;
//   * the QuantizeLinear of a float graph input becomes IntegerQuantize with the spec's rounding;
//   * what cannot run in integer on this target (an op without integer kernel, an op outside
//     lookup_table_ops, a scale ratio the target cannot express, per-channel activations...) keeps its float
//     op between its DQ and Q, and is listed in the report with the reason: never silently.
// The model's DequantizeLinear nodes that feed graph outputs stay: outputs leave as ONNX defines DQ.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "targets/numerics_spec.h"

namespace npukit::sim {

inline constexpr const char* kIntegerDomain = "npukit.integer";

struct LoweringReport {
  struct Entry {
    std::string node;     // the model's node name
    std::string op_type;  // its ONNX op
    std::string detail;   // integer: what it became; float: why it stays float
  };
  std::vector<Entry> integer_nodes;
  std::vector<Entry> float_nodes;
  std::vector<std::string> notes;  // adjustments worth knowing (a bias rescaled to s_x * s_w, ...)
  // Each integer value a lowered group writes (a QuantizeLinear's output in the QDQ file) → the float values of
  // the QDQ file it stands for: the outputs of the DequantizeLinear nodes that read it, then the float value the
  // QuantizeLinear read. One of them carries the float model's name: how compare pairs the sim run's values
  // with a float run's. Values the lowering adds (requantized copies, an op's output at its input's grid) have
  // no entry.
  std::map<std::string, std::vector<std::string>> source_names;
};

// Rewrites `model` in place for `spec` (which must be present). Throws Error(invalid_model) naming the node
// for parameters no target could run (a zero or non-finite scale reached here), Error(invalid_argument) when
// the spec is absent.
LoweringReport lower_to_integer(ir::Model& model, const targets::NumericsSpec& spec, const std::string& target_name);

}  // namespace npukit::sim
