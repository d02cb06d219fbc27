// Shape inference in the IR: each node's output dtype and dims computed from its inputs' types and the
// data of constant inputs, for the ops the reference backend runs.
//
// Why in the IR: after a pass or a new input size, every command must see the same shapes, and asking
// libonnx means exporting to protobuf and forking a child per round (libonnx stays the checker at import).
// The rules live in one file per op family (shape_inference_*.cpp) and are found by op type through the
// table in shape_inference.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::ir {

struct ShapeInferenceReport {
  size_t values_learned = 0;                  // values whose dtype or shape became more known
  std::vector<std::string> conflicts;         // "node 'x' (Reshape): declared f32[1, 84, 8400], inferred f32[1, 84, 2100]"
  std::vector<std::string> ops_without_rule;  // op types met without a rule ("domain:op" outside ai.onnx), sorted;
                                              // their outputs stay as they were
};

// Walks the graph in topological order (subgraph bodies of If/Loop/Scan too) and computes each node's output
// dtype and shape from its inputs' types and the data of its constant inputs. Small integer tensors computed
// from shapes (Shape → Gather → Div → Slice bounds, Reshape targets) are followed element by element, so
// they count as constants too. Where it infers a dim, it replaces what was there (declared shapes of computed
// values can be stale after an input shape changed); where it has no rule or lacks facts (a dim that depends
// on data that is not constant), it leaves the value's dim as it was. Symbolic dims propagate where the op
// allows (the batch through Conv, equal symbols through broadcasting, a Shape's symbols into a Reshape).
// Throws Error(invalid_model) naming the node when the inputs are inconsistent (Conv channels, a broadcast
// of 3 against 4, a Reshape of 10 elements into 3x4, an element count that overflows 64 bits).
ShapeInferenceReport infer_shapes(Graph& graph);

// True when infer_shapes has a rule for this op (default ONNX domain unless `domain` says otherwise).
bool has_shape_rule(const std::string& domain, const std::string& op_type);

}  // namespace npukit::ir
