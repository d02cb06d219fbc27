#include "quantization/value_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "npukit/error.h"

namespace npukit::quantization {

double HistogramView::total() const {
  double sum = 0;
  for (double count : counts) sum += count;
  return sum;
}

ValueHistogram::ValueHistogram(int bins) : bins_(bins) {
  if (bins < 1 || bins > (1 << 20)) {
    throw Error(ErrorKind::invalid_argument,
                "histogram bins must be between 1 and 1048576, got " + std::to_string(bins));
  }
  resolution_ = 4 * bins;
  positive_.assign(resolution_, 0);
  negative_.assign(resolution_, 0);
}

double ValueHistogram::maximum_absolute() const { return std::max(std::fabs(minimum_), std::fabs(maximum_)); }

double ValueHistogram::standard_deviation() const {
  const uint64_t finite = finite_count();
  return finite == 0 ? 0 : std::sqrt(squared_deviation_sum_ / static_cast<double>(finite));
}

void ValueHistogram::grow_to(double magnitude) {
  if (magnitude == 0) return;
  if (width_ == 0) {
    width_ = magnitude / resolution_;
    if (width_ == 0) width_ = magnitude;  // a subnormal magnitude: one bin holds it
    positive_[0] += zeros_before_width_;
    zeros_before_width_ = 0;
    return;
  }
  // Double the width until the magnitude fits; merging neighbours keeps every count in a bin that contains it.
  while (magnitude > width_ * resolution_) {
    for (std::vector<uint64_t>* side : {&positive_, &negative_}) {
      std::vector<uint64_t>& bins = *side;
      for (int k = 0; k < resolution_ / 2; ++k) bins[k] = bins[2 * k] + bins[2 * k + 1];
      std::fill(bins.begin() + resolution_ / 2, bins.end(), 0);
    }
    width_ *= 2;
  }
}

namespace {

// Lanes of the fast path's reductions: independent additions, so each does not wait on the one before (a
// calibration run feeds tens of millions of values per picture through add()).
constexpr size_t kLanes = 8;

bool is_finite_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return (bits & 0x7f800000u) != 0x7f800000u;  // NaN and ±Inf have every exponent bit set
}

// Minimum, maximum and sum of `count` > 0 values, when all are finite (false otherwise, and the results are then
// meaningless). The minimum and maximum are exact; the sum differs from a one-lane sum only in its last bits.
bool finite_statistics(const float* values, size_t count, double& minimum, double& maximum, double& sum) {
  float lane_minimum[kLanes], lane_maximum[kLanes];
  double lane_sum[kLanes] = {};
  uint32_t non_finite = 0;
  for (size_t lane = 0; lane < kLanes; ++lane) lane_minimum[lane] = lane_maximum[lane] = values[0];
  size_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    for (size_t lane = 0; lane < kLanes; ++lane) {
      const float value = values[i + lane];
      non_finite |= static_cast<uint32_t>(!is_finite_bits(value));
      lane_minimum[lane] = value < lane_minimum[lane] ? value : lane_minimum[lane];
      lane_maximum[lane] = value > lane_maximum[lane] ? value : lane_maximum[lane];
      lane_sum[lane] += value;
    }
  }
  for (; i < count; ++i) {
    non_finite |= static_cast<uint32_t>(!is_finite_bits(values[i]));
    lane_minimum[0] = std::min(lane_minimum[0], values[i]);
    lane_maximum[0] = std::max(lane_maximum[0], values[i]);
    lane_sum[0] += values[i];
  }
  minimum = *std::min_element(lane_minimum, lane_minimum + kLanes);
  maximum = *std::max_element(lane_maximum, lane_maximum + kLanes);
  sum = 0;
  for (double part : lane_sum) sum += part;
  return non_finite == 0;
}

}  // namespace

void ValueHistogram::add(const float* values, size_t count) {
  // First pass: the batch's finite statistics, so the width grows once per batch, not once per value. All values
  // finite (the rule for activations) takes the fast path; otherwise the batch is read again value by value.
  double batch_minimum = 0, batch_maximum = 0, batch_sum = 0;
  uint64_t batch_finite = 0;
  const bool finite = count > 0 && finite_statistics(values, count, batch_minimum, batch_maximum, batch_sum);
  if (finite) {
    batch_finite = count;
  } else {
    batch_minimum = batch_maximum = batch_sum = 0;
    for (size_t i = 0; i < count; ++i) {
      const float value = values[i];
      if (std::isnan(value)) {
        ++nan_count_;
        continue;
      }
      if (std::isinf(value)) {
        ++(value > 0 ? positive_infinity_count_ : negative_infinity_count_);
        continue;
      }
      if (batch_finite == 0) batch_minimum = batch_maximum = value;
      batch_minimum = std::min<double>(batch_minimum, value);
      batch_maximum = std::max<double>(batch_maximum, value);
      batch_sum += value;
      ++batch_finite;
    }
  }
  count_ += count;
  if (batch_finite == 0) return;

  if (!has_finite_) {
    minimum_ = batch_minimum;
    maximum_ = batch_maximum;
    has_finite_ = true;
  } else {
    minimum_ = std::min(minimum_, batch_minimum);
    maximum_ = std::max(maximum_, batch_maximum);
  }
  grow_to(std::max(std::fabs(batch_minimum), std::fabs(batch_maximum)));

  // Second pass: squared deviations from the batch mean and the bins, together (one more read of the batch).
  const double batch_mean = batch_sum / static_cast<double>(batch_finite);
  const bool binned = width_ != 0;  // 0: every finite value so far is 0
  const double inverse_width = binned ? 1.0 / width_ : 0.0;
  const int last = resolution_ - 1;
  double lane_squared_deviation[kLanes] = {};
  for (size_t i = 0; i < count; ++i) {
    const float value = values[i];
    if (!finite && !std::isfinite(value)) continue;
    const double deviation = value - batch_mean;
    lane_squared_deviation[i % kLanes] += deviation * deviation;
    if (!binned) continue;
    const int index = std::min(last, static_cast<int>(std::fabs(static_cast<double>(value)) * inverse_width));
    ++(value < 0 ? negative_ : positive_)[index];
  }
  if (!binned) zeros_before_width_ += batch_finite;
  double batch_squared_deviation = 0;
  for (double part : lane_squared_deviation) batch_squared_deviation += part;

  // Mean and squared deviations combined batch-wise (Chan et al.'s parallel form of Welford's algorithm).
  const double previous = static_cast<double>(finite_count() - batch_finite);
  const double combined = previous + static_cast<double>(batch_finite);
  const double delta = batch_mean - mean_;
  mean_ += delta * static_cast<double>(batch_finite) / combined;
  squared_deviation_sum_ += batch_squared_deviation + delta * delta * previous * static_cast<double>(batch_finite) / combined;
}

