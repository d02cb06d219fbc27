#include "vision/classification.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "npukit/error.h"

namespace npukit::vision {

TopK top_k_classes(const Tensor& output, int k) {
  if (output.dtype() != DType::f32 || output.element_count() == 0 || (output.rank() == 2 && output.dim(0) != 1) ||
      output.rank() > 2) {
    throw Error(ErrorKind::invalid_argument, "a classifier output is float32 [1, classes]; this one is " +
                                                 std::string(dtype_name(output.dtype())) + shape_to_string(output.shape()));
  }
  std::vector<float> values(output.values<float>().begin(), output.values<float>().end());
  TopK result;
  const bool in_unit_range = std::all_of(values.begin(), values.end(), [](float v) { return v >= 0 && v <= 1; });
  const double sum = std::accumulate(values.begin(), values.end(), 0.0);
  if (!in_unit_range || std::abs(sum - 1.0) > 1e-3) {
    const float maximum = *std::max_element(values.begin(), values.end());
    double total = 0;
    for (float& v : values) total += (v = std::exp(v - maximum));
    for (float& v : values) v = static_cast<float>(v / total);
    result.softmax_applied = true;
  }
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t count = std::min(static_cast<size_t>(std::max(k, 0)), order.size());
  std::partial_sort(order.begin(), order.begin() + count, order.end(),
                    [&](int a, int b) { return values[a] > values[b] || (values[a] == values[b] && a < b); });
  for (size_t i = 0; i < count; ++i) result.best.push_back({order[i], values[order[i]]});
  return result;
}

}  // namespace npukit::vision
