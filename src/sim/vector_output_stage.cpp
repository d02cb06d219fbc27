#include "sim/vector_output_stage.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "npukit/error.h"
#include "runtime/kernels/cpu/vector_math.h"
#include "sim/zero_point_folding.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NPUKIT_SIM_X86 1
#endif

namespace npukit::sim {

using targets::Requantization;

namespace {

bool is_eight_bit(DType dtype) { return dtype == DType::i8 || dtype == DType::u8; }

int32_t plus_offset(int32_t value, const int32_t* offsets, int64_t c) { return offsets ? wrapping_add(value, offsets[c]) : value; }

void store_portable(const runtime::integer::OutputStage& stage, const int32_t* values, int64_t rows, int64_t channels,
                    const int32_t* offsets, void* out) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t i = r * channels + c;
      const int32_t value = stage.finish(plus_offset(values[i], offsets, c), static_cast<size_t>(c));
      if (stage.dtype == DType::u8) {
        static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(value);
      } else {
        static_cast<int8_t*>(out)[i] = static_cast<int8_t>(value);
      }
    }
  }
}

#ifdef NPUKIT_SIM_X86

// x · 2^shift saturated to int32, shift 0..31 per lane (the oracle multiplies in int64 and saturates).
NPUKIT_TARGET_AVX2 inline __m256i saturating_left_shift(__m256i x, __m256i shift) {
  const __m256i maximum = _mm256_set1_epi32(INT32_MAX), minimum = _mm256_set1_epi32(INT32_MIN);
  const __m256i above = _mm256_cmpgt_epi32(x, _mm256_srav_epi32(maximum, shift));
  const __m256i below = _mm256_cmpgt_epi32(_mm256_srav_epi32(minimum, shift), x);
  const __m256i shifted = _mm256_sllv_epi32(x, shift);
  return _mm256_blendv_epi8(_mm256_blendv_epi8(shifted, maximum, above), minimum, below);
}

// gemmlowp SaturatingRoundingDoublingHighMul for b >= 0 (every encoded multiplier is): the oracle computes
// trunc((ab + nudge) / 2^31) with nudge = 2^30 for ab >= 0 and 1 - 2^30 for ab < 0. For ab < 0 the sum is
// negative, and trunc(v / 2^31) = floor((v + 2^31 - 1) / 2^31) = floor((ab + 2^30) / 2^31): both signs are
// floor((ab + 2^30) / 2^31), whose low 32 bits are bits 31..62 of ab + 2^30 (the value fits int32 unless
// a = b = INT32_MIN, excluded by b >= 0).
NPUKIT_TARGET_AVX2 inline __m256i rounding_doubling_high_multiply(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge);
  // Even lanes: bits 31..62 down to 0..31. Odd lanes: bits 31..62 up to 32..63.
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0b10101010);
}

// gemmlowp RoundingDivideByPOT, exponent 0..31 per lane, as the oracle writes it.
NPUKIT_TARGET_AVX2 inline __m256i rounding_divide_by_power_of_two(__m256i x, __m256i exponent) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, exponent), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  // (mask >> 1) + (x < 0): srai(x, 31) is -1 for negative x.
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(x, 31));
  const __m256i round_up = _mm256_cmpgt_epi32(remainder, threshold);  // -1 where the oracle adds 1
  return _mm256_sub_epi32(_mm256_srav_epi32(x, exponent), round_up);
}

// One rounding of a 64-bit exact product by `shift` bits (1..62 per 64-bit lane), saturated to int32 and
// left in the low half of each 64-bit lane. Ties toward +infinity (floor of v + half) or away from zero.
template <bool kAwayFromZero>
NPUKIT_TARGET_AVX2 inline __m256i round_shift_saturate(__m256i exact, __m256i shift) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i half = _mm256_sllv_epi64(_mm256_set1_epi64x(1), _mm256_sub_epi64(shift, _mm256_set1_epi64x(1)));
  __m256i result;
  if constexpr (kAwayFromZero) {
    const __m256i negative = _mm256_cmpgt_epi64(zero, exact);
    const __m256i magnitude = _mm256_sub_epi64(_mm256_xor_si256(exact, negative), negative);
    const __m256i rounded = _mm256_srlv_epi64(_mm256_add_epi64(magnitude, half), shift);
    result = _mm256_sub_epi64(_mm256_xor_si256(rounded, negative), negative);
  } else {
    // An arithmetic shift from the logical one: flip negative values, shift, flip back.
    const __m256i value = _mm256_add_epi64(exact, half);
    const __m256i negative = _mm256_cmpgt_epi64(zero, value);
    result = _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(value, negative), shift), negative);
  }
  const __m256i maximum = _mm256_set1_epi64x(INT32_MAX), minimum = _mm256_set1_epi64x(INT32_MIN);
  result = _mm256_blendv_epi8(result, maximum, _mm256_cmpgt_epi64(result, maximum));
  return _mm256_blendv_epi8(result, minimum, _mm256_cmpgt_epi64(minimum, result));
}

