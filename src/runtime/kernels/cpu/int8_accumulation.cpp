#include "runtime/kernels/cpu/int8_accumulation.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <unordered_map>

#include "runtime/kernels/cpu/dnnl_runtime.h"
#include "runtime/kernels/cpu/requantize_lanes_avx512.h"
#include "runtime/kernels/cpu/vector_math.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NPUKIT_INT8_X86 1
#endif

namespace npukit::runtime::cpu::int8 {

bool has_int32_dot_product() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
    case dnnl::cpu_isa::avx2_vnni:
      return true;
    default:
      return false;
  }
}

SplitWeights split_weights_for_pairwise_int16(const int8_t* weights, int64_t count) {
  SplitWeights split;
  split.high.resize(static_cast<size_t>(count));
  split.low.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int value = weights[i];
    const int high = value / 2;  // toward zero: |high| <= 64, and |value - high| <= 64
    split.high[static_cast<size_t>(i)] = static_cast<int8_t>(high);
    split.low[static_cast<size_t>(i)] = static_cast<int8_t>(value - high);
  }
  return split;
}

bool weights_fit_pairwise_int16(const int8_t* weights, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (weights[i] > 64 || weights[i] < -64) return false;
  }
  return true;
}

void shift_to_unsigned(const int8_t* in, uint8_t* out, int64_t count) {
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(static_cast<int>(in[i]) + 128);
}

namespace {

int32_t grid_minimum(DType type) { return type == DType::u8 ? 0 : -128; }
int32_t grid_maximum(DType type) { return type == DType::u8 ? 255 : 127; }

// Half to even without reading the FP environment: nearbyint would follow a caller's fesetround.
float round_half_to_even(float value) {
  const float floor_value = std::floor(value);
  const float fraction = value - floor_value;
  if (fraction > 0.5f) return floor_value + 1.0f;
  if (fraction < 0.5f) return floor_value;
  return std::fmod(floor_value, 2.0f) == 0.0f ? floor_value : floor_value + 1.0f;
}

void requantize_row_scalar(const int32_t* accumulators, int64_t channels, const int32_t* offsets, const float* scales,
                           bool per_channel, int32_t zero_point, DType output_type, void* out) {
  for (int64_t c = 0; c < channels; ++c) {
    const int32_t value = requantize_float_scale_one(accumulators[c], offsets[c], scales[per_channel ? c : 0],
                                                     zero_point, output_type);
    if (output_type == DType::u8) {
      static_cast<uint8_t*>(out)[c] = static_cast<uint8_t>(value);
    } else {
      static_cast<int8_t*>(out)[c] = static_cast<int8_t>(value);
    }
  }
}

#ifdef NPUKIT_INT8_X86
// Eight channels at a time, the same steps as requantize_float_scale_one: int32 add (wrapping), cvtdq2ps
// (round to nearest even), multiply, clamp in float, round half to even (explicit, not MXCSR's mode), + zp.
// The clamp bounds are integers, so clamping before rounding equals clamping after.
NPUKIT_TARGET_AVX2 void requantize_row_avx2(const int32_t* accumulators, int64_t channels, const int32_t* offsets,
                                            const float* scales, bool per_channel, int32_t zero_point,
                                            DType output_type, void* out) {
  const __m256 minimum = _mm256_set1_ps(static_cast<float>(grid_minimum(output_type) - zero_point));
  const __m256 maximum = _mm256_set1_ps(static_cast<float>(grid_maximum(output_type) - zero_point));
  const __m256i zero_point_vector = _mm256_set1_epi32(zero_point);
  const __m256 shared_scale = _mm256_set1_ps(scales[0]);
  // The results sit inside the grid after the clamp, so the saturating packs below change nothing: they only
  // narrow 32 → 16 → 8 bits; the permute gathers the two 4-byte groups the in-lane packs leave.
  const __m256i gather = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);
  const bool is_unsigned = output_type == DType::u8;
  int64_t c = 0;
  for (; c + 8 <= channels; c += 8) {
    __m256i sum = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(accumulators + c)),
                                   _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets + c)));
    const __m256 scale = per_channel ? _mm256_loadu_ps(scales + c) : shared_scale;
    __m256 scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), scale);
    scaled = _mm256_min_ps(_mm256_max_ps(scaled, minimum), maximum);
    scaled = _mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256i result = _mm256_add_epi32(_mm256_cvttps_epi32(scaled), zero_point_vector);
    const __m256i words = _mm256_packs_epi32(result, result);
    const __m256i bytes = is_unsigned ? _mm256_packus_epi16(words, words) : _mm256_packs_epi16(words, words);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(static_cast<uint8_t*>(out) + c),
                     _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, gather)));
  }
  if (c < channels) {
    const size_t element = output_type == DType::u8 ? sizeof(uint8_t) : sizeof(int8_t);
    requantize_row_scalar(accumulators + c, channels - c, offsets + c, per_channel ? scales + c : scales, per_channel,
                          zero_point, output_type, static_cast<char*>(out) + c * static_cast<int64_t>(element));
  }
}

