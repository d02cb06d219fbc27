#include "compare/layer_comparison.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/dtype_traits.h"
#include "npukit/error.h"
#include "quantization/quantize.h"
#include "report/table.h"

namespace npukit::compare {

const std::array<const char*, lsb_bin_count> lsb_bin_labels = {"0", "1", "2", "3", "4-7", ">=8"};

namespace {

size_t lsb_bin(int64_t steps) {
  if (steps < 4) return static_cast<size_t>(steps);
  return steps < 8 ? 4 : 5;
}

// Two elements agree when equal, or both NaN, or the same infinity (== covers that).
bool agree(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Elements as stored, widened to double (i4 / u4 are held one value per int8 / uint8 byte).
std::vector<double> stored_values(const Tensor& tensor) {
  std::vector<double> values(static_cast<size_t>(tensor.element_count()));
  DType dtype = tensor.dtype();
  if (dtype == DType::i4) dtype = DType::i8;
  if (dtype == DType::u4) dtype = DType::u8;
  dispatch_dtype(dtype, kAllTypes, "compare", [&]<typename T>() {
    const T* data = static_cast<const T*>(tensor.raw_data());
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(static_cast<compute_type_t<T>>(data[i]));
  });
  return values;
}

// Index of the scale (and zero point) that element `index` of a tensor of `shape` uses.
struct ScaleIndexer {
  const ir::QuantParams& params;
  const Shape& shape;

  ScaleIndexer(const Shape& tensor_shape, const ir::QuantParams& quant_params) : params(quant_params), shape(tensor_shape) {
    params.validate(std::vector<int64_t>(shape.begin(), shape.end()), "the compared value");
  }
  size_t operator()(int64_t index) const { return quantization::parameter_index(params, shape, index); }
};

}  // namespace

std::vector<double> element_scales(const Shape& shape, const ir::QuantParams& params) {
  const ScaleIndexer indexer(shape, params);
  std::vector<double> scales(static_cast<size_t>(shape_element_count(shape)));
  for (size_t i = 0; i < scales.size(); ++i) scales[i] = params.scales[indexer(static_cast<int64_t>(i))];
  return scales;
}

std::vector<double> real_values(const Tensor& tensor, const ir::QuantParams* params) {
  std::vector<double> values = stored_values(tensor);
  if (!params) return values;
  const ScaleIndexer indexer(tensor.shape(), *params);
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t index = indexer(static_cast<int64_t>(i));
    values[i] = (values[i] - static_cast<double>(params->zero_point(index))) * static_cast<double>(params->scales[index]);
  }
  return values;
}

LayerMetrics compare_values(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& scales) {
  if (a.size() != b.size() || (!scales.empty() && scales.size() != a.size())) {
    throw Error(ErrorKind::internal, "compare_values: the two sides (and the scales) must have as many elements");
  }
  LayerMetrics metrics;
  metrics.elements = static_cast<int64_t>(a.size());
  if (!scales.empty()) metrics.lsb = LsbHistogram{};
  double signal = 0, noise = 0, dot = 0, b_energy = 0, sum_abs = 0;
  int64_t finite = 0;
  bool identical = true;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) {
      if (!agree(a[i], b[i])) {
        ++metrics.non_finite_mismatches;
        identical = false;
      }
      continue;
    }
    ++finite;
    const double difference = a[i] - b[i];
    const double magnitude = std::fabs(difference);
    identical = identical && difference == 0;
    signal += a[i] * a[i];
    noise += difference * difference;
    dot += a[i] * b[i];
    b_energy += b[i] * b[i];
    sum_abs += magnitude;
    metrics.max_abs_error = std::max(metrics.max_abs_error, magnitude);
    metrics.reference_peak = std::max(metrics.reference_peak, std::fabs(a[i]));
    if (metrics.lsb) {
      // Nearest whole step; a real difference of 0.4 steps (a float value against its quantized form) is 0 LSB.
      const double steps = std::floor(magnitude / scales[i] + 0.5);
      const int64_t whole = steps > 1e15 ? int64_t(1e15) : static_cast<int64_t>(steps);
      ++metrics.lsb->counts[lsb_bin(whole)];
      metrics.lsb->largest_step = std::max(metrics.lsb->largest_step, whole);
    }
  }
  metrics.identical = identical;
  metrics.mean_abs_error = finite > 0 ? sum_abs / static_cast<double>(finite) : 0;
  const double infinity = std::numeric_limits<double>::infinity();
  if (noise == 0) {
    // Equal on every finite element: identical unless a non-finite element disagrees, where the error is
    // unbounded.
    metrics.sqnr_db = identical ? infinity : -infinity;
  } else if (signal == 0) {
    metrics.sqnr_db = -infinity;
  } else {
    metrics.sqnr_db = 10 * std::log10(signal / noise);
  }
  if (metrics.non_finite_mismatches > 0) {
    // A NaN or an infinity where the other side holds something else is an unbounded error: the sums over
    // the finite elements would flatter the value.
    metrics.sqnr_db = -infinity;
    metrics.max_abs_error = infinity;
  }
  if (signal == 0 && b_energy == 0) metrics.cosine = 1.0;
  else if (signal > 0 && b_energy > 0) metrics.cosine = std::clamp(dot / std::sqrt(signal * b_energy), -1.0, 1.0);
  return metrics;
}

LayerMetrics compare_tensors(const Tensor& a, const Tensor& b, const ir::QuantParams* a_params, const ir::QuantParams* b_params,
                             const ir::QuantParams* grid) {
  if (a.shape() != b.shape()) {
    throw Error(ErrorKind::internal, "compare_tensors: shapes " + shape_to_string(a.shape()) + " and " + shape_to_string(b.shape()) +
                                         " differ");
  }
  const std::vector<double> scales = grid ? element_scales(a.shape(), *grid) : std::vector<double>{};
  LayerMetrics metrics = compare_values(real_values(a, a_params), real_values(b, b_params), scales);
  if (grid) metrics.lsb->params = *grid;
  return metrics;
}

std::string format_lsb_histogram(const std::optional<LsbHistogram>& histogram) {
  if (!histogram) return "";
  int64_t total = 0;
  for (int64_t count : histogram->counts) total += count;
  std::string text;
  for (size_t bin = 0; bin < lsb_bin_count; ++bin) {
    if (histogram->counts[bin] == 0) continue;
    text += (text.empty() ? "" : " ") + std::string(lsb_bin_labels[bin]) + ":" +
            report::format_percent(static_cast<double>(histogram->counts[bin]) / static_cast<double>(total));
  }
  return text.empty() ? "no finite element" : text;
}

std::string format_sqnr(double sqnr_db) {
  if (std::isinf(sqnr_db)) return sqnr_db > 0 ? "∞ (identical)" : "−∞";
  return report::format_number(sqnr_db, 4) + " dB";
}

}  // namespace npukit::compare
