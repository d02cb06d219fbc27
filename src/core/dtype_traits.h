// Compile-time mapping between DType and C++ element types, and dispatch of a generic lambda on a
// run-time DType. Kernels use it so one template body serves every dtype the ONNX spec allows:
//
//   dispatch_dtype(tensor.dtype(), kAllNumeric, "Relu", [&]<typename T>() { relu<T>(...); });
//
// The set argument says which dtypes the kernel accepts; any other dtype throws Error(unsupported)
// naming the dtype and the operation.
#pragma once

#include <cstdint>
#include <string>

#include "core/float16.h"
#include "npukit/dtype.h"
#include "npukit/error.h"

namespace npukit {

template <typename T>
struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<Float16> { static constexpr DType value = DType::f16; };
template <> struct dtype_of<BFloat16> { static constexpr DType value = DType::bf16; };
template <> struct dtype_of<int8_t> { static constexpr DType value = DType::i8; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct dtype_of<int16_t> { static constexpr DType value = DType::i16; };
template <> struct dtype_of<uint16_t> { static constexpr DType value = DType::u16; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<uint32_t> { static constexpr DType value = DType::u32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<uint64_t> { static constexpr DType value = DType::u64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::boolean; };

// Bit sets of dtypes, for the accepted-set argument of dispatch_dtype.
using DTypeSet = uint32_t;
constexpr DTypeSet dtype_bit(DType type) { return 1u << static_cast<unsigned>(type); }
constexpr DTypeSet kFloatTypes = dtype_bit(DType::f32) | dtype_bit(DType::f64) | dtype_bit(DType::f16) |
                                 dtype_bit(DType::bf16);
constexpr DTypeSet kSignedIntegerTypes =
    dtype_bit(DType::i8) | dtype_bit(DType::i16) | dtype_bit(DType::i32) | dtype_bit(DType::i64);
constexpr DTypeSet kUnsignedIntegerTypes =
    dtype_bit(DType::u8) | dtype_bit(DType::u16) | dtype_bit(DType::u32) | dtype_bit(DType::u64);
constexpr DTypeSet kIntegerTypes = kSignedIntegerTypes | kUnsignedIntegerTypes;
constexpr DTypeSet kNumericTypes = kFloatTypes | kIntegerTypes;
constexpr DTypeSet kAllTypes = kNumericTypes | dtype_bit(DType::boolean);

[[noreturn]] void throw_unsupported_dtype(DType type, const std::string& operation);

template <typename Function>
decltype(auto) dispatch_dtype(DType type, DTypeSet accepted, const std::string& operation, Function&& function) {
  if ((accepted & dtype_bit(type)) == 0) throw_unsupported_dtype(type, operation);
  switch (type) {
    case DType::f32: return function.template operator()<float>();
    case DType::f64: return function.template operator()<double>();
    case DType::f16: return function.template operator()<Float16>();
    case DType::bf16: return function.template operator()<BFloat16>();
    case DType::i8: return function.template operator()<int8_t>();
    case DType::u8: return function.template operator()<uint8_t>();
    case DType::i16: return function.template operator()<int16_t>();
    case DType::u16: return function.template operator()<uint16_t>();
    case DType::i32: return function.template operator()<int32_t>();
    case DType::u32: return function.template operator()<uint32_t>();
    case DType::i64: return function.template operator()<int64_t>();
    case DType::u64: return function.template operator()<uint64_t>();
    case DType::boolean: return function.template operator()<bool>();
    default: throw_unsupported_dtype(type, operation);
  }
}

// The type kernels compute in for element type T: float for the 16-bit floats, T otherwise.
template <typename T> struct compute_type { using type = T; };
template <> struct compute_type<Float16> { using type = float; };
template <> struct compute_type<BFloat16> { using type = float; };
template <typename T> using compute_type_t = typename compute_type<T>::type;

}  // namespace npukit
