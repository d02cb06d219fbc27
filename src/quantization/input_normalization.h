// The pixel scaling a model does to a picture input itself. ONNX has no field for a model's pre-processing, but
// some exports put the /255 in the graph (a Div by 255 or a Mul by 1/255 right after the input, possibly behind a
// Cast or Transpose): such a model expects raw 0..255 pixels, and a pre-processing that also divides by 255
// makes it see 0..1/255 — a silent mistake calibration turns into garbage ranges.
#pragma once

#include <optional>
#include <string>

#include "ir/graph.h"
#include "quantization/calibration_diagnostics.h"

namespace npukit::quantization {

struct InGraphScaling {
  std::string node;      // "'images_div' (Div)"
  double divisor = 255;  // the graph computes input / divisor
};

// The Div / Mul by a constant near 255 or 1/255 (within 1 %) that the input reaches through at most a Cast and
// a Transpose; nullopt when there is none.
std::optional<InGraphScaling> find_in_graph_pixel_scaling(const ir::Graph& graph, const std::string& input_name);

// A warning when the model divides by 255 itself but the data it was given is already 0..1 (a pre-processing
// with std=255, or .npy data scaled by 255 already): names the node and what to change. For such a model the
// data check of InputStatistics::diagnostics should be given the raw-pixel spec (parse_preprocessing_spec("std=1"))
// as what the model expects.
std::optional<CalibrationDiagnostic> diagnose_in_graph_pixel_scaling(const ir::Graph& graph,
                                                                     const std::string& input_name,
                                                                     const ValueHistogram& observed);

}  // namespace npukit::quantization