// Blocks of 64 channels narrowed into one 64-byte store (requantize_lanes_avx512.h), the last block's missing lanes
// loaded as zeros and left out of the store by a byte mask. Without the float clamp where every scale allows it.
NPUKIT_TARGET_AVX512_REQUANTIZE void requantize_row_avx512(const int32_t* accumulators, int64_t channels,
                                                           const int32_t* offsets, const float* scales,
                                                           bool per_channel, bool clamp, int32_t zero_point,
                                                           DType output_type, void* out) {
  const __m512 minimum = _mm512_set1_ps(static_cast<float>(grid_minimum(output_type) - zero_point));
  const __m512 maximum = _mm512_set1_ps(static_cast<float>(grid_maximum(output_type) - zero_point));
  const __m512i zero_point_words = _mm512_set1_epi16(static_cast<int16_t>(zero_point));
  const __m512 shared_scale = _mm512_set1_ps(scales[0]);
  const bool is_unsigned = output_type == DType::u8;
  uint8_t* destination = static_cast<uint8_t*>(out);
  for (int64_t c = 0; c < channels; c += 64) {
    __m512i rounded[4];
    for (int part = 0; part < 4; ++part) {
      const int64_t at = c + 16 * part, left = channels - at;
      if (left <= 0) {
        rounded[part] = _mm512_setzero_si512();
        continue;
      }
      __m512i sums, channel_offsets;
      __m512 scale = shared_scale;
      if (left >= 16) {
        sums = _mm512_loadu_si512(accumulators + at);
        channel_offsets = _mm512_loadu_si512(offsets + at);
        if (per_channel) scale = _mm512_loadu_ps(scales + at);
      } else {
        const __mmask16 mask = static_cast<__mmask16>((1u << left) - 1u);
        sums = _mm512_maskz_loadu_epi32(mask, accumulators + at);
        channel_offsets = _mm512_maskz_loadu_epi32(mask, offsets + at);
        if (per_channel) scale = _mm512_maskz_loadu_ps(mask, scales + at);
      }
      rounded[part] = clamp ? round_clamped_lanes_avx512(sums, channel_offsets, scale, minimum, maximum)
                            : round_scaled_lanes_avx512(sums, channel_offsets, scale);
    }
    const __m512i bytes =
        narrow_rounded_to_bytes_avx512(rounded[0], rounded[1], rounded[2], rounded[3], zero_point_words, is_unsigned);
    const int64_t left = channels - c;
    if (left >= 64) {
      _mm512_storeu_si512(destination + c, bytes);
    } else {
      _mm512_mask_storeu_epi8(destination + c, (static_cast<__mmask64>(1) << left) - 1, bytes);
    }
  }
}

bool uses_avx512() {
  static const bool available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return available;
}
#endif

}  // namespace

