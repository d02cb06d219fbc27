// ValueHistogram and the range methods (minmax, percentile, entropy, mse) against values computed by hand or by
// tools/calibration_reference.py (numpy).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "npukit/error.h"
#include "quantization/range_selection.h"
#include "quantization/value_histogram.h"

namespace npukit::quantization {
namespace {

ValueHistogram histogram_of(const std::vector<float>& values, int bins = 2048) {
  ValueHistogram histogram(bins);
  histogram.add(values.data(), values.size());
  return histogram;
}

TEST(ValueHistogram, MinimumMaximumMeanAndDeviationAreExact) {
  ValueHistogram histogram;
  const std::vector<float> first{-1.5f, 2.0f, 0.5f};
  const std::vector<float> second{4.0f, -3.0f};
  histogram.add(first.data(), first.size());
  histogram.add(second.data(), second.size());
  EXPECT_EQ(histogram.minimum(), -3.0);
  EXPECT_EQ(histogram.maximum(), 4.0);
  EXPECT_EQ(histogram.maximum_absolute(), 4.0);
  EXPECT_EQ(histogram.count(), 5u);
  // mean = 2 / 5; population variance = (Σx² − 5·mean²) / 5 = (2.25 + 4 + 0.25 + 16 + 9 − 0.8) / 5 = 6.14.
  EXPECT_DOUBLE_EQ(histogram.mean(), 0.4);
  EXPECT_NEAR(histogram.standard_deviation(), std::sqrt(6.14), 1e-12);
}

TEST(ValueHistogram, NonFiniteValuesAreCountedNotBinned) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const ValueHistogram histogram = histogram_of({1.0f, nan, -inf, 2.0f, inf, nan});
  EXPECT_EQ(histogram.count(), 6u);
  EXPECT_EQ(histogram.finite_count(), 2u);
  EXPECT_EQ(histogram.nan_count(), 2u);
  EXPECT_EQ(histogram.infinity_count(), 2u);
  EXPECT_EQ(histogram.minimum(), 1.0);
  EXPECT_EQ(histogram.maximum(), 2.0);
  EXPECT_DOUBLE_EQ(histogram.absolute_view().total(), 2.0);
}

TEST(ValueHistogram, GrowingRangeKeepsEveryCountAndViewsSpanTheObservedRange) {
  ValueHistogram histogram(64);
  std::vector<float> small, large;
  for (int i = 0; i < 1000; ++i) small.push_back(static_cast<float>(i) / 1000);   // 0 .. 0.999
  for (int i = 0; i < 500; ++i) large.push_back(-static_cast<float>(i) / 5);      // 0 .. −99.8
  histogram.add(small.data(), small.size());
  histogram.add(large.data(), large.size());
  const HistogramView view = histogram.signed_view();
  EXPECT_EQ(view.counts.size(), 64u);
  EXPECT_EQ(view.lower, -99.8f);
  EXPECT_EQ(view.upper, 0.999f);
  EXPECT_NEAR(view.total(), 1500.0, 1e-9);
  // The view's last bin is [−0.576, 0.999] (width 100.799 / 64): the 1000 small values, and 0, −0.2, −0.4 of
  // the second batch; −0.6 and −0.8 share a fine bin (−0.999, −0.4995] that reaches into it, so up to 2 more.
  EXPECT_GE(view.counts.back(), 1003.0);
  EXPECT_LE(view.counts.back(), 1005.0);
  const HistogramView absolute = histogram.absolute_view(10);
  EXPECT_EQ(absolute.lower, 0.0);
  EXPECT_EQ(absolute.upper, 99.8f);
  EXPECT_NEAR(absolute.total(), 1500.0, 1e-9);
}

TEST(ValueHistogram, OnlyZerosGiveAZeroRange) {
  const ValueHistogram histogram = histogram_of(std::vector<float>(100, 0.0f));
  EXPECT_EQ(histogram.maximum_absolute(), 0.0);
  EXPECT_DOUBLE_EQ(histogram.absolute_view().total(), 100.0);
  const Range range = choose_range(histogram, {RangeMethod::entropy});
  EXPECT_EQ(range.minimum, 0.0);
  EXPECT_EQ(range.maximum, 0.0);
}

TEST(ValueHistogram, QuantileMatchesNumpyWithinOneFineBin) {
  // numpy.percentile(numpy.arange(1, 10001), 99) = 9900.01; median 5000.5.
  std::vector<float> values;
  for (int i = 1; i <= 10000; ++i) values.push_back(static_cast<float>(i));
  const ValueHistogram histogram = histogram_of(values);
  EXPECT_NEAR(histogram.quantile(0.99), 9900.01, histogram.fine_bin_width());
  EXPECT_NEAR(histogram.quantile(0.5), 5000.5, histogram.fine_bin_width());
  EXPECT_EQ(histogram.quantile(1.0), 10000.0);
}

TEST(RangeSelection, MethodNamesRoundTrip) {
  for (RangeMethod method : {RangeMethod::minmax, RangeMethod::percentile, RangeMethod::entropy, RangeMethod::mse}) {
    EXPECT_EQ(range_method_from_name(range_method_name(method)), method);
  }
  EXPECT_FALSE(range_method_from_name("kl").has_value());
}

TEST(RangeSelection, MinmaxIsTheObservedRangeWithZero) {
  const ValueHistogram mixed = histogram_of({-1.0f, 3.0f, 0.5f});
  Range range = choose_range(mixed, {RangeMethod::minmax});
  EXPECT_EQ(range.minimum, -1.0);
  EXPECT_EQ(range.maximum, 3.0);
  range = choose_range(mixed, {.method = RangeMethod::minmax, .symmetric = true});
  EXPECT_EQ(range.minimum, -3.0);
  EXPECT_EQ(range.maximum, 3.0);
  // All positive: 0 joins the range (a zero point has to exist on the grid).
  range = choose_range(histogram_of({2.0f, 5.0f}), {RangeMethod::minmax});
  EXPECT_EQ(range.minimum, 0.0);
  EXPECT_EQ(range.maximum, 5.0);
}

TEST(RangeSelection, PercentileCutsTheTails) {
  // −10000 .. 10000 in steps of 1: 99.9 % kept, 0.05 % off each tail: numpy.percentile(x, [0.05, 99.95]) =
  // [−9990, 9990].
  std::vector<float> values;
  for (int i = -10000; i <= 10000; ++i) values.push_back(static_cast<float>(i));
  const ValueHistogram histogram = histogram_of(values);
  const double tolerance = histogram.fine_bin_width();
  Range range = choose_range(histogram, {.method = RangeMethod::percentile, .percentile = 99.9});
  EXPECT_NEAR(range.minimum, -9990.0, tolerance);
  EXPECT_NEAR(range.maximum, 9990.0, tolerance);
  // Symmetric: the 99.9th percentile of |x| (0, 1, 1, 2, 2, ...): numpy gives 9990.
  range = choose_range(histogram, {.method = RangeMethod::percentile, .percentile = 99.9, .symmetric = true});
  EXPECT_NEAR(range.maximum, 9990.0, tolerance);
  EXPECT_EQ(range.minimum, -range.maximum);
}

TEST(RangeSelection, PercentileIgnoresAFewOutliers) {
  std::vector<float> values(100000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 1000) / 1000;  // 0 .. 0.999
  values[7] = 500.0f;  // one outlier in 100000: above the 99.99th percentile
  const Range range = choose_range(histogram_of(values), {.method = RangeMethod::percentile, .percentile = 99.99});
  EXPECT_EQ(range.minimum, 0.0);
  EXPECT_LT(range.maximum, 1.0 + 500.0 / 8192);  // within one fine bin of the bulk's top
  EXPECT_GT(range.maximum, 0.99);
}

// tools/calibration_reference.py: a half-Gaussian |x| histogram (10000·exp(−(j/300)²)) with one outlier in bin
// 2047; numpy's implementation of the same method keeps 912 bins (entropy) and picks threshold 807 (mse).
HistogramView reference_histogram() {
  HistogramView view;
  view.lower = 0;
  view.upper = 2048;
  for (int j = 0; j < 2048; ++j) view.counts.push_back(std::floor(10000.0 * std::exp(-(j / 300.0) * (j / 300.0))));
  view.counts[2047] += 1;
  return view;
}

TEST(RangeSelection, EntropyThresholdMatchesTheNumpyReference) {
  // numpy's KL at 912, 913, 914 kept bins: 4.4807925339e-05, 4.4807925365e-05, 4.4807925390e-05 (the bins past
  // 911 are empty, so KL barely moves): a relative step of 6e-10, the size of summation-order rounding, hence
  // one bin of tolerance. 911 bins (4.4945e-05) and 910 are clearly worse.
  EXPECT_NEAR(entropy_threshold(reference_histogram(), 128), 912.0, 1.0);
}

TEST(RangeSelection, EntropyKeepsExactlyTheOccupiedBinsOfASmallUniformHistogram) {
  // 128 equal bins then nothing: Q equals P at 128 bins (KL 0, the first minimum): threshold 128 bin widths.
  HistogramView view;
  view.lower = 0;
  view.upper = 20.48;
  view.counts.assign(2048, 0.0);
  for (int j = 0; j < 128; ++j) view.counts[j] = 5;
  EXPECT_NEAR(entropy_threshold(view, 128), 1.28, 1e-12);
}

TEST(RangeSelection, EntropyThroughChooseRangeClipsTheOutlier) {
  // Gaussian-like data with one far outlier; the entropy threshold lands well inside, and asymmetric requests
  // are the symmetric threshold intersected with the observed range.
  std::vector<float> values;
  for (int i = 0; i < 20000; ++i) {
    const double u = (i + 0.5) / 20000;  // a deterministic normal sample: the inverse CDF by bisection
    double low = -6, high = 6;
    for (int step = 0; step < 60; ++step) {
      const double middle = (low + high) / 2;
      (0.5 * std::erfc(-middle / std::sqrt(2.0)) < u ? low : high) = middle;
    }
    values.push_back(static_cast<float>(low));
  }
  values.push_back(60.0f);
  const ValueHistogram histogram = histogram_of(values);
  const Range symmetric_range = choose_range(histogram, {.method = RangeMethod::entropy, .symmetric = true});
  EXPECT_GT(symmetric_range.maximum, 2.0);
  EXPECT_LT(symmetric_range.maximum, 10.0);
  EXPECT_EQ(symmetric_range.minimum, -symmetric_range.maximum);
  const Range asymmetric = choose_range(histogram, {.method = RangeMethod::entropy});
  EXPECT_EQ(asymmetric.maximum, symmetric_range.maximum);
  EXPECT_EQ(asymmetric.minimum, std::max(-symmetric_range.maximum, histogram.minimum()));
}

TEST(RangeSelection, MseThresholdMatchesTheNumpyReference) {
  EXPECT_EQ(mse_threshold(reference_histogram(), 256), 807.0);
}

TEST(RangeSelection, MseOfAUniformDistributionIsTheAnalyticOptimum) {
  // |x| uniform on [0, 1], 256 levels: E(t) = t·(2t/255)²/12 + (1 − t)³/3, E'(t) = t²/255² − (1 − t)² = 0 at
  // t = 255/256.
  std::vector<float> values;
  for (int i = 0; i < 1 << 20; ++i) values.push_back((i + 0.5f) / (1 << 20));
  const ValueHistogram histogram = histogram_of(values);
  const Range range = choose_range(histogram, {.method = RangeMethod::mse, .symmetric = true});
  EXPECT_NEAR(range.maximum, 255.0 / 256, 2.0 / 2048);
  // The asymmetric search keeps the lower end at 0 (no value below); on [0, t] the step is t/255:
  // E(t) = t·(t/255)²/12 + (1 − t)³/3, E'(t) = t²/(4·255²) − (1 − t)² = 0 at t = 510/511.
  const Range asymmetric = choose_range(histogram, {.method = RangeMethod::mse});
  EXPECT_EQ(asymmetric.minimum, 0.0);
  EXPECT_NEAR(asymmetric.maximum, 510.0 / 511, 2.0 / 2048);
}

TEST(RangeSelection, AsymmetricMseIsTheLeastErrorOverBothEnds) {
  // 50000 values in [−2, 2] and 100 at 80: clipping them at 2 costs 100·78²/50100 ≈ 12 per value, far more than
  // the rounding noise of the full range ((82/255)²/12 ≈ 0.0086), so mse keeps them. The negative end is
  // searched on its own and stays near −2.
  std::vector<float> values(50000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(static_cast<float>(i)) * 2;
  values.insert(values.end(), 100, 80.0f);
  const ValueHistogram histogram = histogram_of(values);
  const HistogramView view = histogram.signed_view();
  const Range chosen = mse_range(view, 256);
  const double chosen_error = expected_quantization_error(view, chosen.minimum, chosen.maximum, 256);
  EXPECT_LE(chosen_error, expected_quantization_error(view, view.lower, view.upper, 256));
  EXPECT_LE(chosen_error, expected_quantization_error(view, -2, 2, 256));
  EXPECT_LE(chosen_error, expected_quantization_error(view, -1, 79, 256));
  EXPECT_GT(chosen.maximum, 79.0);
  EXPECT_LT(chosen.minimum, -1.9);
  // One value at 80 among N = 3·10⁶: E(hi) ≈ ((hi + 2)/255)²/12 + (80 − hi)²/N, least where
  // (hi + 2)/(12·255²) = (80 − hi)/N, hi ≈ 14.9: mse clips the outlier most of the way, but not to the bulk (a
  // range to 2 would cost it 78²/N ≈ 0.002, more than the noise it saves).
  std::vector<float> many(3000000);
  for (size_t i = 0; i < many.size(); ++i) many[i] = std::sin(static_cast<float>(i)) * 2;
  many[5] = 80.0f;
  const ValueHistogram mostly_bulk = histogram_of(many);
  const Range clipped = mse_range(mostly_bulk.signed_view(), 256);
  EXPECT_GT(clipped.maximum, 12.0);
  EXPECT_LT(clipped.maximum, 18.0);
  EXPECT_LT(clipped.minimum, -1.9);
  const HistogramView many_view = mostly_bulk.signed_view();
  const double clipped_error = expected_quantization_error(many_view, clipped.minimum, clipped.maximum, 256);
  EXPECT_LT(clipped_error, expected_quantization_error(many_view, many_view.lower, many_view.upper, 256));
  EXPECT_LT(clipped_error, expected_quantization_error(many_view, many_view.lower, 2, 256));
}

TEST(RangeSelection, BadOptionsAndEmptyHistogramsAreErrors) {
  const ValueHistogram histogram = histogram_of({1.0f, 2.0f});
  EXPECT_THROW(choose_range(histogram, {.method = RangeMethod::percentile, .percentile = 0}), Error);
  EXPECT_THROW(choose_range(histogram, {.method = RangeMethod::percentile, .percentile = 100.5}), Error);
  EXPECT_THROW(choose_range(histogram, {.method = RangeMethod::minmax, .quantized_levels = 1}), Error);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(choose_range(histogram_of({nan, nan}), {}), Error);
  EXPECT_THROW(ValueHistogram(0), Error);
}

}  // namespace
}  // namespace npukit::quantization
