// Specializes `If` nodes whose condition is a constant: the branch that will run replaces the node, its nodes
// inlined into the enclosing graph. A condition becomes constant when the input it depends on is held at a
// value (`--input-value sr=16000`) and folding computes it. The chosen branch is then checked, patched and
// costed like the rest of the graph; the other branch is gone, as it is for a compiler that sees the same value.
#pragma once

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

// Inlines the chosen branch of every If (in the top-level graph) whose condition has constant data. A node is
// left alone, with a note, when inlining would need to rename a value that a nested subgraph reads by name.
PassResult specialize_constant_ifs(ir::Model& model);

}  // namespace npukit::passes
