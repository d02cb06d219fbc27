// The error between two tensors that should hold the same real values: one value of a model computed two ways
// (a float model and its QDQ export, one model on two backends). `a` is the reference, `b` the one judged.
//
//   SQNR   = 10·log10(Σa² / Σ(a−b)²) dB: +∞ when a and b are identical, −∞ when a is all zero and b is not;
//   cosine = Σab / (|a|·|b|): 1 when both are all zero, unknown when exactly one is;
//   max and mean of |a−b| over the finite elements (max: +∞ when a non-finite element disagrees);
//   for a value on an integer grid (an integer tensor, or the output of a DequantizeLinear): a histogram of
//   |a−b| in steps of the grid (LSB), |a−b| / scale rounded to the nearest step, in bins 0, 1, 2, 3, 4–7, ≥8.
//
// Integer tensors with quantization parameters are compared as the real values they stand for,
// (q − zero point) · scale, so SQNR means the same for an int8 tensor as for its dequantized float; integer
// tensors without parameters (shapes, indices) and booleans are compared as the numbers they hold.
// Elements where either side is NaN or infinite are left out of the sums and counted apart (two equal
// infinities, or two NaNs, agree); a value with such a mismatch gets SQNR −∞: its error is unbounded.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/quant_params.h"
#include "npukit/tensor.h"

namespace npukit::compare {

// Bins of the LSB histogram: 0, 1, 2, 3, 4–7 and 8 or more steps of the grid.
inline constexpr size_t lsb_bin_count = 6;
extern const std::array<const char*, lsb_bin_count> lsb_bin_labels;  // "0", "1", "2", "3", "4-7", ">=8"

struct LsbHistogram {
  ir::QuantParams params;                       // the grid the steps are measured on
  std::array<int64_t, lsb_bin_count> counts{};  // elements per bin (finite pairs only)
  int64_t largest_step = 0;                     // the largest |a−b| in steps
};

struct LayerMetrics {
  int64_t elements = 0;
  int64_t non_finite_mismatches = 0;  // elements where one side is NaN/±∞ and the other differs
  bool identical = false;             // every element equal (as real values), non-finite ones included
  double sqnr_db = 0;                 // +∞ when identical; −∞ when the reference is all zero and b is not
  std::optional<double> cosine;       // nullopt when exactly one side is all zero
  double max_abs_error = 0;
  double mean_abs_error = 0;
  double reference_peak = 0;          // max |a|, to read the absolute errors against
  std::optional<LsbHistogram> lsb;    // when a grid is known
};

// The real values a tensor stands for, in double: (q − zero point) · scale when `params` are given (integer
// tensors), the numbers themselves otherwise (floats, integers without parameters, booleans as 0 / 1).
std::vector<double> real_values(const Tensor& tensor, const ir::QuantParams* params);

// The scale that applies to each element of a tensor of `shape` under `params` (per tensor, per channel along
// params.axis, or per group of params.group_size within each channel: ir/quant_params.h). Throws Error(invalid_argument) when the parameters
// do not fit the shape.
std::vector<double> element_scales(const Shape& shape, const ir::QuantParams& params);

// Compares two tensors of equal shape (the caller checks). `a_params` / `b_params`: the integer grid of each
// side's tensor when that tensor holds integers (q), null otherwise. `grid`: the grid to count LSB steps on
// (usually the quantized side's), null for no histogram.
LayerMetrics compare_tensors(const Tensor& a, const Tensor& b, const ir::QuantParams* a_params, const ir::QuantParams* b_params,
                             const ir::QuantParams* grid);

// The same on plain numbers (the tests' hand-computed vectors); `scales`: one per element for the histogram,
// empty for none.
LayerMetrics compare_values(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& scales = {});

// "0:97.1% 1:2.9%": the share of elements in each non-empty bin, for tables; "" without a histogram.
std::string format_lsb_histogram(const std::optional<LsbHistogram>& histogram);

// "41.2 dB", "∞ (identical)", "−∞ (reference all zero)" for tables.
std::string format_sqnr(double sqnr_db);

}  // namespace npukit::compare
