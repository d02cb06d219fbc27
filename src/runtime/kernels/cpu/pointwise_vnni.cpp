#include "runtime/kernels/cpu/pointwise_vnni.h"

#include <algorithm>
#include <cstring>

#include <omp.h>

#include "npukit/error.h"
#include "runtime/kernels/cpu/dnnl_runtime.h"
#include "runtime/kernels/cpu/requantize_lanes_avx512.h"

namespace npukit::runtime::cpu::int8 {

namespace {

constexpr int64_t channels_per_vector = 16;  // int32 lanes of one zmm accumulator
constexpr int64_t channels_per_block = 64;   // four accumulators per pixel: the widest tile

#if defined(__x86_64__) || defined(__i386__)
// GCC 12 reports the conversion intrinsics' own _mm512_undefined_*() pass-through operand as "may be used
// uninitialized" once they are inlined here (a false positive of GCC 12); nothing of ours is uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define NPUKIT_TARGET_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

// What one tile needs besides its input rows and output rows.
struct TileArguments {
  const int8_t* weights;      // the block's first packed 16-channel vector, depth step 0
  int64_t vector_stride;      // bytes from one packed 16-channel vector to the next: depth · 16
  const int32_t* offsets;     // the block's first channel (padded: whole vectors can be read)
  const float* scales;
  int64_t depth;              // bytes per input row
  int64_t channels;           // bytes per output row
  int64_t valid_channels;     // channels this block writes, 1 to 64
  float minimum, maximum;     // the grid minus the zero point, as float (requantize_lanes_avx512)
  int32_t zero_point;
  bool is_unsigned;
  bool clamp;                 // in float before rounding: some scale could overflow the int32 conversion
};

// Rows pixels x Vectors · 16 channels. Rows past `rows` read the first row again and are not stored, so one code path
// serves every tail (as MLAS does). Register budget: Rows · Vectors accumulators (24 or 16) + Vectors weights + one
// broadcast input. Neither inlined nor specialised for rows == Rows: GCC 12's copy for full tiles spilled 70
// accumulators to the stack (twice the time on the 16 -> 96 layer); the depth loop stays rolled for the same reason.
#if defined(__GNUC__) && !defined(__clang__)
#define NPUKIT_KEEP_AS_WRITTEN __attribute__((noinline, noclone))
#else
#define NPUKIT_KEEP_AS_WRITTEN __attribute__((noinline))
#endif
template <int Rows, int Vectors, bool SignedInput>
NPUKIT_KEEP_AS_WRITTEN NPUKIT_TARGET_AVX512_VNNI void pointwise_tile(const TileArguments& arguments,
                                                                    const uint8_t* input, int64_t rows,
                                                                    uint8_t* output) {
  const int64_t depth = arguments.depth;
  const uint8_t* row_input[Rows];
#pragma GCC unroll 8
  for (int r = 0; r < Rows; ++r) row_input[r] = input + (r < rows ? r : 0) * depth;
  // The sums start at the offsets (bias - z · Σw): ORT's acc + bias, in the same wrapping int32 arithmetic (vpdpbusd
  // adds without saturation), one vector addition per output fewer.
  __m512i offsets[Vectors];
#pragma GCC unroll 4
  for (int v = 0; v < Vectors; ++v) offsets[v] = _mm512_loadu_si512(arguments.offsets + channels_per_vector * v);
  __m512i sums[Rows][Vectors];
#pragma GCC unroll 8
  for (int r = 0; r < Rows; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < Vectors; ++v) sums[r][v] = offsets[v];
  }
  // s8 activations as u8 (q + 128: the top bit flipped), which vpdpbusd multiplies; the offsets carry z + 128.
  const __m512i flip = _mm512_set1_epi32(static_cast<int32_t>(0x80808080u));
  const int8_t* weights = arguments.weights;
#pragma GCC unroll 1
  for (int64_t k = 0; k < depth; k += 4, weights += 4 * channels_per_vector) {
    __m512i packed[Vectors];
#pragma GCC unroll 4
    for (int v = 0; v < Vectors; ++v) packed[v] = _mm512_loadu_si512(weights + v * arguments.vector_stride);
#pragma GCC unroll 8
    for (int r = 0; r < Rows; ++r) {
      int32_t four_bytes;
      std::memcpy(&four_bytes, row_input[r] + k, sizeof(four_bytes));
      __m512i activations = _mm512_set1_epi32(four_bytes);
      if constexpr (SignedInput) activations = _mm512_xor_si512(activations, flip);
#pragma GCC unroll 4
      for (int v = 0; v < Vectors; ++v) sums[r][v] = _mm512_dpbusd_epi32(sums[r][v], activations, packed[v]);
    }
  }
  // ORT's output stage on the registers, then one store per pixel. Without the float clamp where the scales allow
  // it (requantize_lanes_avx512.h: the narrowing's saturation clamps instead).
  const __m512 minimum = _mm512_set1_ps(arguments.minimum), maximum = _mm512_set1_ps(arguments.maximum);
  const __m512i zero_point_words = _mm512_set1_epi16(static_cast<int16_t>(arguments.zero_point));
  __m512 scales[Vectors];
#pragma GCC unroll 4
  for (int v = 0; v < Vectors; ++v) scales[v] = _mm512_loadu_ps(arguments.scales + channels_per_vector * v);
  const __m512i no_offsets = _mm512_setzero_si512();  // they are in the sums already
  const int64_t valid = arguments.valid_channels;
  const __mmask64 byte_mask = valid >= 64 ? ~static_cast<__mmask64>(0) : (static_cast<__mmask64>(1) << valid) - 1;
#pragma GCC unroll 8
  for (int r = 0; r < Rows; ++r) {
    if (r >= rows) break;
    __m512i rounded[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                          _mm512_setzero_si512()};
#pragma GCC unroll 4
    for (int v = 0; v < Vectors; ++v) {
      rounded[v] = arguments.clamp
                       ? round_clamped_lanes_avx512(sums[r][v], no_offsets, scales[v], minimum, maximum)
                       : round_scaled_lanes_avx512(sums[r][v], no_offsets, scales[v]);
    }
    const __m512i bytes = narrow_rounded_to_bytes_avx512(rounded[0], rounded[1], rounded[2], rounded[3],
                                                         zero_point_words, arguments.is_unsigned);
    uint8_t* destination = output + r * arguments.channels;
    if (Vectors == 4 && valid == 64) {
      _mm512_storeu_si512(destination, bytes);
    } else {
      _mm512_mask_storeu_epi8(destination, byte_mask, bytes);
    }
  }
}

// `pixels` rows of one block in tiles of Rows pixels; the last few rows on a tile of 2 or 4, since a full tile runs the
// whole depth for all its rows (7x7 layers: 49 = 8 x 6 + 1 would pay a ninth tile for one pixel).
template <int Rows, int Vectors, bool SignedInput>
NPUKIT_TARGET_AVX512_VNNI void pointwise_tiles(const TileArguments& arguments, const uint8_t* input, int64_t pixels,
                                              uint8_t* output) {
  const int64_t depth = arguments.depth, channels = arguments.channels;
  int64_t p = 0;
  for (; p + Rows <= pixels; p += Rows) {
    pointwise_tile<Rows, Vectors, SignedInput>(arguments, input + p * depth, Rows, output + p * channels);
  }
  const int64_t rest = pixels - p;
  if (rest <= 0) return;
  if (rest <= 2) {
    pointwise_tile<2, Vectors, SignedInput>(arguments, input + p * depth, rest, output + p * channels);
  } else if (rest <= 4) {
    pointwise_tile<4, Vectors, SignedInput>(arguments, input + p * depth, rest, output + p * channels);
  } else {
    pointwise_tile<Rows, Vectors, SignedInput>(arguments, input + p * depth, rest, output + p * channels);
  }
}

// One block of up to 64 output channels over `pixels` rows: tiles of 6 pixels for three or four vectors of 16
// channels (24 or 18 accumulators), of 8 pixels for one or two.
template <bool SignedInput>
NPUKIT_TARGET_AVX512_VNNI void pointwise_block(const TileArguments& arguments, int64_t vectors, const uint8_t* input,
                                              int64_t pixels, uint8_t* output) {
  switch (vectors) {
    case 4:
      pointwise_tiles<6, 4, SignedInput>(arguments, input, pixels, output);
      break;
    case 3:
      pointwise_tiles<6, 3, SignedInput>(arguments, input, pixels, output);
      break;
    case 2:
      pointwise_tiles<8, 2, SignedInput>(arguments, input, pixels, output);
      break;
    default:
      pointwise_tiles<8, 1, SignedInput>(arguments, input, pixels, output);
      break;
  }
}

bool cpu_has_avx512_vnni() {
  static const bool available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512vnni");
  return available;
}
#endif

}  // namespace

