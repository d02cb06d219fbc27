// ONNX TensorProto::DataType ⇄ npukit DType.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "npukit/dtype.h"

namespace npukit::onnx_io {

// The npukit dtype of an ONNX element type; nullopt for ONNX types npukit cannot hold (string, complex,
// float8, unknown codes).
std::optional<DType> dtype_from_onnx(int32_t onnx_type);

// Like dtype_from_onnx but throws Error(unsupported) (string, complex) or Error(invalid_model) (unknown code),
// naming `what` (a tensor or value name) in the reason.
DType dtype_from_onnx_or_throw(int32_t onnx_type, const std::string& what);

// The ONNX element type of an npukit dtype; throws Error(unsupported) for i4/u4 (no ONNX 1.12 code).
int32_t dtype_to_onnx(DType type);

// "FLOAT16", "STRING", … for messages.
std::string onnx_type_name(int32_t onnx_type);

}  // namespace npukit::onnx_io
