#include "sim/vector_quantize.h"

#include <cmath>

#include "quantization/quantize.h"
#include "runtime/kernels/cpu/vector_math.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NPUKIT_SIM_QUANTIZE_X86 1
#endif

namespace npukit::sim {

namespace {

using runtime::integer::QuantizeParameters;

void store(void* out, int64_t index, int64_t value, DType dtype) {
  if (dtype == DType::u8) {
    static_cast<uint8_t*>(out)[index] = static_cast<uint8_t>(value);
  } else {
    static_cast<int8_t*>(out)[index] = static_cast<int8_t>(value);
  }
}

void quantize_elements(const float* values, int64_t begin, int64_t end, const QuantizeParameters& p, void* out) {
  const quantization::Grid grid{p.minimum, p.maximum};
  for (int64_t i = begin; i < end; ++i) {
    store(out, i, quantization::quantize_value(values[i], p.scale, p.zero_point, grid, p.rounding, p.clamp_order), p.dtype);
  }
}

#ifdef NPUKIT_SIM_QUANTIZE_X86
// Four doubles (floats widened) rounded to integers by `rounding`, as round_with does for them.
template <ir::RoundingMode kRounding>
NPUKIT_TARGET_AVX2 inline __m256d round_lanes(__m256d value) {
  const __m256d one = _mm256_set1_pd(1.0), half = _mm256_set1_pd(0.5);
  if constexpr (kRounding == ir::RoundingMode::half_to_even) {
    return _mm256_round_pd(value, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  } else if constexpr (kRounding == ir::RoundingMode::half_away_from_zero) {
    const __m256d truncated = _mm256_round_pd(value, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256d sign_mask = _mm256_set1_pd(-0.0);
    const __m256d fraction = _mm256_andnot_pd(sign_mask, _mm256_sub_pd(value, truncated));  // |d - t|
    const __m256d step = _mm256_or_pd(one, _mm256_and_pd(sign_mask, value));             // ±1, d's sign
    return _mm256_add_pd(truncated, _mm256_and_pd(step, _mm256_cmp_pd(fraction, half, _CMP_GE_OQ)));
  } else {
    const __m256d floored = _mm256_round_pd(value, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m256d fraction = _mm256_sub_pd(value, floored);
    return _mm256_add_pd(floored, _mm256_and_pd(one, _mm256_cmp_pd(fraction, half, _CMP_GE_OQ)));
  }
}

template <ir::RoundingMode kRounding>
NPUKIT_TARGET_AVX2 void quantize_avx2(const float* values, int64_t count, const QuantizeParameters& p, void* out) {
  const __m256 scale = _mm256_set1_ps(p.scale);
  const __m256 limit = _mm256_set1_ps(1073741824.0f);  // 2^30
  const __m256 magnitude_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256d zero_point = _mm256_set1_pd(static_cast<double>(p.zero_point));
  const __m256d minimum = _mm256_set1_pd(static_cast<double>(p.minimum)), maximum = _mm256_set1_pd(static_cast<double>(p.maximum));
  alignas(32) int32_t lanes[8];
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 scaled = _mm256_div_ps(_mm256_loadu_ps(values + i), scale);
    // NaN, ±inf and quotients of 2^30 or more: the element-by-element path (false for NaN: ordered compare).
    if (_mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(scaled, magnitude_mask), limit, _CMP_LT_OQ)) != 0xff) {
      quantize_elements(values, i, i + 8, p, out);
      continue;
    }
    __m256d low = _mm256_cvtps_pd(_mm256_castps256_ps128(scaled));
    __m256d high = _mm256_cvtps_pd(_mm256_extractf128_ps(scaled, 1));
    low = _mm256_min_pd(_mm256_max_pd(_mm256_add_pd(round_lanes<kRounding>(low), zero_point), minimum), maximum);
    high = _mm256_min_pd(_mm256_max_pd(_mm256_add_pd(round_lanes<kRounding>(high), zero_point), minimum), maximum);
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes), _mm256_cvttpd_epi32(low));
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes + 4), _mm256_cvttpd_epi32(high));
    for (int lane = 0; lane < 8; ++lane) store(out, i + lane, lanes[lane], p.dtype);
  }
  quantize_elements(values, i, count, p, out);
}
#endif

}  // namespace

void quantize_to_bytes(const float* values, int64_t count, const QuantizeParameters& p, void* out, bool allow_avx2) {
#ifdef NPUKIT_SIM_QUANTIZE_X86
  if (allow_avx2 && p.clamp_order == ir::ClampOrder::round_then_clamp && runtime::cpu::vector_math::uses_avx2()) {
    switch (p.rounding) {
      case ir::RoundingMode::half_to_even: return quantize_avx2<ir::RoundingMode::half_to_even>(values, count, p, out);
      case ir::RoundingMode::half_away_from_zero: return quantize_avx2<ir::RoundingMode::half_away_from_zero>(values, count, p, out);
      case ir::RoundingMode::half_up: return quantize_avx2<ir::RoundingMode::half_up>(values, count, p, out);
    }
  }
#endif
  (void)allow_avx2;
  quantize_elements(values, 0, count, p, out);
}

}  // namespace npukit::sim
