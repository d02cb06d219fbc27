// Reference matrix products: MatMul (numpy batching and 1-D operands), Gemm, MatMulInteger, QLinearMatMul.
//
// Floats go through the tiled gemm_accumulate (accumulating in float, as ONNX Runtime does); integer
// MatMul wraps around like two's-complement hardware, computed in the unsigned type so overflow is
// defined; the quantized products accumulate exactly in int64.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/broadcast.h"
#include "runtime/kernels/ref/compute_buffer.h"
#include "runtime/kernels/ref/gemm.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

// The batched shape of a MatMul-like product: A is [batch_a..., M, K], B is [batch_b..., K, N].
struct MatMulShape {
  int64_t m = 1, k = 1, n = 1;
  Shape output;
  std::vector<int64_t> a_matrix;  // per output batch: index of the A matrix it reads
  std::vector<int64_t> b_matrix;  // per output batch: index of the B matrix it reads
  int64_t batches() const { return static_cast<int64_t>(a_matrix.size()); }
};

MatMulShape matmul_shape(const KernelContext& context, const Shape& a_shape, const Shape& b_shape) {
  if (a_shape.empty() || b_shape.empty()) context.invalid("MatMul operands must have rank 1 or more");
  Shape a = a_shape, b = b_shape;
  const bool a_vector = a.size() == 1, b_vector = b.size() == 1;
  if (a_vector) a.insert(a.begin(), 1);
  if (b_vector) b.push_back(1);
  MatMulShape shape;
  shape.m = a[a.size() - 2];
  shape.k = a[a.size() - 1];
  shape.n = b[b.size() - 1];
  if (b[b.size() - 2] != shape.k) {
    context.invalid("inner dimensions do not match: " + shape_to_string(a_shape) + " x " + shape_to_string(b_shape));
  }
  const Shape a_batch(a.begin(), a.end() - 2), b_batch(b.begin(), b.end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes({a_batch, b_batch}, "MatMul");
  } catch (const Error& error) {
    context.invalid("batch dimensions of " + shape_to_string(a_shape) + " and " + shape_to_string(b_shape) +
                    " do not broadcast");
  }
  const int64_t batch_count = shape_element_count(batch);
  BroadcastMapper mapper({a_batch, b_batch}, batch);
  shape.a_matrix.resize(static_cast<size_t>(batch_count));
  shape.b_matrix.resize(static_cast<size_t>(batch_count));
  for (int64_t i = 0; i < batch_count; ++i) {
    shape.a_matrix[i] = mapper.input_index(0, i);
    shape.b_matrix[i] = mapper.input_index(1, i);
  }
  shape.output = batch;
  if (!a_vector) shape.output.push_back(shape.m);
  if (!b_vector) shape.output.push_back(shape.n);
  return shape;
}

void matmul_kernel(KernelContext& context) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  if (a.dtype() != b.dtype()) context.invalid("A and B must have the same element type");
  const MatMulShape shape = matmul_shape(context, a.shape(), b.shape());
  Tensor& output = context.allocate_output(0, a.dtype(), shape.output);
  const int64_t a_size = shape.m * shape.k, b_size = shape.k * shape.n, c_size = shape.m * shape.n;
  const DTypeSet accepted = kFloatTypes | dtype_bit(DType::i32) | dtype_bit(DType::i64) | dtype_bit(DType::u32) |
                            dtype_bit(DType::u64);
  dispatch_dtype(a.dtype(), accepted, "MatMul", [&]<typename T>() {
    using C = compute_type_t<T>;
    if constexpr (std::is_floating_point_v<C>) {
      std::vector<C> a_storage, b_storage;
      const C* a_data = compute_view<T, C>(a, a_storage);
      const C* b_data = compute_view<T, C>(b, b_storage);
      ComputeOutput<T, C> result(output);
      for (int64_t batch = 0; batch < shape.batches(); ++batch) {
        gemm_accumulate(shape.m, shape.n, shape.k, a_data + shape.a_matrix[batch] * a_size, shape.k,
                        b_data + shape.b_matrix[batch] * b_size, shape.n, result.data() + batch * c_size, shape.n);
      }
      result.finish();
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool> && sizeof(T) >= 4) {
      using U = std::make_unsigned_t<T>;
      const U* a_data = reinterpret_cast<const U*>(a.data<T>());
      const U* b_data = reinterpret_cast<const U*>(b.data<T>());
      U* c_data = reinterpret_cast<U*>(output.data<T>());
      for (int64_t batch = 0; batch < shape.batches(); ++batch) {
        gemm_accumulate_exact<U>(shape.m, shape.n, shape.k, a_data + shape.a_matrix[batch] * a_size, shape.k,
                                 b_data + shape.b_matrix[batch] * b_size, shape.n, c_data + batch * c_size, shape.n);
      }
    }
  });
}