bool PointwiseVnniConvolution::available() {
#if defined(__x86_64__) || defined(__i386__)
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
      return cpu_has_avx512_vnni();
    default:
      return false;
  }
#else
  return false;
#endif
}

PointwiseVnniConvolution::PointwiseVnniConvolution(int64_t depth, int64_t channels, const int8_t* weights,
                                                   const std::vector<int32_t>& offsets,
                                                   const std::vector<float>& scales, int32_t output_zero_point,
                                                   DType output_type, bool signed_input)
    : depth_(depth),
      channels_(channels),
      output_zero_point_(output_zero_point),
      output_type_(output_type),
      signed_input_(signed_input) {
  if (!supports(depth) || channels <= 0 || static_cast<int64_t>(offsets.size()) != channels ||
      static_cast<int64_t>(scales.size()) != channels || (output_type != DType::u8 && output_type != DType::i8)) {
    throw Error(ErrorKind::internal, "pointwise VNNI convolution: depth " + std::to_string(depth) +
                                         " (a multiple of 4), one offset and scale per channel, u8 / s8 output");
  }
  const int64_t vectors = (channels + channels_per_vector - 1) / channels_per_vector;
  packed_.assign(static_cast<size_t>(vectors * depth * channels_per_vector), 0);
  for (int64_t c = 0; c < channels; ++c) {
    const int64_t vector = c / channels_per_vector, lane = c % channels_per_vector;
    for (int64_t k = 0; k < depth; ++k) {
      packed_[static_cast<size_t>(vector * depth * channels_per_vector + (k / 4) * 4 * channels_per_vector + lane * 4 +
                                  k % 4)] = weights[c * depth + k];
    }
  }
  const int64_t padded = (channels + channels_per_block - 1) / channels_per_block * channels_per_block;
  offsets_ = offsets;
  offsets_.resize(static_cast<size_t>(padded), 0);
  scales_ = scales;
  scales_.resize(static_cast<size_t>(padded), 0.0f);
  clamp_ = !scales_fit_unclamped(scales.data(), static_cast<long>(channels));
}

