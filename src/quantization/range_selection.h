// Choosing a value's clip range [minimum, maximum] from its ValueHistogram — the calibration methods:
//
//   minmax      the observed range (ORT MinMax, TensorRT MinMax, RKNN "normal").
//   percentile  the given percentile of the values (default 99.99): of |x| when symmetric; when asymmetric
//               (100 − p) / 2 percent cut off each tail, so that p percent stay inside — as ORT's Percentile.
//   entropy     TensorRT's entropy calibration (Migacz, "8-bit Inference with TensorRT", GTC 2017): the |x|
//               histogram in 2048 bins, every threshold from 128 bins up, the reference distribution P (bins
//               below the threshold, outliers added to the last) against Q (those bins merged into 128 levels
//               and spread back over the non-empty bins), the threshold of least KL(P‖Q). Smoothing of empty
//               bins as MXNet's / ORT's `_smooth_distribution` (ε = 0.0001) so that KL stays finite; the threshold
//               is the upper edge of the last bin kept, as ORT's `get_entropy_threshold`. Symmetric by nature;
//               asymmetric requests get [-t, t] intersected with the observed range.
//   mse         the clip range of least expected squared error on the grid: inside, uniform rounding noise
//               step² / 12; outside, the clipping distance² (bin centres). Symmetric: every threshold t on the
//               |x| histogram, step = 2t / (levels − 1). Asymmetric: every pair of bin edges lo <= 0 <= hi of
//               the signed histogram, step = (hi − lo) / (levels − 1) (prefix sums make each pair O(1)).
//
// Every range contains 0 (a zero point must exist on the grid); a value that was only ever 0 gets [0, 0], and
// the quantizer decides what scale that means.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "quantization/value_histogram.h"

namespace npukit::quantization {

enum class RangeMethod { minmax, percentile, entropy, mse };
std::string_view range_method_name(RangeMethod method);  // "minmax", "percentile", "entropy", "mse"
std::optional<RangeMethod> range_method_from_name(std::string_view name);

struct RangeOptions {
  RangeMethod method = RangeMethod::percentile;
  double percentile = 99.99;      // percentile: in (0, 100]
  bool symmetric = false;         // [-t, t] around zero
  int64_t quantized_levels = 256; // grid size: 256 for 8 bits; entropy uses levels / 2 quantized bins
};

struct Range {
  double minimum = 0;
  double maximum = 0;
};

// Throws Error(invalid_argument) for an option out of range (percentile outside (0, 100], fewer than 2 levels)
// and for a histogram without a single finite value.
Range choose_range(const ValueHistogram& histogram, const RangeOptions& options);

// The building blocks, on a histogram view (exposed for tests and for per-layer reports):
// TensorRT's entropy threshold on an |x| view (lower must be 0), with `quantized_bins` levels.
double entropy_threshold(const HistogramView& absolute, int quantized_bins);
// The expected squared error of clipping to [minimum, maximum] on a grid of `levels` (bin centres).
double expected_quantization_error(const HistogramView& view, double minimum, double maximum, int64_t levels);
// The MSE search on an |x| view (symmetric threshold) or a signed view (both ends searched).
double mse_threshold(const HistogramView& absolute, int64_t levels);
Range mse_range(const HistogramView& signed_view, int64_t levels);

}  // namespace npukit::quantization
