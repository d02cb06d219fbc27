#include "estimate/parameter_fit.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <cstdio>
#include <set>

#include "check/target_check.h"
#include "estimate/host_cpu_timing.h"
#include "estimate/model_estimate.h"
#include "preparation/model_preparation.h"
#include "targets/profile_loader.h"

namespace npukit::estimate {

namespace {

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double logit(double p) { return std::log(p / (1.0 - p)); }

// The parameter vector: [shared: logit depthwise (the prior of the families'), logit other, prior logit efficiency,
// prior log layer overhead, prior log invoke overhead], then per architecture family with points [logit depthwise],
// then per target [logit efficiency, log layer overhead, log invoke overhead].
constexpr size_t shared_count = 5;
constexpr size_t per_target_count = 3;

struct Layout {
  std::vector<std::string> families;                 // with points in the training set
  std::vector<std::string> targets;                  // with points in the training set
  std::map<std::string, std::string> family_of;      // target -> family ("" when unlisted)

  size_t family_index(const std::string& family) const {
    return shared_count + static_cast<size_t>(std::find(families.begin(), families.end(), family) - families.begin());
  }
  size_t target_index(size_t t) const { return shared_count + families.size() + per_target_count * t; }
  bool is_logit(size_t i) const {
    if (i < 3) return true;
    if (i < shared_count) return false;
    if (i < shared_count + families.size()) return true;
    return (i - shared_count - families.size()) % per_target_count == 0;
  }
};

ModelParameters shared_parameters(const std::vector<double>& x) {
  ModelParameters parameters;
  parameters.depthwise_efficiency = logistic(x[0]);
  parameters.other_op_efficiency = logistic(x[1]);
  parameters.efficiency = logistic(x[2]);
  parameters.layer_overhead_seconds = std::exp(x[3]);
  parameters.invoke_overhead_seconds = std::exp(x[4]);
  return parameters;
}

ModelParameters target_parameters(const std::vector<double>& x, const Layout& layout, const std::string& target,
                                  const std::string& family) {
  ModelParameters parameters = shared_parameters(x);
  if (std::find(layout.families.begin(), layout.families.end(), family) != layout.families.end()) {
    parameters.depthwise_efficiency = logistic(x[layout.family_index(family)]);
  }
  auto found = std::find(layout.targets.begin(), layout.targets.end(), target);
  if (found == layout.targets.end()) return parameters;  // no points: the prior
  const size_t index = layout.target_index(static_cast<size_t>(found - layout.targets.begin()));
  parameters.efficiency = logistic(x[index]);
  parameters.layer_overhead_seconds = std::exp(x[index + 1]);
  parameters.invoke_overhead_seconds = std::exp(x[index + 2]);
  return parameters;
}

ModelParameters point_parameters(const std::vector<double>& x, const Layout& layout, const PreparedPoint& prepared) {
  return target_parameters(x, layout, prepared.point.target, prepared.compact.family);
}

double point_seconds(const PreparedPoint& prepared, const ModelParameters& parameters) {
  return predict_seconds(prepared.compact, parameters, prepared.point.batch) / static_cast<double>(prepared.point.parallel_instances);
}

// The residuals whose squares the fit minimises: one log error per training point, then sqrt(shrinkage) × each
// target parameter's distance from its prior, then a soft wall keeping logits and logs in a sane range (where the
// logistic is flat the loss gives no direction).
std::vector<double> residuals(const std::vector<double>& x, const Layout& layout, const std::vector<const PreparedPoint*>& training,
                              double shrinkage) {
  std::vector<double> result;
  result.reserve(training.size() + x.size() * 2);
  for (const PreparedPoint* prepared : training) {
    const double predicted = point_seconds(*prepared, point_parameters(x, layout, *prepared));
    const double error = std::log(predicted / (prepared->point.milliseconds * 1e-3));
    result.push_back(std::isfinite(error) ? error : 1e3);
  }
  const double pull = std::sqrt(shrinkage);
  for (size_t f = 0; f < layout.families.size(); ++f) result.push_back(pull * (x[shared_count + f] - x[0]));
  for (size_t t = 0; t < layout.targets.size(); ++t) {
    for (size_t k = 0; k < per_target_count; ++k) result.push_back(pull * (x[layout.target_index(t) + k] - x[2 + k]));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const bool is_logit = layout.is_logit(i);
    const double low = is_logit ? -12 : std::log(1e-8), high = is_logit ? 8 : std::log(1e-1);
    result.push_back(x[i] < low ? x[i] - low : x[i] > high ? x[i] - high : 0.0);
  }
  return result;
}

double sum_of_squares(const std::vector<double>& values) {
  double total = 0;
  for (double value : values) total += value * value;
  return total;
}

// Solves A·d = b by Gaussian elimination with partial pivoting (A is the damped normal matrix: small and regular).
std::vector<double> solve(std::vector<std::vector<double>> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t column = 0; column < n; ++column) {
    size_t pivot = column;
    for (size_t row = column + 1; row < n; ++row) {
      if (std::abs(a[row][column]) > std::abs(a[pivot][column])) pivot = row;
    }
    std::swap(a[column], a[pivot]);
    std::swap(b[column], b[pivot]);
    if (std::abs(a[column][column]) < 1e-300) return std::vector<double>(n, 0.0);
    for (size_t row = column + 1; row < n; ++row) {
      const double factor = a[row][column] / a[column][column];
      for (size_t k = column; k < n; ++k) a[row][k] -= factor * a[column][k];
      b[row] -= factor * b[column];
    }
  }
  std::vector<double> d(n, 0.0);
  for (size_t row = n; row-- > 0;) {
    double sum = b[row];
    for (size_t k = row + 1; k < n; ++k) sum -= a[row][k] * d[k];
    d[row] = sum / a[row][row];
  }
  return d;
}

// Levenberg-Marquardt with a forward-difference Jacobian: the problem is small (tens of parameters and points).
std::vector<double> levenberg_marquardt(const std::function<std::vector<double>(const std::vector<double>&)>& f,
                                        std::vector<double> x, int iterations) {
  std::vector<double> r = f(x);
  double cost = sum_of_squares(r);
  double damping = 1e-2;
  const size_t n = x.size();
  for (int iteration = 0; iteration < iterations; ++iteration) {
    std::vector<std::vector<double>> jacobian(n);  // jacobian[j][i] = d r_i / d x_j
    for (size_t j = 0; j < n; ++j) {
      std::vector<double> shifted = x;
      const double h = 1e-6 * std::max(1.0, std::abs(x[j]));
      shifted[j] += h;
      const std::vector<double> r_shifted = f(shifted);
      jacobian[j].resize(r.size());
      for (size_t i = 0; i < r.size(); ++i) jacobian[j][i] = (r_shifted[i] - r[i]) / h;
    }
    std::vector<std::vector<double>> normal(n, std::vector<double>(n, 0.0));
    std::vector<double> gradient(n, 0.0);
    for (size_t a = 0; a < n; ++a) {
      for (size_t i = 0; i < r.size(); ++i) gradient[a] -= jacobian[a][i] * r[i];
      for (size_t b = a; b < n; ++b) {
        double sum = 0;
        for (size_t i = 0; i < r.size(); ++i) sum += jacobian[a][i] * jacobian[b][i];
        normal[a][b] = normal[b][a] = sum;
      }
    }
    bool improved = false;
    for (int attempt = 0; attempt < 16 && !improved; ++attempt) {
      std::vector<std::vector<double>> damped = normal;
      for (size_t a = 0; a < n; ++a) damped[a][a] += damping * normal[a][a] + 1e-12;
      const std::vector<double> step = solve(damped, gradient);
      std::vector<double> candidate = x;
      for (size_t a = 0; a < n; ++a) candidate[a] += step[a];
      const std::vector<double> r_candidate = f(candidate);
      const double candidate_cost = sum_of_squares(r_candidate);
      if (candidate_cost < cost) {
        const bool converged = cost - candidate_cost < 1e-12 * std::max(1.0, cost);
        x = candidate, r = r_candidate, cost = candidate_cost;
        damping = std::max(1e-9, damping / 3);
        improved = true;
        if (converged) return x;
      } else {
        damping *= 4;
      }
    }
    if (!improved) break;
  }
  return x;
}

struct FitResult {
  Layout layout;
  std::vector<double> x;
};

FitResult fit(const std::vector<const PreparedPoint*>& training, double shrinkage) {
  FitResult result;
  std::set<std::string> targets, families;
  for (const PreparedPoint* prepared : training) {
    targets.insert(prepared->point.target);
    if (!prepared->compact.family.empty()) families.insert(prepared->compact.family);
    result.layout.family_of[prepared->point.target] = prepared->compact.family;
  }
  result.layout.targets.assign(targets.begin(), targets.end());
  result.layout.families.assign(families.begin(), families.end());
  const ModelParameters start;
  std::vector<double> x = {logit(start.depthwise_efficiency), logit(start.other_op_efficiency), logit(start.efficiency),
                           std::log(start.layer_overhead_seconds), std::log(start.invoke_overhead_seconds)};
  for (size_t f = 0; f < result.layout.families.size(); ++f) x.push_back(logit(start.depthwise_efficiency));
  for (size_t t = 0; t < result.layout.targets.size(); ++t) {
    x.push_back(logit(start.efficiency));
    x.push_back(std::log(start.layer_overhead_seconds));
    x.push_back(std::log(start.invoke_overhead_seconds));
  }
  auto objective = [&](const std::vector<double>& candidate) { return residuals(candidate, result.layout, training, shrinkage); };
  result.x = levenberg_marquardt(objective, x, 300);
  return result;
}

std::string shape_key(const CalibrationPoint& point) {
  std::string key = point.model;
  for (int64_t dim : point.input_shape) key += "," + std::to_string(dim);
  return key;
}

}  // namespace

