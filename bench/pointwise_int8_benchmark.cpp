// Where the time of one int8 pointwise (1x1) convolution goes, on MobileNetV2's shapes: the cpu backend's oneDNN path
// (exact s32 sums in blocks of image rows, then requantize_float_scale_rows while the block is in cache:
// qlinear_convolution.cpp) split into its two parts, against the own AVX-512 VNNI kernel that requantizes in registers
// (pointwise_vnni.h). Same random u8 input, s8 weights, per-channel scales; the two outputs are compared byte for byte.
//
//   build/npukit_pointwise_bench [threads] [iterations]
//
// Prints per shape the median over 7 interleaved rounds of the microseconds per call: oneDNN sums alone, the whole
// oneDNN path (sums + requantization; the difference is the requantization), the VNNI kernel, the same kernel made to
// clamp in float (one scale above 0.25), and VNNI / whole oneDNN path; then the row requantization alone.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "runtime/kernels/cpu/dnnl_runtime.h"
#include "runtime/kernels/cpu/int8_accumulation.h"
#include "runtime/kernels/cpu/pointwise_vnni.h"

namespace cpu = npukit::runtime::cpu;
namespace int8 = npukit::runtime::cpu::int8;

namespace {

struct LayerShape {
  const char* name;
  int64_t side, depth, channels;
};

// The cpu backend's oneDNN path for one 1x1 layer, with its block rule (qlinear_convolution.cpp: 512 KiB of s32).
struct OneDnnPath {
  std::unique_ptr<int8::ExactInt8Convolution> block, last;
  int64_t block_rows = 0, rows = 0, width = 0, depth = 0, channels = 0;
  std::vector<int32_t> accumulators;

  OneDnnPath(const LayerShape& layer, const int8_t* weights) {
    rows = layer.side;
    width = layer.side;
    depth = layer.depth;
    channels = layer.channels;
    const int64_t row_bytes = width * channels * 4, block_bytes = 512 * 1024;
    block_rows = rows * row_bytes > 2 * block_bytes ? std::max<int64_t>(1, block_bytes / row_bytes) : rows;
    int8::ConvolutionShape shape;
    shape.channels = depth;
    shape.output_channels = channels;
    shape.height = block_rows;
    shape.width = width;
    block = std::make_unique<int8::ExactInt8Convolution>(shape, weights);
    if (rows % block_rows != 0) {
      shape.height = rows % block_rows;
      last = std::make_unique<int8::ExactInt8Convolution>(shape, weights);
    }
    accumulators.resize(static_cast<size_t>(block_rows * width * channels));
  }

