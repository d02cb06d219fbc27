// What the latency model needs to know about each top-level node, read once from the shapes: the kind of work
// (dense or depthwise convolution, matrix product, elementwise, data movement), MACs and other operations
// (src/inspect/node_cost.h counts them), weights and activation sizes in elements, and the channels the MAC
// array is filled with. Index i describes the model graph's node i, as CheckResult::nodes does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::estimate {

enum class LayerKind { convolution, depthwise_convolution, matrix_multiply, elementwise, data_movement };
std::string_view layer_kind_name(LayerKind kind);

struct LayerFeatures {
  std::string name;
  std::string op_type;
  LayerKind kind = LayerKind::elementwise;
  double macs = 0;
  double other_operations = 0;
  double weight_elements = 0;      // constant inputs (initializers)
  double input_elements = 0;       // run-time inputs
  double output_elements = 0;
  int64_t input_channels = 0;      // reduction depth per group (Cin × kernel window), for the MAC-array alignment (0: not a MAC op)
  int64_t output_channels = 0;
  bool fused_into_producer = false; // an activation the compiler fuses into the conv/matmul before it
  bool shape_known = true;         // false: some figure above is a lower bound (an unknown shape)

  // Share of the MAC array doing useful work when channels are padded to `alignment` lanes (1 for non-MAC ops).
  double alignment_share(int64_t alignment) const;
};

std::vector<LayerFeatures> extract_layer_features(const ir::Graph& graph);

}  // namespace npukit::estimate