template <typename Visit>
void ValueHistogram::for_each_fine_bin(bool absolute, Visit&& visit) const {
  if (!has_finite_) return;
  if (width_ == 0) {  // only zeros
    visit(0.0, 0.0, static_cast<double>(zeros_before_width_));
    return;
  }
  const double low = absolute ? 0.0 : minimum_;
  const double high = absolute ? maximum_absolute() : maximum_;
  auto clipped = [&](double lower, double upper, uint64_t count) {
    if (count == 0) return;
    visit(std::clamp(lower, low, high), std::clamp(upper, low, high), static_cast<double>(count));
  };
  if (absolute) {
    for (int k = 0; k < resolution_; ++k) clipped(k * width_, (k + 1) * width_, positive_[k] + negative_[k]);
    return;
  }
  for (int k = resolution_ - 1; k >= 0; --k) clipped(-(k + 1) * width_, -k * width_, negative_[k]);
  for (int k = 0; k < resolution_; ++k) clipped(k * width_, (k + 1) * width_, positive_[k]);
}

namespace {

// Spreads `count` values, evenly over [lower, upper], onto the view's bins.
void spread(HistogramView& view, double lower, double upper, double count) {
  const int bins = static_cast<int>(view.counts.size());
  const double width = view.bin_width();
  auto bin_of = [&](double value) {
    if (width == 0) return 0;
    return std::clamp(static_cast<int>(std::floor((value - view.lower) / width)), 0, bins - 1);
  };
  if (upper <= lower) {
    view.counts[bin_of(lower)] += count;
    return;
  }
  const int first = bin_of(lower), last = bin_of(upper);
  if (first == last) {
    view.counts[first] += count;
    return;
  }
  // Overlaps of [lower, upper] with each view bin, normalised by their sum so no count is lost to rounding.
  double overlap_sum = 0;
  std::vector<double> overlaps(last - first + 1);
  for (int j = first; j <= last; ++j) {
    const double bin_lower = j == 0 ? view.lower : view.lower + j * width;
    const double bin_upper = j == bins - 1 ? view.upper : view.lower + (j + 1) * width;
    overlaps[j - first] = std::max(0.0, std::min(upper, bin_upper) - std::max(lower, bin_lower));
    overlap_sum += overlaps[j - first];
  }
  if (overlap_sum <= 0) {
    view.counts[first] += count;
    return;
  }
  for (int j = first; j <= last; ++j) view.counts[j] += count * overlaps[j - first] / overlap_sum;
}

}  // namespace

HistogramView ValueHistogram::signed_view(int bins) const {
  HistogramView view;
  view.lower = minimum_;
  view.upper = maximum_;
  view.counts.assign(bins > 0 ? bins : bins_, 0.0);
  for_each_fine_bin(false, [&](double lower, double upper, double count) { spread(view, lower, upper, count); });
  return view;
}

HistogramView ValueHistogram::absolute_view(int bins) const {
  HistogramView view;
  view.lower = 0;
  view.upper = maximum_absolute();
  view.counts.assign(bins > 0 ? bins : bins_, 0.0);
  for_each_fine_bin(true, [&](double lower, double upper, double count) { spread(view, lower, upper, count); });
  return view;
}

double ValueHistogram::quantile(double fraction, bool absolute) const {
  if (!has_finite_) return 0;
  const double low = absolute ? 0.0 : minimum_;
  const double high = absolute ? maximum_absolute() : maximum_;
  const double target = std::clamp(fraction, 0.0, 1.0) * static_cast<double>(finite_count());
  double cumulative = 0;
  double result = high;
  bool found = false;
  for_each_fine_bin(absolute, [&](double lower, double upper, double count) {
    if (found) return;
    if (cumulative + count >= target) {
      result = lower + (upper - lower) * (target - cumulative) / count;
      found = true;
      return;
    }
    cumulative += count;
  });
  return std::clamp(result, low, high);
}

}  // namespace npukit::quantization
