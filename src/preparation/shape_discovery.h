// Shapes that ONNX shape inference leaves unknown (a chunk point computed by Shape → Gather → Div, a Reshape
// target built at run time) are static to an NPU compiler, which sees the model at one input size. When
// inference cannot tell, npukit learns them the way the compiler does: it runs the model once on the
// reference backend with zero inputs at the declared (static) input size and records every tensor's shape.
#pragma once

#include "ir/graph.h"

namespace npukit::preparation {

// Fills in the dims of values whose shape is unknown or dynamic. Returns how many values it completed;
// 0 when every shape was already static, an input has dynamic dims (then nothing is run), or the reference
// backend cannot run the model (then the shapes stay unknown and check says so).
int discover_missing_shapes(ir::Model& model);

}  // namespace npukit::preparation
