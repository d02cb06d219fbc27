// Models and measurements shared by the tests of cle, bias-correction and clip-search
// (src/quantization/algorithms/).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "npukit/tensor.h"
#include "quantization/quantize_model.h"

namespace npukit::testing {

// x[1,3,size,size] → Conv c1 (3→8, 1×1) → act → depthwise Conv dw (8, 3×3, pad 1) → act → Conv c3 (8→4, 1×1) → y[1,4,size,size],
// act "Relu" or "Clip" (Clip(0, 6)). The channels of c1 and dw have ranges spread over two orders of magnitude
// (as a trained MobileNet's depthwise layers do), compensated in the next layer so the outputs stay of order 1;
// even channels of c1 and dw have biases that keep them positive (high-bias absorption has work).
// `dead_channels`: channels 1 and 5 of c1 and dw have all-zero weights and bias (a pruned or dead channel).
std::string write_depthwise_separable_net(const std::string& path, const std::string& activation, int64_t size = 8,
                                          bool dead_channels = false);

// Output SQNR (dB, over all samples together) of the quantized model simulated on `target` against the float
// model in `float_model_path`, on the samples of `folder`.
double simulated_output_sqnr(const quantization::QuantizeResult& result, const std::string& float_model_path,
                             const std::string& folder, const std::string& target);

}  // namespace npukit::testing
