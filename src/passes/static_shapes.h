// static-shapes: gives every graph input a fixed shape (the ones the user passes; a dynamic batch becomes 1)
// and re-runs ONNX shape inference, so every tensor has static dims, which NPU compilers require.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

// `given`: input name → dims for inputs whose dynamic dims other than the batch need a value. An input
// left dynamic beyond its batch is reported in the notes and left as it is.
PassResult make_shapes_static(ir::Model& model, const std::map<std::string, std::vector<int64_t>>& given);

}  // namespace npukit::passes
