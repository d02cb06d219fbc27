// The second half of ONNX import: a protobuf that onnx_import_validation.h has accepted becomes an ir::Model.
// Constant nodes become initializers, subgraphs get parent pointers and outer-scope values, declared and
// inferred types go onto every value, then the IR verifier runs. The conversion relies on the validation
// (defined names, supported types and attributes); what it still refuses is data it reads for the first time
// (an initializer whose bytes do not match its dims, an unreadable external-data file).
#pragma once

#include <string>

#include <onnx/onnx_pb.h>

#include "ir/graph.h"

namespace npukit::onnx_io {

// `base_directory` is where external data is read from (empty: refused).
ir::Model convert_validated_model(const onnx::ModelProto& proto, const std::string& base_directory);

}  // namespace npukit::onnx_io
