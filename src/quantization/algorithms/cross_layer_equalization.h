// `quantize --algorithm cle`: cross-layer equalization with high-bias absorption (Nagel et al. 2019, "Data-Free
// Quantization Through Weight Equalization and Bias Correction", §4.1 and §4.2; AIMET's equalize_model).
//
// For two convolutions in a row, Conv1 → [Relu | Clip(0, c) | nothing] → Conv2, output channel i of Conv1 can be
// divided by s_i > 0 and input channel i of Conv2 multiplied by s_i without changing the function, because
// Relu(x / s) = Relu(x) / s for s > 0. The choice s_i = sqrt(r1_i · r2_i) / r2_i (r1_i: the largest |weight| of
// Conv1's output channel i, r2_i: of Conv2's input channel i) gives both channels the range sqrt(r1_i · r2_i), so a
// per-tensor grid serves every channel alike. Pairs are equalized in turn until the scales stop moving, which
// equalizes chains of three (Conv → depthwise Conv → Conv) as the paper does.
//
// Clip(0, c) (ReLU6) is not positively homogeneous: Clip(x / s, 0, c) · s = Clip(x, 0, c · s), which is Clip(x, 0, c)
// only where x never reached c. The DFQ paper (§5) and AIMET replace ReLU6 by ReLU, which changes the float model
// (on npukit's random MobileNetV2 export that alone costs the output 19 dB SQNR). npukit keeps the model: the largest
// pre-activation of each channel is measured on the calibration data first; a channel that reached c keeps s = 1,
// and any other is scaled no further than keeps it below c (cumulative S_i ≥ max_i / c). The outcome says how many
// channels were held, and measures the float model's outputs before and after on calibration samples (SQNR).
// High-bias absorption (§4.2): BatchNormalization is folded by this stage, so instead of the BN statistics β − 3γ
// the pre-activation statistics measured on the calibration data stand in: c_i = max(0, min(μ_i − 3σ_i, min_i)),
// the observed minimum keeping it exact on the calibration data. c_i leaves Conv1's bias and enters Conv2's as
// W2 · c (exact while x_i ≥ c_i); only for a Relu between the two, and only into a Conv2 without padding, whose
// every output sees the shift (a padded border would read zeros, not −c).
#pragma once

#include "quantization/quantization_algorithm.h"

namespace npukit::quantization {

QuantizationAlgorithm cross_layer_equalization_algorithm();

}  // namespace npukit::quantization
