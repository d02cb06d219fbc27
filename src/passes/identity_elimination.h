// Removes nodes that copy their input unchanged: Identity, Dropout in inference (when its mask is not
// read), Reshape to the shape the input already has, Transpose with the identity permutation, a
// Transpose followed by one that undoes it, and a Reshape feeding only another Reshape (the first one is
// redundant: Reshape depends only on the element order, which Reshape keeps).
#pragma once

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult eliminate_identities(ir::Model& model);

}  // namespace npukit::passes