int32_t requantize_float_scale_one(int32_t accumulator, int32_t offset, float scale, int32_t zero_point,
                                   DType output_type) {
  // int32 addition wraps in ORT (paddd); do it in uint32 to keep C++ defined.
  const int32_t sum = static_cast<int32_t>(static_cast<uint32_t>(accumulator) + static_cast<uint32_t>(offset));
  float scaled = static_cast<float>(sum) * scale;
  // As MAXPS / MINPS: a NaN gives the bound (the second operand).
  const float minimum = static_cast<float>(grid_minimum(output_type) - zero_point);
  const float maximum = static_cast<float>(grid_maximum(output_type) - zero_point);
  scaled = scaled > minimum ? scaled : minimum;
  scaled = scaled < maximum ? scaled : maximum;
  return static_cast<int32_t>(round_half_to_even(scaled)) + zero_point;
}

void requantize_float_scale_rows(const int32_t* accumulators, int64_t rows, int64_t channels,
                                 const int32_t* channel_offsets, const float* scales, bool per_channel,
                                 int32_t zero_point, DType output_type, void* out) {
  if (output_type != DType::u8 && output_type != DType::i8) {
    throw Error(ErrorKind::internal, "int8 requantization writes u8 or s8 only");
  }
  const size_t element = 1;
  const bool vector = vector_math::uses_avx2();
#ifdef NPUKIT_INT8_X86
  const bool wide = vector && uses_avx512();
  const bool clamp = !scales_fit_unclamped(scales, per_channel ? static_cast<long>(channels) : 1L);
#endif
#pragma omp parallel for schedule(static) if (rows * channels > 16384)
  for (int64_t row = 0; row < rows; ++row) {
    const int32_t* source = accumulators + row * channels;
    void* destination = static_cast<char*>(out) + row * channels * static_cast<int64_t>(element);
#ifdef NPUKIT_INT8_X86
    if (wide) {
      requantize_row_avx512(source, channels, channel_offsets, scales, per_channel, clamp, zero_point, output_type,
                            destination);
      continue;
    }
    if (vector) {
      requantize_row_avx2(source, channels, channel_offsets, scales, per_channel, zero_point, output_type, destination);
      continue;
    }
#endif
    (void)vector;
    requantize_row_scalar(source, channels, channel_offsets, scales, per_channel, zero_point, output_type, destination);
  }
}

void requantize_float_scale_rows_with_row_offsets(const int32_t* accumulators, int64_t rows, int64_t channels,
                                                  const int32_t* const* row_offsets, int64_t offset_rows,
                                                  const float* scales, bool per_channel, int32_t zero_point,
                                                  DType output_type, void* out) {
  if (output_type != DType::u8 && output_type != DType::i8) {
    throw Error(ErrorKind::internal, "int8 requantization writes u8 or s8 only");
  }
  if (offset_rows <= 0) throw Error(ErrorKind::internal, "int8 requantization needs offsets");
  const bool vector = vector_math::uses_avx2();
#ifdef NPUKIT_INT8_X86
  const bool wide = vector && uses_avx512();
  const bool clamp = !scales_fit_unclamped(scales, per_channel ? static_cast<long>(channels) : 1L);
#endif
#pragma omp parallel for schedule(static) if (rows * channels > 16384)
  for (int64_t row = 0; row < rows; ++row) {
    const int32_t* source = accumulators + row * channels;
    const int32_t* offsets = row_offsets[row % offset_rows];
    void* destination = static_cast<char*>(out) + row * channels;
#ifdef NPUKIT_INT8_X86
    if (wide) {
      requantize_row_avx512(source, channels, offsets, scales, per_channel, clamp, zero_point, output_type,
                            destination);
      continue;
    }
    if (vector) {
      requantize_row_avx2(source, channels, offsets, scales, per_channel, zero_point, output_type, destination);
      continue;
    }
#endif
    (void)vector;
    requantize_row_scalar(source, channels, offsets, scales, per_channel, zero_point, output_type, destination);
  }
}