  void run(const uint8_t* input, const int32_t* offsets, const float* scales, int32_t zero_point, uint8_t* output,
           bool requantize) {
    for (int64_t row = 0; row < rows; row += block_rows) {
      const bool whole = row + block_rows <= rows;
      (whole ? *block : *last).run(input + row * width * depth, accumulators.data());
      if (!requantize) continue;
      const int64_t pixels = (whole ? block_rows : rows - row) * width;
      int8::requantize_float_scale_rows(accumulators.data(), pixels, channels, offsets, scales, true, zero_point,
                                        npukit::DType::u8, output + row * width * channels);
    }
  }
};

template <typename Function>
double microseconds_per_call(Function&& function, int iterations) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) function();
  const std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count() / iterations;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 50;
  cpu::set_intra_op_threads(threads);
  if (!int8::PointwiseVnniConvolution::available()) {
    std::fprintf(stderr, "this machine (or ONEDNN_MAX_CPU_ISA) has no AVX-512 VNNI: nothing to compare\n");
    return 1;
  }
  const LayerShape layers[] = {
      {"features.1 projection", 112, 32, 16},   {"features.2 expansion", 112, 16, 96},
      {"features.2 projection", 56, 96, 24},    {"features.3 expansion", 56, 24, 144},
      {"features.3 projection", 56, 144, 24},   {"features.4 projection", 28, 144, 32},
      {"features.5 expansion", 28, 32, 192},    {"features.5 projection", 28, 192, 32},
      {"features.8 expansion", 14, 64, 384},    {"features.8 projection", 14, 384, 64},
      {"features.12 expansion", 14, 96, 576},   {"features.14 projection", 7, 576, 160},
      {"features.15 expansion", 7, 160, 960},   {"features.17 projection", 7, 960, 320},
      {"features.18 1x1", 7, 320, 1280},
  };
  std::printf("threads %d, %d calls a round, 7 rounds, median us per call\n", threads, iterations);
  std::printf("%-24s %-16s %10s %10s %10s %10s %8s %s\n", "layer", "K -> N @ side", "oneDNN s32", "oneDNN+rq",
              "VNNI", "VNNI clamp", "ratio", "equal");
  std::mt19937 generator(7);
  for (const LayerShape& layer : layers) {
    const int64_t pixels = layer.side * layer.side;
    std::vector<uint8_t> input(static_cast<size_t>(pixels * layer.depth));
    for (uint8_t& value : input) value = static_cast<uint8_t>(generator());
    std::vector<int8_t> weights(static_cast<size_t>(layer.channels * layer.depth));
    for (int8_t& value : weights) value = static_cast<int8_t>(static_cast<int>(generator() % 256) - 128);
    const int32_t input_zero_point = 131, output_zero_point = 120;
    std::vector<int32_t> offsets(static_cast<size_t>(layer.channels));
    std::vector<float> scales(static_cast<size_t>(layer.channels));
    for (int64_t c = 0; c < layer.channels; ++c) {
      int32_t sum = 0;
      for (int64_t k = 0; k < layer.depth; ++k) sum += weights[static_cast<size_t>(c * layer.depth + k)];
      offsets[static_cast<size_t>(c)] = static_cast<int32_t>((c * 7919) % 20001) - 10000 - input_zero_point * sum;
      scales[static_cast<size_t>(c)] = 1.0f / (3.0f * 64.0f * std::sqrt(static_cast<float>(layer.depth)) * (1.0f + 0.01f * c));
    }
    OneDnnPath onednn(layer, weights.data());
    int8::PointwiseVnniConvolution vnni(layer.depth, layer.channels, weights.data(), offsets, scales, output_zero_point,
                                        npukit::DType::u8, false);
    // The same kernel made to clamp in float (one scale above 0.25; requantize_lanes_avx512.h).
    std::vector<float> one_large = scales;
    one_large[0] = 0.5f;
    int8::PointwiseVnniConvolution clamping(layer.depth, layer.channels, weights.data(), offsets, one_large,
                                            output_zero_point, npukit::DType::u8, false);
    std::vector<uint8_t> clamped_output(static_cast<size_t>(pixels * layer.channels));
    std::vector<uint8_t> expected(static_cast<size_t>(pixels * layer.channels)), actual(expected.size());
    std::vector<double> sums_only, whole_path, kernel, kernel_clamping;
    for (int round = 0; round < 7; ++round) {
      sums_only.push_back(microseconds_per_call(
          [&] { onednn.run(input.data(), offsets.data(), scales.data(), output_zero_point, expected.data(), false); },
          iterations));
      whole_path.push_back(microseconds_per_call(
          [&] { onednn.run(input.data(), offsets.data(), scales.data(), output_zero_point, expected.data(), true); },
          iterations));
      kernel.push_back(microseconds_per_call([&] { vnni.run(input.data(), pixels, actual.data()); }, iterations));
      kernel_clamping.push_back(
          microseconds_per_call([&] { clamping.run(input.data(), pixels, clamped_output.data()); }, iterations));
    }
    const bool equal = std::memcmp(expected.data(), actual.data(), expected.size()) == 0;
    char shape[32];
    std::snprintf(shape, sizeof(shape), "%ld -> %ld @ %ld", static_cast<long>(layer.depth),
                  static_cast<long>(layer.channels), static_cast<long>(layer.side));
    std::printf("%-24s %-16s %10.1f %10.1f %10.1f %10.1f %8.2f %s\n", layer.name, shape, median(sums_only),
                median(whole_path), median(kernel), median(kernel_clamping), median(kernel) / median(whole_path),
                equal ? "yes" : "NO");
  }
  // The row requantization alone (the oneDNN path's second pass, and the depthwise / 3x3 layers' only one), in cache:
  // with every scale <= 0.25 it clamps by the narrowing's saturation, with one scale above it in float
  // (requantize_lanes_avx512.h).
  std::printf("\nrequantize_float_scale_rows, 112 rows in cache, median us per call: float clamp / saturating narrowing\n");
  for (const int64_t channels : {32, 96, 144, 192}) {
    const int64_t rows = 112;
    std::vector<int32_t> accumulators(static_cast<size_t>(rows * channels)), offsets(static_cast<size_t>(channels));
    for (int32_t& value : accumulators) value = static_cast<int32_t>(generator() % 200001) - 100000;
    for (int32_t& value : offsets) value = static_cast<int32_t>(generator() % 2001) - 1000;
    std::vector<float> small(static_cast<size_t>(channels), 0.001f), clamped = small;
    clamped[0] = 0.5f;
    std::vector<uint8_t> out(accumulators.size());
    std::vector<double> with_clamp, without_clamp;
    for (int round = 0; round < 7; ++round) {
      with_clamp.push_back(microseconds_per_call([&] {
        int8::requantize_float_scale_rows(accumulators.data(), rows, channels, offsets.data(), clamped.data(), true, 120,
                                          npukit::DType::u8, out.data());
      }, iterations * 20));
      without_clamp.push_back(microseconds_per_call([&] {
        int8::requantize_float_scale_rows(accumulators.data(), rows, channels, offsets.data(), small.data(), true, 120,
                                          npukit::DType::u8, out.data());
      }, iterations * 20));
    }
    std::printf("%4ld channels %8.2f %8.2f\n", static_cast<long>(channels), median(with_clamp), median(without_clamp));
  }
  return 0;
}
