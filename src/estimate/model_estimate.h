// One estimate from a loaded model and a check result: facts resolved, layer features read, fallback nodes
// charged with the host times given, the fitted parameters of the target applied and the error band attached.
// The CLI (estimate, check --estimate) and the fit both go through here, so they use one formula.
#pragma once

#include "check/target_check.h"
#include "estimate/latency_model.h"

namespace npukit::estimate {

struct ModelEstimateOptions {
  int cores = 0;                     // 0: the target's default
  std::optional<double> cpu_slowdown;  // overrides the board-CPU slowdown assumption (--cpu-slowdown)
};

// True when some node of the check result falls back (so host CPU times are worth measuring).
bool has_fallback_nodes(const check::CheckResult& check);

Estimate estimate_model(const ir::Model& model, const check::CheckResult& check, const targets::TargetProfile& profile,
                        const HostCpuTimes& cpu_times, const FittedParameters& fitted = builtin_fitted_parameters(),
                        const EstimatorInputs& inputs = builtin_estimator_inputs(), const ModelEstimateOptions& options = {});

}  // namespace npukit::estimate
