#include "onnx/dtype_mapping.h"

#include <onnx/onnx_pb.h>

#include "npukit/error.h"

namespace npukit::onnx_io {

using onnx::TensorProto_DataType;

std::optional<DType> dtype_from_onnx(int32_t onnx_type) {
  switch (onnx_type) {
    case onnx::TensorProto_DataType_FLOAT: return DType::f32;
    case onnx::TensorProto_DataType_UINT8: return DType::u8;
    case onnx::TensorProto_DataType_INT8: return DType::i8;
    case onnx::TensorProto_DataType_UINT16: return DType::u16;
    case onnx::TensorProto_DataType_INT16: return DType::i16;
    case onnx::TensorProto_DataType_INT32: return DType::i32;
    case onnx::TensorProto_DataType_INT64: return DType::i64;
    case onnx::TensorProto_DataType_BOOL: return DType::boolean;
    case onnx::TensorProto_DataType_FLOAT16: return DType::f16;
    case onnx::TensorProto_DataType_DOUBLE: return DType::f64;
    case onnx::TensorProto_DataType_UINT32: return DType::u32;
    case onnx::TensorProto_DataType_UINT64: return DType::u64;
    case onnx::TensorProto_DataType_BFLOAT16: return DType::bf16;
    default: return std::nullopt;
  }
}

std::string onnx_type_name(int32_t onnx_type) {
  if (onnx::TensorProto_DataType_IsValid(onnx_type)) {
    return onnx::TensorProto_DataType_Name(static_cast<TensorProto_DataType>(onnx_type));
  }
  return "unknown type code " + std::to_string(onnx_type);
}

DType dtype_from_onnx_or_throw(int32_t onnx_type, const std::string& what) {
  if (std::optional<DType> type = dtype_from_onnx(onnx_type)) return *type;
  if (onnx::TensorProto_DataType_IsValid(onnx_type) && onnx_type != onnx::TensorProto_DataType_UNDEFINED) {
    throw Error(ErrorKind::unsupported,
                "'" + what + "' has element type " + onnx_type_name(onnx_type) + ", which npukit does not support");
  }
  throw Error(ErrorKind::invalid_model, "'" + what + "' has an invalid element type (" + onnx_type_name(onnx_type) + ")");
}

int32_t dtype_to_onnx(DType type) {
  switch (type) {
    case DType::f32: return onnx::TensorProto_DataType_FLOAT;
    case DType::u8: return onnx::TensorProto_DataType_UINT8;
    case DType::i8: return onnx::TensorProto_DataType_INT8;
    case DType::u16: return onnx::TensorProto_DataType_UINT16;
    case DType::i16: return onnx::TensorProto_DataType_INT16;
    case DType::i32: return onnx::TensorProto_DataType_INT32;
    case DType::i64: return onnx::TensorProto_DataType_INT64;
    case DType::boolean: return onnx::TensorProto_DataType_BOOL;
    case DType::f16: return onnx::TensorProto_DataType_FLOAT16;
    case DType::f64: return onnx::TensorProto_DataType_DOUBLE;
    case DType::u32: return onnx::TensorProto_DataType_UINT32;
    case DType::u64: return onnx::TensorProto_DataType_UINT64;
    case DType::bf16: return onnx::TensorProto_DataType_BFLOAT16;
    case DType::undefined: return onnx::TensorProto_DataType_UNDEFINED;
    default:
      throw Error(ErrorKind::unsupported,
                  "dtype " + std::string(dtype_name(type)) + " has no ONNX element type (ONNX 1.12 has no 4-bit types)");
  }
}

}  // namespace npukit::onnx_io