// ---- Gemm ---------------------------------------------------------------------------------------------

// Copies a 2-D matrix into row-major compute type, transposed when asked.
template <typename T, typename C>
std::vector<C> matrix_operand(const Tensor& tensor, bool transpose) {
  const int64_t rows = tensor.dim(0), columns = tensor.dim(1);
  const T* source = tensor.data<T>();
  std::vector<C> result(static_cast<size_t>(rows * columns));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < columns; ++c) {
      const C value = static_cast<C>(source[r * columns + c]);
      if (transpose) {
        result[c * rows + r] = value;
      } else {
        result[r * columns + c] = value;
      }
    }
  }
  return result;
}

// Floats accumulate in themselves; integers in their unsigned twin, so overflow wraps instead of being UB.
template <typename C, bool = std::is_floating_point_v<C>>
struct GemmAccumulator { using type = C; };
template <typename C>
struct GemmAccumulator<C, false> { using type = std::make_unsigned_t<C>; };

void gemm_kernel(KernelContext& context) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  const Tensor* c = context.optional_input(2);
  if (a.rank() != 2 || b.rank() != 2) context.invalid("A and B must be 2-D, got " + shape_to_string(a.shape()) + " and " + shape_to_string(b.shape()));
  if (a.dtype() != b.dtype() || (c && c->dtype() != a.dtype())) context.invalid("A, B and C must have the same element type");
  const bool transpose_a = context.attribute_int("transA", 0) != 0;
  const bool transpose_b = context.attribute_int("transB", 0) != 0;
  const double alpha = context.attribute_float("alpha", 1.0);
  const double beta = context.attribute_float("beta", 1.0);
  const int64_t m = transpose_a ? a.dim(1) : a.dim(0);
  const int64_t k = transpose_a ? a.dim(0) : a.dim(1);
  const int64_t k_b = transpose_b ? b.dim(1) : b.dim(0);
  const int64_t n = transpose_b ? b.dim(0) : b.dim(1);
  if (k != k_b) context.invalid("inner dimensions do not match: " + std::to_string(k) + " and " + std::to_string(k_b));
  const Shape output_shape{m, n};
  if (c && !broadcasts_to(c->shape(), output_shape)) {
    context.invalid("C " + shape_to_string(c->shape()) + " does not broadcast to " + shape_to_string(output_shape));
  }
  Tensor& output = context.allocate_output(0, a.dtype(), output_shape);
  const DTypeSet accepted = kFloatTypes | dtype_bit(DType::i32) | dtype_bit(DType::i64) | dtype_bit(DType::u32) |
                            dtype_bit(DType::u64);
  dispatch_dtype(a.dtype(), accepted, "Gemm", [&]<typename T>() {
    using C = compute_type_t<T>;
    if constexpr (std::is_arithmetic_v<C> && !std::is_same_v<C, bool> && (std::is_floating_point_v<C> || sizeof(C) >= 4)) {
      using Accumulator = typename GemmAccumulator<C>::type;
      std::vector<Accumulator> a_matrix = matrix_operand<T, Accumulator>(a, transpose_a);
      std::vector<Accumulator> b_matrix = matrix_operand<T, Accumulator>(b, transpose_b);
      std::vector<Accumulator> product(static_cast<size_t>(m * n), Accumulator(0));
      if constexpr (std::is_floating_point_v<C>) {
        gemm_accumulate(m, n, k, a_matrix.data(), k, b_matrix.data(), n, product.data(), n);
      } else {
        gemm_accumulate_exact<Accumulator>(m, n, k, a_matrix.data(), k, b_matrix.data(), n, product.data(), n);
      }
      const C alpha_value = static_cast<C>(alpha), beta_value = static_cast<C>(beta);
      T* destination = output.data<T>();
      std::vector<int64_t> c_index;
      if (c) {
        BroadcastMapper mapper({c->shape()}, output_shape);
        c_index.resize(static_cast<size_t>(m * n));
        for (int64_t i = 0; i < m * n; ++i) c_index[i] = mapper.input_index(0, i);
      }
      const T* c_data = c ? c->data<T>() : nullptr;
      for (int64_t i = 0; i < m * n; ++i) {
        C value = alpha_value * static_cast<C>(product[i]);
        if (c_data) value += beta_value * static_cast<C>(c_data[c_index[i]]);
        destination[i] = static_cast<T>(value);
      }
    }
  });
}

