#include "quantization/range_selection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "npukit/error.h"

namespace npukit::quantization {

std::string_view range_method_name(RangeMethod method) {
  switch (method) {
    case RangeMethod::minmax: return "minmax";
    case RangeMethod::percentile: return "percentile";
    case RangeMethod::entropy: return "entropy";
    case RangeMethod::mse: return "mse";
  }
  return "unknown";
}

std::optional<RangeMethod> range_method_from_name(std::string_view name) {
  for (RangeMethod method : {RangeMethod::minmax, RangeMethod::percentile, RangeMethod::entropy, RangeMethod::mse}) {
    if (range_method_name(method) == name) return method;
  }
  return std::nullopt;
}

namespace {

// MXNet's / ORT's _smooth_distribution: empty bins get ε, the others give it back evenly, so that KL(P‖Q) is
// finite. Returns false where ORT returns None (nothing non-empty) or would fail its assertion (a bin pushed to
// or below zero).
bool smooth_distribution(std::vector<double>& distribution, double epsilon = 0.0001) {
  size_t zeros = 0;
  for (double value : distribution) zeros += value == 0;
  const size_t non_zeros = distribution.size() - zeros;
  if (non_zeros == 0) return false;
  const double given_back = epsilon * static_cast<double>(zeros) / static_cast<double>(non_zeros);
  if (given_back >= 1.0) return false;
  for (double& value : distribution) {
    value += value == 0 ? epsilon : -given_back;
    if (value <= 0) return false;
  }
  return true;
}

// KL(P‖Q) of the normalised distributions (scipy.stats.entropy(p, q)).
double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  double p_sum = 0, q_sum = 0;
  for (size_t i = 0; i < p.size(); ++i) p_sum += p[i], q_sum += q[i];
  double divergence = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double p_normalised = p[i] / p_sum, q_normalised = q[i] / q_sum;
    if (p_normalised > 0) divergence += p_normalised * std::log(p_normalised / q_normalised);
  }
  return divergence;
}

void check_options(const RangeOptions& options) {
  if (options.quantized_levels < 2) {
    throw Error(ErrorKind::invalid_argument,
                "calibration: the grid needs at least 2 levels, got " + std::to_string(options.quantized_levels));
  }
  if (options.method == RangeMethod::percentile && !(options.percentile > 0 && options.percentile <= 100)) {
    throw Error(ErrorKind::invalid_argument,
                "calibration: the percentile must be in (0, 100], got " + std::to_string(options.percentile));
  }
}

Range symmetric(double threshold) { return {-threshold, threshold}; }

Range including_zero(Range range) { return {std::min(range.minimum, 0.0), std::max(range.maximum, 0.0)}; }

}  // namespace

double entropy_threshold(const HistogramView& absolute, int quantized_bins) {
  const int bins = static_cast<int>(absolute.counts.size());
  const double width = absolute.bin_width();
  if (quantized_bins < 1 || bins <= quantized_bins || width <= 0) return absolute.upper;
  const std::vector<double>& counts = absolute.counts;
  // outliers_above[i] = sum of counts[i..bins).
  std::vector<double> outliers_above(bins + 1, 0.0);
  for (int i = bins - 1; i >= 0; --i) outliers_above[i] = outliers_above[i + 1] + counts[i];

  double best_divergence = std::numeric_limits<double>::infinity();
  int best_bins = bins;
  std::vector<double> reference, candidate;
  for (int kept = quantized_bins; kept <= bins; ++kept) {
    // P: the kept bins, every value beyond them clipped into the last one.
    reference.assign(counts.begin(), counts.begin() + kept);
    reference[kept - 1] += outliers_above[kept];
    // Q: the kept bins (without the outliers) merged into quantized_bins levels — the remainder joins the last
    // level — then each level spread evenly over its bins that are non-empty in P.
    candidate.assign(kept, 0.0);
    const int merged = kept / quantized_bins;
    for (int level = 0; level < quantized_bins; ++level) {
      const int start = level * merged;
      const int end = level == quantized_bins - 1 ? kept : start + merged;
      double level_count = 0;
      int non_empty = 0;
      for (int j = start; j < end; ++j) {
        level_count += counts[j];
        non_empty += reference[j] != 0;
      }
      if (non_empty == 0) continue;
      for (int j = start; j < end; ++j) {
        if (reference[j] != 0) candidate[j] = level_count / non_empty;
      }
    }
    if (!smooth_distribution(reference) || !smooth_distribution(candidate)) continue;
    const double divergence = kl_divergence(reference, candidate);
    if (divergence < best_divergence) {  // the first minimum, as numpy's argmin
      best_divergence = divergence;
      best_bins = kept;
    }
  }
  return absolute.lower + best_bins * width;
}

