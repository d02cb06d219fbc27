#include "runtime/kernels/integer/lookup_table.h"

#include <algorithm>
#include <cmath>

#include "npukit/error.h"
#include "quantization/quantize.h"
#include "runtime/kernels/integer/integer_tensor.h"

namespace npukit::runtime::integer {

LookupTable build_lookup_table(const std::function<double(double)>& function, const GridParameters& input,
                               const GridParameters& output, DType output_dtype, ir::RoundingMode rounding) {
  if (input.maximum - input.minimum > 65535) throw Error(ErrorKind::unsupported, "a lookup table covers 16-bit grids at most");
  LookupTable table;
  table.input_minimum = input.minimum;
  table.output_dtype = output_dtype;
  for (int32_t q = input.minimum; q <= input.maximum; ++q) {
    const double real = input.scale * (q - input.zero_point);
    const double rounded = quantization::round_with(function(real) / output.scale, rounding);
    const double shifted = rounded + output.zero_point;
    table.values.push_back(static_cast<int32_t>(std::clamp<double>(shifted, output.minimum, output.maximum)));
  }
  return table;
}

std::function<double(double)> lookup_function(const std::string& op_type, double alpha, double beta) {
  if (op_type == "Sigmoid") return [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  if (op_type == "Tanh") return [](double x) { return std::tanh(x); };
  if (op_type == "HardSigmoid") return [alpha, beta](double x) { return std::clamp(alpha * x + beta, 0.0, 1.0); };
  if (op_type == "HardSwish") return [](double x) { return x * std::clamp(x + 3.0, 0.0, 6.0) / 6.0; };
  if (op_type == "SiLU") return [](double x) { return x / (1.0 + std::exp(-x)); };
  return {};
}

Tensor look_up(const Tensor& input, const LookupTable& table) {
  std::vector<int32_t> values = widen(input, "lookup input");
  const int64_t size = static_cast<int64_t>(table.values.size());
  for (int32_t& value : values) {
    const int64_t index = static_cast<int64_t>(value) - table.input_minimum;
    if (index < 0 || index >= size) throw Error(ErrorKind::invalid_argument, "a value lies outside the lookup table's grid");
    value = table.values[static_cast<size_t>(index)];
  }
  return narrow(table.output_dtype, input.shape(), values);
}

}  // namespace npukit::runtime::integer
