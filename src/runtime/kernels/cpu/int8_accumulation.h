// The building block of every int8 kernel on the cpu backend: an exact int32 accumulation of
// u8 activations × s8 weights on oneDNN, then a requantization to u8 / s8 in own vectorized code.
//
// Exactness. A sum of int8 products in int32 is exact in any order (no overflow below ~2^31 / (255·128)
// = 65 000 terms), so oneDNN's blocking and threading cannot change it -- with one exception: CPUs without
// VNNI (AVX2, AVX-512 without VNNI) multiply u8 × s8 with vpmaddubsw, which adds each PAIR of products in
// a saturating int16 (255·127 + 255·127 = 64 770 > 32 767). oneDNN 2.6 does not guard against it for u8
// sources (jit_uni_int8:avx2, jit_int8:avx512_core, gemm:jit for matmul): with the split below disabled, 1074 of
// the 1683 outputs of tests/cpu_int8_test.cpp's 3x3 case differ under ONEDNN_MAX_CPU_ISA=AVX2. The kernels avoid it
// by splitting each weight into two halves of magnitude <= 64 (split_weights_for_pairwise_int16): the
// accumulation runs over twice the depth (the activations read twice), and no pair can exceed
// 255·64·2 = 32 640. On VNNI machines (vpdpbusd adds the four products in int32) nothing is split.
//
// Requantization (requantize_float_scale_rows): ONNX Runtime's MlasRequantizeOutput, the arithmetic the CPU
// execution provider applies after QLinearConv / QLinearMatMul (quant_anchors.md §3): the int32 accumulator
// plus the int32 bias (wrapping, as int32 addition does), converted to float (rounded to nearest even above
// 2^24), multiplied in float by scale = float(float(s_x · s_w) / s_y) (the order ORT computes it in,
// output_scale_for below), clamped to [q_min - z_y, q_max - z_y] in float, rounded half to even, plus z_y.
//
// The sim backend can reuse ExactInt8Convolution / ExactInt8MatMul (exact s32 sums) and apply its target's own
// requantization instead of requantize_float_scale_rows.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "npukit/dtype.h"
#include "runtime/kernels/cpu/dnnl_runtime.h"

namespace npukit::runtime::cpu::int8 {

// True when oneDNN's effective ISA (it honours ONEDNN_MAX_CPU_ISA) multiplies u8 × s8 with VNNI, whose
// products are summed in int32; false when pairs of products pass through a saturating int16.
bool has_int32_dot_product();

// ORT's multiplier for one output channel: float(s_x · s_w) / s_y, each step rounded to float.
inline float output_scale_for(float input_scale, float weight_scale, float output_scale) {
  const float product = input_scale * weight_scale;
  return product / output_scale;
}

// weights = high + low element by element, with |high|, |low| <= 64 (-128 = -64 + -64, 127 = 63 + 64).
struct SplitWeights {
  std::vector<int8_t> high, low;
};
SplitWeights split_weights_for_pairwise_int16(const int8_t* weights, int64_t count);

// True when no two weights can overflow an int16 pair sum against u8 activations (every |w| <= 64), so the
// split is unnecessary even without VNNI.
bool weights_fit_pairwise_int16(const int8_t* weights, int64_t count);

// Converts an s8 activation to the u8 grid oneDNN multiplies with: q + 128 (zero point + 128): the real
// value (q - z) is unchanged. u8 is copied.
void shift_to_unsigned(const int8_t* in, uint8_t* out, int64_t count);

// Requantizes `rows` rows of `channels` int32 accumulators (channel fastest: NHWC or a [rows, N] matrix):
//   out = clamp(round_half_even(float(acc + channel_offsets[c]) * scales[c]) + zero_point, grid)
// `scales` has one value per channel (per_channel) or one for all. `output_type` is u8 or s8. Runs on the
// OpenMP threads; AVX2 when the machine has it, else a scalar loop with the same arithmetic.
void requantize_float_scale_rows(const int32_t* accumulators, int64_t rows, int64_t channels,
                                 const int32_t* channel_offsets, const float* scales, bool per_channel,
                                 int32_t zero_point, DType output_type, void* out);

// The same, with each row's own offsets: row r adds row_offsets[r % offset_rows][c]. A convolution whose
// border taps read oneDNN's zero padding instead of the input's zero point needs a different z_x · sum(w)
// correction at the image's edges (one offsets row per output pixel of one image; batches repeat it).
void requantize_float_scale_rows_with_row_offsets(const int32_t* accumulators, int64_t rows, int64_t channels,
                                                  const int32_t* const* row_offsets, int64_t offset_rows,
                                                  const float* scales, bool per_channel, int32_t zero_point,
                                                  DType output_type, void* out);

// A 2-D convolution (groups allowed) of u8 activations with constant s8 weights into exact s32 sums, on a oneDNN
// int8 primitive. The source is NHWC and laid out by source_channel(): when the weights were split (no VNNI),
// each group's channels appear twice, [x_g ; x_g], against [high_g ; low_g]. The result is NHWC s32: sum over
// the window of x · w; the caller subtracts z_x · (the sum of the weights the window read).
// Padding: either the caller pads the source itself (with the input's zero point, so that the border contributes
// like ONNX's zero real value; pads 0 here) and subtracts z_x · weight_sums()[oc], or oneDNN pads (pad_* > 0)
// with the integer 0, and the caller subtracts z_x · the sum over the taps that fell inside the image only
// (valid_tap_weight_sums).
// signed_source: s8 activations handed to oneDNN as s8. Exact with VNNI only (oneDNN then adds 128 to the
// source bytes and corrects in int32); without VNNI it halves the weights, so the constructor refuses it there.
struct ConvolutionShape {
  int64_t batch = 1, channels = 0, height = 0, width = 0;  // input as handed to oneDNN, original channel count
  int64_t output_channels = 0, groups = 1, kernel_height = 1, kernel_width = 1;
  int64_t stride_height = 1, stride_width = 1, dilation_height = 1, dilation_width = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;  // oneDNN's own zero padding
  bool signed_source = false;
  int64_t output_height() const {
    return (height + pad_top + pad_bottom - ((kernel_height - 1) * dilation_height + 1)) / stride_height + 1;
  }
  int64_t output_width() const {
    return (width + pad_left + pad_right - ((kernel_width - 1) * dilation_width + 1)) / stride_width + 1;
  }
};

class ExactInt8Convolution {
 public:
  // `weights`: [output_channels, channels / groups, kernel_height, kernel_width], s8.
  ExactInt8Convolution(const ConvolutionShape& shape, const int8_t* weights);
  int64_t source_channels() const { return shape_.channels * copies_; }
  // Where channel `channel` (copy 0 or 1) of the input goes in the padded NHWC source.
  int64_t source_channel(int64_t channel, int copy) const;
  int copies() const { return copies_; }
  const std::vector<int32_t>& weight_sums() const { return weight_sums_; }
  // Per output channel and tap: the sum of the weights over the group's input channels, [oc][kh][kw].
  const std::vector<int32_t>& tap_weight_sums() const { return tap_weight_sums_; }
  const ConvolutionShape& shape() const { return shape_; }
  // `source`: u8, or s8 when shape().signed_source.
  void run(const void* source, int32_t* accumulators) const;

