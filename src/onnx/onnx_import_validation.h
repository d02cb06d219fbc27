// The first half of ONNX import: an untrusted protobuf is parsed and checked until the conversion to the IR
// (onnx_import_conversion.h) may rely on it. Everything a hostile or broken file can get wrong is refused
// here, with an Error naming the node, value or tensor: the byte size, unknown opsets, names defined twice or
// never, cycles, tensor dims that overflow or exceed the memory limit, external data outside the model's
// folder, ranks libonnx's inference trusts, the libonnx checker and shape inference (in a child process),
// value types npukit cannot hold, malformed Constant nodes and attributes of unknown type.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include <onnx/onnx_pb.h>

#include "onnx/onnx_import.h"

namespace npukit::onnx_io {

// protobuf cannot represent messages of 2 GiB or more; larger models must use external data.
constexpr size_t kMaxModelBytes = static_cast<size_t>(std::numeric_limits<int>::max());

// Parses the bytes with a size limit. Anything unparseable, or a message without ir_version and graph, is
// Error(invalid_model) "not an ONNX model"; 2 GiB or more is Error(resource_limit).
onnx::ModelProto parse_untrusted_model(std::string_view bytes);

// Applies options.input_shapes (the only edit made to the protobuf), then runs every check above in order;
// libonnx's checker and shape inference add the inferred types to `proto`. `base_directory` is where
// external data may be read from (empty: external data is refused).
void validate_untrusted_model(onnx::ModelProto& proto, const std::string& base_directory,
                              const ImportOptions& options);

// Small helpers the conversion shares with the validation.
inline std::string normalize_domain(const std::string& domain) {
  return domain == "ai.onnx" ? std::string() : domain;
}
std::string describe_proto_node(const onnx::NodeProto& node, size_t index);
// The attribute's declared type, or for IR version 1 models (which leave it unset) the type of the field that
// carries data; Error(invalid_model) when there is neither.
onnx::AttributeProto_AttributeType attribute_type_of(const onnx::AttributeProto& proto);
inline bool is_constant_node(const onnx::NodeProto& node) {
  return node.op_type() == "Constant" && normalize_domain(node.domain()).empty();
}

}  // namespace npukit::onnx_io
