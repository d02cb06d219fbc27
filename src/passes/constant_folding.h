// Evaluates, once at load, every node whose inputs are all constants (and Shape of a value whose shape
// is static), on the reference kernels, and replaces its outputs with initializers. Random generators,
// nodes with subgraphs and results above a size cap are left alone (folding must not blow up the model).
#pragma once

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult fold_constants(ir::Model& model);

}  // namespace npukit::passes
