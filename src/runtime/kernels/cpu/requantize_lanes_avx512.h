// The AVX-512 steps of ONNX Runtime's float-scale requantization (requantize_float_scale_one, MlasRequantizeOutput),
// shared by the row requantization (int8_accumulation.cpp) and the pointwise VNNI kernel (pointwise_vnni.cpp),
// which applies them to its accumulator registers before anything is stored.
//
// ORT: int32 add (wrapping), conversion to float (nearest even), multiply, clamp in float to [q_min - z, q_max - z],
// conversion to int32 rounding half to even, + z. Here, sixteen lanes at a time:
//   - round_clamped_lanes_avx512: the same steps up to the rounding (by the instruction's embedded rounding
//     control, not MXCSR's mode); the clamp bounds are integers, so clamping before rounding equals clamping after;
//   - round_scaled_lanes_avx512: the same without the clamp, for scales that cannot overflow the conversion
//     (scales_fit_unclamped: |float(acc + offset) · scale| <= 2^31 · 0.25 < 2^31 for every int32 sum);
//   - narrow_rounded_to_bytes_avx512: four vectors of either → 64 bytes in channel order: packs to int16
//     (saturating), + z with int16 saturation, packs to bytes (saturating), one permute. After round_clamped that
//     changes nothing; after round_scaled it is the clamp: rounding is monotone and the grid's bounds are integers,
//     so clamp(round(x), q_min - z, q_max - z) + z = clamp(round(x) + z, q_min, q_max), and a value that saturates
//     in int16 lies beyond the 8-bit grid on the same side (|z| <= 255).
// Saving the two float clamps and folding + z into the int16 step takes 10 of 33 vector instructions per 64 outputs.
// Compiled for AVX-512 F/BW whatever the project's flags: call only where the CPU has them.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define NPUKIT_TARGET_AVX512_REQUANTIZE __attribute__((target("avx512f,avx512bw")))

namespace npukit::runtime::cpu::int8 {

inline bool scales_fit_unclamped(const float* scales, long count) {
  for (long i = 0; i < count; ++i) {
    if (!(scales[i] <= 0.25f && scales[i] >= -0.25f)) return false;  // NaN too
  }
  return true;
}

NPUKIT_TARGET_AVX512_REQUANTIZE inline __m512i round_clamped_lanes_avx512(__m512i accumulators, __m512i offsets,
                                                                        __m512 scale, __m512 minimum,
                                                                        __m512 maximum) {
  __m512 scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(accumulators, offsets)), scale);
  scaled = _mm512_min_ps(_mm512_max_ps(scaled, minimum), maximum);
  return _mm512_cvt_roundps_epi32(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

NPUKIT_TARGET_AVX512_REQUANTIZE inline __m512i round_scaled_lanes_avx512(__m512i accumulators, __m512i offsets,
                                                                       __m512 scale) {
  const __m512 scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(accumulators, offsets)), scale);
  return _mm512_cvt_roundps_epi32(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

NPUKIT_TARGET_AVX512_REQUANTIZE inline __m512i narrow_rounded_to_bytes_avx512(__m512i first, __m512i second,
                                                                            __m512i third, __m512i fourth,
                                                                            __m512i zero_point_words,
                                                                            bool is_unsigned) {
  // After packs_epi32 then packus / packs_epi16, 128-bit lane l holds dwords l of the four source vectors.
  const __m512i in_order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i low = _mm512_adds_epi16(_mm512_packs_epi32(first, second), zero_point_words);
  const __m512i high = _mm512_adds_epi16(_mm512_packs_epi32(third, fourth), zero_point_words);
  const __m512i bytes = is_unsigned ? _mm512_packus_epi16(low, high) : _mm512_packs_epi16(low, high);
  return _mm512_permutexvar_epi32(in_order, bytes);
}

}  // namespace npukit::runtime::cpu::int8

#endif
