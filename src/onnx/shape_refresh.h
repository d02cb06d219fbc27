// Re-runs ONNX shape inference on an IR model that passes have changed, to learn the shapes the first
// inference could not see: a Slice whose bounds came out of Shape → Gather → Div, a Reshape whose target
// was computed. After constant folding those inputs are constants, and inference can read them.
//
// Only types are exchanged: large initializers travel as typed inputs without their data, so a pass over
// ResNet50 serialises kilobytes, not its 100 MB of weights. Inference runs in a child process like every
// libonnx inference of npukit (isolated_validation.h).
#pragma once

#include <cstddef>

#include "ir/graph.h"

namespace npukit::onnx_io {

// Gives static shapes to top-level values that had none and inference now knows; returns how many.
// Never changes a shape that was already static. Throws Error(invalid_model) when inference fails.
size_t refresh_static_shapes(ir::Model& model);

}  // namespace npukit::onnx_io
