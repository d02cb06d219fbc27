// com.microsoft QLinearSoftmax on the cpu backend: ONNX Runtime's integer softmax to the bit (qlinear_softmax.h
// says what ORT computes). Inputs (X, X_scale, X_zero_point, Y_scale, Y_zero_point), attributes axis and opset
// as ORT's QDQ transformer writes them: from opset 13 the rows run along the one axis `axis` (default -1), up to
// 12 the input is coerced to 2-D at `axis` (default 1). Both are an (outer, length, inner) walk; the inner axis
// is the contiguous one, so a row's elements are `inner` bytes apart and blocks of columns are processed side
// by side, each column's sum still added in axis order (the order ORT adds them in).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/qlinear_operands.h"
#include "runtime/kernels/cpu/qlinear_softmax.h"

namespace npukit::runtime::cpu {

namespace int8 {

namespace {

// static_cast<uint32_t>(float) and static_cast<int32_t>(float) as x86-64 compilers emit them (cvttss2si on 64
// and 32 bits): out-of-range values give the "integer indefinite" value. Only reached for absurd scales.
uint32_t to_uint32_like_x86(float value) {
  if (!(value > -9.2e18f && value < 9.2e18f)) return 0;  // INT64_MIN's low 32 bits
  return static_cast<uint32_t>(static_cast<int64_t>(value));
}
int32_t to_int32_like_x86(float value) {
  if (!(value > -2147483648.0f && value < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(value);
}

// nearbyint in the default rounding mode (half to even) without a libm call: for 0 <= v < 2^23 adding and
// subtracting 2^23 rounds v to an integer exactly as nearbyint does; larger v, inf and NaN pass through unchanged
// (the quotient here is never negative).
float round_half_even_nonnegative(float value) {
  constexpr float two_to_23 = 8388608.0f;
  return value < two_to_23 ? (value + two_to_23) - two_to_23 : value;
}

template <DType type>
uint8_t output_byte(float exponent, float multiplier, float sum, int32_t y_zero_point) {
  const float rounded = round_half_even_nonnegative(exponent * multiplier / sum);
  if constexpr (type == DType::u8) {
    const uint32_t value = to_uint32_like_x86(rounded) + static_cast<uint32_t>(y_zero_point);
    return value > 255 ? uint8_t{255} : static_cast<uint8_t>(value);
  }
  // ORT's s8 kernel: vq > 255 ? int8_t(255) : int8_t(vq), two's-complement wrap (no clamp to [-128, 127]).
  const int32_t value = static_cast<int32_t>(static_cast<uint32_t>(to_int32_like_x86(rounded)) +
                                             static_cast<uint32_t>(y_zero_point));
  return value > 255 ? uint8_t{255} : static_cast<uint8_t>(static_cast<uint32_t>(value));
}

// The byte's integer value: u8 as is, s8 sign-extended.
template <DType type>
int32_t integer_of(uint8_t byte) {
  if constexpr (type == DType::i8) return static_cast<int8_t>(byte);
  return byte;
}

template <DType type>
void softmax_column_block_of(const uint8_t* in, uint8_t* out, int64_t count, int64_t stride, int64_t columns,
                             const SoftmaxExponentTable& table, float multiplier, int32_t y_zero_point) {
  int32_t maximum[softmax_column_block];
  float sum[softmax_column_block];
  for (int64_t j = 0; j < columns; ++j) maximum[j] = integer_of<type>(in[j]);
  for (int64_t k = 1; k < count; ++k) {
    for (int64_t j = 0; j < columns; ++j) maximum[j] = std::max(maximum[j], integer_of<type>(in[k * stride + j]));
  }
  // Each column's sum in axis order, as ORT adds a row: k outside, the columns side by side inside.
  for (int64_t j = 0; j < columns; ++j) sum[j] = 0;
  for (int64_t k = 0; k < count; ++k) {
    for (int64_t j = 0; j < columns; ++j) {
      sum[j] += table[static_cast<size_t>(integer_of<type>(in[k * stride + j]) - maximum[j] + 255)];
    }
  }
  // sum is never 0 (the largest element's entry is at least 1); ORT would write nothing for such a row.
  for (int64_t k = 0; k < count; ++k) {
    for (int64_t j = 0; j < columns; ++j) {
      const float exponent = table[static_cast<size_t>(integer_of<type>(in[k * stride + j]) - maximum[j] + 255)];
      out[k * stride + j] = output_byte<type>(exponent, multiplier, sum[j], y_zero_point);
    }
  }
}

}  // namespace

SoftmaxExponentTable qlinear_softmax_exponent_table(float x_scale, int64_t reduced_length) {
  // ORT: log(numeric_limits<float>::max() / reduce_len): a float quotient, and the float overload of log (logf;
  // the double one gives other bytes, 12 of 320000 in a sweep against ORT); reserve 5 for float sums.
  const float quotient = FLT_MAX / static_cast<float>(static_cast<size_t>(reduced_length));
  double bit_shift = static_cast<double>(std::log(quotient));
  bit_shift = std::max(0.0, bit_shift - 5.0) / x_scale;
  SoftmaxExponentTable table{};
  for (int i = 0; i < 256; ++i) {
    table[static_cast<size_t>(i)] =
        static_cast<float>(std::exp((static_cast<double>(i) - 255 + bit_shift) * static_cast<double>(x_scale)));
  }
  return table;
}

void qlinear_softmax_columns(const uint8_t* x, uint8_t* y, int64_t count, int64_t stride, int64_t width,
                             const SoftmaxExponentTable& table, float y_scale, int32_t y_zero_point, DType type) {
  if (count <= 0) return;
  const float multiplier = std::floor(1.0f / y_scale);
  for (int64_t first = 0; first < width; first += softmax_column_block) {
    const int64_t columns = std::min(softmax_column_block, width - first);
    if (type == DType::i8) {
      softmax_column_block_of<DType::i8>(x + first, y + first, count, stride, columns, table, multiplier, y_zero_point);
    } else {
      softmax_column_block_of<DType::u8>(x + first, y + first, count, stride, columns, table, multiplier, y_zero_point);
    }
  }
}

void qlinear_softmax_row(const uint8_t* x, uint8_t* y, int64_t count, int64_t stride, const SoftmaxExponentTable& table,
                         float y_scale, int32_t y_zero_point, DType type) {
  qlinear_softmax_columns(x, y, count, stride, 1, table, y_scale, y_zero_point, type);
}

}  // namespace int8

namespace {

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }

const Tensor* constant(const ir::Value* value) {
  return value && value->initializer && !value->is_graph_input ? &*value->initializer : nullptr;
}

struct SoftmaxWalk {
  int64_t outer = 1, length = 1, inner = 1;
};

SoftmaxWalk walk_of(const Shape& shape, int64_t axis, int64_t opset) {
  SoftmaxWalk walk;
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (axis < 0) axis += rank;
  for (int64_t d = 0; d < axis; ++d) walk.outer *= shape[static_cast<size_t>(d)];
  if (opset < 13) {
    for (int64_t d = axis; d < rank; ++d) walk.length *= shape[static_cast<size_t>(d)];
  } else {
    walk.length = shape[static_cast<size_t>(axis)];
    for (int64_t d = axis + 1; d < rank; ++d) walk.inner *= shape[static_cast<size_t>(d)];
  }
  return walk;
}

class QLinearSoftmaxExecutable final : public CpuExecutable {
 public:
  explicit QLinearSoftmaxExecutable(const ir::Node& node) {
    x_scale_ = constant(node.input(1))->data<float>()[0];
    y_scale_ = constant(node.input(3))->data<float>()[0];
    const Tensor* y_zero_point = constant(node.input(4));
    type_ = y_zero_point ? y_zero_point->dtype() : node.input(0)->type.dtype;
    y_zero_point_ = y_zero_point ? static_cast<int32_t>(y_zero_point->value_as_double(0)) : 0;
    opset_ = node.get_int("opset", 13);
    axis_ = node.get_int("axis", opset_ < 13 ? 1 : -1);
    const ir::TensorType& x_type = node.input(0)->type;
    const int64_t rank = x_type.has_static_shape() ? static_cast<int64_t>(x_type.static_shape().size()) : 0;
    if (rank > 0 && axis_ >= -rank && axis_ < rank) {
      table_length_ = walk_of(x_type.static_shape(), axis_, opset_).length;
      table_ = int8::qlinear_softmax_exponent_table(x_scale_, table_length_);
    }
  }

