// Fits the latency model's free parameters on the published (model, board, latency) points of
// estimator_inputs.json that this repository can reproduce (the model file is present), and measures how well it
// predicts figures it has not seen (leave-one-out: each point predicted by a fit on all the others).
//
// Parameters: per target with points, its dense-convolution efficiency, per-layer and invoke overheads; per
// architecture family with points (estimator_inputs.json: dataflow, systolic, NPU cores), its depthwise efficiency;
// shared, the other-op efficiency and the priors (means) of the per-target and per-family ones, which a target or
// family without points uses. The loss is the sum of squared log errors, plus `shrinkage` × the squared distance
// of each target's (logit efficiency, log overheads) and each family's logit depthwise efficiency from the prior,
// so a target or family with few points leans on the others. Minimised by Levenberg-Marquardt from fixed starting
// values (deterministic for given inputs).
#pragma once

#include <functional>
#include <string>

#include "estimate/estimator_data.h"
#include "estimate/latency_model.h"

namespace npukit::estimate {

// One point, ready to predict: the parameter-free parts of its estimate.
struct PreparedPoint {
  CalibrationPoint point;
  CompactEstimate compact;
  std::string bottleneck;  // of the estimate with the starting parameters, for the table
};

struct FitOptions {
  double shrinkage = 0.1;
  std::string repository_root = ".";
  std::function<void(size_t done, size_t total, const std::string& what)> progress;
};

// Loads each point's model (once per model and input shape), checks it against its target, times fallback nodes on
// this host when there are any, and reduces it. Points whose model file is missing are listed in `excluded`.
std::vector<PreparedPoint> prepare_points(const EstimatorInputs& inputs, const FitOptions& options,
                                          std::vector<std::string>& excluded);

// The fit on prepared points (no I/O): parameters, fit and leave-one-out errors, per-point predictions.
FittedParameters fit_prepared_points(const std::vector<PreparedPoint>& points, double shrinkage);

// How a shrinkage is chosen among candidates: the smallest mean squared log error of leave-one-out over the fitted
// (not held-out) points given. Ties go to the first candidate.
double choose_shrinkage(const std::vector<PreparedPoint>& points, const std::vector<double>& candidates,
                        const std::function<void(size_t done, size_t total)>& progress = {});

// Nested leave-one-out: each fitted point predicted by a fit on the others whose shrinkage choose_shrinkage picked
// on those others alone. Fills fitted.nested_leave_one_out_error, shrinkage_candidates and nested_choices.
void add_nested_leave_one_out(FittedParameters& fitted, const std::vector<PreparedPoint>& points, const std::vector<double>& candidates,
                              const std::function<void(size_t done, size_t total)>& progress = {});

// The text of a shrinkage as the nested choices key it ("0.1").
std::string shrinkage_text(double shrinkage);

}  // namespace npukit::estimate
