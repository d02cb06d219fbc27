// conv-stride-to-pool: a Conv with stride s becomes the same Conv at a smaller stride t (t divides s on every
// axis) followed by a MaxPool with a 1×1 window and stride s/t, which only picks every (s/t)-th output. Exact:
// the strided Conv computes the outputs at positions i·s, which are the stride-t outputs at positions i·(s/t),
// and the output count floor(A/s)+1 equals floor(floor(A/t)/(s/t))+1. It moves a Conv onto a target's optimized
// path when that path has the kernel at stride t but not at s (Hailo-8 optimizes 3×5 at stride 1×2, not 2×2),
// at the price of s/t times the Conv's MACs; whether that is faster is not published, so `patch` runs it only
// when asked (--optimized-path).
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

// For a Conv, the stride to keep (one entry per spatial axis, each dividing the Conv's stride), or nullopt.
using KeptStridePlanner = std::function<std::optional<std::vector<int64_t>>(const ir::Node&)>;

PassResult conv_stride_to_pool(ir::Model& model, const KeptStridePlanner& planner, const NodeFilter& filter);

}  // namespace npukit::passes