template <bool kAwayFromZero>
NPUKIT_TARGET_AVX2 inline __m256i single_rounding(__m256i x, __m256i multiplier, __m256i shift) {
  const __m256i low_halves = _mm256_set1_epi64x(0xFFFFFFFFLL);
  const __m256i even = round_shift_saturate<kAwayFromZero>(_mm256_mul_epi32(x, multiplier), _mm256_and_si256(shift, low_halves));
  const __m256i odd = round_shift_saturate<kAwayFromZero>(
      _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(multiplier, 32)), _mm256_srli_epi64(shift, 32));
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0b10101010);
}

// Eight int32 values already inside the 8-bit grid, stored as 8 bytes.
NPUKIT_TARGET_AVX2 inline void store_eight(__m256i values, bool is_unsigned, void* out) {
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(values), _mm256_extracti128_si256(values, 1));
  const __m128i bytes = is_unsigned ? _mm_packus_epi16(words, words) : _mm_packs_epi16(words, words);
  _mm_storel_epi64(static_cast<__m128i*>(out), bytes);
}

// kRescaleOnly: the requantizer alone (Add's input rescaling): int32 results saturated as Requantizer::apply
// saturates them, no zero point or grid clamp, stored as int32.
template <Requantization kVariant, bool kRescaleOnly>
NPUKIT_TARGET_AVX2 void finish_rows_avx2(const runtime::integer::OutputStage& stage, const int32_t* values,
                                         int64_t rows, int64_t channels, const int32_t* multipliers,
                                         const int32_t* left_shifts, const int32_t* right_shifts, const float* scales,
                                         const int32_t* offsets, void* out) {
  const bool is_unsigned = stage.dtype == DType::u8;
  const __m256i zero_point = _mm256_set1_epi32(stage.zero_point);
  const __m256i low = _mm256_set1_epi32(stage.minimum - stage.zero_point);
  const __m256i high = _mm256_set1_epi32(stage.maximum - stage.zero_point);
  const __m256 low_float = _mm256_set1_ps(static_cast<float>(stage.minimum - stage.zero_point));
  const __m256 high_float = _mm256_set1_ps(static_cast<float>(stage.maximum - stage.zero_point));
  auto* bytes = static_cast<uint8_t*>(out);
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* row = values + r * channels;
    uint8_t* destination = bytes + r * channels;
    int64_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + c));
      if (offsets) x = _mm256_add_epi32(x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets + c)));
      __m256i y;
      if constexpr (kVariant == Requantization::float_scale && kRescaleOnly) {
        // The oracle rounds in int64 and saturates to int32: clamp in float to [-2^31, 2^31], round, and
        // give INT32_MAX where the rounded value is 2^31 (cvttps would give INT32_MIN there).
        __m256 scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(x), _mm256_loadu_ps(scales + c));
        const __m256 limit = _mm256_set1_ps(2147483648.0f);
        scaled = _mm256_min_ps(_mm256_max_ps(scaled, _mm256_set1_ps(-2147483648.0f)), limit);
        const __m256 rounded = _mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m256i too_large = _mm256_castps_si256(_mm256_cmp_ps(rounded, limit, _CMP_GE_OQ));
        y = _mm256_blendv_epi8(_mm256_cvttps_epi32(rounded), _mm256_set1_epi32(INT32_MAX), too_large);
      } else if constexpr (kVariant == Requantization::float_scale) {
        __m256 scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(x), _mm256_loadu_ps(scales + c));
        scaled = _mm256_min_ps(_mm256_max_ps(scaled, low_float), high_float);
        y = _mm256_cvttps_epi32(_mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      } else {
        const __m256i left = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(left_shifts + c));
        const __m256i right = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(right_shifts + c));
        if constexpr (kVariant == Requantization::fixed_point_double_rounding) {
          const __m256i multiplier = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(multipliers + c));
          y = rounding_divide_by_power_of_two(rounding_doubling_high_multiply(saturating_left_shift(x, left), multiplier), right);
        } else if constexpr (kVariant == Requantization::power_of_two) {
          y = rounding_divide_by_power_of_two(saturating_left_shift(x, left), right);
        } else {
          const __m256i multiplier = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(multipliers + c));
          y = single_rounding<kVariant == Requantization::fixed_point_to_nearest>(x, multiplier, right);
        }
        if constexpr (!kRescaleOnly) y = _mm256_min_epi32(_mm256_max_epi32(y, low), high);
      }
      if constexpr (kRescaleOnly) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(static_cast<int32_t*>(out) + r * channels + c), y);
      } else {
        store_eight(_mm256_add_epi32(y, zero_point), is_unsigned, destination + c);
      }
    }
    // The tail: the oracle, channel numbers continued.
    for (; c < channels; ++c) {
      if constexpr (kRescaleOnly) {
        static_cast<int32_t*>(out)[r * channels + c] = stage.requantizer.apply(row[c], static_cast<size_t>(c));
      } else {
        const int32_t value = stage.finish(plus_offset(row[c], offsets, c), static_cast<size_t>(c));
        destination[c] = is_unsigned ? static_cast<uint8_t>(value) : static_cast<uint8_t>(static_cast<int8_t>(value));
      }
    }
  }
}