std::vector<PreparedPoint> prepare_points(const EstimatorInputs& inputs, const FitOptions& options, std::vector<std::string>& excluded) {
  std::vector<PreparedPoint> prepared;
  std::map<std::string, std::vector<const CalibrationPoint*>> by_model;
  for (const CalibrationPoint& point : inputs.points) by_model[shape_key(point)].push_back(&point);
  size_t done = 0;
  for (const auto& [key, points] : by_model) {
    const CalibrationPoint& first = *points.front();
    const std::filesystem::path path = std::filesystem::path(options.repository_root) / first.model;
    if (options.progress) options.progress(done, inputs.points.size(), first.model);
    if (!std::filesystem::exists(path)) {
      for (const CalibrationPoint* point : points) {
        excluded.push_back(point->target + " " + point->published_model + ": " + first.model + " is not present (tools/make_models.sh makes it)");
      }
      done += points.size();
      continue;
    }
    preparation::PreparationOptions preparation_options;
    preparation_options.run_reference_for_unknown_shapes = false;
    if (!first.input_shape.empty()) {
      preparation::PreparedModel plain = preparation::load_prepared_model(path.string(), preparation_options);
      if (plain.model.graph->inputs.size() != 1) {
        throw Error(ErrorKind::invalid_argument, "a calibration point with input_shape needs a model with one input", path.string());
      }
      preparation_options.input_shapes[plain.model.graph->inputs.front()->name] = first.input_shape;
    }
    const preparation::PreparedModel loaded = preparation::load_prepared_model(path.string(), preparation_options);
    std::optional<HostCpuTimes> cpu_times;
    for (const CalibrationPoint* point : points) {
      const targets::TargetProfile& profile = targets::find_builtin_target(point->target);
      const check::CheckResult check = check::check_model(loaded.model, profile);
      if (has_fallback_nodes(check) && !cpu_times) cpu_times = time_nodes_on_host(loaded.model);
      FittedParameters starting;  // not present: the default parameters, no band
      const Estimate estimate = estimate_model(loaded.model, check, profile, cpu_times.value_or(HostCpuTimes{}), starting, inputs);
      if (!estimate.available) {
        excluded.push_back(point->target + " " + point->published_model + ": no estimate (" + estimate.unavailable_reason + ")");
        continue;
      }
      PreparedPoint entry;
      entry.point = *point;
      entry.compact = compact_estimate(estimate, extract_layer_features(*loaded.model.graph), check);
      entry.bottleneck = estimate.bottleneck;
      prepared.push_back(std::move(entry));
      ++done;
      if (options.progress) options.progress(done, inputs.points.size(), first.model);
    }
  }
  return prepared;
}

