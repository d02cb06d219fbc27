// Evaluates, once at load, every node whose inputs are all constants (and Shape of a value whose shape
// is static), on the reference kernels, and replaces its outputs with initializers. Random generators,
// nodes with subgraphs and results above a size cap are left alone (folding must not blow up the model).
#pragma once

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

// `keep_weight_dequantization`: leave a DequantizeLinear of a constant integer tensor (a QDQ model's int8 weight
// or int32 bias) as it is, so that what the file stores stays visible (model preparation, for every command) and
// the cpu backend can still find the QDQ groups it runs in int8 (passes/qdq_integer_fusion.h); its own pass list
// folds what the fusion left.
PassResult fold_constants(ir::Model& model, bool keep_weight_dequantization = false);

}  // namespace npukit::passes
