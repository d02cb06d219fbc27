// div-to-mul: Div by a float constant becomes Mul by its reciprocal, for targets that run Mul but not Div
// (the Edge TPU has no Div; HardSwish written as x · relu6(x + 3) / 6 needs it).
//
// Exactness: when every divisor is a power of two the reciprocal is exact and so is the product. Otherwise
// x · (1/c) rounds twice where x / c rounds once; measured over every normal f32 mantissa for c = 3, 6, 7,
// 10, 0.3, 12.5 and -9 the result differs from x / c by at most 1 ulp (tests/arithmetic_passes_test.cpp).
// Divisors whose reciprocal is not a finite normal float (0, subnormals, huge values) are left alone.
#pragma once

#include <optional>
#include <vector>

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

// The reciprocals of a Div node's constant f32 divisor, or nullopt when the node is not such a Div (the
// divisor is computed at run time, integer, zero, or its reciprocal leaves the normal range).
std::optional<std::vector<float>> constant_divisor_reciprocals(const ir::Node& node);

PassResult div_to_mul(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