FittedParameters fit_prepared_points(const std::vector<PreparedPoint>& points, double shrinkage) {
  FittedParameters fitted;
  fitted.present = true;
  fitted.shrinkage = shrinkage;
  std::vector<const PreparedPoint*> all;
  for (const PreparedPoint& point : points) {
    if (!point.point.held_out) all.push_back(&point);
  }
  const FitResult full = fit(all, shrinkage);
  fitted.shared = shared_parameters(full.x);
  for (const std::string& family : full.layout.families) {
    fitted.family_depthwise_efficiency[family] = logistic(full.x[full.layout.family_index(family)]);
  }
  for (const std::string& target : full.layout.targets) {
    fitted.per_target[target] = target_parameters(full.x, full.layout, target, full.layout.family_of.at(target));
  }
  std::vector<std::pair<double, double>> fit_pairs, loo_pairs;
  std::map<std::string, std::vector<std::pair<double, double>>> loo_by_target;
  for (size_t i = 0; i < points.size(); ++i) {
    const PreparedPoint& point = points[i];
    if (point.point.held_out) {
      PointResult result;
      result.point = point.point;
      result.bottleneck = point.bottleneck;
      result.fitted_milliseconds = point_seconds(point, point_parameters(full.x, full.layout, point)) * 1e3;
      result.leave_one_out_milliseconds = result.fitted_milliseconds;
      fitted.held_out_points.push_back(std::move(result));
      continue;
    }
    ++fitted.points_per_target[point.point.target];
    std::vector<const PreparedPoint*> others;
    for (size_t j = 0; j < points.size(); ++j) {
      if (j != i && !points[j].point.held_out) others.push_back(&points[j]);
    }
    const FitResult without = fit(others, shrinkage);
    PointResult result;
    result.point = point.point;
    result.bottleneck = point.bottleneck;
    result.fitted_milliseconds = point_seconds(point, point_parameters(full.x, full.layout, point)) * 1e3;
    result.leave_one_out_milliseconds = point_seconds(point, point_parameters(without.x, without.layout, point)) * 1e3;
    fit_pairs.push_back({result.fitted_milliseconds, point.point.milliseconds});
    loo_pairs.push_back({result.leave_one_out_milliseconds, point.point.milliseconds});
    loo_by_target[point.point.target].push_back(loo_pairs.back());
    fitted.points.push_back(std::move(result));
  }
  fitted.fit_error = summarize_errors(fit_pairs);
  fitted.leave_one_out_error = summarize_errors(loo_pairs);
  for (const auto& [target, pairs] : loo_by_target) fitted.leave_one_out_by_target[target] = summarize_errors(pairs);
  return fitted;
}

