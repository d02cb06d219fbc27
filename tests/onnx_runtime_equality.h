// What the int8 tests against ONNX Runtime share: whether this CPU has VNNI (without it ORT's u8 x s8 kernels add
// product pairs in a saturating int16, so ORT is not exact there and differences are counted, not failed), and how
// many elements of two tensors of one shape differ.
#pragma once

#include <cstdint>
#include <vector>

#include "npukit/tensor.h"

namespace npukit::testing {

inline bool host_has_vnni() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni");
#else
  return false;
#endif
}

// Elements of `ours` whose value differs from `reference`'s (compared as float; the shapes are the caller's check).
inline int64_t differing_elements(const Tensor& ours, const Tensor& reference) {
  const std::vector<float> a = ours.to_float_vector(), b = reference.to_float_vector();
  int64_t differences = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) differences += a[i] != b[i];
  return differences;
}

}  // namespace npukit::testing
