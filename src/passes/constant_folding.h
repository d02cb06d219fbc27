// Evaluates, once at load, every node whose inputs are all constants (and Shape of a value whose shape
// is static), on the reference kernels, and replaces its outputs with initializers. Random generators,
// nodes with subgraphs and results above a size cap are left alone (folding must not blow up the model).
#pragma once

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

// keep_dequantize_linear: leave DequantizeLinear nodes of constants (a QDQ model's integer weights and biases)
// unfolded, for backends that run the integers themselves (the sim backend lowers each to its integer op).
PassResult fold_constants(ir::Model& model, bool keep_dequantize_linear = false);

}  // namespace npukit::passes
