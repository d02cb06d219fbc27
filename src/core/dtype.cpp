#include "npukit/dtype.h"

#include <array>

namespace npukit {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};

constexpr std::array<DTypeInfo, 16> kDTypeInfo = {{
    {DType::undefined, "undefined", 0},
    {DType::f32, "f32", 4},
    {DType::f16, "f16", 2},
    {DType::bf16, "bf16", 2},
    {DType::f64, "f64", 8},
    {DType::i8, "i8", 1},
    {DType::u8, "u8", 1},
    {DType::i16, "i16", 2},
    {DType::u16, "u16", 2},
    {DType::i32, "i32", 4},
    {DType::u32, "u32", 4},
    {DType::i64, "i64", 8},
    {DType::u64, "u64", 8},
    {DType::boolean, "bool", 1},
    {DType::i4, "i4", 1},
    {DType::u4, "u4", 1},
}};
}  // namespace

size_t dtype_size(DType type) { return kDTypeInfo.at(static_cast<size_t>(type)).size; }

std::string_view dtype_name(DType type) { return kDTypeInfo.at(static_cast<size_t>(type)).name; }

DType dtype_from_name(std::string_view name) {
  for (const DTypeInfo& info : kDTypeInfo) {
    if (info.name == name) return info.type;
  }
  return DType::undefined;
}

bool dtype_is_float(DType type) {
  return type == DType::f32 || type == DType::f16 || type == DType::bf16 || type == DType::f64;
}

bool dtype_is_integer(DType type) {
  switch (type) {
    case DType::i8: case DType::u8: case DType::i16: case DType::u16: case DType::i32: case DType::u32:
    case DType::i64: case DType::u64: case DType::i4: case DType::u4:
      return true;
    default:
      return false;
  }
}

bool dtype_is_signed(DType type) {
  switch (type) {
    case DType::i8: case DType::i16: case DType::i32: case DType::i64: case DType::i4:
      return true;
    default:
      return dtype_is_float(type);
  }
}

}  // namespace npukit
