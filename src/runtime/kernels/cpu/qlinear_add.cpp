// com.microsoft QLinearAdd on the cpu backend, with ONNX Runtime's arithmetic to the bit: MLAS's AVX2 kernel
// (MlasQLinearAddKernelAvx2Helper, which ORT's CPU execution provider runs on every x86 CPU with AVX2,
// AVX-512 ones included) computes, per element, in float:
//   ratio_a = s_a / s_c, ratio_b = s_b / s_c, fixed = float(z_c) - (ratio_a · z_a + ratio_b · z_b)
//   c = saturate(round_half_even(fma(a, ratio_a, fma(b, ratio_b, fixed))))
// with both fused multiply-adds rounded once (vfmadd), b first. (Its scalar-operand path, taken when a tensor
// has one element, adds a · ratio_a into `fixed` with a separate multiply and add; add_one follows it too.)
// Elementwise on two tensors of one shape, so any layout works as long as the inputs and output share it: the
// layout plan joins them (blocked_layout.h), and int8 chains stay NHWC through the residual additions.
#include <cmath>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/qlinear_operands.h"
#include "runtime/kernels/cpu/qlinear_add.h"
#include "runtime/kernels/cpu/vector_math.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NPUKIT_QLINEAR_ADD_X86 1
#endif

namespace npukit::runtime::cpu {

namespace {

// Half to even without reading the FP environment, and cvtps2dq's answer (INT32_MIN) outside int32 or on NaN.
int32_t convert_like_cvtps(float value) {
  if (!(value > -2147483648.0f && value < 2147483648.0f)) return INT32_MIN;
  const float floor_value = std::floor(value);
  const float fraction = value - floor_value;
  float rounded = floor_value;
  if (fraction > 0.5f || (fraction == 0.5f && std::fmod(floor_value, 2.0f) != 0.0f)) rounded = floor_value + 1.0f;
  if (!(rounded < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(rounded);
}

#ifdef NPUKIT_QLINEAR_ADD_X86
template <bool is_signed>
NPUKIT_TARGET_AVX2 void add_avx2(const void* a, const void* b, void* c, int64_t begin, int64_t end,
                                 const int8::QLinearAddParameters& p) {
  const __m256 ratio_a = _mm256_set1_ps(p.ratio_a), ratio_b = _mm256_set1_ps(p.ratio_b);
  const __m256 fixed = _mm256_set1_ps(p.fixed);
  const __m256i low = _mm256_set1_epi32(is_signed ? -128 : 0), high = _mm256_set1_epi32(is_signed ? 127 : 255);
  const __m256i gather = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);
  const uint8_t* first = static_cast<const uint8_t*>(a);
  const uint8_t* second = static_cast<const uint8_t*>(b);
  uint8_t* out = static_cast<uint8_t*>(c);
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const __m128i a_bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(first + i));
    const __m128i b_bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(second + i));
    const __m256i a_ints = is_signed ? _mm256_cvtepi8_epi32(a_bytes) : _mm256_cvtepu8_epi32(a_bytes);
    const __m256i b_ints = is_signed ? _mm256_cvtepi8_epi32(b_bytes) : _mm256_cvtepu8_epi32(b_bytes);
    __m256 value = _mm256_fmadd_ps(_mm256_cvtepi32_ps(b_ints), ratio_b, fixed);
    value = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a_ints), ratio_a, value);
    __m256i result = _mm256_cvtps_epi32(value);  // MXCSR's default: nearest, ties to even
    result = _mm256_min_epi32(_mm256_max_epi32(result, low), high);
    const __m256i words = _mm256_packs_epi32(result, result);
    const __m256i bytes = is_signed ? _mm256_packs_epi16(words, words) : _mm256_packus_epi16(words, words);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i),
                     _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, gather)));
  }
  for (; i < end; ++i) {
    const int32_t x = is_signed ? static_cast<int8_t>(first[i]) : first[i];
    const int32_t y = is_signed ? static_cast<int8_t>(second[i]) : second[i];
    const int32_t value = int8::qlinear_add_one(x, y, p, false);
    out[i] = static_cast<uint8_t>(value);
  }
}
#endif

class QLinearAddExecutable final : public CpuExecutable {
 public:
  explicit QLinearAddExecutable(const ir::Node& node) {
    const QLinearBinaryOperands operands = read_qlinear_binary_operands(node);
    type_ = operands.type;
    parameters_ = int8::qlinear_add_parameters(operands.a_scale, operands.a_zero_point, operands.b_scale,
                                               operands.b_zero_point, operands.c_scale, operands.c_zero_point, type_);
  }

