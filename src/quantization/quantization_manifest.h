// OUT.quant.json and the Markdown report of `npukit quantize`: every quantized tensor (dtype, granularity,
// scale(s), zero point(s), the range it was made from), the range method, the calibration data, the nodes left
// float and why, and the numerics spec used with every "unknown - assumed X" of it carried.
#pragma once

#include <string>

#include "quantization/quantize_model.h"

namespace npukit::quantization {

// The manifest (JSON text, 2-space indented). Schema (version 1):
//   { "version": 1, "model", "target", "calibration": {"data", "samples", "backend", "input_shapes"},
//     "range": {"method", "percentile", "symmetric"},
//     "numerics": {FACT: {"value", "known", "source"}}, "tensors": [{"value", "role", "node", "op_type", "dtype",
//     "granularity", "axis", "narrow_range", "scales", "zero_points", "range": [min, max], "observed": [min, max],
//     "scale_group", "saturated"}], "float_nodes": [{"node", "op_type", "reason"}],
//     "algorithms": [{"algorithm", "metric", "before", "after", "seconds", "layers": [{"node", "before",
//     "after", "detail"}], "notes"}], "diagnostics", "notes" }
std::string manifest_json(const QuantizeResult& result);

// The "## Algorithms" section: one row per --algorithm with its metric before / after, then each one's
// per-layer table and notes.
std::string algorithm_outcomes_markdown(const std::vector<AlgorithmOutcome>& outcomes);

// The same for people, as Markdown (`--report FILE.md`).
std::string manifest_markdown(const QuantizeResult& result);

}  // namespace npukit::quantization

namespace npukit::quantization {

// "0.0123" for one scale, "0.001 .. 0.02" for per-channel scales; the same for zero points: for tables.
std::string describe_scales(const ir::QuantParams& params);
std::string describe_zero_points(const ir::QuantParams& params);

}  // namespace npukit::quantization
