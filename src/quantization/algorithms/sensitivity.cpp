#include "quantization/algorithms/sensitivity.h"

#include <cmath>

#include "quantization/quantize_model.h"
#include "report/table.h"

namespace npukit::quantization {

namespace {

// A proposal names at most this many layers, each gaining at least this much output SQNR when left float alone.
constexpr size_t kProposedExclusions = 3;
constexpr double kProposalGainDb = 1.0;

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
    if (!row.problem.empty()) layer.detail += " (" + row.problem + ")";
    if (row.layer.nodes.empty()) layer.detail += "; a graph input: --exclude cannot keep it float";
    outcome.layers.push_back(std::move(layer));
  }
  // Proposed exclusions: the layers whose float alone gains most, among the first candidates of the ranking.
  std::string proposal;
  size_t proposed = 0;
  for (const LayerSensitivity& row : analysis.layers) {
    if (proposed == kProposedExclusions) break;
    if (row.layer.nodes.empty() || std::isnan(row.all_but_db) || std::isnan(analysis.all_quantized_db)) continue;
    const double gain = row.all_but_db - analysis.all_quantized_db;
    if (!(gain >= kProposalGainDb)) continue;
    proposal += (proposal.empty() ? "" : ", ") + row.layer.name + " (+" + report::format_number(gain, 3) + " dB)";
    ++proposed;
  }
  if (!proposal.empty()) {
    outcome.notes.push_back("proposed exclusions: " + proposal +
                            " — the first layers of the ranking whose float alone raises the output SQNR by " +
                            report::format_number(kProposalGainDb) +
                            " dB or more; give their nodes to --exclude, or --keep-float N for the first N of the ranking");
  } else {
    outcome.notes.push_back("proposed exclusions: none; no layer left float alone raises the output SQNR by " +
                            report::format_number(kProposalGainDb) + " dB or more");
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
