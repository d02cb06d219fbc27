#include "quantization/mixed_precision.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "npukit/error.h"
#include "quantization/algorithms/sensitivity.h"
#include "report/table.h"

namespace npukit::quantization {

namespace {

const AlgorithmOutcome* find_outcome(const QuantizeResult& result, const std::string& name) {
  for (const AlgorithmOutcome& outcome : result.algorithms) {
    if (outcome.algorithm == name) return &outcome;
  }
  return nullptr;
}

using report::format_number;

std::string milliseconds_text(double milliseconds) { return format_number(milliseconds, 4) + " ms"; }

// The layers a mixed precision may keep float, most sensitive first: named by nodes, quantization measurably costly.
std::vector<std::pair<QuantizedLayer, double>> candidates(const AlgorithmOutcome& sensitivity,
                                                          const std::vector<QuantizedLayer>& layers) {
  std::map<std::string, const QuantizedLayer*> by_name;
  for (const QuantizedLayer& layer : layers) by_name[layer.name] = &layer;
  std::vector<std::pair<QuantizedLayer, double>> ranked;
  for (const LayerOutcome& row : sensitivity.layers) {
    auto found = by_name.find(row.node);
    if (found == by_name.end() || found->second->nodes.empty() || !row.before) continue;
    ranked.emplace_back(*found->second, *row.before);
  }
  return ranked;
}

}  // namespace

MixedPrecisionResult quantize_with_mixed_precision(const std::string& model_path, const targets::TargetProfile& target,
                                                   const QuantizeOptions& options,
                                                   const MixedPrecisionOptions& mixed) {
  if (mixed.budget_latency_ms && !(*mixed.budget_latency_ms > 0)) {
    throw Error(ErrorKind::invalid_argument, "--budget-latency " + format_number(*mixed.budget_latency_ms) +
                                                 ": give a positive number of milliseconds");
  }
  if (mixed.budget_latency_ms && !mixed.estimate_milliseconds) {
    throw Error(ErrorKind::invalid_argument, "--budget-latency needs a latency estimate for " + target.id);
  }
  // 1. Quantize everything and rank the layers.
  static const QuantizationAlgorithm sensitivity = sensitivity_algorithm();
  QuantizeOptions first = options;
  std::vector<const QuantizationAlgorithm*> without_sensitivity;
  for (const QuantizationAlgorithm* algorithm : options.algorithms) {
    if (algorithm->name != kSensitivityAlgorithm) without_sensitivity.push_back(algorithm);
  }
  first.algorithms = without_sensitivity;
  first.algorithms.push_back(&sensitivity);
  MixedPrecisionResult mixed_result;
  QuantizeResult all_int8 = quantize_model(model_path, target, first);
  const AlgorithmOutcome ranking = *find_outcome(all_int8, kSensitivityAlgorithm);
  const QuantizationPlan plan = plan_quantization_points(*all_int8.model.graph, target.numerics, options.settings);
  mixed_result.all_layers = quantized_layers(*all_int8.model.graph, plan, target.numerics);
  const auto ranked = candidates(ranking, mixed_result.all_layers);

  // 2. Choose.
  std::vector<std::string> notes;
  std::set<std::string> float_nodes;
  const size_t limit = mixed.keep_float.value_or(ranked.size());
  if (mixed.keep_float && *mixed.keep_float > ranked.size()) {
    notes.push_back("--keep-float " + std::to_string(*mixed.keep_float) + ": only " + std::to_string(ranked.size()) +
                    " layer(s) can be kept float (graph inputs and layers whose quantization costs nothing "
                    "measurable are not candidates)");
  }
  if (mixed.budget_latency_ms) {
    const double minimum = mixed.estimate_milliseconds(all_int8.model, {});
    if (minimum > *mixed.budget_latency_ms) {
      throw Error(ErrorKind::invalid_argument,
                  "--budget-latency " + milliseconds_text(*mixed.budget_latency_ms) + " cannot be met on " + target.id +
                      ": with every layer int8 the estimate is already " + milliseconds_text(minimum) +
                      " (the minimum achievable; " + mixed.estimate_basis + "); give at least that");
    }
    double estimate = minimum;
    for (const auto& [layer, alone_db] : ranked) {
      if (mixed_result.float_layers.size() >= limit) break;
      std::set<std::string> trial = float_nodes;
      trial.insert(layer.nodes.begin(), layer.nodes.end());
      const double with_layer = mixed.estimate_milliseconds(all_int8.model, trial);
      if (with_layer > *mixed.budget_latency_ms) continue;
      float_nodes = std::move(trial);
      estimate = with_layer;
      mixed_result.float_layers.push_back(layer);
    }
    notes.push_back("estimated latency: all int8 " + milliseconds_text(minimum) + ", as chosen " +
                    milliseconds_text(estimate) + ", budget " + milliseconds_text(*mixed.budget_latency_ms) + " (" +
                    mixed.estimate_basis + ")");
  } else {
    for (const auto& [layer, alone_db] : ranked) {
      if (mixed_result.float_layers.size() >= limit) break;
      float_nodes.insert(layer.nodes.begin(), layer.nodes.end());
      mixed_result.float_layers.push_back(layer);
    }
    if (mixed.estimate_milliseconds) {
      notes.push_back("estimated latency: all int8 " + milliseconds_text(mixed.estimate_milliseconds(all_int8.model, {})) +
                      ", as chosen " + milliseconds_text(mixed.estimate_milliseconds(all_int8.model, float_nodes)) + " (" +
                      mixed.estimate_basis + ")");
    }
  }

  // 3. Quantize again with the chosen layers excluded, measuring the result the same way.
  const double all_int8_db = ranking.before.value_or(std::nan(""));
  const std::vector<QuantizedLayer> chosen = mixed_result.float_layers;
  const std::vector<QuantizedLayer> every_layer = mixed_result.all_layers;
  QuantizationAlgorithm measure;
  measure.name = kMixedPrecisionAlgorithm;
  measure.summary = "keep the most sensitive layers float and measure the output SQNR again";
  measure.stage = AlgorithmStage::after_parameters;
  measure.apply = [&](AlgorithmContext& context) {
    AlgorithmOutcome outcome;
    outcome.metric = "output SQNR (dB) on sim, all int8 → as chosen";
    if (std::isfinite(all_int8_db)) outcome.before = all_int8_db;
    std::vector<std::string> outputs;
    for (const ir::Value* output : context.model.graph->outputs) outputs.push_back(output->name);
    const size_t count = std::min(context.options.sensitivity_samples == 0 ? context.calibration.size()
                                                                            : context.options.sensitivity_samples,
                                  context.calibration.size());
    const auto reference = capture_float_values(context.model, outputs, context.calibration, count);
    std::vector<std::map<std::string, Tensor>> inputs;
    for (size_t index = 0; index < count; ++index) inputs.push_back(context.calibration.sample(index).inputs);
    const double after = output_sqnr_db(context.model, context.target.id, inputs, reference);
    if (std::isfinite(after)) outcome.after = after;
    std::map<std::string, size_t> rank_of;
    for (size_t index = 0; index < chosen.size(); ++index) rank_of[chosen[index].name] = index + 1;
    for (const QuantizedLayer& layer : every_layer) {
      LayerOutcome row;
      row.node = layer.name;
      auto rank = rank_of.find(layer.name);
      row.detail = rank == rank_of.end() ? "int8" : "float (kept: sensitivity candidate " + std::to_string(rank->second) + ")";
      row.detail += ", " + layer.op_types;
      outcome.layers.push_back(std::move(row));
    }
    outcome.notes = notes;
    outcome.notes.push_back(std::to_string(chosen.size()) + " layer(s) kept float of " + std::to_string(every_layer.size()) +
                            "; the QDQ file leaves them float32 (RKNN hybrid quantization runs such layers as float16; "
                            "--vendor-hints writes the lists for RKNN and Hailo)");
    return outcome;
  };
  if (chosen.empty()) {
    notes.push_back("no layer kept float");
  }
  QuantizeOptions second = options;
  second.algorithms = without_sensitivity;
  second.algorithms.push_back(&measure);
  second.settings.exclude.insert(second.settings.exclude.end(), float_nodes.begin(), float_nodes.end());
  QuantizeResult final_result = quantize_model(model_path, target, second);
  final_result.algorithms.insert(final_result.algorithms.begin(), ranking);
  mixed_result.quantized = std::move(final_result);
  return mixed_result;
}

}  // namespace npukit::quantization
