// Tensor ⇄ onnx::TensorProto, including external data. Used by the importer, the exporter, the
// conformance runner (input_K.pb / output_K.pb) and the tests.
#pragma once

#include <string>

#include "npukit/tensor.h"

namespace onnx {
class TensorProto;
}

namespace npukit::onnx_io {

// Converts a TensorProto (raw_data, the typed fields, or external data) into a Tensor.
// `base_directory` is the folder external data is read from; empty refuses external data.
// Throws Error naming the tensor: invalid_model (size mismatch, bad dims), unsupported (string/complex),
// resource_limit (dims that overflow or exceed tensor_memory_limit(), checked before allocating), io.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_directory);

// Checks only the dims of a TensorProto against overflow and tensor_memory_limit() (Error(resource_limit))
// and negative sizes (Error(invalid_model)), without reading data. The importer runs it on every tensor
// before the libonnx checker, whose own element count would overflow on hostile dims.
void check_tensor_proto_dims(const onnx::TensorProto& proto);

// Writes the tensor into `proto` as raw_data (little-endian), with the given name.
void tensor_to_proto(const Tensor& tensor, const std::string& name, onnx::TensorProto& proto);

// Reads a serialized TensorProto file (the conformance tests' input_K.pb / output_K.pb).
Tensor read_tensor_file(const std::string& path);
void write_tensor_file(const Tensor& tensor, const std::string& name, const std::string& path);

// The file an external-data `location` names, resolved against `base_directory`. Refuses absolute paths
// and paths that leave the folder (".." or symbolic links pointing outside), naming the tensor.
std::string resolve_external_data_path(const std::string& base_directory, const std::string& location,
                                       const std::string& tensor_name);

}  // namespace npukit::onnx_io
