// The algorithms of `npukit quantize --algorithm a,b,...` that keep accuracy beyond plain calibration
// (cross-layer equalization, bias correction, clipping search, AdaRound, block reconstruction, ...).
//
// quantize_model (quantize_model.h) calls each algorithm the user named at its stage, in the order named:
//   before_calibration  after the meaning-keeping passes and the placement, before the calibration run: the
//                       algorithm rewrites float weights and biases (equalization); calibration then sees them;
//   after_calibration   after every activation's range was chosen, before any parameter is made: the algorithm
//                       may change the ranges by scale group (activation clipping search);
//   after_parameters    after every point has its parameters (ir::Value::quant, QuantizeResult::tensors): the
//                       algorithm may move float weights to other points of their grids (AdaRound: the export
//                       then rounds each to the integer chosen), change biases (bias correction) or weight
//                       parameters (weight clipping), calling refresh_bias_parameters afterwards.
// Each algorithm lives in its own file and is listed once in quantization_algorithm_registry.cpp.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "npukit/tensor.h"
#include "quantization/calibration_data.h"
#include "quantization/calibration_run.h"
#include "quantization/quantization_points.h"
#include "quantization/range_selection.h"
#include "targets/target_profile.h"

namespace npukit::engine {
class Engine;
}

namespace npukit::quantization {

struct QuantizeOptions;
struct QuantizedTensor;

enum class AlgorithmStage { before_calibration, after_calibration, after_parameters };
std::string_view algorithm_stage_name(AlgorithmStage stage);

// What an algorithm did to one layer (node), for the report: a metric before and after (same unit as the
// outcome's), and a sentence.
struct LayerOutcome {
  std::string node;
  std::optional<double> before;
  std::optional<double> after;
  std::string detail;
};

// What an algorithm did, as `quantize` prints it, the manifest stores and the report shows.
struct AlgorithmOutcome {
  std::string algorithm;
  std::string metric;  // what before / after measure, e.g. "output SQNR (dB)", "" when none
  std::optional<double> before;
  std::optional<double> after;
  std::vector<LayerOutcome> layers;
  std::vector<std::string> notes;
  double seconds = 0;  // wall time, filled by quantize_model
};

// What an algorithm may read and change. Pointers are null at stages where the thing does not exist yet.
struct AlgorithmContext {
  ir::Model& model;  // the float model after the passes; after_parameters: with ir::Value::quant on every point
  const targets::TargetProfile& target;
  const QuantizationPlan& plan;
  const QuantizeOptions& options;
  CalibrationSource& calibration;                         // the samples; sample(i) may be read again
  const CalibrationRunResult* calibration_run = nullptr;  // after_calibration, after_parameters
  std::map<std::string, Range>* group_ranges = nullptr;   // after_calibration: range by scale group, to change
  std::vector<QuantizedTensor>* tensors = nullptr;        // after_parameters: keep in step with ir::Value::quant
  // Progress of the algorithm's long work: (done, total, what) — the CLI draws a bar.
  std::function<void(size_t, size_t, const std::string&)> progress;
};

struct QuantizationAlgorithm {
  std::string name;     // as --algorithm takes it: "cle", "bias-correction", "adaround", ...
  std::string summary;  // one line for --help and the report
  AlgorithmStage stage = AlgorithmStage::after_parameters;
  std::function<AlgorithmOutcome(AlgorithmContext&)> apply;
};

// Every algorithm npukit has, in the order they should run when a user names several (equalization before
// calibration, clipping before rounding, rounding before bias correction).
const std::vector<QuantizationAlgorithm>& quantization_algorithms();

// "cle,adaround" → the algorithms, in registry order; Error(invalid_argument) naming an unknown one and listing
// the known; "" → none.
std::vector<const QuantizationAlgorithm*> parse_algorithm_list(const std::string& text);

// ---- Tools the algorithms share -------------------------------------------------------------------------

// Runs the float `model` (cpu backend, which keeps every value asked for unfused) on the first `max_samples`
// calibration samples (all when 0) and hands each sample's `values` (computed values, graph inputs, outputs or
// initializers) to `visit(sample_index, values)`: one sample in memory at a time.
void for_each_float_sample(const ir::Model& model, const std::vector<std::string>& values, CalibrationSource& source,
                           size_t max_samples,
                           const std::function<void(size_t, const std::map<std::string, Tensor>&)>& visit);

// The same, every sample's tensors kept and returned.
std::vector<std::map<std::string, Tensor>> capture_float_values(const ir::Model& model,
                                                                const std::vector<std::string>& values,
                                                                CalibrationSource& source, size_t max_samples);

// The in-memory quantized model (parameters on its values) written as QDQ ONNX, read back and lowered onto
// the sim backend of `target_id`: the target's integer arithmetic. `keep_values` as engine::EngineOptions.
std::unique_ptr<engine::Engine> simulate_quantized_model(const ir::Model& quantized, const std::string& target_id,
                                                         const std::vector<std::string>& keep_values = {});

// Signal-to-quantization-noise ratio of `measured` against `reference` in dB: 10 log10(Σ ref² / Σ (ref − m)²);
// +inf when equal. Error(invalid_argument) when the element counts differ.
double sqnr_db(const Tensor& reference, const Tensor& measured);
double sqnr_db(const std::vector<float>& reference, const std::vector<float>& measured);

// Re-derives every bias point's parameters (s_x · s_w) from the current parameters of its input and weight,
// on the graph and in `tensors`: after an algorithm changed a weight's scales.
void refresh_bias_parameters(ir::Model& model, const QuantizationPlan& plan, std::vector<QuantizedTensor>& tensors);

}  // namespace npukit::quantization