double expected_quantization_error(const HistogramView& view, double minimum, double maximum, int64_t levels) {
  const double step = (maximum - minimum) / static_cast<double>(levels - 1);
  const double rounding_noise = step * step / 12;
  const double width = view.bin_width();
  double error = 0, total = 0;
  for (size_t i = 0; i < view.counts.size(); ++i) {
    const double count = view.counts[i];
    if (count == 0) continue;
    const double centre = view.lower + (static_cast<double>(i) + 0.5) * width;
    double squared_error = rounding_noise;
    if (centre < minimum) squared_error = (minimum - centre) * (minimum - centre);
    if (centre > maximum) squared_error = (centre - maximum) * (centre - maximum);
    error += count * squared_error;
    total += count;
  }
  return total > 0 ? error / total : 0;
}

double mse_threshold(const HistogramView& absolute, int64_t levels) {
  const int bins = static_cast<int>(absolute.counts.size());
  const double width = absolute.bin_width();
  if (bins == 0 || width <= 0) return absolute.upper;
  // Suffix sums of count, count·c and count·c² (c: bin centre) make each candidate's clipping error O(1):
  //   Σ_{c > t} n (c − t)² = Σ n c² − 2 t Σ n c + t² Σ n.
  std::vector<double> count_above(bins + 1, 0.0), first_moment_above(bins + 1, 0.0), second_moment_above(bins + 1, 0.0);
  for (int i = bins - 1; i >= 0; --i) {
    const double centre = absolute.lower + (i + 0.5) * width, count = absolute.counts[i];
    count_above[i] = count_above[i + 1] + count;
    first_moment_above[i] = first_moment_above[i + 1] + count * centre;
    second_moment_above[i] = second_moment_above[i + 1] + count * centre * centre;
  }
  const double total = count_above[0];
  if (total <= 0) return absolute.upper;
  double best_error = std::numeric_limits<double>::infinity();
  double best_threshold = absolute.upper;
  // From the widest candidate down: on a tie the wider range wins (it clips nothing more).
  for (int kept = bins; kept >= 1; --kept) {
    const double threshold = absolute.lower + kept * width;
    const double step = 2 * threshold / static_cast<double>(levels - 1);
    const double inside = total - count_above[kept];
    const double clipping = second_moment_above[kept] - 2 * threshold * first_moment_above[kept] +
                            threshold * threshold * count_above[kept];
    const double error = (inside * step * step / 12 + clipping) / total;
    if (error < best_error) {
      best_error = error;
      best_threshold = threshold;
    }
  }
  return best_threshold;
}

