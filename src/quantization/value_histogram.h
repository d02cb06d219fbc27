// ValueHistogram: the running statistics of one float value (a model input or an activation) over every
// calibration sample, from which a range method (range_selection.h) picks the clip range.
//
// Storage: bins of one width w anchored at zero, `resolution` of them on each side of zero, covering
// [-resolution·w, +resolution·w]. When a value falls outside, the width doubles and neighbouring bins merge
// pairwise (exact: a merged bin is the union of two old ones, no value is re-guessed). This is ORT's
// HistogramCollector idea (bins re-binned as the range grows) with a fixed memory footprint; the bins are kept
// `resolution = 4 · bins` fine so that after any number of doublings at least 2 · bins of them cover the data.
//
// Views: the methods read a uniform histogram of `bins` bins over the exact observed range — [minimum, maximum]
// for asymmetric methods, [0, max |x|] (both sides folded) for symmetric ones — re-binned from the fine bins
// assuming values spread evenly within a fine bin (the fine bins are clipped to the observed range first, so a
// view's end bins are not diluted by empty space).
//
// NaN and ±Inf are counted apart and never binned; minimum and maximum are exact over the finite values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace npukit::quantization {

// A uniform histogram: counts[i] is the number of values in [lower + i·width, lower + (i+1)·width), the last bin
// closed on the right. Counts are doubles because re-binning splits a fine bin between two view bins.
struct HistogramView {
  double lower = 0;
  double upper = 0;
  std::vector<double> counts;

  double bin_width() const { return counts.empty() ? 0 : (upper - lower) / static_cast<double>(counts.size()); }
  double total() const;
};

class ValueHistogram {
 public:
  explicit ValueHistogram(int bins = 2048);

  // Adds `count` values. NaN / Inf are counted, not binned.
  void add(const float* values, size_t count);

  double minimum() const { return minimum_; }  // exact, over finite values; 0 when there is none
  double maximum() const { return maximum_; }
  double maximum_absolute() const;
  uint64_t count() const { return count_; }                         // every value added, finite or not
  uint64_t finite_count() const { return count_ - non_finite_count(); }
  uint64_t non_finite_count() const { return nan_count_ + positive_infinity_count_ + negative_infinity_count_; }
  uint64_t nan_count() const { return nan_count_; }
  uint64_t infinity_count() const { return positive_infinity_count_ + negative_infinity_count_; }
  // Running mean and standard deviation of the finite values (Welford's algorithm, in double).
  double mean() const { return mean_; }
  double standard_deviation() const;

  int bins() const { return bins_; }
  // The width of one fine bin: the resolution every quantile and view has (0 until a non-zero value came).
  double fine_bin_width() const { return width_; }

  // `bins` (default: the constructor's) bins over [minimum(), maximum()]: for asymmetric methods.
  HistogramView signed_view(int bins = 0) const;
  // `bins` bins over [0, max |x|], negative values folded onto positive: for symmetric methods.
  HistogramView absolute_view(int bins = 0) const;

  // The value below which `fraction` (0..1) of the finite values lie, interpolated within a fine bin and kept
  // inside [minimum(), maximum()]; of |x| when `absolute`.
  double quantile(double fraction, bool absolute = false) const;

 private:
  // Makes the fine bins cover |x| <= magnitude: sets the width on the first non-zero value, doubles it after.
  void grow_to(double magnitude);
  // The fine bins as (lower edge, upper edge, count), clipped to [low, high], in increasing order.
  template <typename Visit>
  void for_each_fine_bin(bool absolute, Visit&& visit) const;

  int bins_;
  int resolution_;                     // fine bins per side
  double width_ = 0;                   // 0 until the first non-zero finite value
  std::vector<uint64_t> positive_;     // [k·w, (k+1)·w): zero lands in positive_[0]
  std::vector<uint64_t> negative_;     // (-(k+1)·w, -k·w]
  uint64_t zeros_before_width_ = 0;    // exact zeros seen while the width was still unknown
  uint64_t count_ = 0;
  uint64_t nan_count_ = 0;
  uint64_t positive_infinity_count_ = 0;
  uint64_t negative_infinity_count_ = 0;
  double minimum_ = 0;
  double maximum_ = 0;
  bool has_finite_ = false;
  double mean_ = 0;
  double squared_deviation_sum_ = 0;   // Welford's M2
};

}  // namespace npukit::quantization