namespace {

using tag = dnnl::memory::format_tag;
using data_type = dnnl::memory::data_type;

// Split or not: split only where a pair can saturate (no VNNI, and some |w| > 64).
int copies_for(const int8_t* weights, int64_t count) {
  return has_int32_dot_product() || weights_fit_pairwise_int16(weights, count) ? 1 : 2;
}

void execute(const dnnl::primitive& primitive, const dnnl::memory::desc& source_desc, const void* source,
             const dnnl::memory& weights, const dnnl::memory::desc& destination_desc, void* destination,
             size_t scratchpad_bytes) {
  dnnl::stream stream(engine());
  std::unordered_map<int, dnnl::memory> arguments{
      {DNNL_ARG_SRC, dnnl::memory(source_desc, engine(), const_cast<void*>(source))},
      {DNNL_ARG_WEIGHTS, weights},
      {DNNL_ARG_DST, dnnl::memory(destination_desc, engine(), destination)}};
  if (scratchpad_bytes) {
    arguments[DNNL_ARG_SCRATCHPAD] =
        dnnl::memory(dnnl::memory::desc({static_cast<dnnl::memory::dim>(scratchpad_bytes)}, data_type::u8, tag::a),
                     engine(), scratch(ScratchSlot::primitive, scratchpad_bytes));
  }
  primitive.execute(stream, arguments);
  stream.wait();
}

dnnl::memory pack(const dnnl::memory::desc& plain, const dnnl::memory::desc& packed, const void* data) {
  dnnl::memory plain_memory(plain, engine(), const_cast<void*>(data));
  dnnl::memory result(packed, engine());
  dnnl::stream stream(engine());
  dnnl::reorder(plain_memory, result).execute(stream, plain_memory, result);
  stream.wait();
  return result;
}

}  // namespace

ExactInt8Convolution::ExactInt8Convolution(const ConvolutionShape& shape, const int8_t* weights) : shape_(shape) {
  const int64_t group_inputs = shape.channels / shape.groups;
  const int64_t group_outputs = shape.output_channels / shape.groups;
  const int64_t window = group_inputs * shape.kernel_height * shape.kernel_width;
  const int64_t count = shape.output_channels * window;
  copies_ = copies_for(weights, count);
  if (shape.signed_source && !has_int32_dot_product()) {
    throw Error(ErrorKind::internal, "s8 activations on oneDNN are exact with VNNI only");
  }
  const int64_t taps = shape.kernel_height * shape.kernel_width;
  weight_sums_.assign(static_cast<size_t>(shape.output_channels), 0);
  tap_weight_sums_.assign(static_cast<size_t>(shape.output_channels * taps), 0);
  for (int64_t oc = 0; oc < shape.output_channels; ++oc) {
    for (int64_t i = 0; i < window; ++i) {
      weight_sums_[static_cast<size_t>(oc)] += weights[oc * window + i];
      tap_weight_sums_[static_cast<size_t>(oc * taps + i % taps)] += weights[oc * window + i];
    }
  }
  // The weights as oneDNN reads them: [oc][copies · group_inputs][kh][kw], copy 0 = high half, copy 1 = low.
  std::vector<int8_t> arranged(static_cast<size_t>(count * copies_));
  if (copies_ == 1) {
    std::copy(weights, weights + count, arranged.begin());
  } else {
    const SplitWeights split = split_weights_for_pairwise_int16(weights, count);
    for (int64_t oc = 0; oc < shape.output_channels; ++oc) {
      std::copy(split.high.begin() + oc * window, split.high.begin() + (oc + 1) * window,
                arranged.begin() + oc * 2 * window);
      std::copy(split.low.begin() + oc * window, split.low.begin() + (oc + 1) * window,
                arranged.begin() + oc * 2 * window + window);
    }
  }
  const int64_t source_channels = shape.channels * copies_;
  source_ = dnnl::memory::desc({shape.batch, source_channels, shape.height, shape.width},
                               shape.signed_source ? data_type::s8 : data_type::u8, tag::nhwc);
  destination_ = dnnl::memory::desc({shape.batch, shape.output_channels, shape.output_height(), shape.output_width()},
                                    data_type::s32, tag::nhwc);
  dnnl::memory::dims weight_dims, strides{shape.stride_height, shape.stride_width},
      dilations{shape.dilation_height - 1, shape.dilation_width - 1}, padding{shape.pad_top, shape.pad_left},
      padding_end{shape.pad_bottom, shape.pad_right};
  dnnl::memory::desc plain_weights;
  if (shape.groups == 1) {
    weight_dims = {shape.output_channels, source_channels, shape.kernel_height, shape.kernel_width};
    plain_weights = dnnl::memory::desc(weight_dims, data_type::s8, tag::oihw);
  } else {
    weight_dims = {shape.groups, group_outputs, group_inputs * copies_, shape.kernel_height, shape.kernel_width};
    plain_weights = dnnl::memory::desc(weight_dims, data_type::s8, tag::goihw);
  }
  const dnnl::memory::desc any_weights(weight_dims, data_type::s8, tag::any);
  dnnl::primitive_attr attributes;
  attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::convolution_forward::desc description(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                              source_, any_weights, destination_, strides, dilations, padding, padding_end);
  dnnl::convolution_forward::primitive_desc primitive_description(description, attributes, engine());
  primitive_ = dnnl::convolution_forward(primitive_description);
  scratchpad_bytes_ = primitive_description.scratchpad_desc().get_size();
  weights_ = pack(plain_weights, primitive_description.weights_desc(), arranged.data());
}

