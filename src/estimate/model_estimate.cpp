#include "estimate/model_estimate.h"

namespace npukit::estimate {

bool has_fallback_nodes(const check::CheckResult& check) {
  for (const check::NodeVerdict& verdict : check.nodes) {
    if (verdict.placement != check::Placement::folded && !check::on_accelerator(verdict.placement)) return true;
  }
  return false;
}

Estimate estimate_model(const ir::Model& model, const check::CheckResult& check, const targets::TargetProfile& profile,
                        const HostCpuTimes& cpu_times, const FittedParameters& fitted, const EstimatorInputs& inputs,
                        const ModelEstimateOptions& options) {
  TargetFacts facts = resolve_target_facts(profile, inputs);
  if (options.cpu_slowdown) facts.cpu_slowdown_vs_host = Figure{*options.cpu_slowdown, false, "given with --cpu-slowdown"};
  const std::vector<LayerFeatures> layers = extract_layer_features(*model.graph);
  EstimateOptions estimate_options;
  estimate_options.cores = options.cores;
  Estimate estimate = estimate_latency(*model.graph, check, layers, facts, fitted.for_target(profile.id, facts.family), cpu_times, estimate_options);
  if (estimate.available) {
    estimate.band = error_band(fitted, profile.id, estimate.seconds);
    if (fitted.present && !fitted.per_target.count(profile.id)) {
      estimate.notes.push_back("no published figure for " + profile.id + " in the fit: its efficiency and overheads are the shared prior");
    }
  }
  return estimate;
}

}  // namespace npukit::estimate