Range mse_range(const HistogramView& signed_view, int64_t levels) {
  const int bins = static_cast<int>(signed_view.counts.size());
  const double width = signed_view.bin_width();
  const Range observed = including_zero({signed_view.lower, signed_view.upper});
  if (bins == 0 || width <= 0) return observed;
  // Prefix sums of count, count·c, count·c² (c: bin centre): the clipping error of any pair of edges in O(1).
  std::vector<double> count_below(bins + 1, 0.0), first_below(bins + 1, 0.0), second_below(bins + 1, 0.0);
  for (int i = 0; i < bins; ++i) {
    const double centre = signed_view.lower + (i + 0.5) * width, count = signed_view.counts[i];
    count_below[i + 1] = count_below[i] + count;
    first_below[i + 1] = first_below[i] + count * centre;
    second_below[i + 1] = second_below[i] + count * centre * centre;
  }
  const double total = count_below[bins];
  if (total <= 0) return observed;
  auto edge = [&](int i) { return i == bins ? signed_view.upper : signed_view.lower + i * width; };
  // Candidate lower ends: the edges at or below 0 (just 0 when every value is positive); upper ends: the edges
  // at or above 0. The bins clipped on the left are those below the lower edge's index, likewise on the right.
  std::vector<std::pair<double, int>> lower_candidates, upper_candidates;
  if (signed_view.lower >= 0) lower_candidates.push_back({0.0, 0});
  for (int i = 0; i <= bins; ++i) {
    if (signed_view.lower < 0 && edge(i) <= 0) lower_candidates.push_back({edge(i), i});
    if (signed_view.upper > 0 && edge(i) >= 0) upper_candidates.push_back({edge(i), i});
  }
  if (signed_view.upper <= 0) upper_candidates.push_back({0.0, bins});
  double best_error = std::numeric_limits<double>::infinity();
  Range best = observed;
  // Widest first: on a tie the wider range wins (it clips nothing more).
  for (const auto& [lower, i] : lower_candidates) {
    const double left = lower * lower * count_below[i] - 2 * lower * first_below[i] + second_below[i];
    for (auto it = upper_candidates.rbegin(); it != upper_candidates.rend(); ++it) {
      const auto& [upper, j] = *it;
      if (j < i || upper <= lower) continue;
      const double above = total - count_below[j];
      const double right = (second_below[bins] - second_below[j]) - 2 * upper * (first_below[bins] - first_below[j]) +
                           upper * upper * above;
      const double step = (upper - lower) / static_cast<double>(levels - 1);
      const double inside = count_below[j] - count_below[i];
      const double error = (inside * step * step / 12 + left + right) / total;
      if (error < best_error) {
        best_error = error;
        best = {lower, upper};
      }
    }
  }
  return best;
}

Range choose_range(const ValueHistogram& histogram, const RangeOptions& options) {
  check_options(options);
  if (histogram.finite_count() == 0) {
    throw Error(ErrorKind::invalid_argument,
                "calibration: no finite value was observed (" + std::to_string(histogram.non_finite_count()) +
                    " NaN / Inf of " + std::to_string(histogram.count()) + "), so there is no range to choose");
  }
  const double maximum_absolute = histogram.maximum_absolute();
  const Range observed = including_zero({histogram.minimum(), histogram.maximum()});
  if (maximum_absolute == 0) return {0, 0};
  switch (options.method) {
    case RangeMethod::minmax:
      return options.symmetric ? symmetric(maximum_absolute) : observed;
    case RangeMethod::percentile: {
      const double fraction = options.percentile / 100;
      if (options.symmetric) return symmetric(histogram.quantile(fraction, true));
      const double cut = (1 - fraction) / 2;
      return including_zero({histogram.quantile(cut), histogram.quantile(1 - cut)});
    }
    case RangeMethod::entropy: {
      const int quantized_bins = static_cast<int>(std::max<int64_t>(1, options.quantized_levels / 2));
      const double threshold = entropy_threshold(histogram.absolute_view(), quantized_bins);
      if (options.symmetric) return symmetric(threshold);
      return including_zero({std::max(-threshold, histogram.minimum()), std::min(threshold, histogram.maximum())});
    }
    case RangeMethod::mse:
      if (options.symmetric) return symmetric(mse_threshold(histogram.absolute_view(), options.quantized_levels));
      return mse_range(histogram.signed_view(), options.quantized_levels);
  }
  return observed;
}

}  // namespace npukit::quantization
