#include "quantization/algorithms/sensitivity.h"

#include <cmath>

#include "quantization/quantize_model.h"

namespace npukit::quantization {

namespace {

std::optional<double> figure(double db) {
  if (std::isnan(db) || std::isinf(db)) return std::nullopt;
  return db;
}

std::string describe(double db) {
  if (std::isnan(db)) return "not measured (the sim backend could not run that partly quantized model)";
  if (std::isinf(db)) return db > 0 ? "exact (no error)" : "no signal";
  return "";
}

}  // namespace

AlgorithmOutcome sensitivity_outcome(const SensitivityAnalysis& analysis) {
  AlgorithmOutcome outcome;
  outcome.algorithm = kSensitivityAlgorithm;
  outcome.metric = kSensitivityMetric;
  outcome.before = figure(analysis.all_quantized_db);
  outcome.after = outcome.before;  // the analysis changes nothing
  size_t rank = 0;
  for (const LayerSensitivity& row : analysis.layers) {
    LayerOutcome layer;
    layer.node = row.layer.name;
    layer.before = figure(row.alone_db);
    layer.after = figure(row.all_but_db);
    layer.detail = "rank " + std::to_string(++rank) + ", " + row.layer.op_types;
    for (const auto& [label, db] : {std::pair{"alone: ", row.alone_db}, std::pair{"all but: ", row.all_but_db}}) {
      const std::string text = describe(db);
      if (!text.empty()) layer.detail += "; " + std::string(label) + text;
    }
    if (row.layer.nodes.empty()) layer.detail += "; a graph input: --exclude cannot keep it float";
    outcome.layers.push_back(std::move(layer));
  }
  outcome.notes.push_back("measured through the target's integer arithmetic (sim backend) on the first " +
                          std::to_string(analysis.samples) +
                          " calibration sample(s) against the float model; these samples also set the ranges "
                          "(not held out)");
  outcome.notes.push_back("alone: the layer's own points and the points it reads quantized, the rest float; all but: "
                          "the points --exclude of the layer's nodes would leave, with the ranges already chosen "
                          "(no re-calibration)");
  outcome.notes.push_back("most sensitive first: lowest SQNR alone, then highest SQNR without it");
  return outcome;
}

QuantizationAlgorithm sensitivity_algorithm() {
  QuantizationAlgorithm algorithm;
  algorithm.name = kSensitivityAlgorithm;
  algorithm.summary = "rank layers by output SQNR on sim, each quantized alone and each left float (changes nothing)";
  algorithm.stage = AlgorithmStage::after_parameters;
  algorithm.apply = [](AlgorithmContext& context) {
    auto progress = [&context](size_t done, size_t total) {
      if (context.progress) context.progress(done, total, "sensitivity");
    };
    const SensitivityAnalysis analysis =
        analyze_layer_sensitivity(context.model, context.plan, context.options.settings, context.target,
                                  context.calibration, context.options.sensitivity_samples, progress);
    return sensitivity_outcome(analysis);
  };
  return algorithm;
}

}  // namespace npukit::quantization
