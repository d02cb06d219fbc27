// ConvTranspose whose strides equal its kernel (no pads, dilations 1, group 1, no output padding), as in
// PP-OCR det's 2x2 stride-2 upsampling: the output patches of neighbouring input pixels do not overlap,
// so each output element is one dot product over the input channels,
//   out[n, oc, y*kh + ky, x*kw + kx] = bias[oc] + Σ_ic in[n, ic, y, x] * w[ic, oc, ky, kx],
// a GEMM [oc*kh*kw, ic] x [ic, H*W] whose result is scattered into the patches. oneDNN's general
// deconvolution spends 6-12 ms on these; here the GEMM is computed one input row at a time with a
// register-blocked kernel (4 weight rows x 16 pixels of accumulators) and written straight into the
// output patches, so nothing larger than a row is ever stored twice.
//
// Weights are packed once at prepare: blocks of 4 rows m = (oc*kh + ky)*kw + kx, each [ic][4], zero
// rows filling the last block. The block kernel has an AVX2+FMA build chosen at run time (vector_math.h).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/vector_math.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace npukit::runtime::cpu {

namespace {

constexpr int64_t block_rows = 4;
constexpr int64_t block_width = 16;

struct PatchGeometry {
  int64_t input_channels = 0, output_channels = 0, kernel_height = 0, kernel_width = 0;
  int64_t height = 0, width = 0;  // of the input
  int64_t rows() const { return output_channels * kernel_height * kernel_width; }
  int64_t blocks() const { return (rows() + block_rows - 1) / block_rows; }
};

using Sums = float[block_rows][block_width];

// sums[r][w] = Σ_c weights[c][r] * input[c * channel_stride + w]: the portable version.
void accumulate_generic(const float* input, int64_t channel_stride, int64_t channels, const float* weights, Sums& sums) {
  for (int64_t r = 0; r < block_rows; ++r) {
    for (int64_t w = 0; w < block_width; ++w) sums[r][w] = 0.0f;
  }
  for (int64_t c = 0; c < channels; ++c) {
    const float* values = input + c * channel_stride;
    const float* row_weights = weights + c * block_rows;
    for (int64_t r = 0; r < block_rows; ++r) {
      for (int64_t w = 0; w < block_width; ++w) sums[r][w] += row_weights[r] * values[w];
    }
  }
}

#if defined(__x86_64__) || defined(__i386__)
// The same with the 4 x 16 sums in eight ymm registers: per channel two loads, four broadcasts, eight FMAs.
// (Left to itself the compiler keeps the sums in memory and uses 128-bit registers: 5x slower.)
NPUKIT_TARGET_AVX2 void accumulate_avx2(const float* input, int64_t channel_stride, int64_t channels,
                                        const float* weights, Sums& sums) {
  static_assert(block_rows == 4 && block_width == 16, "the register blocking below is written for 4 x 16");
  __m256 s00 = _mm256_setzero_ps(), s01 = _mm256_setzero_ps(), s10 = _mm256_setzero_ps(), s11 = _mm256_setzero_ps();
  __m256 s20 = _mm256_setzero_ps(), s21 = _mm256_setzero_ps(), s30 = _mm256_setzero_ps(), s31 = _mm256_setzero_ps();
  for (int64_t c = 0; c < channels; ++c) {
    const float* values = input + c * channel_stride;
    const __m256 low = _mm256_loadu_ps(values), high = _mm256_loadu_ps(values + 8);
    const float* row_weights = weights + c * block_rows;
    __m256 weight = _mm256_broadcast_ss(row_weights);
    s00 = _mm256_fmadd_ps(weight, low, s00);
    s01 = _mm256_fmadd_ps(weight, high, s01);
    weight = _mm256_broadcast_ss(row_weights + 1);
    s10 = _mm256_fmadd_ps(weight, low, s10);
    s11 = _mm256_fmadd_ps(weight, high, s11);
    weight = _mm256_broadcast_ss(row_weights + 2);
    s20 = _mm256_fmadd_ps(weight, low, s20);
    s21 = _mm256_fmadd_ps(weight, high, s21);
    weight = _mm256_broadcast_ss(row_weights + 3);
    s30 = _mm256_fmadd_ps(weight, low, s30);
    s31 = _mm256_fmadd_ps(weight, high, s31);
  }
  _mm256_storeu_ps(sums[0], s00);
  _mm256_storeu_ps(sums[0] + 8, s01);
  _mm256_storeu_ps(sums[1], s10);
  _mm256_storeu_ps(sums[1] + 8, s11);
  _mm256_storeu_ps(sums[2], s20);
  _mm256_storeu_ps(sums[2] + 8, s21);
  _mm256_storeu_ps(sums[3], s30);
  _mm256_storeu_ps(sums[3] + 8, s31);
}

// kw = 2: rows kx = 0 and kx = 1 of one (oc, ky) interleave into 32 contiguous output floats
// [a0 b0 a1 b1 …]; unpack and lane permutes do that in registers instead of 32 scalar stores.
NPUKIT_TARGET_AVX2 void store_pair_avx2(const float* first, const float* second, float shift, float* target) {
  const __m256 offset = _mm256_set1_ps(shift);
  for (int half = 0; half < 2; ++half) {
    const __m256 a = _mm256_loadu_ps(first + 8 * half), b = _mm256_loadu_ps(second + 8 * half);
    const __m256 low = _mm256_unpacklo_ps(a, b), high = _mm256_unpackhi_ps(a, b);
    _mm256_storeu_ps(target + 16 * half, _mm256_add_ps(_mm256_permute2f128_ps(low, high, 0x20), offset));
    _mm256_storeu_ps(target + 16 * half + 8, _mm256_add_ps(_mm256_permute2f128_ps(low, high, 0x31), offset));
  }
}
#endif

using AccumulateFunction = void (*)(const float*, int64_t, int64_t, const float*, Sums&);
using StorePairFunction = void (*)(const float*, const float*, float, float*);

struct PatchKernels {
  AccumulateFunction accumulate = nullptr;
  StorePairFunction store_pair = nullptr;  // null: the scalar strided store
};

// One task: input row y of image n, weight block b, every pixel of the row, written into its patches.
void patch_row(const PatchKernels& kernels, const float* input, const float* packed, const float* bias, float* output,
               const PatchGeometry& geometry, int64_t n, int64_t y, int64_t b) {
  const int64_t channels = geometry.input_channels, width = geometry.width;
  const int64_t plane = geometry.height * width;
  const int64_t output_width = width * geometry.kernel_width;
  const int64_t output_plane = geometry.height * geometry.kernel_height * output_width;
  const int64_t patch = geometry.kernel_height * geometry.kernel_width;
  const float* row = input + n * channels * plane + y * width;
  const float* weights = packed + b * channels * block_rows;
  alignas(32) Sums sums;
  std::vector<float> padded;  // the row's last, partial block of pixels, zero-padded to block_width
  for (int64_t first = 0; first < width; first += block_width) {
    const int64_t count = std::min(block_width, width - first);
    if (count == block_width) {
      kernels.accumulate(row + first, plane, channels, weights, sums);
    } else {
      padded.assign(static_cast<size_t>(channels * block_width), 0.0f);
      for (int64_t c = 0; c < channels; ++c) {
        std::memcpy(padded.data() + c * block_width, row + c * plane + first, static_cast<size_t>(count) * sizeof(float));
      }
      kernels.accumulate(padded.data(), block_width, channels, weights, sums);
    }
    for (int64_t r = 0; r < block_rows; ++r) {
      const int64_t m = b * block_rows + r;
      if (m >= geometry.rows()) break;
      const int64_t oc = m / patch, ky = m % patch / geometry.kernel_width, kx = m % geometry.kernel_width;
      const float shift = bias ? bias[oc] : 0.0f;
      float* target = output + (n * geometry.output_channels + oc) * output_plane +
                      (y * geometry.kernel_height + ky) * output_width + first * geometry.kernel_width + kx;
      // Blocks start at even rows, so with kw = 2 rows r and r + 1 are kx = 0 and 1 of the same (oc, ky).
      if (kernels.store_pair && geometry.kernel_width == 2 && count == block_width && m + 1 < geometry.rows()) {
        kernels.store_pair(sums[r], sums[r + 1], shift, target);
        ++r;
        continue;
      }
      for (int64_t w = 0; w < count; ++w) target[w * geometry.kernel_width] = sums[r][w] + shift;
    }
  }
}

class PatchDeconvolutionExecutable final : public CpuExecutable {
 public:
  explicit PatchDeconvolutionExecutable(const ir::Node& node) {
    const Tensor& weights = *node.inputs[1]->initializer;
    geometry_.input_channels = weights.dim(0);
    geometry_.output_channels = weights.dim(1);
    geometry_.kernel_height = weights.dim(2);
    geometry_.kernel_width = weights.dim(3);
    const int64_t patch = geometry_.kernel_height * geometry_.kernel_width;
    packed_.assign(static_cast<size_t>(geometry_.blocks() * block_rows * geometry_.input_channels), 0.0f);
    const float* source = weights.data<float>();
    for (int64_t m = 0; m < geometry_.rows(); ++m) {
      const int64_t oc = m / patch, offset = m % patch, b = m / block_rows, r = m % block_rows;
      for (int64_t ic = 0; ic < geometry_.input_channels; ++ic) {
        packed_[static_cast<size_t>((b * geometry_.input_channels + ic) * block_rows + r)] =
            source[(ic * geometry_.output_channels + oc) * patch + offset];
      }
    }
    if (node.input(2)) {
      const Tensor& bias = *node.inputs[2]->initializer;
      bias_.assign(bias.data<float>(), bias.data<float>() + bias.element_count());
    }
    kernels_.accumulate = accumulate_generic;
#if defined(__x86_64__) || defined(__i386__)
    if (vector_math::uses_avx2()) kernels_ = PatchKernels{accumulate_avx2, store_pair_avx2};
#endif
  }

  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32 || input.rank() != 4 || input.dim(1) != geometry_.input_channels) {
      context.invalid("ConvTranspose on cpu needs an f32 NCHW input with " + std::to_string(geometry_.input_channels) +
                      " channels");
    }
    if (!bias_.empty() && static_cast<int64_t>(bias_.size()) != geometry_.output_channels) {
      context.invalid("the bias must have " + std::to_string(geometry_.output_channels) + " values");
    }
    PatchGeometry geometry = geometry_;
    geometry.height = input.dim(2);
    geometry.width = input.dim(3);
    const int64_t batch = input.dim(0);
    Tensor& output = context.allocate_output(
        0, DType::f32,
        {batch, geometry.output_channels, geometry.height * geometry.kernel_height, geometry.width * geometry.kernel_width});
    const float* in = input.data<float>();
    const float* packed = packed_.data();
    const float* bias = bias_.empty() ? nullptr : bias_.data();
    float* out = output.data<float>();
    const int64_t blocks = geometry.blocks();
    const int64_t tasks = batch * geometry.height * blocks;
    const PatchKernels kernels = kernels_;
#pragma omp parallel for schedule(static) if (output.element_count() > 32768)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t b = task % blocks, y = task / blocks % geometry.height, n = task / blocks / geometry.height;
      patch_row(kernels, in, packed, bias, out, geometry, n, y, b);
    }
  }

 private:
  PatchGeometry geometry_;
  std::vector<float> packed_, bias_;
  PatchKernels kernels_;
};

}  // namespace

bool is_patch_deconvolution(const ir::Node& node) {
  if (deconvolution_unsupported_reason(node, 11)) return false;
  const Tensor& weights = *node.inputs[1]->initializer;
  const std::vector<int64_t> kernel{weights.dim(2), weights.dim(3)};
  if (node.get_int("group", 1) != 1) return false;
  if (node.get_ints("kernel_shape", kernel) != kernel || node.get_ints("strides", {1, 1}) != kernel) return false;
  for (int64_t pad : node.get_ints("pads", {0, 0, 0, 0})) {
    if (pad != 0) return false;
  }
  for (int64_t dilation : node.get_ints("dilations", {1, 1})) {
    if (dilation != 1) return false;
  }
  const ir::Value* input = node.input(0);
  return !input->type.shape || input->type.shape->size() == 4;
}

std::unique_ptr<NodeExecutable> prepare_patch_deconvolution(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<PatchDeconvolutionExecutable>(node);
}

}  // namespace npukit::runtime::cpu
