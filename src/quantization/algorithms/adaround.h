// `quantize --algorithm adaround`: the rounding of every Conv / Gemm / MatMul weight learned on calibration data
// through the target's integer arithmetic (adaround.cpp says how).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "quantization/algorithms/learned_rounding.h"
#include "quantization/quantization_algorithm.h"

namespace npukit::quantization {

QuantizationAlgorithm adaround_algorithm();

// What learning one layer's rounding gave.
struct LearnedRounding {
  std::vector<int32_t> integers;  // q_w per weight, output-major (LinearLayer order)
  double nearest_db = 0;          // the layer's output SQNR on the held-out rows with nearest rounding
  double learned_db = 0;          // with the learned rounding (even when nearest was kept)
  size_t judged_rows = 0;         // rows held out to judge it (every fifth; all rows when fewer than 20)
  int iterations = 0;             // Adam steps taken (fewer than asked when the deadline came first)
  size_t changed = 0;             // weights whose integer differs from nearest's
  size_t undecided = 0;           // weights whose h(V) was still strictly between 0 and 1 at the end (SoftRounding)
  bool kept_nearest = false;      // the learned rounding was worse on the rows: nearest kept
};

// AdaRound on one layer's rows (learned_rounding.h), stopping at `deadline`: learns on four fifths of the rows and
// judges on the fifth held out. The result is never worse than nearest rounding on the held-out rows: when the
// learned rounding is, nearest is kept and said so.
LearnedRounding learn_layer_rounding(const LinearLayer& layer, const LayerRows& rows,
                                     const RoundingLearningSettings& settings,
                                     std::chrono::steady_clock::time_point deadline);

}  // namespace npukit::quantization
