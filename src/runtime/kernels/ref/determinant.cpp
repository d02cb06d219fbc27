// Det: determinant of each square matrix in the last two dimensions, by LU decomposition with partial
// pivoting in double.
#include <cmath>
#include <utility>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

double determinant(std::vector<double> matrix, int64_t n) {
  double result = 1.0;
  for (int64_t column = 0; column < n; ++column) {
    int64_t pivot = column;
    for (int64_t row = column + 1; row < n; ++row) {
      if (std::fabs(matrix[static_cast<size_t>(row * n + column)]) > std::fabs(matrix[static_cast<size_t>(pivot * n + column)])) {
        pivot = row;
      }
    }
    const double pivot_value = matrix[static_cast<size_t>(pivot * n + column)];
    if (pivot_value == 0.0) return 0.0;
    if (pivot != column) {
      for (int64_t k = 0; k < n; ++k) {
        std::swap(matrix[static_cast<size_t>(pivot * n + k)], matrix[static_cast<size_t>(column * n + k)]);
      }
      result = -result;
    }
    result *= pivot_value;
    for (int64_t row = column + 1; row < n; ++row) {
      const double factor = matrix[static_cast<size_t>(row * n + column)] / pivot_value;
      for (int64_t k = column; k < n; ++k) {
        matrix[static_cast<size_t>(row * n + k)] -= factor * matrix[static_cast<size_t>(column * n + k)];
      }
    }
  }
  return result;
}

void det_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const size_t rank = input.rank();
  if (rank < 2 || input.dim(rank - 1) != input.dim(rank - 2)) {
    context.invalid("Det input must end in a square matrix, got shape " + shape_to_string(input.shape()));
  }
  const int64_t n = input.dim(rank - 1);
  Shape output_shape(input.shape().begin(), input.shape().end() - 2);
  Tensor& output = context.allocate_output(0, input.dtype(), output_shape);
  const int64_t matrices = output.element_count();
  dispatch_dtype(input.dtype(), kFloatTypes, "Det", [&]<typename T>() {
    if constexpr (std::is_floating_point_v<compute_type_t<T>>) {
      using Compute = compute_type_t<T>;
      const T* source = input.data<T>();
      std::vector<double> matrix(static_cast<size_t>(n * n));
      for (int64_t m = 0; m < matrices; ++m) {
        for (int64_t i = 0; i < n * n; ++i) matrix[static_cast<size_t>(i)] = static_cast<double>(static_cast<Compute>(source[m * n * n + i]));
        output.data<T>()[m] = static_cast<T>(static_cast<Compute>(determinant(matrix, n)));
      }
    }
  });
}

}  // namespace

void register_determinant_kernels(KernelRegistry& registry) { registry.add("Det", det_kernel, 11); }

}  // namespace npukit::runtime::ref
