// Where the error enters: the value whose SQNR drops most below its inputs' — in a model that INT8 broke, the
// layer that broke it.
//
// For each compared value computed by a layer (a node other than Quantize/DequantizeLinear, on either side):
//   inputs' SQNR = the lowest SQNR among the nearest compared values it is computed from (ModelComparison's
//                  `inputs`; weights are not inputs: a layer whose weights were perturbed shows its drop here);
//   drop         = inputs' SQNR − its own SQNR.
// SQNRs are clamped to [−150, 150] dB first: an identical value (+∞) counts as 150 dB, just above the ≈146 dB
// that one float32 rounding leaves, so a layer whose inputs agree bit for bit and whose output differs only by
// float rounding drops a few dB, while one that differs for real (a perturbed weight) drops by a hundred.
// A value read straight from a quantization of its inputs (a graph input's QuantizeLinear/DequantizeLinear) is
// no layer: quantizing an input costs the SQNR INT8 allows, every time, and would otherwise always be named.
// Ties go to the earlier value.
#pragma once

#include <optional>
#include <string>

#include "compare/model_comparison.h"

namespace npukit::compare {

inline constexpr double sqnr_clamp_db = 150;

// When every compared value stays above this SQNR, the two sides differ by float32 rounding only (reordered
// sums, fused kernels: a deep float32 network on two backends keeps 90 dB and more), and the verdict says so
// rather than blame a layer. One fp16 rounding gives about 68 dB, INT8 30–50 dB.
inline constexpr double float_rounding_sqnr_db = 80;

struct ErrorEntry {
  size_t value = 0;        // index into ModelComparison::values
  double drop_db = 0;
  double inputs_sqnr_db = 0;
  double sqnr_db = 0;
};

// Fills inputs_sqnr_db, drop_db and error_enters_here of `comparison`'s values and returns the entry; nullopt
// when no value drops (everything identical, or no value computed by a layer was compared).
std::optional<ErrorEntry> locate_error_entry(ModelComparison& comparison);

// One line for people: "error enters at 'conv2' (Conv), value 'd': identical inputs → 23.4 dB (drop 127 dB);
// lowest SQNR 19.2 dB at 'y'",
// "A and B agree bit for bit on all 14 compared values", ...
std::string verdict(const ModelComparison& comparison, const std::optional<ErrorEntry>& entry);

}  // namespace npukit::compare
