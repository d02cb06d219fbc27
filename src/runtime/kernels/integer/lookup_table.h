// Nonlinearities as a table over the input grid (what TFLite's int8 Logistic / Tanh / HardSwish kernels and
// NPUs that list an op in `lookup_table_ops` do): one output value per possible input value,
//   table[q] = clamp(round(f(s_x * (q - z_x)) / s_y) + z_y)
// computed once in double with the target's rounding; running the op is then one index per element.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ir/quant_params.h"
#include "npukit/tensor.h"

namespace npukit::runtime::integer {

struct LookupTable {
  int32_t input_minimum = -128;  // table[0] is the value for this input
  std::vector<int32_t> values;   // one per input grid value
  DType output_dtype = DType::i8;
};

struct GridParameters {
  double scale = 1;
  int32_t zero_point = 0;
  int32_t minimum = -128;
  int32_t maximum = 127;
};

LookupTable build_lookup_table(const std::function<double(double)>& function, const GridParameters& input,
                               const GridParameters& output, DType output_dtype, ir::RoundingMode rounding);

// The real function of an op the tables cover ("Sigmoid", "Tanh", "HardSwish", "SiLU", and "HardSigmoid" with
// ONNX's alpha and beta); empty when there is none.
std::function<double(double)> lookup_function(const std::string& op_type, double alpha = 0.2, double beta = 0.5);

// Throws Error(invalid_argument) for an input value outside the table's grid.
Tensor look_up(const Tensor& input, const LookupTable& table);

}  // namespace npukit::runtime::integer
