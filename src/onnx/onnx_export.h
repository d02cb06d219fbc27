// IR → ONNX. An imported model exported unchanged runs to the same outputs.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "ir/graph.h"

namespace onnx {
class ModelProto;
}

namespace npukit::onnx_io {

// Initializers of the top-level graph with more elements than `largest_initializer_with_data` are written
// as typed graph inputs without their data (enough for shape inference, a fraction of the bytes).
onnx::ModelProto export_model(const ir::Model& model,
                              int64_t largest_initializer_with_data = std::numeric_limits<int64_t>::max());

std::string serialize_model(const ir::Model& model);
void save_model(const ir::Model& model, const std::string& path);

}  // namespace npukit::onnx_io
