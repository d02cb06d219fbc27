#include "runtime/kernels/cpu/vector_math.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__) || defined(__i386__)
#define NPUKIT_VECTOR_MATH_X86 1
#include <immintrin.h>
#endif

namespace npukit::runtime::cpu::vector_math {

namespace {

// The scalar versions: the fallback on machines without AVX2, and the definition the vector ones follow.
// Sigmoid is computed from e = exp(-|x|), as 1 / (1 + e) for x >= 0 and e / (1 + e) below: exp never
// overflows, so sigmoid and SiLU stay accurate down to where they underflow (1 / (1 + exp(-x)) would give 0
// from x = -88.7 on, where SiLU is still 2.6e-37).
float scalar_sigmoid(float x) {
  const float exponential = std::exp(-std::fabs(x));
  return (x >= 0 ? 1.0f : exponential) / (1.0f + exponential);
}
float scalar_silu(float x) {
  const float sigmoid = scalar_sigmoid(x);
  return sigmoid == 0.0f ? 0.0f : x * sigmoid;  // -inf * 0 would be NaN; the limit is 0
}

#ifdef NPUKIT_VECTOR_MATH_X86

NPUKIT_TARGET_AVX2 inline __m256 pow2(__m256i exponent) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(exponent, _mm256_set1_epi32(127)), 23));
}

NPUKIT_TARGET_AVX2 inline __m256 exp8(__m256 x) {
  // Outside [-104, 89] exp is 0 or +inf in float; clamping keeps n within what two halves of the power of
  // two can express. The bound comes first so that min/max pass a NaN x through (they return the second
  // operand when either is NaN).
  x = _mm256_min_ps(_mm256_set1_ps(89.0f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-104.0f), x);
  const __m256 n =
      _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x - n ln 2, with ln 2 split in two so n * high is exact (Cephes' C1, C2).
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n as 2^half * 2^rest: n spans [-150, 128], each half stays a normal float, and the last multiply
  // rounds once into the subnormal range or overflows to +inf.
  const __m256i exponent = _mm256_cvtps_epi32(n);
  const __m256i half = _mm256_srai_epi32(exponent, 1);
  return _mm256_mul_ps(_mm256_mul_ps(p, pow2(half)), pow2(_mm256_sub_epi32(exponent, half)));
}

NPUKIT_TARGET_AVX2 inline __m256 sigmoid8(__m256 x) {
  // As scalar_sigmoid: e = exp(-|x|) in (0, 1], numerator 1 or e by the sign of x.
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 exponential = exp8(_mm256_or_ps(x, _mm256_set1_ps(-0.0f)));
  const __m256 numerator = _mm256_blendv_ps(one, exponential, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
  return _mm256_div_ps(numerator, _mm256_add_ps(one, exponential));
}

NPUKIT_TARGET_AVX2 inline __m256 silu8(__m256 x) {
  const __m256 sigmoid = sigmoid8(x);
  // x = -inf would give -inf * 0 = NaN; the limit is 0.
  const __m256 vanished = _mm256_cmp_ps(sigmoid, _mm256_setzero_ps(), _CMP_EQ_OQ);
  return _mm256_andnot_ps(vanished, _mm256_mul_ps(x, sigmoid));
}

NPUKIT_TARGET_AVX2 inline __m256 tanh8(__m256 x) {
  // Cephes tanhf: an odd polynomial below |x| = 0.625, where 1 - 2 / (exp(2|x|) + 1) would cancel, and
  // that formula above it (exp overflowing to +inf gives exactly ±1).
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 exponential = exp8(_mm256_add_ps(magnitude, magnitude));
  const __m256 large =
      _mm256_or_ps(sign, _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(exponential, one))));
  return _mm256_blendv_ps(large, small, _mm256_cmp_ps(magnitude, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

// Applies a vector function to a range: whole vectors, then the tail through a padded local block so
// every element takes the same arithmetic.
template <__m256 (*function)(__m256)>
NPUKIT_TARGET_AVX2 void map8(const float* in, float* out, int64_t count) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) _mm256_storeu_ps(out + i, function(_mm256_loadu_ps(in + i)));
  if (i < count) {
    alignas(32) float block[8] = {};
    const size_t tail = static_cast<size_t>(count - i);
    std::memcpy(block, in + i, tail * sizeof(float));
    _mm256_store_ps(block, function(_mm256_load_ps(block)));
    std::memcpy(out + i, block, tail * sizeof(float));
  }
}

NPUKIT_TARGET_AVX2 void exp_avx2(const float* in, float* out, int64_t count) { map8<exp8>(in, out, count); }
NPUKIT_TARGET_AVX2 void sigmoid_avx2(const float* in, float* out, int64_t count) { map8<sigmoid8>(in, out, count); }
NPUKIT_TARGET_AVX2 void tanh_avx2(const float* in, float* out, int64_t count) { map8<tanh8>(in, out, count); }
NPUKIT_TARGET_AVX2 void silu_avx2(const float* in, float* out, int64_t count) { map8<silu8>(in, out, count); }

NPUKIT_TARGET_AVX2 float maximum_avx2(const float* in, int64_t count) {
  __m256 best = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) best = _mm256_max_ps(best, _mm256_loadu_ps(in + i));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, best);
  float result = lanes[0];
  for (int lane = 1; lane < 8; ++lane) result = std::max(result, lanes[lane]);
  for (; i < count; ++i) result = std::max(result, in[i]);
  return result;
}

