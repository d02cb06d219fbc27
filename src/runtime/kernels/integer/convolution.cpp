#include "runtime/kernels/integer/convolution.h"

#include <algorithm>
#include <limits>
#include <string>

#include "npukit/error.h"
#include "runtime/kernels/integer/integer_tensor.h"

namespace npukit::runtime::integer {

namespace {
int32_t checked_accumulator(int64_t accumulator) {
  // The target accumulates in int32; an int8 model cannot leave it (127 * 255 * 66000 terms would), so leaving
  // it means parameters no chip runs: say so rather than wrap.
  if (accumulator < std::numeric_limits<int32_t>::min() || accumulator > std::numeric_limits<int32_t>::max()) {
    throw Error(ErrorKind::unsupported, "an int32 accumulator overflows (" + std::to_string(accumulator) + ")");
  }
  return static_cast<int32_t>(accumulator);
}
}  // namespace

Tensor convolution(const Tensor& input, const Tensor& weights, const Tensor* bias, const ConvolutionParameters& p) {
  if (input.rank() != 4 || weights.rank() != 4) {
    throw Error(ErrorKind::invalid_argument, "integer Conv takes a 4-D input and 4-D weights (2-D convolution)");
  }
  const int64_t batch = input.dim(0), channels = input.dim(1), height = input.dim(2), width = input.dim(3);
  const int64_t out_channels = weights.dim(0), group_channels = weights.dim(1);
  const int64_t kernel_h = weights.dim(2), kernel_w = weights.dim(3);
  if (p.group < 1 || channels != group_channels * p.group || out_channels % p.group != 0) {
    throw Error(ErrorKind::invalid_argument, "integer Conv: input channels " + std::to_string(channels) +
                                                 " do not match weights " + shape_to_string(weights.shape()) +
                                                 " with group " + std::to_string(p.group));
  }
  if (bias && bias->element_count() != out_channels) {
    throw Error(ErrorKind::invalid_argument, "integer Conv: the bias must have one value per output channel");
  }
  const int64_t out_h = (height + p.pads[0] + p.pads[2] - (p.dilations[0] * (kernel_h - 1) + 1)) / p.strides[0] + 1;
  const int64_t out_w = (width + p.pads[1] + p.pads[3] - (p.dilations[1] * (kernel_w - 1) + 1)) / p.strides[1] + 1;
  if (out_h <= 0 || out_w <= 0) throw Error(ErrorKind::invalid_argument, "integer Conv: the kernel is larger than the padded input");

  // The input centred on its zero point and padded with zeros once: a padding tap then adds (z_x - z_x) * w = 0
  // like any other, without a bounds check per tap.
  const std::vector<int32_t> x = widen(input, "Conv input");
  const int64_t padded_h = height + p.pads[0] + p.pads[2], padded_w = width + p.pads[1] + p.pads[3];
  std::vector<int32_t> padded(static_cast<size_t>(batch * channels * padded_h * padded_w), 0);
  for (int64_t plane = 0; plane < batch * channels; ++plane) {
    for (int64_t h = 0; h < height; ++h) {
      const int32_t* from = x.data() + (plane * height + h) * width;
      int32_t* to = padded.data() + (plane * padded_h + h + p.pads[0]) * padded_w + p.pads[1];
      for (int64_t w = 0; w < width; ++w) to[w] = from[w] - p.input_zero_point;
    }
  }
  std::vector<int32_t> weights_centred = widen(weights, "Conv weights");
  const int64_t weights_per_output = group_channels * kernel_h * kernel_w;
  if (!p.weight_zero_points.empty()) {
    for (int64_t m = 0; m < out_channels; ++m) {
      const int32_t zero_point = p.weight_zero_points[static_cast<size_t>(m) % p.weight_zero_points.size()];
      for (int64_t i = 0; i < weights_per_output; ++i) weights_centred[m * weights_per_output + i] -= zero_point;
    }
  }
  const std::vector<int32_t> b = bias ? widen(*bias, "Conv bias") : std::vector<int32_t>(out_channels, 0);

  // One output plane at a time: each tap (c, kh, kw) adds weight * (a strided window of the padded plane).
  // int64 partial sums: exact whatever the order; the int32 range is checked once per output.
  std::vector<int32_t> y(static_cast<size_t>(batch * out_channels * out_h * out_w));
  std::vector<int64_t> accumulators(static_cast<size_t>(out_h * out_w));
  const int64_t outputs_per_group = out_channels / p.group;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t m = 0; m < out_channels; ++m) {
      std::fill(accumulators.begin(), accumulators.end(), static_cast<int64_t>(b[m]));
      const int64_t first_channel = (m / outputs_per_group) * group_channels;
      const int32_t* filter = weights_centred.data() + m * weights_per_output;
      for (int64_t c = 0; c < group_channels; ++c) {
        const int32_t* plane = padded.data() + (n * channels + first_channel + c) * padded_h * padded_w;
        for (int64_t kh = 0; kh < kernel_h; ++kh) {
          for (int64_t kw = 0; kw < kernel_w; ++kw) {
            const int64_t weight = filter[(c * kernel_h + kh) * kernel_w + kw];
            if (weight == 0) continue;
            const int32_t* window = plane + kh * p.dilations[0] * padded_w + kw * p.dilations[1];
            for (int64_t oh = 0; oh < out_h; ++oh) {
              const int32_t* row = window + oh * p.strides[0] * padded_w;
              int64_t* sums = accumulators.data() + oh * out_w;
              for (int64_t ow = 0; ow < out_w; ++ow) sums[ow] += weight * row[ow * p.strides[1]];
            }
          }
        }
      }
      int32_t* out = y.data() + (n * out_channels + m) * out_h * out_w;
      for (int64_t i = 0; i < out_h * out_w; ++i) out[i] = p.output.finish(checked_accumulator(accumulators[i]), static_cast<size_t>(m));
    }
  }
  return narrow(p.output.dtype, {batch, out_channels, out_h, out_w}, y);
}

}  // namespace npukit::runtime::integer
