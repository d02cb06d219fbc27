#include "runtime/kernels/integer/grouped_weights.h"

#include <algorithm>
#include <limits>
#include <string>

#include "npukit/error.h"
#include "quantization/quantize.h"
#include "runtime/kernels/integer/integer_tensor.h"

namespace npukit::runtime::integer {

namespace {

int32_t checked(int64_t value, const char* what) {
  if (value < std::numeric_limits<int32_t>::min() || value > std::numeric_limits<int32_t>::max()) {
    throw Error(ErrorKind::unsupported, std::string("an int32 ") + what + " overflows (" + std::to_string(value) + ")");
  }
  return static_cast<int32_t>(value);
}

// The groups of each of `channels` channels of `inputs` inputs; throws when the parameters do not fit.
int64_t groups_per_channel(const WeightGroups& groups, int64_t channels, int64_t inputs, const char* op) {
  if (groups.group_size <= 0) throw Error(ErrorKind::invalid_argument, std::string(op) + ": the group size must be > 0");
  const int64_t count = std::max<int64_t>(1, (inputs + groups.group_size - 1) / groups.group_size);
  const size_t expected = static_cast<size_t>(channels * count);
  if (groups.ratios.size() != expected || (!groups.zero_points.empty() && groups.zero_points.size() != expected)) {
    throw Error(ErrorKind::invalid_argument, std::string(op) + ": " + std::to_string(groups.ratios.size()) +
                                                 " group ratios for " + std::to_string(channels) + " channels of " +
                                                 std::to_string(count) + " groups");
  }
  return count;
}

}  // namespace

int32_t grouped_channel_accumulator(double rescaled_sum, int32_t bias) {
  const double rounded = quantization::round_with(rescaled_sum, ir::RoundingMode::half_to_even);
  return checked(static_cast<int64_t>(std::clamp(rounded, -9.3e18, 9.3e18)) + bias, "accumulator");
}

Tensor grouped_convolution(const Tensor& input, const Tensor& weights, const Tensor* bias, const ConvolutionParameters& p,
                           const WeightGroups& groups) {
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
  const int64_t weights_per_output = group_channels * kernel_h * kernel_w;
  const int64_t group_count = groups_per_channel(groups, out_channels, weights_per_output, "integer Conv");
  const int64_t out_h = (height + p.pads[0] + p.pads[2] - (p.dilations[0] * (kernel_h - 1) + 1)) / p.strides[0] + 1;
  const int64_t out_w = (width + p.pads[1] + p.pads[3] - (p.dilations[1] * (kernel_w - 1) + 1)) / p.strides[1] + 1;
  if (out_h <= 0 || out_w <= 0) throw Error(ErrorKind::invalid_argument, "integer Conv: the kernel is larger than the padded input");

  // The input centred on its zero point and padded with zeros (a padding tap adds nothing), as convolution().
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
  if (!groups.zero_points.empty()) {
    for (int64_t m = 0; m < out_channels; ++m) {
      for (int64_t i = 0; i < weights_per_output; ++i) {
        weights_centred[m * weights_per_output + i] -= groups.zero_points[m * group_count + i / groups.group_size];
      }
    }
  }
  const std::vector<int32_t> b = bias ? widen(*bias, "Conv bias") : std::vector<int32_t>(out_channels, 0);

  const int64_t plane_size = out_h * out_w;
  std::vector<int32_t> y(static_cast<size_t>(batch * out_channels * plane_size));
  std::vector<int64_t> group_sums(static_cast<size_t>(plane_size));
  std::vector<double> rescaled(static_cast<size_t>(plane_size));
  const int64_t outputs_per_group = out_channels / p.group;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t m = 0; m < out_channels; ++m) {
      std::fill(rescaled.begin(), rescaled.end(), 0.0);
      const int64_t first_channel = (m / outputs_per_group) * group_channels;
      const int32_t* filter = weights_centred.data() + m * weights_per_output;
      for (int64_t g = 0; g < group_count; ++g) {
        std::fill(group_sums.begin(), group_sums.end(), 0);
        const int64_t end = std::min(weights_per_output, (g + 1) * groups.group_size);
        for (int64_t tap = g * groups.group_size; tap < end; ++tap) {
          const int64_t weight = filter[tap];
          if (weight == 0) continue;
          const int64_t c = tap / (kernel_h * kernel_w), kh = (tap / kernel_w) % kernel_h, kw = tap % kernel_w;
          const int32_t* plane = padded.data() + (n * channels + first_channel + c) * padded_h * padded_w;
          const int32_t* window = plane + kh * p.dilations[0] * padded_w + kw * p.dilations[1];
          for (int64_t oh = 0; oh < out_h; ++oh) {
            const int32_t* row = window + oh * p.strides[0] * padded_w;
            int64_t* sums = group_sums.data() + oh * out_w;
            for (int64_t ow = 0; ow < out_w; ++ow) sums[ow] += weight * row[ow * p.strides[1]];
          }
        }
        const double ratio = groups.ratios[static_cast<size_t>(m * group_count + g)];
        for (int64_t i = 0; i < plane_size; ++i) rescaled[i] += static_cast<double>(checked(group_sums[i], "group sum")) * ratio;
      }
      int32_t* out = y.data() + (n * out_channels + m) * plane_size;
      for (int64_t i = 0; i < plane_size; ++i) {
        out[i] = p.output.finish(grouped_channel_accumulator(rescaled[i], b[m]), static_cast<size_t>(m));
      }
    }
  }
  return narrow(p.output.dtype, {batch, out_channels, out_h, out_w}, y);
}

