// Helpers of `npukit run` for tensor contents: summary statistics of outputs and random inputs.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "npukit/tensor.h"

namespace npukit::cli {

struct TensorValueSummary {
  int64_t element_count = 0;
  int64_t finite_count = 0;  // min, max and mean are over these
  int64_t nan_count = 0;
  int64_t infinity_count = 0;
  double minimum = 0;
  double maximum = 0;
  double mean = 0;
  std::vector<double> first_values;  // up to `first` elements in row-major order
};

TensorValueSummary summarize_values(const Tensor& tensor, size_t first = 5);

// A tensor of the given dtype and shape with seeded random contents: floats uniform in [0, 1) (what
// normalised images look like); u8 over 0..255 and i8 over -128..127 (raw or quantized pixels); bool 0/1;
// other integers in 0..9, small enough to be valid indices or counts for most models. The same seed gives
// the same tensor on every platform (mt19937_64 is fully specified; its outputs are mapped by hand).
Tensor random_tensor(DType dtype, const Shape& shape, std::mt19937_64& generator);

// A name safe to use as a file name: letters, digits, '.', '-', '_' kept, everything else '_'; never empty,
// never "." or "..".
std::string sanitize_file_name(const std::string& name);

}  // namespace npukit::cli
