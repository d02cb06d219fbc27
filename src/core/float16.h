// IEEE half and bfloat16 storage types that convert to and from float.
//
// Kernels compute in float and store in 16 bits; conversion rounds to nearest even, as ONNX Runtime and
// numpy do, so reference outputs for f16/bf16 tests match bit for bit where the float math does.
#pragma once

#include <cstdint>
#include <cstring>

namespace npukit {

inline uint32_t float_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline float float_from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

uint16_t float_to_half_bits(float value);
float half_bits_to_float(uint16_t bits);

inline uint16_t float_to_bfloat16_bits(float value) {
  uint32_t bits = float_bits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);  // quiet NaN
  uint32_t rounding_bias = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding_bias) >> 16);
}

inline float bfloat16_bits_to_float(uint16_t bits) { return float_from_bits(static_cast<uint32_t>(bits) << 16); }

struct Float16 {
  uint16_t bits = 0;
  Float16() = default;
  Float16(float value) : bits(float_to_half_bits(value)) {}  // NOLINT: implicit on purpose, like a float
  operator float() const { return half_bits_to_float(bits); }  // NOLINT
};

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float value) : bits(float_to_bfloat16_bits(value)) {}  // NOLINT
  operator float() const { return bfloat16_bits_to_float(bits); }  // NOLINT
};

static_assert(sizeof(Float16) == 2 && sizeof(BFloat16) == 2);

}  // namespace npukit
