// Structural checks on an IR graph, run at the end of import and after passes.
//
// Checks, recursively through subgraphs: nodes are in topological order; every value has at most one
// definition (producer, initializer, graph input, or outer scope); producer and consumer links agree with
// the nodes' input and output lists; no node reads a value nothing defines; outer-scope values resolve in
// an enclosing graph; graph inputs and outputs are marked and defined; initializers match their declared
// type. Throws Error(invalid_model) naming the node.
#pragma once

#include "ir/graph.h"

namespace npukit::ir {

void verify(const Graph& graph);

}  // namespace npukit::ir
