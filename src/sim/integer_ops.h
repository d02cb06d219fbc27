// The ops of the "npukit.integer" domain that lower_to_integer writes and the sim backend runs (attributes:
// see sim/lowering.cpp, which writes them, and sim/integer_executables.cpp, which reads them).
#pragma once

namespace npukit::sim::ops {

inline constexpr const char* convolution = "IntegerConv";         // x, w, [bias] -> y
inline constexpr const char* matmul = "IntegerMatMul";            // a, b [K, N], [bias] -> y
inline constexpr const char* add = "IntegerAdd";                  // a, b -> y
inline constexpr const char* mul = "IntegerMul";                  // a, b -> y
inline constexpr const char* average_pool = "IntegerAveragePool"; // x -> y (same grid)
inline constexpr const char* requantize = "IntegerRequantize";    // x -> y (another grid)
inline constexpr const char* lookup_table = "IntegerLookupTable"; // x -> y
inline constexpr const char* quantize = "IntegerQuantize";        // float x -> y, the target's rounding
// Weights per group (runtime/kernels/integer/grouped_weights.h): as IntegerConv / IntegerMatMul, plus
// group_size, group_ratios (s_w[m, g] / s_ref[m]) and weight_zero_points / b_zero_points per group.
inline constexpr const char* grouped_convolution = "IntegerConvGroupedWeights";   // x, w, [bias] -> y
inline constexpr const char* grouped_matmul = "IntegerMatMulGroupedWeights";      // a, b [K, N], [bias] -> y

}  // namespace npukit::sim::ops
