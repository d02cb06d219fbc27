// split-qkv-heads: the 5-D head split of a fused qkv projection, as timm-style ViTs export it,
//   X [B, T, S·H·D] → Reshape [B, T, S, H, D] → Transpose (2, 0, 3, 1, 4) → Gather(i, axis 0) → [B, H, T, D]
// becomes, per Gather, 4-D ops only: Slice X[..., i·H·D : (i+1)·H·D] → Reshape [B, T, H, D] → Transpose
// (0, 2, 1, 3). Exact (the same elements moved the same way), for NPUs whose ops are 4-D (RKNN: rank <= 4).
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

// True for the Reshape or the Transpose of such a split (every reader of the Transpose a constant Gather on axis 0).
bool is_qkv_head_split(const ir::Node& node);

PassResult split_qkv_heads(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