  void run(KernelContext& context) const override {
    const Tensor& x = context.input(0);
    if (x.dtype() != type_) context.invalid("cpu QLinearSoftmax needs X of type " + std::string(dtype_name(type_)));
    const int64_t rank = x.rank();
    if (rank == 0 || axis_ < -rank || axis_ >= rank) context.invalid("QLinearSoftmax's axis is outside X's rank");
    Tensor& y = context.allocate_output(0, type_, x.shape());
    if (x.element_count() == 0) return;
    const SoftmaxWalk walk = walk_of(x.shape(), axis_, opset_);
    // The table depends on the reduced length: built at prepare time for a static shape (as ORT does), else here.
    const int8::SoftmaxExponentTable& table =
        walk.length == table_length_ ? table_ : int8::qlinear_softmax_exponent_table(x_scale_, walk.length);
    const uint8_t* in = static_cast<const uint8_t*>(x.raw_data());
    uint8_t* out = static_cast<uint8_t*>(y.raw_data());
    // Blocks of adjacent columns of the inner axis (a row's elements are `inner` bytes apart): contiguous reads.
    const int64_t blocks_per_outer = (walk.inner + int8::softmax_column_block - 1) / int8::softmax_column_block;
    const int64_t tasks = walk.outer * blocks_per_outer;
#pragma omp parallel for schedule(static) if (walk.outer * walk.inner * walk.length > 65536)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t o = task / blocks_per_outer;
      const int64_t first = (task % blocks_per_outer) * int8::softmax_column_block;
      const int64_t offset = o * walk.length * walk.inner + first;
      int8::qlinear_softmax_columns(in + offset, out + offset, walk.length, walk.inner,
                                    std::min(int8::softmax_column_block, walk.inner - first), table, y_scale_,
                                    y_zero_point_, type_);
    }
  }

 private:
  float x_scale_ = 1, y_scale_ = 1;
  int32_t y_zero_point_ = 0;
  DType type_ = DType::u8;
  int64_t opset_ = 13, axis_ = -1;
  int8::SoftmaxExponentTable table_{};
  int64_t table_length_ = -1;
};

}  // namespace

std::optional<std::string> qlinear_softmax_unsupported_reason(const ir::Node& node, int64_t) {
  const std::string name = "cpu QLinearSoftmax";
  if (node.inputs.size() < 4 || !node.input(0)) return name + " needs X and its parameters";
  if (std::optional<std::string> reason = scalar_scales_reason(node, {1, 3}, name)) return reason;
  DType type = is_8bit(node.input(0)->type.dtype) ? node.input(0)->type.dtype : DType::undefined;
  if (std::optional<std::string> reason = scalar_zero_points_reason(node, {2, 4}, name, type)) return reason;
  if (type == DType::undefined) return name + " needs a u8 / s8 X";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_qlinear_softmax(const ir::Node& node, int64_t, const BlockedLayoutPlan&) {
  return std::make_unique<QLinearSoftmaxExecutable>(node);
}

}  // namespace npukit::runtime::cpu
