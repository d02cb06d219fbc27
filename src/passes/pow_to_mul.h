// pow-to-mul: Pow with a constant exponent the target need not compute as a power, for targets that run Mul
// (and Sqrt) but not Pow:
//   x^2 → x · x             exact: float x·x rounds the same product pow rounds
//   x^3 → (x · x) · x       two roundings instead of one: within a few ulp
//   x^1 → Identity          exact
//   x^0.5 → Sqrt(x)         only when `allow_sqrt` (the target lists Sqrt); the same for every x except
//                           -0 (pow gives +0, Sqrt -0) and -inf (pow gives +inf, Sqrt NaN)
// A hand-written variance, (x - mean)^2, is the usual case.
#pragma once

#include <optional>

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

// The constant single-element exponent of a Pow node on an f32 base when it is one this pass rewrites
// (1, 2, 3, or 0.5), or nullopt. The exponent must not widen the output (its rank at most the base's).
std::optional<double> rewritable_pow_exponent(const ir::Node& node);

PassResult pow_to_mul(ir::Model& model, bool allow_sqrt, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
