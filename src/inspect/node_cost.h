// What one node costs to compute, from the shapes on its IR values.
//
// MACs (multiply-accumulates) are counted only for the ops whose work is a dot product:
//   Conv, ConvInteger, QLinearConv:   output elements × (Cin / group) × kernel area
//   ConvTranspose:                    input elements × (Cout / group) × kernel area
//   Gemm, MatMul, MatMulInteger, QLinearMatMul: M · N · K, batch dimensions included
//   RNN, GRU, LSTM:                   sequence × batch × directions × gates·hidden × (input + hidden)
// Everything else is counted apart as "other operations", one per element it computes, so a table of
// MACs stays comparable with the figures papers and vendors quote (which count convolutions and matrix
// products only):
//   pure data movement (Reshape, Transpose, Concat, Slice, Gather, ...): 0
//   pooling with a window: output elements × window area
//   reductions, Softmax, normalizations, global pooling: input elements
//   anything else (elementwise, activations, Resize, ...): output elements
//   If, Loop, Scan: the work of their bodies (below), which is where a control-flow model keeps it
// A figure is nullopt when a shape it needs is unknown; the caller reports it instead of guessing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::inspect {

struct NodeCost {
  std::optional<int64_t> macs;              // 0 for ops that do no dot products
  std::optional<int64_t> other_operations;  // 0 for MAC ops and data movement
};

NodeCost estimate_node_cost(const ir::Node& node);

// The work inside a node's subgraphs. One inference runs one If branch, so an If costs its costlier branch (each
// branch is listed); a Loop costs its body times the trip count when that is a constant, and a Scan its body
// times the scanned length. With no known count, the figures are per iteration and `per_iteration` is set (the
// node's own NodeCost then says unknown).
struct SubgraphCost {
  struct Body {
    std::string attribute;                     // "then_branch", "else_branch", "body"
    size_t nodes = 0;                          // nested bodies included
    std::optional<int64_t> macs;               // one execution of this body
    std::optional<int64_t> other_operations;
    int64_t parameter_count = 0;               // constants the body holds (nested ones included)
    int64_t parameter_bytes = 0;
  };
  std::vector<Body> bodies;
  std::optional<int64_t> iterations;          // Loop trip count / Scan length, when known
  bool per_iteration = false;
  std::optional<int64_t> macs;                 // what the node costs per inference
  std::optional<int64_t> other_operations;
  size_t nodes = 0;                            // in every body
};
std::optional<SubgraphCost> estimate_subgraph_cost(const ir::Node& node);  // nullopt: the node has no subgraph

// Number of elements of a value when its shape is fully known.
std::optional<int64_t> static_element_count(const ir::Value* value);

}  // namespace npukit::inspect