Tensor grouped_matmul(const Tensor& a, const Tensor& b, const Tensor* bias, const MatMulParameters& p,
                      const WeightGroups& groups) {
  if (a.rank() < 2 || b.rank() != 2) throw Error(ErrorKind::invalid_argument, "integer MatMul with grouped weights takes A of rank >= 2 and B [K, N]");
  const int64_t rows = a.dim(a.rank() - 2), depth = a.dim(a.rank() - 1);
  const int64_t columns = b.dim(1);
  if (b.dim(0) != depth) {
    throw Error(ErrorKind::invalid_argument, "integer MatMul: shapes " + shape_to_string(a.shape()) + " and " +
                                                 shape_to_string(b.shape()) + " do not multiply");
  }
  if (bias && bias->element_count() != columns) {
    throw Error(ErrorKind::invalid_argument, "integer MatMul: the bias must have one value per column");
  }
  const int64_t group_count = groups_per_channel(groups, columns, depth, "integer MatMul");
  int64_t batches = 1;
  for (size_t i = 0; i + 2 < a.rank(); ++i) batches *= a.dim(i);
  std::vector<int32_t> x = widen(a, "MatMul input A");
  for (int32_t& value : x) value -= p.a_zero_point;
  std::vector<int32_t> w = widen(b, "MatMul input B");
  if (!groups.zero_points.empty()) {
    for (int64_t k = 0; k < depth; ++k) {
      for (int64_t j = 0; j < columns; ++j) w[k * columns + j] -= groups.zero_points[j * group_count + k / groups.group_size];
    }
  }
  const std::vector<int32_t> bias_values = bias ? widen(*bias, "MatMul bias") : std::vector<int32_t>(columns, 0);
  std::vector<int32_t> y(static_cast<size_t>(batches * rows * columns));
  for (int64_t batch = 0; batch < batches; ++batch) {
    const int32_t* left = x.data() + batch * rows * depth;
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < columns; ++j) {
        double rescaled = 0;
        for (int64_t g = 0; g < group_count; ++g) {
          int64_t sum = 0;
          const int64_t end = std::min(depth, (g + 1) * groups.group_size);
          for (int64_t k = g * groups.group_size; k < end; ++k) sum += static_cast<int64_t>(left[i * depth + k]) * w[k * columns + j];
          rescaled += static_cast<double>(checked(sum, "group sum")) * groups.ratios[static_cast<size_t>(j * group_count + g)];
        }
        y[(batch * rows + i) * columns + j] =
            p.output.finish(grouped_channel_accumulator(rescaled, bias_values[j]), static_cast<size_t>(j));
      }
    }
  }
  Shape shape = a.shape();
  shape.back() = columns;
  return narrow(p.output.dtype, shape, y);
}

}  // namespace npukit::runtime::integer
