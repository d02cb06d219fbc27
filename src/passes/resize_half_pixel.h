// resize-half-pixel: a nearest-neighbour Resize with integer scales written as asymmetric/floor (what
// PyTorch's Upsample exports) becomes half_pixel, the coordinate mode more NPUs accept. Exact: output index
// i = q·s + r maps to input q under both, since half_pixel's (r + 0.5)/s − 0.5 lies strictly inside
// (−0.5, 0.5) for 0 ≤ r < s and so rounds to q whatever the rounding mode.
#pragma once

#include "ir/graph.h"
#include "passes/node_filter.h"
#include "passes/pass.h"

namespace npukit::passes {

PassResult resize_nearest_to_half_pixel(ir::Model& model, const NodeFilter& filter = every_node);

}  // namespace npukit::passes
