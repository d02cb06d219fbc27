// `quantize --algorithm sensitivity`: ranks the layers by what quantizing each costs the model's outputs
// (layer_sensitivity.h), after every point has its parameters. It changes nothing; --keep-float and
// --budget-latency (mixed_precision.h) choose from its ranking, and the report shows it.
#pragma once

#include <optional>
#include <string>

#include "quantization/layer_sensitivity.h"
#include "quantization/quantization_algorithm.h"

namespace npukit::quantization {

inline constexpr const char* kSensitivityAlgorithm = "sensitivity";
inline constexpr const char* kSensitivityMetric =
    "output SQNR (dB) on sim; per layer: before = this layer alone quantized, after = every layer but this one";

QuantizationAlgorithm sensitivity_algorithm();

// The outcome the algorithm reports for an analysis (one LayerOutcome per layer, most sensitive first; an exact
// layer (infinite SQNR) or one the sim could not run has no figure and says so).
AlgorithmOutcome sensitivity_outcome(const SensitivityAnalysis& analysis);

}  // namespace npukit::quantization
