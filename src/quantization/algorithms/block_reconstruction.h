// `quantize --algorithm block-reconstruction`: BRECQ-like reconstruction (Li et al. 2021), the "distillation from
// the original model": the rounding of two chained layers learned together so that the second one's output, as
// the target computes it, matches the float model's (block_reconstruction.cpp says which chains and how).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "quantization/algorithms/adaround.h"
#include "quantization/algorithms/learned_rounding.h"
#include "quantization/quantization_algorithm.h"

namespace npukit::quantization {

QuantizationAlgorithm block_reconstruction_algorithm();

// Calibration rows of a block first → second: per sampled output position of `second`, the patch of `first`'s input
// at each of `second`'s kernel taps (taps × first's row width, q_x - z_x), whether the tap lies inside first's output
// (`inside`, one per tap: outside is padding, which contributes 0), and the float model's output of `second` there.
struct BlockRows {
  std::vector<int16_t> inputs;
  std::vector<uint8_t> inside;
  std::vector<float> targets;
  size_t rows = 0;
};

// Whether `second` reads `first`'s output point directly and alone, with a kernel the block code handles (second: a
// Conv of group 1 or a matrix product on a 2-D input; first: any LinearLayer). Empty when it does; the reason
// otherwise.
std::string block_refusal(const LinearLayer& first, const LinearLayer& second, const ir::Graph& graph);

struct LearnedBlock {
  LearnedRounding first, second;  // the integers of each; nearest_db / learned_db are the block's output SQNR
};

// Learns both layers' rounding together on `rows` (four fifths; the fifth held out judges it, as for
// learn_layer_rounding). Never worse than nearest on the held-out rows.
LearnedBlock learn_block_rounding(const LinearLayer& first, const LinearLayer& second, const BlockRows& rows,
                                  const RoundingLearningSettings& settings,
                                  std::chrono::steady_clock::time_point deadline);

}  // namespace npukit::quantization