int64_t ExactInt8Convolution::source_channel(int64_t channel, int copy) const {
  const int64_t group_inputs = shape_.channels / shape_.groups;
  const int64_t group = channel / group_inputs;
  return group * group_inputs * copies_ + copy * group_inputs + channel % group_inputs;
}

void ExactInt8Convolution::run(const void* source, int32_t* accumulators) const {
  execute(primitive_, source_, source, weights_, destination_, accumulators, scratchpad_bytes_);
}

// s32 bytes of one block of a blocked pointwise convolution: half of a Zen 4 / Ice Lake core's L2 (1 MB and more on
// current x86), the rest for the block's input rows and the weights. Measured on MobileNetV2 uint8 (the expansion
// layers' share, `npukit bench --profile`, AMD EPYC Zen 4): 32 KiB blocks 2.3 ms, 128 KiB 1.7 ms, 384 KiB to 1 MiB
// 1.52-1.56 ms, unblocked 1.80-1.87 ms; oneDNN's cost per call dominates small blocks.
constexpr int64_t pointwise_block_bytes = 512 * 1024;

PointwiseRowBlocks pointwise_row_blocks(const ConvolutionShape& shape, const int8_t* weights) {
  PointwiseRowBlocks blocks;
  const int64_t row_bytes = shape.width * shape.output_channels * static_cast<int64_t>(sizeof(int32_t));
  const int64_t all_rows = shape.batch * shape.height;
  if (all_rows * row_bytes <= 2 * pointwise_block_bytes) return blocks;
  blocks.block_rows = std::max<int64_t>(1, pointwise_block_bytes / row_bytes);
  ConvolutionShape block = shape;
  block.batch = 1;
  block.height = blocks.block_rows;
  blocks.block = std::make_unique<ExactInt8Convolution>(block, weights);
  if (all_rows % blocks.block_rows != 0) {
    block.height = all_rows % blocks.block_rows;
    blocks.last_block = std::make_unique<ExactInt8Convolution>(block, weights);
  }
  return blocks;
}

