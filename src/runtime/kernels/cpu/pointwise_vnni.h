// A pointwise int8 convolution (1x1, stride 1, no pads, one group: the [pixels, depth] u8 / s8 matrix of an NHWC
// tensor times constant [depth, channels] s8 weights) as one AVX-512 VNNI kernel that requantizes straight from its
// accumulator registers, the way ONNX Runtime's MLAS runs it (MlasConvSym): a tile of 6 or 8 pixels x up to 64 output
// channels of int32 accumulators, the depth in steps of four bytes (one vpdpbusd adds four u8 x s8 products into each
// int32 lane: exact), weights packed [16 channels][depth / 4][16][4], and ORT's output stage
// (requantize_lanes_avx512.h, the arithmetic of requantize_float_scale_one) applied before anything is stored.
//
// Why not oneDNN: its 1x1 kernel writes s32 sums that a second pass reads back to requantize
// (qlinear_convolution.cpp's row blocks). On MobileNetV2's narrow layers (16 → 96 channels at 112x112: four
// vpdpbusd per sixteen outputs) that round trip and oneDNN's per-call cost are most of the time; here the sums
// never leave the registers. docs/benchmarks.md has the measurements.
//
// Runs only where available(): the CPU has AVX-512 F/BW/VNNI and oneDNN's effective ISA has VNNI, so
// ONEDNN_MAX_CPU_ISA=AVX2 selects the oneDNN path again (ctest's cpu_int8_without_vnni keeps that path tested).
#pragma once

#include <cstdint>
#include <vector>

#include "npukit/dtype.h"

namespace npukit::runtime::cpu::int8 {

class PointwiseVnniConvolution {
 public:
  static bool available();
  // The depth is read four bytes at a time from each pixel's row: it must be a multiple of 4.
  static bool supports(int64_t depth) { return depth > 0 && depth % 4 == 0; }

  // `weights`: [channels, depth] s8 (a 1x1 convolution's OIHW). `offsets[c]`: bias[c] - z · sum(weights[c]) in
  // wrapping int32, with z the input's zero point on the u8 grid (s8 inputs are read with their top bit flipped,
  // q + 128, so z is their zero point + 128). `scales`: one per output channel. The output is u8 or s8.
  PointwiseVnniConvolution(int64_t depth, int64_t channels, const int8_t* weights, const std::vector<int32_t>& offsets,
                           const std::vector<float>& scales, int32_t output_zero_point, DType output_type,
                           bool signed_input);

  // `input`: `pixels` rows of depth bytes; `output`: `pixels` rows of channels bytes. Splits the pixels (and, for
  // few pixels, the channel blocks) across the OpenMP threads.
  void run(const void* input, int64_t pixels, void* output) const;

  int64_t depth() const { return depth_; }
  int64_t channels() const { return channels_; }

 private:
  int64_t depth_, channels_;
  std::vector<int8_t> packed_;    // [ceil(channels / 16)][depth / 4][16][4], zero beyond the last channel
  std::vector<int32_t> offsets_;  // padded with zeros to whole blocks of 64 channels
  std::vector<float> scales_;     // the same
  int32_t output_zero_point_;
  DType output_type_;
  bool signed_input_;
  bool clamp_;  // some scale above 0.25: clamp in float before rounding (requantize_lanes_avx512.h)
};

}  // namespace npukit::runtime::cpu::int8
