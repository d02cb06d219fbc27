#include "runtime/kernels/integer/requantize.h"

#include <vector>

#include "npukit/error.h"
#include "quantization/quantize.h"
#include "runtime/kernels/integer/integer_tensor.h"

namespace npukit::runtime::integer {

Tensor requantize(const Tensor& input, const RequantizeParameters& p) {
  std::vector<int32_t> values = widen(input, "Requantize input");
  for (int32_t& value : values) value = p.output.finish(value - p.input_zero_point, 0);
  return narrow(p.output.dtype, input.shape(), values);
}

Tensor quantize(const Tensor& real, const QuantizeParameters& p) {
  if (real.dtype() != DType::f32) {
    throw Error(ErrorKind::invalid_argument, "Quantize takes a float32 tensor, got " + std::string(dtype_name(real.dtype())));
  }
  const float* values = real.data<float>();
  std::vector<int32_t> quantized(static_cast<size_t>(real.element_count()));
  const quantization::Grid grid{p.minimum, p.maximum};
  for (size_t i = 0; i < quantized.size(); ++i) {
    quantized[i] = static_cast<int32_t>(
        quantization::quantize_value(values[i], p.scale, p.zero_point, grid, p.rounding, p.clamp_order));
  }
  return narrow(p.dtype, real.shape(), quantized);
}

}  // namespace npukit::runtime::integer
