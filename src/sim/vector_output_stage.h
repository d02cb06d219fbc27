// The output stage of the integer kernels (runtime/kernels/integer/output_stage.h: requantize, + zero point,
// clamp, store) over whole rows of int32 values at once, for the sim backend's fast kernels.
//
// Every requantization variant of quantization/fixed_point.h is computed again here, eight lanes at a time
// with AVX2 (sixteen with AVX-512 for double rounding, power of two and float scale), and must give the same bits as OutputStage::finish (the oracle) for every int32 input:
//   * fixed_point_double_rounding: saturating left shift, SaturatingRoundingDoublingHighMul as
//     floor((a·b + 2^30) / 2^31) (the same value as gemmlowp's nudge and truncating division, derived in the
//     .cpp), then RoundingDivideByPOT on 32-bit lanes;
//   * fixed_point_single_rounding / _upward / _to_nearest: the exact 64-bit product, one rounding shift,
//     saturated to int32;
//   * power_of_two: the saturating left shift or RoundingDivideByPOT;
//   * float_scale: float(x) · scale, clamped in float (the bounds are integers, so clamping before rounding
//     equals clamping after), rounded half to even.
// Then the clamp to [minimum - zero_point, maximum - zero_point] BEFORE adding the zero point, which equals
// the oracle's int64 add-then-clamp and cannot overflow int32. Machines without AVX2 run the oracle itself.
// tests/sim_fast_kernels_test.cpp checks both paths against OutputStage::finish on extremes and random data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/kernels/integer/output_stage.h"

namespace npukit::sim {

class VectorOutputStage {
 public:
  // automatic: avx512 for the variants it has (double rounding, power of two, float scale; not rescale_rows)
  // where the machine has AVX-512 F, else avx2, else portable. avx512 on another variant runs avx2.
  enum class Path { automatic, portable, avx2, avx512 };

  // Empty when VectorOutputStage can compute `stage`: an 8-bit output and multipliers whose encoding the
  // vector code covers (every fixed-point encoding; a float scale below 2^30; power-of-two exponents in
  // -31..31). Otherwise why not (the caller then runs the integer kernel).
  static std::optional<std::string> unsupported_reason(const runtime::integer::OutputStage& stage);

  // `channels`: how many consecutive values have their own multiplier (the row length of finish_rows); a
  // per-tensor stage repeats its one multiplier.
  VectorOutputStage(const runtime::integer::OutputStage& stage, int64_t channels);
  // The requantizer alone (IntegerAdd's rescaling of each input): rescale_rows, not finish_rows.
  VectorOutputStage(const runtime::integer::Requantizer& requantizer, int64_t channels);
  static std::optional<std::string> unsupported_rescaling_reason(const runtime::integer::Requantizer& requantizer);

  // out[r · channels + c] = stage.finish(values[r · channels + c] + column_offsets[c], c), stored as the stage's
  // dtype; the offsets (a convolution's folded zero-point terms, zero_point_folding.h) are added in wrapping
  // int32, as a separate pass would add them, and may be null.
  void finish_rows(const int32_t* values, int64_t rows, void* out, Path path = Path::automatic,
                   const int32_t* column_offsets = nullptr) const;
  // out[r · channels + c] = requantizer.apply(values[r · channels + c], c) (the rescaling constructor).
  void rescale_rows(const int32_t* values, int64_t rows, int32_t* out, Path path = Path::automatic) const;

  int64_t channels() const { return channels_; }
  DType dtype() const { return stage_.dtype; }
  const runtime::integer::OutputStage& stage() const { return stage_; }

  // True when this machine runs the AVX2 / AVX-512 path.
  static bool avx2_available();
  static bool avx512_available();

 private:
  static runtime::integer::OutputStage stage_for_rescaling(const runtime::integer::Requantizer& requantizer);
  template <bool kRescaleOnly>
  void run_rows(const int32_t* values, int64_t rows, void* out, Path path, const int32_t* offsets) const;

  runtime::integer::OutputStage stage_;
  int64_t channels_ = 1;
  bool rescale_only_ = false;
  std::vector<int32_t> multipliers_;   // fixed point
  std::vector<int32_t> left_shifts_;   // fixed point (double rounding) and power of two
  bool any_left_shift_ = true;         // some left_shifts_ entry is not 0
  std::vector<int32_t> right_shifts_;  // idem; single rounding: 31 - shift
  std::vector<float> scales_;          // float scale
};

}  // namespace npukit::sim