namespace {

// Leave-one-out over `training`: each point predicted (seconds) by a fit on the others.
std::vector<double> leave_one_out_seconds(const std::vector<const PreparedPoint*>& training, double shrinkage) {
  std::vector<double> predicted;
  for (size_t i = 0; i < training.size(); ++i) {
    std::vector<const PreparedPoint*> others;
    for (size_t j = 0; j < training.size(); ++j) {
      if (j != i) others.push_back(training[j]);
    }
    const FitResult without = fit(others, shrinkage);
    predicted.push_back(point_seconds(*training[i], point_parameters(without.x, without.layout, *training[i])));
  }
  return predicted;
}

double choose_among(const std::vector<const PreparedPoint*>& training, const std::vector<double>& candidates,
                    const std::function<void()>& step) {
  double best = candidates.front(), best_loss = 1e300;
  for (double candidate : candidates) {
    const std::vector<double> predicted = leave_one_out_seconds(training, candidate);
    double loss = 0;
    for (size_t i = 0; i < training.size(); ++i) {
      const double error = std::log(predicted[i] / (training[i]->point.milliseconds * 1e-3));
      loss += std::isfinite(error) ? error * error : 1e6;
    }
    loss /= static_cast<double>(std::max<size_t>(1, training.size()));
    if (loss < best_loss) best = candidate, best_loss = loss;
    if (step) step();
  }
  return best;
}

std::vector<const PreparedPoint*> fitted_points(const std::vector<PreparedPoint>& points) {
  std::vector<const PreparedPoint*> training;
  for (const PreparedPoint& point : points) {
    if (!point.point.held_out) training.push_back(&point);
  }
  return training;
}

}  // namespace

std::string shrinkage_text(double shrinkage) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", shrinkage);
  return text;
}

double choose_shrinkage(const std::vector<PreparedPoint>& points, const std::vector<double>& candidates,
                        const std::function<void(size_t done, size_t total)>& progress) {
  if (candidates.empty()) throw Error(ErrorKind::invalid_argument, "no shrinkage candidates to choose among");
  size_t done = 0;
  return choose_among(fitted_points(points), candidates, [&] {
    if (progress) progress(++done, candidates.size());
  });
}

void add_nested_leave_one_out(FittedParameters& fitted, const std::vector<PreparedPoint>& points, const std::vector<double>& candidates,
                              const std::function<void(size_t done, size_t total)>& progress) {
  if (candidates.empty()) throw Error(ErrorKind::invalid_argument, "no shrinkage candidates to choose among");
  const std::vector<const PreparedPoint*> training = fitted_points(points);
  fitted.shrinkage_candidates = candidates;
  fitted.nested_choices.clear();
  std::vector<std::pair<double, double>> pairs;
  const size_t total = training.size() * candidates.size();
  size_t done = 0;
  for (size_t i = 0; i < training.size(); ++i) {
    std::vector<const PreparedPoint*> others;
    for (size_t j = 0; j < training.size(); ++j) {
      if (j != i) others.push_back(training[j]);
    }
    // The choice sees only the others: the held-out point plays no part in it.
    const double chosen = choose_among(others, candidates, [&] {
      if (progress) progress(++done, total);
    });
    ++fitted.nested_choices[shrinkage_text(chosen)];
    const FitResult without = fit(others, chosen);
    const double predicted = point_seconds(*training[i], point_parameters(without.x, without.layout, *training[i]));
    pairs.push_back({predicted * 1e3, training[i]->point.milliseconds});
    // fitted.points lists the same fitted points in the same order (fit_prepared_points).
    if (i < fitted.points.size() && fitted.points[i].point.model == training[i]->point.model &&
        fitted.points[i].point.target == training[i]->point.target) {
      fitted.points[i].nested_leave_one_out_milliseconds = predicted * 1e3;
    }
  }
  fitted.nested_leave_one_out_error = summarize_errors(pairs);
}

}  // namespace npukit::estimate