BorderOffsets border_offsets(const ExactInt8Convolution& convolution, const std::vector<int32_t>& base,
                             int32_t zero_point) {
  const ConvolutionShape& shape = convolution.shape();
  const int64_t output_height = shape.output_height(), output_width = shape.output_width();
  const int64_t taps = shape.kernel_height * shape.kernel_width;
  // Which kernel rows (columns) of an output row (column) read inside the image: a bit mask per position.
  auto valid_taps = [](int64_t position, int64_t stride, int64_t pad, int64_t dilation, int64_t kernel, int64_t size) {
    std::vector<bool> valid(static_cast<size_t>(kernel));
    for (int64_t k = 0; k < kernel; ++k) {
      const int64_t at = position * stride - pad + k * dilation;
      valid[static_cast<size_t>(k)] = at >= 0 && at < size;
    }
    return valid;
  };
  BorderOffsets result;
  result.pixel_row.resize(static_cast<size_t>(output_height * output_width));
  std::map<std::pair<std::vector<bool>, std::vector<bool>>, int32_t> rows_by_window;
  const uint32_t zero = static_cast<uint32_t>(zero_point);
  for (int64_t y = 0; y < output_height; ++y) {
    const std::vector<bool> rows = valid_taps(y, shape.stride_height, shape.pad_top, shape.dilation_height,
                                              shape.kernel_height, shape.height);
    for (int64_t x = 0; x < output_width; ++x) {
      std::vector<bool> columns = valid_taps(x, shape.stride_width, shape.pad_left, shape.dilation_width,
                                             shape.kernel_width, shape.width);
      auto key = std::make_pair(rows, std::move(columns));
      auto found = rows_by_window.find(key);
      if (found == rows_by_window.end()) {
        std::vector<int32_t> offsets(base.size());
        for (size_t oc = 0; oc < base.size(); ++oc) {
          uint32_t inside = 0;  // wrapping, as the int32 accumulator
          for (int64_t kh = 0; kh < shape.kernel_height; ++kh) {
            for (int64_t kw = 0; kw < shape.kernel_width; ++kw) {
              if (key.first[static_cast<size_t>(kh)] && key.second[static_cast<size_t>(kw)]) {
                inside += static_cast<uint32_t>(
                    convolution.tap_weight_sums()[oc * static_cast<size_t>(taps) + static_cast<size_t>(kh * shape.kernel_width + kw)]);
              }
            }
          }
          offsets[oc] = static_cast<int32_t>(static_cast<uint32_t>(base[oc]) - zero * inside);
        }
        found = rows_by_window.emplace(std::move(key), static_cast<int32_t>(result.rows.size())).first;
        result.rows.push_back(std::move(offsets));
      }
      result.pixel_row[static_cast<size_t>(y * output_width + x)] = found->second;
    }
  }
  return result;
}

ExactInt8MatMul::ExactInt8MatMul(int64_t rows, int64_t depth, int64_t columns, const int8_t* weights)
    : rows_(rows), depth_(depth), columns_(columns) {
  const int64_t count = depth * columns;
  copies_ = copies_for(weights, count);
  weight_sums_.assign(static_cast<size_t>(columns), 0);
  for (int64_t k = 0; k < depth; ++k) {
    for (int64_t n = 0; n < columns; ++n) weight_sums_[static_cast<size_t>(n)] += weights[k * columns + n];
  }
  // [copies · depth, columns]: the high halves' rows, then the low halves'.
  std::vector<int8_t> arranged(static_cast<size_t>(count * copies_));
  if (copies_ == 1) {
    std::copy(weights, weights + count, arranged.begin());
  } else {
    const SplitWeights split = split_weights_for_pairwise_int16(weights, count);
    std::copy(split.high.begin(), split.high.end(), arranged.begin());
    std::copy(split.low.begin(), split.low.end(), arranged.begin() + count);
  }
  const int64_t source_depth = depth * copies_;
  source_ = dnnl::memory::desc({rows, source_depth}, data_type::u8, tag::ab);
  destination_ = dnnl::memory::desc({rows, columns}, data_type::s32, tag::ab);
  const dnnl::memory::desc any_weights({source_depth, columns}, data_type::s8, tag::any);
  dnnl::primitive_attr attributes;
  attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::matmul::desc description(source_, any_weights, destination_);
  dnnl::matmul::primitive_desc primitive_description(description, attributes, engine());
  primitive_ = dnnl::matmul(primitive_description);
  scratchpad_bytes_ = primitive_description.scratchpad_desc().get_size();
  weights_ = pack(dnnl::memory::desc({source_depth, columns}, data_type::s8, tag::ab),
                  primitive_description.weights_desc(), arranged.data());
}

void ExactInt8MatMul::run(const uint8_t* source, int32_t* accumulators) const {
  execute(primitive_, source_, source, weights_, destination_, accumulators, scratchpad_bytes_);
}

}  // namespace npukit::runtime::cpu::int8
