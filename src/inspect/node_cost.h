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
// A figure is nullopt when a shape it needs is unknown; the caller reports it instead of guessing.
#pragma once

#include <cstdint>
#include <optional>

#include "ir/graph.h"

namespace npukit::inspect {

struct NodeCost {
  std::optional<int64_t> macs;              // 0 for ops that do no dot products
  std::optional<int64_t> other_operations;  // 0 for MAC ops and data movement
};

NodeCost estimate_node_cost(const ir::Node& node);

// Number of elements of a value when its shape is fully known.
std::optional<int64_t> static_element_count(const ir::Value* value);

}  // namespace npukit::inspect
