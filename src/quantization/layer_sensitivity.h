// Which layer of a quantized model costs the output most: each layer quantized alone (every other layer float),
// and every layer quantized but this one, measured as the SQNR of the model's outputs against the float model's
// on calibration samples, through the target's own integer arithmetic (simulate_quantized_model: the sim
// backend), never a float fake-quant.
//
// A layer is what the target runs as one: a fusion group of the spec (Conv → Relu is one layer, named after its
// Conv), or any other node that owns quantization points. A layer owns its weights, its bias and the activation
// points its nodes write; a graph input read by integer ops is a layer of its own ("input x"), which --exclude
// cannot name. "Alone" keeps the layer's points and the points it reads (so it runs on its integer grid, as on the
// chip) and drops all others; "all but" drops the layer's own points, which is what --exclude of its nodes does
// apart from re-calibration and scale groups (a group keeps the range its dropped member widened).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantization/calibration_data.h"
#include "quantization/quantization_points.h"
#include "npukit/tensor.h"
#include "targets/target_profile.h"

namespace npukit::quantization {

struct QuantizedLayer {
  std::string name;                  // the first node of its fusion group, or "input <value>" for a graph input
  std::string op_types;              // "Conv+Relu"
  std::vector<std::string> nodes;    // what --exclude takes to keep it float; empty for a graph input
  std::vector<std::string> points;   // the points it owns (weights, bias, activations it writes)
  std::vector<std::string> inputs;   // activation points its nodes read (owned by the layers before it)
};

// The layers of a model whose points `plan` placed, in graph order.
std::vector<QuantizedLayer> quantized_layers(const ir::Graph& graph, const QuantizationPlan& plan,
                                             const targets::NumericsSpec& spec);

struct LayerSensitivity {
  QuantizedLayer layer;
  double alone_db = 0;    // output SQNR with only this layer quantized
  double all_but_db = 0;  // output SQNR with every layer quantized but this one
  std::string problem;    // why a figure is NaN: the sim backend could not run that partly quantized model
};

struct SensitivityAnalysis {
  double all_quantized_db = 0;   // every point quantized: the model as exported
  size_t samples = 0;
  std::vector<LayerSensitivity> layers;  // most sensitive first: lowest alone_db, then highest all_but_db
};

// Runs the analysis on `quantized` (a model with ir::Value::quant on its points, as quantize_model leaves it; `plan`
// and `settings` the ones it was quantized with: "all but" re-plans with the layer excluded) over
// the first `max_samples` samples of `source` (all when 0). `progress(done, total)` after each evaluation.
// Error(invalid_argument) when the source holds no sample.
SensitivityAnalysis analyze_layer_sensitivity(const ir::Model& quantized, const QuantizationPlan& plan,
                                              const QuantizationSettings& settings,
                                              const targets::TargetProfile& target, CalibrationSource& source,
                                              size_t max_samples,
                                              const std::function<void(size_t, size_t)>& progress = {});

// Output SQNR (dB) of `quantized` on the sim backend of `target_id` against the float outputs `reference` (one map of
// output name → tensor per sample, from capture_float_values), all outputs and samples pooled into one signal.
double output_sqnr_db(const ir::Model& quantized, const std::string& target_id,
                      const std::vector<std::map<std::string, Tensor>>& inputs,
                      const std::vector<std::map<std::string, Tensor>>& reference);

}  // namespace npukit::quantization
