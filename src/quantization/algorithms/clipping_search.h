// `quantize --algorithm clip-search`: per layer, the clip range that gives the least error of the layer's OUTPUT
// on calibration data, for activations and for weights (as Hailo's activation_clipping / weights_clipping and
// PPQ's / Sony MCT's MSE observers do, measured at the layer output rather than on the tensor alone).
//
//   activations: each scale group's calibrated range [lo, hi] is tried at r · [lo, hi] for r on a grid from 1 down
//     to 0.1; the error of r is Σ ‖W · (q_r(p) − p)‖² over input patches p of the Conv / Gemm layers that read the
//     group's values (q_r: onto the activation grid of that range and back), or Σ (q_r(x) − x)² over sampled
//     elements when no such layer reads it (an Add, a graph output...);
//   weights: each weight channel's (per tensor: the tensor's) scale is tried at r · s; the error of r is
//     Σ ((q_r(w) − w) · p)² over the same patches, the rounding the target's.
// r = 1 (no clipping) is always a candidate, so the chosen clip never has more output error on the sampled
// calibration patches than none. Runs after the parameters are made (both changes then refresh the bias grids,
// s_x · s_w), before AdaRound and bias correction. The patches come from the float model on up to 32 calibration
// samples (inputs float, so each layer is judged on its own quantization error, not on its predecessors').
#pragma once

#include "quantization/quantization_algorithm.h"

namespace npukit::quantization {

QuantizationAlgorithm clipping_search_algorithm();

}  // namespace npukit::quantization