// The same arithmetic sixteen lanes at a time with AVX-512 (F), for the output stage of the variants the
// benchmark targets use (double rounding, power of two, float scale); the row's last channels through masked
// loads and stores. Every step is the AVX2 step's, with masks for the compares.
#define NPUKIT_TARGET_AVX512 __attribute__((target("avx512f")))

NPUKIT_TARGET_AVX512 inline __m512i saturating_left_shift_512(__m512i x, __m512i shift) {
  const __m512i maximum = _mm512_set1_epi32(INT32_MAX), minimum = _mm512_set1_epi32(INT32_MIN);
  const __mmask16 above = _mm512_cmpgt_epi32_mask(x, _mm512_srav_epi32(maximum, shift));
  const __mmask16 below = _mm512_cmpgt_epi32_mask(_mm512_srav_epi32(minimum, shift), x);
  const __m512i shifted = _mm512_sllv_epi32(x, shift);
  return _mm512_mask_blend_epi32(below, _mm512_mask_blend_epi32(above, shifted, maximum), minimum);
}

NPUKIT_TARGET_AVX512 inline __m512i rounding_doubling_high_multiply_512(__m512i a, __m512i b) {
  const __m512i nudge = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(a, b), nudge);
  const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32)), nudge);
  return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
}

NPUKIT_TARGET_AVX512 inline __m512i rounding_divide_by_power_of_two_512(__m512i x, __m512i exponent) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, exponent), one);
  const __m512i remainder = _mm512_and_si512(x, mask);
  const __m512i threshold = _mm512_sub_epi32(_mm512_srli_epi32(mask, 1), _mm512_srai_epi32(x, 31));
  const __mmask16 round_up = _mm512_cmpgt_epi32_mask(remainder, threshold);
  const __m512i shifted = _mm512_srav_epi32(x, exponent);
  return _mm512_mask_add_epi32(shifted, round_up, shifted, one);
}

// kLeftShift false: every channel's left shift is 0 (multipliers below 1, the usual case), and the saturating
// left shift, x · 2^0 = x, is left out.
template <Requantization kVariant, bool kLeftShift>
NPUKIT_TARGET_AVX512 void finish_rows_avx512(const runtime::integer::OutputStage& stage, const int32_t* values,
                                             int64_t rows, int64_t channels, const int32_t* multipliers,
                                             const int32_t* left_shifts, const int32_t* right_shifts, const float* scales,
                                             const int32_t* offsets, void* out) {
  const __m512i zero_point = _mm512_set1_epi32(stage.zero_point);
  const __m512i low = _mm512_set1_epi32(stage.minimum - stage.zero_point);
  const __m512i high = _mm512_set1_epi32(stage.maximum - stage.zero_point);
  const __m512 low_float = _mm512_set1_ps(static_cast<float>(stage.minimum - stage.zero_point));
  const __m512 high_float = _mm512_set1_ps(static_cast<float>(stage.maximum - stage.zero_point));
  auto* bytes = static_cast<uint8_t*>(out);
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* row = values + r * channels;
    uint8_t* destination = bytes + r * channels;
    for (int64_t c = 0; c < channels; c += 16) {
      const __mmask16 lanes = channels - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (channels - c)) - 1);
      __m512i x = _mm512_maskz_loadu_epi32(lanes, row + c);
      if (offsets) x = _mm512_add_epi32(x, _mm512_maskz_loadu_epi32(lanes, offsets + c));
      __m512i y;
      if constexpr (kVariant == Requantization::float_scale) {
        __m512 scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(x), _mm512_maskz_loadu_ps(lanes, scales + c));
        scaled = _mm512_min_ps(_mm512_max_ps(scaled, low_float), high_float);
        y = _mm512_cvttps_epi32(_mm512_roundscale_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      } else {
        const __m512i right = _mm512_maskz_loadu_epi32(lanes, right_shifts + c);
        if constexpr (kLeftShift) x = saturating_left_shift_512(x, _mm512_maskz_loadu_epi32(lanes, left_shifts + c));
        if constexpr (kVariant == Requantization::fixed_point_double_rounding) {
          const __m512i multiplier = _mm512_maskz_loadu_epi32(lanes, multipliers + c);
          y = rounding_divide_by_power_of_two_512(rounding_doubling_high_multiply_512(x, multiplier), right);
        } else {
          y = rounding_divide_by_power_of_two_512(x, right);
        }
        y = _mm512_min_epi32(_mm512_max_epi32(y, low), high);
      }
      // In the grid after the zero point: the low byte is the u8 or s8 value.
      _mm512_mask_cvtepi32_storeu_epi8(destination + c, lanes, _mm512_add_epi32(y, zero_point));
    }
  }
}

