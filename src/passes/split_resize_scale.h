// split-resize-scale: a nearest-neighbour Resize by an integer factor beyond what the target allows (×16 where
// the NPU takes 2–8) becomes two Resizes whose factors multiply to it (×4 then ×4). Exact: with integer
// factors nearest resizing maps output index i to input floor(i / s), and floor(floor(i / b) / a) equals
// floor(i / (a·b)). Applies to the coordinate modes where that mapping holds (asymmetric with floor;
// half_pixel / pytorch_half_pixel with a round-to-nearest mode, see resize_half_pixel.h).
#pragma once

#include <cstdint>

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult split_resize_scale(ir::Model& model, int64_t min_factor, int64_t max_factor,
                              const NodeFilter& filter = every_node);

}  // namespace npukit::passes