// ---- Quantized products -------------------------------------------------------------------------------

// Zero points of a quantized MatMul operand: a scalar, or one per row of A / column of B.
std::vector<int64_t> operand_zero_points(const KernelContext& context, const Tensor* tensor, DType data_type,
                                         int64_t count, const char* what) {
  if (!tensor) return std::vector<int64_t>(static_cast<size_t>(count), 0);
  if (tensor->dtype() != data_type) context.invalid(std::string(what) + " must have the element type of its operand");
  std::vector<int64_t> values = tensor->to_int64_vector();
  if (values.size() == 1) return std::vector<int64_t>(static_cast<size_t>(count), values[0]);
  if (static_cast<int64_t>(values.size()) == count) return values;
  context.unsupported(std::string(what) + " of shape " + shape_to_string(tensor->shape()) +
                      " is not supported (a scalar or one value per row of A / column of B)");
}

std::vector<double> operand_scales(const KernelContext& context, const Tensor& tensor, int64_t count, const char* what) {
  if (tensor.dtype() != DType::f32) context.invalid(std::string(what) + " must be float");
  std::vector<float> values = tensor.to_float_vector();
  if (values.size() == 1) return std::vector<double>(static_cast<size_t>(count), values[0]);
  if (static_cast<int64_t>(values.size()) == count) return std::vector<double>(values.begin(), values.end());
  context.unsupported(std::string(what) + " of shape " + shape_to_string(tensor.shape()) + " is not supported");
}

void require_8bit(const KernelContext& context, const Tensor& tensor, const char* what) {
  if (tensor.dtype() != DType::u8 && tensor.dtype() != DType::i8) {
    context.unsupported(std::string(what) + " of element type " + std::string(dtype_name(tensor.dtype())) +
                        " is not supported (int8 or uint8 expected)");
  }
}

// sum_k (a[i,k] - a_zero[i]) * (b[k,j] - b_zero[j]) per batch, exact in int64.
std::vector<int64_t> integer_matmul(const MatMulShape& shape, const Tensor& a, const std::vector<int64_t>& a_zero,
                                    const Tensor& b, const std::vector<int64_t>& b_zero) {
  std::vector<int64_t> a_values = a.to_int64_vector();
  std::vector<int64_t> b_values = b.to_int64_vector();
  for (size_t i = 0; i < a_values.size(); ++i) a_values[i] -= a_zero[(static_cast<int64_t>(i) / shape.k) % shape.m];
  for (size_t i = 0; i < b_values.size(); ++i) b_values[i] -= b_zero[static_cast<int64_t>(i) % shape.n];
  const int64_t a_size = shape.m * shape.k, b_size = shape.k * shape.n, c_size = shape.m * shape.n;
  std::vector<int64_t> result(static_cast<size_t>(shape.batches() * c_size), 0);
  for (int64_t batch = 0; batch < shape.batches(); ++batch) {
    gemm_accumulate_exact<int64_t>(shape.m, shape.n, shape.k, a_values.data() + shape.a_matrix[batch] * a_size, shape.k,
                                   b_values.data() + shape.b_matrix[batch] * b_size, shape.n,
                                   result.data() + batch * c_size, shape.n);
  }
  return result;
}