#endif  // NPUKIT_SIM_X86

}  // namespace

bool VectorOutputStage::avx512_available() {
#ifdef NPUKIT_SIM_X86
  static const bool available = __builtin_cpu_supports("avx512f");
  return available;
#else
  return false;
#endif
}

bool VectorOutputStage::avx2_available() {
#ifdef NPUKIT_SIM_X86
  return runtime::cpu::vector_math::uses_avx2();
#else
  return false;
#endif
}

std::optional<std::string> VectorOutputStage::unsupported_reason(const runtime::integer::OutputStage& stage) {
  if (!is_eight_bit(stage.dtype)) return "the output is not an 8-bit grid";
  const runtime::integer::Requantizer& requantizer = stage.requantizer;
  if (requantizer.channels() == 0) return "no multiplier";
  for (size_t c = 0; c < requantizer.channels(); ++c) {
    switch (requantizer.variant()) {
      case Requantization::float_scale: {
        const float scale = requantizer.float_scale(c);
        // Below 2^30, float(x) · scale stays far inside int64 (the oracle's cast) and finite.
        if (!(scale >= 0) || !(scale < 1073741824.0f)) return "a float scale of 2^30 or more";
        break;
      }
      case Requantization::power_of_two:
        if (requantizer.exponent(c) < -31 || requantizer.exponent(c) > 31) return "a power-of-two exponent outside -31..31";
        break;
      default: {
        const quantization::QuantizedMultiplier m = requantizer.fixed_point(c);
        if (m.multiplier < 0 || m.shift < -31 || m.shift > 30) return "a fixed-point multiplier outside its encoding";
        break;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> VectorOutputStage::unsupported_rescaling_reason(const runtime::integer::Requantizer& requantizer) {
  runtime::integer::OutputStage stage;
  stage.requantizer = requantizer;
  stage.dtype = DType::i8;
  return unsupported_reason(stage);
}

VectorOutputStage::VectorOutputStage(const runtime::integer::Requantizer& requantizer, int64_t channels)
    : VectorOutputStage(stage_for_rescaling(requantizer), channels) {
  rescale_only_ = true;
}

runtime::integer::OutputStage VectorOutputStage::stage_for_rescaling(const runtime::integer::Requantizer& requantizer) {
  runtime::integer::OutputStage stage;
  stage.requantizer = requantizer;
  stage.dtype = DType::i8;  // unused: rescale_rows writes int32
  return stage;
}

VectorOutputStage::VectorOutputStage(const runtime::integer::OutputStage& stage, int64_t channels)
    : stage_(stage), channels_(channels) {
  if (std::optional<std::string> reason = unsupported_reason(stage)) throw Error(ErrorKind::internal, *reason);
  const auto count = static_cast<size_t>(channels);
  multipliers_.assign(count, 0);
  left_shifts_.assign(count, 0);
  right_shifts_.assign(count, 0);
  scales_.assign(count, 0.0f);
  const runtime::integer::Requantizer& requantizer = stage.requantizer;
  for (size_t c = 0; c < count; ++c) {
    switch (requantizer.variant()) {
      case Requantization::float_scale:
        scales_[c] = requantizer.float_scale(c);
        break;
      case Requantization::power_of_two:
        left_shifts_[c] = std::max(requantizer.exponent(c), 0);
        right_shifts_[c] = std::max(-requantizer.exponent(c), 0);
        break;
      case Requantization::fixed_point_double_rounding: {
        const quantization::QuantizedMultiplier m = requantizer.fixed_point(c);
        multipliers_[c] = m.multiplier;
        left_shifts_[c] = std::max(m.shift, 0);
        right_shifts_[c] = std::max(-m.shift, 0);
        break;
      }
      default: {
        const quantization::QuantizedMultiplier m = requantizer.fixed_point(c);
        multipliers_[c] = m.multiplier;
        right_shifts_[c] = 31 - m.shift;  // 1..62
        break;
      }
    }
  }
  any_left_shift_ = std::any_of(left_shifts_.begin(), left_shifts_.end(), [](int32_t shift) { return shift != 0; });
}

void VectorOutputStage::finish_rows(const int32_t* values, int64_t rows, void* out, Path path,
                                    const int32_t* column_offsets) const {
  if (rescale_only_) throw Error(ErrorKind::internal, "a rescaling stage writes int32: rescale_rows");
  run_rows<false>(values, rows, out, path, column_offsets);
}

void VectorOutputStage::rescale_rows(const int32_t* values, int64_t rows, int32_t* out, Path path) const {
  if (!rescale_only_) throw Error(ErrorKind::internal, "an output stage writes its grid: finish_rows");
  run_rows<true>(values, rows, out, path, nullptr);
}

template <bool kRescaleOnly>
void VectorOutputStage::run_rows(const int32_t* values, int64_t rows, void* out, Path path, const int32_t* offsets) const {
  const Requantization variant = stage_.requantizer.variant();
  const bool avx512_variant = !kRescaleOnly && (variant == Requantization::fixed_point_double_rounding ||
                                                variant == Requantization::power_of_two ||
                                                variant == Requantization::float_scale);
  if (path == Path::automatic) {
    path = avx512_variant && avx512_available() ? Path::avx512 : (avx2_available() ? Path::avx2 : Path::portable);
  }
#ifdef NPUKIT_SIM_X86
  if (path == Path::avx512) {
    if (!avx512_available()) throw Error(ErrorKind::unsupported, "this machine has no AVX-512");
    const int32_t *m = multipliers_.data(), *l = left_shifts_.data(), *r = right_shifts_.data();
    const float* s = scales_.data();
    if constexpr (!kRescaleOnly) {
      switch (variant) {
        case Requantization::float_scale:
          return finish_rows_avx512<Requantization::float_scale, false>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
        case Requantization::power_of_two:
          if (!any_left_shift_) {
            return finish_rows_avx512<Requantization::power_of_two, false>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
          }
          return finish_rows_avx512<Requantization::power_of_two, true>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
        case Requantization::fixed_point_double_rounding:
          if (!any_left_shift_) {
            return finish_rows_avx512<Requantization::fixed_point_double_rounding, false>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
          }
          return finish_rows_avx512<Requantization::fixed_point_double_rounding, true>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
        default:
          break;
      }
    }
    path = Path::avx2;  // the other variants (and rescaling) have the AVX2 code only
  }
  if (path == Path::avx2) {
    if (!avx2_available()) throw Error(ErrorKind::unsupported, "this machine has no AVX2");
    const int32_t *m = multipliers_.data(), *l = left_shifts_.data(), *r = right_shifts_.data();
    const float* s = scales_.data();
    switch (stage_.requantizer.variant()) {
      case Requantization::float_scale:
        return finish_rows_avx2<Requantization::float_scale, kRescaleOnly>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
      case Requantization::power_of_two:
        return finish_rows_avx2<Requantization::power_of_two, kRescaleOnly>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
      case Requantization::fixed_point_double_rounding:
        return finish_rows_avx2<Requantization::fixed_point_double_rounding, kRescaleOnly>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
      case Requantization::fixed_point_single_rounding:
        return finish_rows_avx2<Requantization::fixed_point_single_rounding, kRescaleOnly>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
      case Requantization::fixed_point_upward:
        return finish_rows_avx2<Requantization::fixed_point_upward, kRescaleOnly>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
      case Requantization::fixed_point_to_nearest:
        return finish_rows_avx2<Requantization::fixed_point_to_nearest, kRescaleOnly>(stage_, values, rows, channels_, m, l, r, s, offsets, out);
    }
  }
#else
  if (path == Path::avx2 || path == Path::avx512) throw Error(ErrorKind::unsupported, "this machine has no AVX2");
#endif
  if constexpr (kRescaleOnly) {
    auto* result = static_cast<int32_t*>(out);
    for (int64_t i = 0; i < rows * channels_; ++i) result[i] = stage_.requantizer.apply(values[i], static_cast<size_t>(i % channels_));
  } else {
    store_portable(stage_, values, rows, channels_, offsets, out);
  }
}

}  // namespace npukit::sim