NPUKIT_TARGET_AVX2 inline __m256d widen_and_add(__m256d sum, __m128 values) { return _mm256_add_pd(sum, _mm256_cvtps_pd(values)); }

NPUKIT_TARGET_AVX2 double exp_shifted_sum_avx2(const float* in, float shift, float* out, int64_t count) {
  const __m256 offset = _mm256_set1_ps(shift);
  __m256d low = _mm256_setzero_pd(), high = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 value = exp8(_mm256_sub_ps(_mm256_loadu_ps(in + i), offset));
    _mm256_storeu_ps(out + i, value);
    low = widen_and_add(low, _mm256_castps256_ps128(value));
    high = widen_and_add(high, _mm256_extractf128_ps(value, 1));
  }
  if (i < count) {
    // Padding with -inf makes the unused lanes exp(-inf) = 0, so they add nothing.
    alignas(32) float block[8];
    std::fill(block, block + 8, -std::numeric_limits<float>::infinity());
    const size_t tail = static_cast<size_t>(count - i);
    std::memcpy(block, in + i, tail * sizeof(float));
    const __m256 value = exp8(_mm256_sub_ps(_mm256_load_ps(block), offset));
    _mm256_store_ps(block, value);
    std::memcpy(out + i, block, tail * sizeof(float));
    low = widen_and_add(low, _mm256_castps256_ps128(value));
    high = widen_and_add(high, _mm256_extractf128_ps(value, 1));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(low, high));
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

NPUKIT_TARGET_AVX2 void exp_of_difference_avx2(const float* in, const float* shift, float* out, int64_t count) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    _mm256_storeu_ps(out + i, exp8(_mm256_sub_ps(_mm256_loadu_ps(in + i), _mm256_loadu_ps(shift + i))));
  }
  if (i < count) {
    alignas(32) float block[8] = {}, offsets[8] = {};
    const size_t tail = static_cast<size_t>(count - i);
    std::memcpy(block, in + i, tail * sizeof(float));
    std::memcpy(offsets, shift + i, tail * sizeof(float));
    _mm256_store_ps(block, exp8(_mm256_sub_ps(_mm256_load_ps(block), _mm256_load_ps(offsets))));
    std::memcpy(out + i, block, tail * sizeof(float));
  }
}

bool detect_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#else

bool detect_avx2() { return false; }

#endif  // NPUKIT_VECTOR_MATH_X86

const bool avx2_available = detect_avx2();

}  // namespace

bool uses_avx2() { return avx2_available; }

#ifdef NPUKIT_VECTOR_MATH_X86
#define NPUKIT_DISPATCH_AVX2(call) \
  if (avx2_available) return call
#else
#define NPUKIT_DISPATCH_AVX2(call)
#endif

void exp(const float* in, float* out, int64_t count) {
  NPUKIT_DISPATCH_AVX2(exp_avx2(in, out, count));
  for (int64_t i = 0; i < count; ++i) out[i] = std::exp(in[i]);
}

void sigmoid(const float* in, float* out, int64_t count) {
  NPUKIT_DISPATCH_AVX2(sigmoid_avx2(in, out, count));
  for (int64_t i = 0; i < count; ++i) out[i] = scalar_sigmoid(in[i]);
}

void tanh(const float* in, float* out, int64_t count) {
  NPUKIT_DISPATCH_AVX2(tanh_avx2(in, out, count));
  for (int64_t i = 0; i < count; ++i) out[i] = std::tanh(in[i]);
}

void silu(const float* in, float* out, int64_t count) {
  NPUKIT_DISPATCH_AVX2(silu_avx2(in, out, count));
  for (int64_t i = 0; i < count; ++i) out[i] = scalar_silu(in[i]);
}

float maximum(const float* in, int64_t count) {
  NPUKIT_DISPATCH_AVX2(maximum_avx2(in, count));
  float result = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < count; ++i) result = std::max(result, in[i]);
  return result;
}

double exp_shifted_sum(const float* in, float shift, float* out, int64_t count) {
  NPUKIT_DISPATCH_AVX2(exp_shifted_sum_avx2(in, shift, out, count));
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    out[i] = std::exp(in[i] - shift);
    sum += out[i];
  }
  return sum;
}

void exp_of_difference(const float* in, const float* shift, float* out, int64_t count) {
  NPUKIT_DISPATCH_AVX2(exp_of_difference_avx2(in, shift, out, count));
  for (int64_t i = 0; i < count; ++i) out[i] = std::exp(in[i] - shift[i]);
}

void apply_in_parallel(void (*function)(const float*, float*, int64_t), const float* in, float* out, int64_t count) {
  constexpr int64_t block = 4096;
  const int64_t blocks = (count + block - 1) / block;
#pragma omp parallel for schedule(static) if (count > 32768)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * block;
    function(in + begin, out + begin, std::min(block, count - begin));
  }
}

}  // namespace npukit::runtime::cpu::vector_math
