// com.microsoft QLinearMul on the cpu backend, ONNX Runtime's arithmetic to the bit (qlinear_lookup.h:
// MlasQLinearMulKernel's SSE2 form, which ORT runs on every x86 CPU): the integers (a - z_a) · (b - z_b)
// multiplied exactly, then float(product) · ratio + float(z_c) as a multiply and an add, rounded half to even,
// saturated. Elementwise on two tensors of one shape (the fusion pass leaves broadcasting Mul groups in float),
// so any layout works as long as the inputs and output share it: the layout plan joins them.
#include <algorithm>
#include <cmath>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/qlinear_operands.h"
#include "runtime/kernels/cpu/qlinear_lookup.h"
#include "runtime/kernels/cpu/vector_math.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NPUKIT_QLINEAR_MUL_X86 1
#endif

namespace npukit::runtime::cpu {

namespace {

#ifdef NPUKIT_QLINEAR_MUL_X86
// AVX2 without FMA on purpose: ORT's kernel multiplies and adds with two roundings, and a compiler allowed FMA
// could contract the two into one.
// Eight products: (a - z_a) · (b - z_b) exactly, then float · ratio + z_c, rounded (MXCSR: nearest, ties to even).
template <bool is_signed>
__attribute__((target("avx2"))) __m256i mul_lanes(__m128i a_bytes, __m128i b_bytes, __m256i a_zero, __m256i b_zero,
                                                   __m256 ratio, __m256 c_zero) {
  const __m256i x = _mm256_sub_epi32(is_signed ? _mm256_cvtepi8_epi32(a_bytes) : _mm256_cvtepu8_epi32(a_bytes), a_zero);
  const __m256i y = _mm256_sub_epi32(is_signed ? _mm256_cvtepi8_epi32(b_bytes) : _mm256_cvtepu8_epi32(b_bytes), b_zero);
  const __m256 product = _mm256_cvtepi32_ps(_mm256_mullo_epi32(x, y));
  return _mm256_cvtps_epi32(_mm256_add_ps(_mm256_mul_ps(product, ratio), c_zero));
}

template <bool is_signed>
__attribute__((target("avx2"))) void mul_avx2(const uint8_t* a, const uint8_t* b, uint8_t* c, int64_t count,
                                               const int8::QLinearMulParameters& p) {
  const __m256i a_zero = _mm256_set1_epi32(p.a_zero_point), b_zero = _mm256_set1_epi32(p.b_zero_point);
  const __m256 ratio = _mm256_set1_ps(p.ratio), c_zero = _mm256_set1_ps(static_cast<float>(p.c_zero_point));
  const __m256i gather = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  int64_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m128i a_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    const __m128i b_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    const __m256i low = mul_lanes<is_signed>(a_bytes, b_bytes, a_zero, b_zero, ratio, c_zero);
    const __m256i high = mul_lanes<is_signed>(_mm_srli_si128(a_bytes, 8), _mm_srli_si128(b_bytes, 8), a_zero, b_zero,
                                                  ratio, c_zero);
    // packs works within 128-bit halves: words [l0..3 h0..3 | l4..7 h4..7], then bytes likewise.
    const __m256i words = _mm256_packs_epi32(low, high);
    const __m256i bytes = is_signed ? _mm256_packs_epi16(words, words) : _mm256_packus_epi16(words, words);
    // bytes' 32-bit lanes (e = element): [e0-3, e8-11, e0-3, e8-11 | e4-7, e12-15, e4-7, e12-15] → dwords 0, 4, 1, 5.
    const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, gather);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(c + i), _mm256_castsi256_si128(ordered));
  }
  for (; i < count; ++i) {
    const int32_t x = is_signed ? static_cast<int8_t>(a[i]) : a[i];
    const int32_t y = is_signed ? static_cast<int8_t>(b[i]) : b[i];
    c[i] = static_cast<uint8_t>(int8::qlinear_mul_one(x, y, p));
  }
}
#endif

class QLinearMulExecutable final : public CpuExecutable {
 public:
  explicit QLinearMulExecutable(const ir::Node& node) {
    const QLinearBinaryOperands operands = read_qlinear_binary_operands(node);
    type_ = operands.type;
    parameters_ = int8::qlinear_mul_parameters(operands.a_scale, operands.a_zero_point, operands.b_scale,
                                               operands.b_zero_point, operands.c_scale, operands.c_zero_point, type_);
  }

  void run(KernelContext& context) const override {
    const Tensor& a = context.input(0);
    const Tensor& b = context.input(3);
    if (a.dtype() != type_ || b.dtype() != type_) {
      context.invalid("cpu QLinearMul needs A and B of C's type " + std::string(dtype_name(type_)));
    }
    if (a.shape() != b.shape()) {
      context.invalid("cpu QLinearMul runs operands of one shape, got " + shape_to_string(a.shape()) + " and " +
                      shape_to_string(b.shape()));
    }
    Tensor& c = context.allocate_output(0, type_, a.shape());
    const int64_t count = a.element_count();
    const uint8_t* first = static_cast<const uint8_t*>(a.raw_data());
    const uint8_t* second = static_cast<const uint8_t*>(b.raw_data());
    uint8_t* out = static_cast<uint8_t*>(c.raw_data());
    const bool is_signed = type_ == DType::i8;
#ifdef NPUKIT_QLINEAR_MUL_X86
    if (vector_math::uses_avx2()) {
      const int64_t chunk = 16384;
#pragma omp parallel for schedule(static) if (count > 2 * chunk)
      for (int64_t begin = 0; begin < count; begin += chunk) {
        const int64_t length = std::min(chunk, count - begin);
        if (is_signed) {
          mul_avx2<true>(first + begin, second + begin, out + begin, length, parameters_);
        } else {
          mul_avx2<false>(first + begin, second + begin, out + begin, length, parameters_);
        }
      }
      return;
    }
#endif
    for (int64_t i = 0; i < count; ++i) {
      const int32_t x = is_signed ? static_cast<int8_t>(first[i]) : first[i];
      const int32_t y = is_signed ? static_cast<int8_t>(second[i]) : second[i];
      out[i] = static_cast<uint8_t>(int8::qlinear_mul_one(x, y, parameters_));
    }
  }

 private:
  DType type_ = DType::u8;
  int8::QLinearMulParameters parameters_;
};

}  // namespace

std::optional<std::string> qlinear_mul_unsupported_reason(const ir::Node& node, int64_t) {
  return qlinear_binary_unsupported_reason(node, "QLinearMul");
}

std::unique_ptr<NodeExecutable> prepare_qlinear_mul(const ir::Node& node, int64_t, const BlockedLayoutPlan&) {
  return std::make_unique<QLinearMulExecutable>(node);
}

}  // namespace npukit::runtime::cpu
