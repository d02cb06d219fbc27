// `quantize --algorithm bias-correction` and `bias-correction-analytic`: remove the mean error that quantization
// adds to each output channel of a Conv / Gemm by moving it into the bias (Nagel et al. 2019, "Data-Free
// Quantization", §4.2; AIMET's empirical and analytical bias correction; Hailo's IBC, Finkelstein et al. 2019).
//
// bias-correction (empirical): layer by layer in graph order, the quantized model runs on the sim backend (the
//   target's integer arithmetic: requantization, rounding, clamps) over up to 16 calibration samples, and the
//   float model over the same samples; per output channel, the mean of (simulated − float) of the layer's output
//   is subtracted from its bias. Layers are corrected one after the other and the model simulated again before
//   each, so a later layer's error is measured with its predecessors already corrected. The output is measured
//   at the layer's quantization point: after a fused Relu / Clip, only where both the float and the simulated
//   value lie strictly inside the activation's pass band (not cut at 0 or at the clip or grid top): there the
//   error is the pre-activation's error; elsewhere the activation hides it.
// bias-correction-analytic: no simulation; the expected error of the weight quantization alone,
//   E[(W̃ − W) x] = (W̃ − W) E[x], from the per-channel mean of the layer's float input. Nagel computes E[x] from
//   the preceding BatchNorm's β and γ (a clipped Gaussian); BatchNorm is folded into the Conv before any
//   algorithm runs, so the calibration data's measured mean stands in for it (that is what the formula estimates).
//   On padded borders the mean input is taken as the same (the paper's approximation).
// Both need at least 2 calibration samples (a mean from one sample corrects that sample's noise, not the layer's
// bias): fewer is an error. A channel seen at fewer than 16 positions inside the pass band keeps its bias.
// Layers without a quantized bias (the bias stays float when its input or weight does) are left alone.
#pragma once

#include "quantization/quantization_algorithm.h"

namespace npukit::quantization {

QuantizationAlgorithm empirical_bias_correction_algorithm();
QuantizationAlgorithm analytic_bias_correction_algorithm();

}  // namespace npukit::quantization
