// Mixed precision ("partial quantization"): quantize, rank the layers by sensitivity (layer_sensitivity.h), keep
// the most sensitive ones in float, and quantize again with them excluded (their nodes go to --exclude, so the
// ranges of everything else are calibrated for the model as it will run). Float here is what the QDQ file holds
// (float32 in ONNX); on RKNN it is what hybrid quantization runs as float16, on Hailo what a 16-bit layer is
// closest to: vendor_hints.h writes both vendors' own lists.
//
//   --keep-float N         the N most sensitive layers (graph inputs, which --exclude cannot name, are skipped, and
//                          so are layers whose quantization costs nothing measurable)
//   --keep-int16 M         the next M most sensitive layers run with 16-bit activations and 8-bit weights (a16w8,
//                          sixteen_bit_layers.h) on a target whose profile lists int16; another target is an error
//                          naming what its profile lists
//   --budget-latency MS    walk the ranking, keeping each layer float while the estimated latency stays within MS
//                          (at most N when --keep-float is given too); with --keep-int16 M a layer whose float cost
//                          would break the budget runs 16-bit instead where that fits (at most M; float then only
//                          with --keep-float); a budget below the all-int8 estimate is an error that names the minimum
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "quantization/layer_sensitivity.h"
#include "quantization/quantize_model.h"

namespace npukit::quantization {

inline constexpr const char* kMixedPrecisionAlgorithm = "mixed-precision";

struct MixedPrecisionOptions {
  std::optional<size_t> keep_float;
  std::optional<size_t> keep_int16;
  std::optional<double> budget_latency_ms;
  // The estimated latency (ms) of `model` (the float model after the passes, as quantized) with `float_nodes` kept
  // in float and `sixteen_bit_nodes` in 16-bit, all else int8; needed with a budget, and noted when given.
  std::function<double(const ir::Model& model, const std::set<std::string>& float_nodes,
                       const std::set<std::string>& sixteen_bit_nodes)>
      estimate_milliseconds;
  std::string estimate_basis;  // how that estimate is made, for the notes
};

// The layers kept in float by the last quantize_with_mixed_precision, most sensitive first.
struct MixedPrecisionResult {
  QuantizeResult quantized;
  std::vector<QuantizedLayer> float_layers;
  std::vector<QuantizedLayer> sixteen_bit_layers;  // most sensitive first
  std::vector<QuantizedLayer> all_layers;  // every layer of the first quantization, graph order
};

// Error(invalid_argument) for a budget that cannot be met (naming the all-int8 estimate), for a budget without an
// estimator, for --keep-int16 on a target without 16-bit layers, and for options quantize_model refuses.
MixedPrecisionResult quantize_with_mixed_precision(const std::string& model_path, const targets::TargetProfile& target,
                                                   const QuantizeOptions& options,
                                                   const MixedPrecisionOptions& mixed);

}  // namespace npukit::quantization
