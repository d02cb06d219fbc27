#include "quantization/mixed_precision.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "npukit/error.h"
#include "quantization/algorithms/sensitivity.h"
#include "quantization/sixteen_bit_layers.h"
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
  // Refused before any calibration runs.
  if (mixed.keep_int16) require_sixteen_bit_activations(target, "--keep-int16");
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

  // 2. Choose: float for the most sensitive, 16-bit for the next (or, under a budget, where float does not fit).
  std::vector<std::string> notes;
  std::set<std::string> float_nodes;
  std::set<std::string> sixteen_bit_nodes;
  std::map<std::string, std::string> reason_of;  // layer name → why it left int8
  const size_t float_limit = mixed.keep_float.value_or(mixed.keep_int16 ? 0 : ranked.size());
  const size_t sixteen_bit_limit = mixed.keep_int16.value_or(0);
  if (mixed.keep_float && *mixed.keep_float > ranked.size()) {
    notes.push_back("--keep-float " + std::to_string(*mixed.keep_float) + ": only " + std::to_string(ranked.size()) +
                    " layer(s) can be kept float (graph inputs and layers whose quantization costs nothing "
                    "measurable are not candidates)");
  }
  if (mixed.keep_int16 && float_limit + *mixed.keep_int16 > ranked.size()) {
    notes.push_back("--keep-int16 " + std::to_string(*mixed.keep_int16) + ": only " +
                    std::to_string(ranked.size() - std::min(ranked.size(), float_limit)) +
                    " candidate layer(s) are left for 16 bits (graph inputs and layers whose quantization costs "
                    "nothing measurable are not candidates)");
  }
  auto keep = [&](const QuantizedLayer& layer, size_t rank, bool as_float, const std::string& why) {
    (as_float ? float_nodes : sixteen_bit_nodes).insert(layer.nodes.begin(), layer.nodes.end());
    (as_float ? mixed_result.float_layers : mixed_result.sixteen_bit_layers).push_back(layer);
    reason_of[layer.name] = std::string(as_float ? "float" : "int16") + " (sensitivity rank " + std::to_string(rank) +
                            (why.empty() ? "" : "; " + why) + ")";
  };
  if (mixed.budget_latency_ms) {
    const double minimum = mixed.estimate_milliseconds(all_int8.model, {}, {});
    if (minimum > *mixed.budget_latency_ms) {
      throw Error(ErrorKind::invalid_argument,
                  "--budget-latency " + milliseconds_text(*mixed.budget_latency_ms) + " cannot be met on " + target.id +
                      ": with every layer int8 the estimate is already " + milliseconds_text(minimum) +
                      " (the minimum achievable; " + mixed.estimate_basis + "); give at least that");
    }
    double estimate = minimum;
    size_t rank = 0;
    for (const auto& [layer, alone_db] : ranked) {
      ++rank;
      if (mixed_result.float_layers.size() < float_limit) {
        std::set<std::string> trial = float_nodes;
        trial.insert(layer.nodes.begin(), layer.nodes.end());
        const double with_layer = mixed.estimate_milliseconds(all_int8.model, trial, sixteen_bit_nodes);
        if (with_layer <= *mixed.budget_latency_ms) {
          keep(layer, rank, true, "within the latency budget");
          estimate = with_layer;
          continue;
        }
      }
      if (mixed_result.sixteen_bit_layers.size() < sixteen_bit_limit) {
        std::set<std::string> trial = sixteen_bit_nodes;
        trial.insert(layer.nodes.begin(), layer.nodes.end());
        const double with_layer = mixed.estimate_milliseconds(all_int8.model, float_nodes, trial);
        if (with_layer <= *mixed.budget_latency_ms) {
          keep(layer, rank, false,
               mixed_result.float_layers.size() < float_limit ? "float would exceed the latency budget: 16 bits fit"
                                                               : "within the latency budget");
          estimate = with_layer;
        }
      }
    }
    notes.push_back("estimated latency: all int8 " + milliseconds_text(minimum) + ", as chosen " +
                    milliseconds_text(estimate) + ", budget " + milliseconds_text(*mixed.budget_latency_ms) + " (" +
                    mixed.estimate_basis + ")");
  } else {
    size_t rank = 0;
    for (const auto& [layer, alone_db] : ranked) {
      ++rank;
      if (mixed_result.float_layers.size() < float_limit) {
        keep(layer, rank, true, "");
      } else if (mixed_result.sixteen_bit_layers.size() < sixteen_bit_limit) {
        keep(layer, rank, false, "");
      } else {
        break;
      }
    }
    if (mixed.estimate_milliseconds) {
      notes.push_back("estimated latency: all int8 " +
                      milliseconds_text(mixed.estimate_milliseconds(all_int8.model, {}, {})) + ", as chosen " +
                      milliseconds_text(mixed.estimate_milliseconds(all_int8.model, float_nodes, sixteen_bit_nodes)) +
                      " (" + mixed.estimate_basis + ")");
    }
  }

  // 3. Quantize again with the chosen layers excluded, measuring the result the same way.
  const double all_int8_db = ranking.before.value_or(std::nan(""));
  const std::vector<QuantizedLayer> chosen = mixed_result.float_layers;
  const std::vector<QuantizedLayer> every_layer = mixed_result.all_layers;
  const size_t sixteen_bit_count = mixed_result.sixteen_bit_layers.size();
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
    for (const QuantizedLayer& layer : every_layer) {
      LayerOutcome row;
      row.node = layer.name;
      auto reason = reason_of.find(layer.name);
      row.detail = reason == reason_of.end() ? "int8" : reason->second;
      row.detail += ", " + layer.op_types;
      outcome.layers.push_back(std::move(row));
    }
    outcome.notes = notes;
    std::string chosen_text;
    for (const QuantizedLayer& layer : every_layer) {
      auto reason = reason_of.find(layer.name);
      if (reason != reason_of.end()) chosen_text += (chosen_text.empty() ? "" : ", ") + layer.name + " → " + reason->second;
    }
    if (!chosen_text.empty()) outcome.notes.push_back("layers out of int8: " + chosen_text);
    outcome.notes.push_back(std::to_string(chosen.size()) + " layer(s) kept float of " + std::to_string(every_layer.size()) +
                            "; the QDQ file leaves them float32 (RKNN hybrid quantization runs such layers as float16; "
                            "--vendor-hints writes the lists for RKNN and Hailo)");
    if (mixed.keep_int16) {
      outcome.notes.push_back(std::to_string(sixteen_bit_count) + " layer(s) run with 16-bit activations and 8-bit "
                              "weights (a16w8): their activations are on the 16-bit grid in the QDQ file (com.microsoft "
                              "QuantizeLinear / DequantizeLinear) and on sim; the accumulator width of 16-bit layers is "
                              "unknown - assumed int32, as for 8-bit layers");
    }
    return outcome;
  };
  if (chosen.empty() && sixteen_bit_count == 0) {
    notes.push_back("no layer kept float");
  }
  QuantizeOptions second = options;
  second.algorithms = without_sensitivity;
  second.algorithms.push_back(&measure);
  second.settings.exclude.insert(second.settings.exclude.end(), float_nodes.begin(), float_nodes.end());
  second.settings.sixteen_bit_nodes.insert(second.settings.sixteen_bit_nodes.end(), sixteen_bit_nodes.begin(),
                                           sixteen_bit_nodes.end());
  QuantizeResult final_result = quantize_model(model_path, target, second);
  final_result.algorithms.insert(final_result.algorithms.begin(), ranking);
  mixed_result.quantized = std::move(final_result);
  return mixed_result;
}

}  // namespace npukit::quantization