  void run(KernelContext& context) const override {
    const Tensor& a = context.input(0);
    const Tensor& b = context.input(3);
    if (a.dtype() != type_ || b.dtype() != type_) {
      context.invalid("cpu QLinearAdd needs A and B of C's type " + std::string(dtype_name(type_)));
    }
    if (a.shape() != b.shape()) {
      context.invalid("cpu QLinearAdd runs operands of one shape, got " + shape_to_string(a.shape()) + " and " +
                      shape_to_string(b.shape()));
    }
    Tensor& c = context.allocate_output(0, type_, a.shape());
    const int64_t count = a.element_count();
    const bool single = count == 1;  // ORT's scalar-operand path
#ifdef NPUKIT_QLINEAR_ADD_X86
    if (vector_math::uses_avx2() && !single) {
      const int64_t chunk = 16384;
#pragma omp parallel for schedule(static) if (count > 2 * chunk)
      for (int64_t begin = 0; begin < count; begin += chunk) {
        const int64_t end = std::min(count, begin + chunk);
        if (type_ == DType::i8) {
          add_avx2<true>(a.raw_data(), b.raw_data(), c.raw_data(), begin, end, parameters_);
        } else {
          add_avx2<false>(a.raw_data(), b.raw_data(), c.raw_data(), begin, end, parameters_);
        }
      }
      return;
    }
#endif
    const bool is_signed = type_ == DType::i8;
    const uint8_t* first = static_cast<const uint8_t*>(a.raw_data());
    const uint8_t* second = static_cast<const uint8_t*>(b.raw_data());
    uint8_t* out = static_cast<uint8_t*>(c.raw_data());
    for (int64_t i = 0; i < count; ++i) {
      const int32_t x = is_signed ? static_cast<int8_t>(first[i]) : first[i];
      const int32_t y = is_signed ? static_cast<int8_t>(second[i]) : second[i];
      out[i] = static_cast<uint8_t>(int8::qlinear_add_one(x, y, parameters_, single));
    }
  }

 private:
  DType type_ = DType::u8;
  int8::QLinearAddParameters parameters_;
};

}  // namespace

namespace int8 {

QLinearAddParameters qlinear_add_parameters(float a_scale, int32_t a_zero_point, float b_scale, int32_t b_zero_point,
                                            float c_scale, int32_t c_zero_point, DType type) {
  QLinearAddParameters p;
  p.ratio_a = a_scale / c_scale;
  p.ratio_b = b_scale / c_scale;
  // MLAS writes float(z_c) - (ratio_a · z_a + ratio_b · z_b) in C++, in a file built with -mfma, where GCC's default
  // -ffp-contract=fast makes the sum one fma. That is an assumption from the build, not read from ORT's binary:
  // with it the add models of tests/cpu_int8_test.cpp and whole MobileNetV2 (10 QLinearAdd, non-zero zero points)
  // equal ONNX Runtime 1.30 -- and so do they with the uncontracted sum (tried): those tests do not tell the two
  // apart; a case that does (zero points and ratios whose two roundings differ at a .5 tie) is still to be built.
  const float zero_part = std::fma(p.ratio_a, static_cast<float>(a_zero_point), p.ratio_b * static_cast<float>(b_zero_point));
  p.fixed = static_cast<float>(c_zero_point) - zero_part;
  p.minimum = type == DType::i8 ? -128 : 0;
  p.maximum = type == DType::i8 ? 127 : 255;
  return p;
}

int32_t qlinear_add_one(int32_t a, int32_t b, const QLinearAddParameters& p, bool single_element) {
  float value;
  if (single_element) {
    // MlasQLinearAddKernelAvx2Helper<IsScalarA>: fixed += float(a) · ratio_a (multiply, then add), then the fma.
    const float product = static_cast<float>(a) * p.ratio_a;
    const float fixed = p.fixed + product;
    value = std::fma(static_cast<float>(b), p.ratio_b, fixed);
  } else {
    value = std::fma(static_cast<float>(a), p.ratio_a, std::fma(static_cast<float>(b), p.ratio_b, p.fixed));
  }
  const int32_t rounded = convert_like_cvtps(value);
  return rounded < p.minimum ? p.minimum : (rounded > p.maximum ? p.maximum : rounded);
}

}  // namespace int8

std::optional<std::string> qlinear_add_unsupported_reason(const ir::Node& node, int64_t) {
  return qlinear_binary_unsupported_reason(node, "QLinearAdd");
}

std::unique_ptr<NodeExecutable> prepare_qlinear_add(const ir::Node& node, int64_t, const BlockedLayoutPlan&) {
  return std::make_unique<QLinearAddExecutable>(node);
}

}  // namespace npukit::runtime::cpu
