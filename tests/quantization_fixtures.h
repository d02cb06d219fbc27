// Small models and calibration data shared by the quantization tests (quantize, its algorithms, compare).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace npukit::testing {

// `count` values drawn uniformly from [low, high) with a fixed seed.
std::vector<float> seeded_values(size_t count, uint32_t seed, float low, float high);

// x[1,3,8,8] → Conv(3→4, 3×3, pad 1) → BatchNormalization → Relu → MaxPool 2×2 → Conv(4→2, 1×1) → y[1,2,4,4],
// written as ONNX (opset 13) to `path`, which it returns.
std::string write_conv_bn_relu_net(const std::string& path);

// `count` samples of [1,3,8,8] in `folder` (sample_00.npy, ...), values uniform in [-1, 1); returns `folder`.
std::string write_calibration_folder(const std::string& folder, int count, uint32_t seed);

}  // namespace npukit::testing