 private:
  ConvolutionShape shape_;
  int copies_ = 1;
  std::vector<int32_t> weight_sums_, tap_weight_sums_;
  dnnl::primitive primitive_;
  dnnl::memory weights_;
  dnnl::memory::desc source_, destination_;
  size_t scratchpad_bytes_ = 0;
};

// [rows, depth] u8 × constant [depth, columns] s8 → [rows, columns] s32, exact. With split weights the source
// rows are [a ; a] (2·depth wide: source_depth()).
class ExactInt8MatMul {
 public:
  ExactInt8MatMul(int64_t rows, int64_t depth, int64_t columns, const int8_t* weights);
  int64_t source_depth() const { return depth_ * copies_; }
  int copies() const { return copies_; }
  const std::vector<int32_t>& weight_sums() const { return weight_sums_; }  // per column
  void run(const uint8_t* source, int32_t* accumulators) const;

 private:
  int64_t rows_, depth_, columns_;
  int copies_ = 1;
  std::vector<int32_t> weight_sums_;
  dnnl::primitive primitive_;
  dnnl::memory weights_;
  dnnl::memory::desc source_, destination_;
  size_t scratchpad_bytes_ = 0;
};

// A pointwise convolution (1x1, stride 1, unpadded, one group) of an NHWC tensor is a product of its [pixels, C_in]
// matrix, so any run of whole image rows (across images too) is a convolution of the same kind. When its s32 sums
// would outgrow the cache, the cpu backend's QLinearConv and the sim's IntegerConv run it in blocks of
// block_rows image rows (`block`; `last_block` the remainder when they do not divide), each block requantized while
// its sums are still in L2. block_rows = 0 (and no primitives): small enough to run whole.
struct PointwiseRowBlocks {
  int64_t block_rows = 0;
  std::unique_ptr<ExactInt8Convolution> block, last_block;
};
PointwiseRowBlocks pointwise_row_blocks(const ConvolutionShape& shape, const int8_t* weights);

// For a convolution padded by oneDNN: one offsets row per output pixel of one image (output_height x
// output_width rows of output_channels), row = base[oc] - zero_point · (sum of the weights over the taps of that
// pixel's window that lie inside the image), in wrapping int32 arithmetic as ORT's accumulator. Pixels
// whose windows are whole share the interior row. Returns the distinct rows and each pixel's row index.
struct BorderOffsets {
  std::vector<std::vector<int32_t>> rows;
  std::vector<int32_t> pixel_row;  // output_height · output_width
};
BorderOffsets border_offsets(const ExactInt8Convolution& convolution, const std::vector<int32_t>& base,
                             int32_t zero_point);

// One element of requantize_float_scale_rows: the readable definition the vector code must equal.
int32_t requantize_float_scale_one(int32_t accumulator, int32_t offset, float scale, int32_t zero_point,
                                   DType output_type);

}  // namespace npukit::runtime::cpu::int8