void matmul_integer_kernel(KernelContext& context) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  require_8bit(context, a, "MatMulInteger A");
  require_8bit(context, b, "MatMulInteger B");
  const MatMulShape shape = matmul_shape(context, a.shape(), b.shape());
  std::vector<int64_t> a_zero = operand_zero_points(context, context.optional_input(2), a.dtype(), shape.m, "a_zero_point");
  std::vector<int64_t> b_zero = operand_zero_points(context, context.optional_input(3), b.dtype(), shape.n, "b_zero_point");
  std::vector<int64_t> result = integer_matmul(shape, a, a_zero, b, b_zero);
  Tensor& output = context.allocate_output(0, DType::i32, shape.output);
  int32_t* destination = output.data<int32_t>();
  for (size_t i = 0; i < result.size(); ++i) destination[i] = static_cast<int32_t>(result[i]);
}

void qlinear_matmul_kernel(KernelContext& context) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(3);
  require_8bit(context, a, "QLinearMatMul A");
  require_8bit(context, b, "QLinearMatMul B");
  const MatMulShape shape = matmul_shape(context, a.shape(), b.shape());
  std::vector<double> a_scale = operand_scales(context, context.input(1), shape.m, "a_scale");
  std::vector<int64_t> a_zero = operand_zero_points(context, &context.input(2), a.dtype(), shape.m, "a_zero_point");
  std::vector<double> b_scale = operand_scales(context, context.input(4), shape.n, "b_scale");
  std::vector<int64_t> b_zero = operand_zero_points(context, &context.input(5), b.dtype(), shape.n, "b_zero_point");
  const Tensor& y_zero_tensor = context.input(7);
  require_8bit(context, y_zero_tensor, "y_zero_point");
  std::vector<double> y_scale = operand_scales(context, context.input(6), 1, "y_scale");
  const int64_t y_zero = operand_zero_points(context, &y_zero_tensor, y_zero_tensor.dtype(), 1, "y_zero_point")[0];
  std::vector<int64_t> result = integer_matmul(shape, a, a_zero, b, b_zero);
  const DType output_type = y_zero_tensor.dtype();
  Tensor& output = context.allocate_output(0, output_type, shape.output);
  const int64_t low = output_type == DType::u8 ? 0 : -128, high = output_type == DType::u8 ? 255 : 127;
  for (size_t i = 0; i < result.size(); ++i) {
    const int64_t row = (static_cast<int64_t>(i) / shape.n) % shape.m, column = static_cast<int64_t>(i) % shape.n;
    // Requantize in float with round-half-to-even, the arithmetic ONNX Runtime uses.
    const float multiplier = static_cast<float>(a_scale[row]) * static_cast<float>(b_scale[column]) / static_cast<float>(y_scale[0]);
    const float scaled = std::clamp(std::nearbyint(static_cast<float>(result[i]) * multiplier), -65536.0f, 65536.0f);
    const int64_t value = std::clamp<int64_t>(static_cast<int64_t>(scaled) + y_zero, low, high);
    if (output_type == DType::u8) {
      output.data<uint8_t>()[i] = static_cast<uint8_t>(value);
    } else {
      output.data<int8_t>()[i] = static_cast<int8_t>(value);
    }
  }
}

}  // namespace

void register_matmul_kernels(KernelRegistry& registry) {
  registry.add("MatMul", matmul_kernel, 1, 17);
  registry.add("Gemm", gemm_kernel, 1, 17);
  registry.add("MatMulInteger", matmul_integer_kernel, 10, 17);
  registry.add("QLinearMatMul", qlinear_matmul_kernel, 10, 17);
}

}  // namespace npukit::runtime::ref
