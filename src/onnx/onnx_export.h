// IR → ONNX. An imported model exported unchanged runs to the same outputs.
#pragma once

#include <string>

#include "ir/graph.h"

namespace npukit::onnx_io {

std::string serialize_model(const ir::Model& model);
void save_model(const ir::Model& model, const std::string& path);

}  // namespace npukit::onnx_io
