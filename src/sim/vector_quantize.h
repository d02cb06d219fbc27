// IntegerQuantize (a float graph input onto the target's grid, runtime/kernels/integer/requantize.h) over a
// whole tensor, for the sim backend: the plain kernel's quantization::quantize_value, eight lanes at a time.
//
// quantize_value divides in float (x / scale), rounds that float by the target's rule in double
// (round_with: the floor, the fraction, the tie rule), adds the zero point in double and clamps. The AVX2
// path does the same float division (one correctly rounded result, so the same bits), widens to double
// (exact) and rounds with one instruction per rule, which equals round_with because the value is a float:
//   * half_to_even: round to nearest even (vroundpd), the IEEE rule itself;
//   * half_away_from_zero: t = trunc(d), then t ± 1 when |d - t| >= 0.5 (d - t is exact: Sterbenz);
//   * half_up: f = floor(d), then f + 1 when d - f >= 0.5 (exact for the same reason), round_with's own steps;
// then + zero point and the clamp in double, all exact for |x / scale| < 2^30. A block of eight that holds a
// NaN, an infinity or a larger quotient, the tail of the tensor, clamp_then_round and machines without AVX2
// run quantize_value itself, element by element.
// tests/sim_fast_kernels_test.cpp checks both paths against runtime::integer::quantize on ties, extremes and
// random data.
#pragma once

#include <cstdint>

#include "runtime/kernels/integer/requantize.h"

namespace npukit::sim {

// out[i] = the plain kernel's quantize of values[i], stored as parameters.dtype (u8 or s8 only).
// `allow_avx2`: false forces the element-by-element path (for tests).
void quantize_to_bytes(const float* values, int64_t count, const runtime::integer::QuantizeParameters& parameters,
                       void* out, bool allow_avx2 = true);

}  // namespace npukit::sim
