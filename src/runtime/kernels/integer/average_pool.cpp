#include "runtime/kernels/integer/average_pool.h"

#include <algorithm>
#include <string>

#include "npukit/error.h"
#include "runtime/kernels/integer/integer_tensor.h"

namespace npukit::runtime::integer {

int32_t rounded_mean(int64_t sum, int64_t count) {
  return static_cast<int32_t>(sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count);
}

Tensor average_pool(const Tensor& input, const AveragePoolParameters& p) {
  if (input.rank() != 4) throw Error(ErrorKind::invalid_argument, "integer AveragePool takes a 4-D input");
  const int64_t batch = input.dim(0), channels = input.dim(1), height = input.dim(2), width = input.dim(3);
  const bool global = p.kernel.empty();
  const int64_t kernel_h = global ? height : p.kernel[0], kernel_w = global ? width : p.kernel[1];
  const int64_t stride_h = global ? 1 : p.strides[0], stride_w = global ? 1 : p.strides[1];
  const std::vector<int64_t> pads = global ? std::vector<int64_t>{0, 0, 0, 0} : p.pads;
  const int64_t out_h = (height + pads[0] + pads[2] - kernel_h) / stride_h + 1;
  const int64_t out_w = (width + pads[1] + pads[3] - kernel_w) / stride_w + 1;
  if (out_h <= 0 || out_w <= 0) throw Error(ErrorKind::invalid_argument, "integer AveragePool: the window is larger than the padded input");
  const std::vector<int32_t> x = widen(input, "AveragePool input");
  std::vector<int32_t> y(static_cast<size_t>(batch * channels * out_h * out_w));
  size_t index = 0;
  for (int64_t plane = 0; plane < batch * channels; ++plane) {
    const int32_t* values = x.data() + plane * height * width;
    for (int64_t oh = 0; oh < out_h; ++oh) {
      for (int64_t ow = 0; ow < out_w; ++ow) {
        const int64_t top = oh * stride_h - pads[0], left = ow * stride_w - pads[1];
        const int64_t h_begin = std::max<int64_t>(top, 0), h_end = std::min(top + kernel_h, height);
        const int64_t w_begin = std::max<int64_t>(left, 0), w_end = std::min(left + kernel_w, width);
        int64_t sum = 0;
        for (int64_t ih = h_begin; ih < h_end; ++ih) {
          for (int64_t iw = w_begin; iw < w_end; ++iw) sum += values[ih * width + iw];
        }
        int64_t count = (h_end - h_begin) * (w_end - w_begin);
        if (p.count_include_pad) {
          // ONNX counts the padded window, not the part beyond the pads.
          count = (std::min(top + kernel_h, height + pads[2]) - top) * (std::min(left + kernel_w, width + pads[3]) - left);
        }
        if (count <= 0) throw Error(ErrorKind::invalid_argument, "integer AveragePool: a window covers no element");
        y[index++] = std::clamp(rounded_mean(sum, count), p.minimum, p.maximum);
      }
    }
  }
  return narrow(input.dtype(), {batch, channels, out_h, out_w}, y);
}

}  // namespace npukit::runtime::integer
