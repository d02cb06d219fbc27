// Per-group weights as the QDQ export writes them (ONNX before opset 21 has no block_size; onnx/qdq_mapping.h):
//
//   q (int8 / uint8 container, regrouped [C, G, group] or [G, group, N]) -> DequantizeLinear(scale 1, zp 0)
//     -> [Sub(group zero points)] -> Mul(group scales [C, G, 1] or [G, 1, N]) -> Reshape(weight shape) -> W
//
// read back into the integer weight and its per-group parameters, so the lowering can run the group arithmetic
// of runtime/kernels/integer/grouped_weights.h instead of a float op.
#pragma once

#include <optional>
#include <vector>

#include "ir/graph.h"
#include "ir/quant_params.h"
#include "npukit/tensor.h"

namespace npukit::sim {

struct GroupedWeightSource {
  Tensor integers;                 // q in the weight's own shape (its container type)
  ir::QuantParams params;          // per group: axis (0, or 1 of a [K, N] weight), group size, [C, G] scales
  std::vector<ir::Node*> nodes;    // Reshape, Mul, [Sub], DequantizeLinear: removable once the consumer is lowered
};

// The pattern above ending in `weight`, or nullopt when `weight` is not produced so (or its parts are not
// constants with the shapes the export writes).
std::optional<GroupedWeightSource> read_grouped_weight(const ir::Value* weight);

}  // namespace npukit::sim
