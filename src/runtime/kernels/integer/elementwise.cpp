#include "runtime/kernels/integer/elementwise.h"

#include <algorithm>
#include <string>
#include <vector>

#include "npukit/error.h"
#include "runtime/kernels/integer/integer_tensor.h"

namespace npukit::runtime::integer {

namespace {

// numpy broadcasting of two shapes: the output shape and, per output element, the flat index into a and b.
struct Broadcast {
  Shape shape;
  std::vector<int64_t> a_index;
  std::vector<int64_t> b_index;
};

Broadcast broadcast(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape shape(rank);
  std::vector<int64_t> a_stride(rank, 0), b_stride(rank, 0);
  int64_t a_step = 1, b_step = 1;
  for (size_t i = rank; i-- > 0;) {
    const int64_t a_dim = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t b_dim = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (a_dim != b_dim && a_dim != 1 && b_dim != 1) {
      throw Error(ErrorKind::invalid_argument,
                  "shapes " + shape_to_string(a) + " and " + shape_to_string(b) + " do not broadcast");
    }
    shape[i] = std::max(a_dim, b_dim);
    a_stride[i] = a_dim == 1 ? 0 : a_step;
    b_stride[i] = b_dim == 1 ? 0 : b_step;
    a_step *= a_dim;
    b_step *= b_dim;
  }
  Broadcast result{shape, {}, {}};
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  result.a_index.resize(count);
  result.b_index.resize(count);
  std::vector<int64_t> position(rank, 0);
  int64_t a_offset = 0, b_offset = 0;
  for (int64_t flat = 0; flat < count; ++flat) {
    result.a_index[flat] = a_offset;
    result.b_index[flat] = b_offset;
    for (size_t axis = rank; axis-- > 0;) {  // odometer step
      ++position[axis];
      a_offset += a_stride[axis];
      b_offset += b_stride[axis];
      if (position[axis] < shape[axis]) break;
      a_offset -= a_stride[axis] * shape[axis];
      b_offset -= b_stride[axis] * shape[axis];
      position[axis] = 0;
    }
  }
  return result;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, const AddParameters& p) {
  const Broadcast plan = broadcast(a.shape(), b.shape());
  const std::vector<int32_t> x = widen(a, "Add input A");
  const std::vector<int32_t> z = widen(b, "Add input B");
  std::vector<int32_t> y(plan.a_index.size());
  const int32_t shift = int32_t{1} << p.left_shift;
  for (size_t i = 0; i < y.size(); ++i) {
    // (q - z) fits 9 bits (17 for 16-bit grids): shifted by 20 (15) it still fits int32.
    const int32_t a_scaled = p.a_requantizer.apply((x[plan.a_index[i]] - p.a_zero_point) * shift);
    const int32_t b_scaled = p.b_requantizer.apply((z[plan.b_index[i]] - p.b_zero_point) * shift);
    y[i] = p.output.finish(a_scaled + b_scaled, 0);
  }
  return narrow(p.output.dtype, plan.shape, y);
}

Tensor mul(const Tensor& a, const Tensor& b, const MulParameters& p) {
  const Broadcast plan = broadcast(a.shape(), b.shape());
  const std::vector<int32_t> x = widen(a, "Mul input A");
  const std::vector<int32_t> z = widen(b, "Mul input B");
  std::vector<int32_t> y(plan.a_index.size());
  for (size_t i = 0; i < y.size(); ++i) {
    const int32_t product = (x[plan.a_index[i]] - p.a_zero_point) * (z[plan.b_index[i]] - p.b_zero_point);
    y[i] = p.output.finish(product, 0);
  }
  return narrow(p.output.dtype, plan.shape, y);
}

}  // namespace npukit::runtime::integer
