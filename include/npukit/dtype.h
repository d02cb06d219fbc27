// Element types npukit tensors can hold.
//
// The numbering is npukit's own; conversion to and from ONNX TensorProto::DataType lives in src/onnx.
// i4/u4 are listed so the quantizer can describe sub-byte grids; they are stored one value per byte
// (sign-extended for i4) until a packed layout is needed by a backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace npukit {

enum class DType : uint8_t {
  undefined = 0,
  f32,
  f16,
  bf16,
  f64,
  i8,
  u8,
  i16,
  u16,
  i32,
  u32,
  i64,
  u64,
  boolean,
  i4,
  u4,
};

// Bytes one element occupies in memory (i4/u4: one byte, see above).
size_t dtype_size(DType type);

// Short lower-case name: "f32", "i64", "bool".
std::string_view dtype_name(DType type);

// Parses the short name; returns DType::undefined when unknown.
DType dtype_from_name(std::string_view name);

bool dtype_is_float(DType type);    // f32 f16 bf16 f64
bool dtype_is_integer(DType type);  // signed and unsigned integers, i4/u4 included
bool dtype_is_signed(DType type);   // signed integers and floats

}  // namespace npukit
