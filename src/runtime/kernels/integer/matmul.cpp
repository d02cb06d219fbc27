#include "runtime/kernels/integer/matmul.h"

#include <limits>
#include <string>

#include "npukit/error.h"
#include "runtime/kernels/integer/integer_tensor.h"

namespace npukit::runtime::integer {

Tensor matmul(const Tensor& a, const Tensor& b, const Tensor* bias, const MatMulParameters& p) {
  if (a.rank() < 2 || b.rank() < 2) throw Error(ErrorKind::invalid_argument, "integer MatMul takes operands of rank 2 or more");
  const int64_t rows = a.dim(a.rank() - 2), depth = a.dim(a.rank() - 1);
  const int64_t columns = b.dim(b.rank() - 1);
  const bool shared_b = b.rank() == 2;
  int64_t batches = 1;
  for (size_t i = 0; i + 2 < a.rank(); ++i) batches *= a.dim(i);
  bool fits = b.dim(b.rank() - 2) == depth && (shared_b || b.rank() == a.rank());
  for (size_t i = 0; fits && !shared_b && i + 2 < a.rank(); ++i) fits = a.dim(i) == b.dim(i);
  if (!fits) {
    throw Error(ErrorKind::invalid_argument, "integer MatMul: shapes " + shape_to_string(a.shape()) + " and " +
                                                 shape_to_string(b.shape()) + " do not multiply");
  }
  if (bias && bias->element_count() != columns) {
    throw Error(ErrorKind::invalid_argument, "integer MatMul: the bias must have one value per column");
  }
  std::vector<int32_t> x = widen(a, "MatMul input A");
  for (int32_t& value : x) value -= p.a_zero_point;
  std::vector<int32_t> w = widen(b, "MatMul input B");
  if (!p.b_zero_points.empty()) {
    for (size_t i = 0; i < w.size(); ++i) w[i] -= p.b_zero_points[(i % columns) % p.b_zero_points.size()];
  }
  const std::vector<int32_t> bias_values = bias ? widen(*bias, "MatMul bias") : std::vector<int32_t>(columns, 0);

  std::vector<int32_t> y(static_cast<size_t>(batches * rows * columns));
  for (int64_t batch = 0; batch < batches; ++batch) {
    const int32_t* left = x.data() + batch * rows * depth;
    const int32_t* right = w.data() + (shared_b ? 0 : batch * depth * columns);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < columns; ++j) {
        int64_t accumulator = bias_values[j];
        for (int64_t k = 0; k < depth; ++k) accumulator += static_cast<int64_t>(left[i * depth + k]) * right[k * columns + j];
        if (accumulator < std::numeric_limits<int32_t>::min() || accumulator > std::numeric_limits<int32_t>::max()) {
          throw Error(ErrorKind::unsupported, "an int32 accumulator overflows (" + std::to_string(accumulator) + ")");
        }
        y[(batch * rows + i) * columns + j] = p.output.finish(static_cast<int32_t>(accumulator), static_cast<size_t>(j));
      }
    }
  }
  Shape shape = a.shape();
  shape.back() = columns;
  return narrow(p.output.dtype, shape, y);
}

}  // namespace npukit::runtime::integer