void PointwiseVnniConvolution::run(const void* input, int64_t pixels, void* output) const {
#if defined(__x86_64__) || defined(__i386__)
  if (pixels <= 0) return;
  const int32_t minimum = output_type_ == DType::u8 ? 0 : -128, maximum = output_type_ == DType::u8 ? 255 : 127;
  TileArguments base{};
  base.vector_stride = depth_ * channels_per_vector;
  base.depth = depth_;
  base.channels = channels_;
  base.minimum = static_cast<float>(minimum - output_zero_point_);
  base.maximum = static_cast<float>(maximum - output_zero_point_);
  base.zero_point = output_zero_point_;
  base.is_unsigned = output_type_ == DType::u8;
  base.clamp = clamp_;
  const int64_t blocks = (channels_ + channels_per_block - 1) / channels_per_block;
  // Pixel tiles whose input rows stay in L1 while every channel block reads them (MLAS: 240 pixels), split evenly.
  const int64_t tile_limit = std::clamp<int64_t>(16384 / depth_, 48, 240);
  int64_t tiles = (pixels + tile_limit - 1) / tile_limit;
  const bool parallel = pixels * channels_ * depth_ >= (int64_t{1} << 18);
  // The threads take (tile, block) items in equal runs: when the blocks do not divide among them, whole numbers of
  // tiles per thread keep them level (14x14 384 → 64 would otherwise split its 5 tiles 3 / 2).
  const int64_t threads = parallel ? omp_get_max_threads() : 1;
  if (threads > 1 && blocks % threads != 0) {
    tiles = std::min(pixels, (tiles + threads - 1) / threads * threads);
  }
  const int64_t tile_pixels = (pixels + tiles - 1) / tiles;
  const int64_t items = tiles * blocks;
  const uint8_t* source = static_cast<const uint8_t*>(input);
  uint8_t* destination = static_cast<uint8_t*>(output);
#pragma omp parallel for schedule(static) if (parallel && items > 1)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t tile = item / blocks, block = item % blocks;
    const int64_t first_pixel = tile * tile_pixels, count = std::min(tile_pixels, pixels - first_pixel);
    if (count <= 0) continue;
    const int64_t first_channel = block * channels_per_block;
    TileArguments arguments = base;
    arguments.weights = packed_.data() + first_channel * depth_;
    arguments.offsets = offsets_.data() + first_channel;
    arguments.scales = scales_.data() + first_channel;
    arguments.valid_channels = std::min(channels_per_block, channels_ - first_channel);
    const int64_t vectors = (arguments.valid_channels + channels_per_vector - 1) / channels_per_vector;
    const uint8_t* block_input = source + first_pixel * depth_;
    uint8_t* block_output = destination + first_pixel * channels_ + first_channel;
    if (signed_input_) {
      pointwise_block<true>(arguments, vectors, block_input, count, block_output);
    } else {
      pointwise_block<false>(arguments, vectors, block_input, count, block_output);
    }
  }
#else
  throw Error(ErrorKind::internal, "pointwise VNNI convolution on a CPU without AVX-512 VNNI");
#endif
}

}  // namespace npukit::runtime::cpu::int8
