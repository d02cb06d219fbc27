// Shared loop of the unary elementwise reference kernels (math, activations): one output element from one
// input element, computed in compute_type_t (float for 16-bit floats) and rounded once at the store.
#pragma once

#include <type_traits>

#include "core/dtype_traits.h"
#include "runtime/kernel.h"

namespace npukit::runtime::ref {

template <DTypeSet accepted, typename T>
constexpr bool dtype_accepted() {
  return (accepted & dtype_bit(dtype_of<T>::value)) != 0;
}

// Integer arithmetic wraps around (two's complement), as ONNX Runtime and numpy do; in C++ signed overflow
// is undefined (and small unsigned types promote to int), so integers compute in the unsigned type of at
// least int width. Floats and bool pass through unchanged.
template <typename C>
constexpr bool wraps_as_integer = std::is_integral_v<C> && !std::is_same_v<C, bool>;

template <typename C>
C wrapping_add(C a, C b) {
  if constexpr (wraps_as_integer<C>) {
    using Unsigned = std::make_unsigned_t<decltype(a + b)>;
    return static_cast<C>(static_cast<Unsigned>(a) + static_cast<Unsigned>(b));
  } else {
    return static_cast<C>(a + b);
  }
}

template <typename C>
C wrapping_sub(C a, C b) {
  if constexpr (wraps_as_integer<C>) {
    using Unsigned = std::make_unsigned_t<decltype(a + b)>;
    return static_cast<C>(static_cast<Unsigned>(a) - static_cast<Unsigned>(b));
  } else {
    return static_cast<C>(a - b);
  }
}

template <typename C>
C wrapping_mul(C a, C b) {
  if constexpr (wraps_as_integer<C>) {
    using Unsigned = std::make_unsigned_t<decltype(a + b)>;
    return static_cast<C>(static_cast<Unsigned>(a) * static_cast<Unsigned>(b));
  } else {
    return static_cast<C>(a * b);
  }
}

// Applies `operation` (a generic lambda over the compute type) to every element of input 0; the output has
// the input's dtype and shape. `accepted` is a template argument so the body is only instantiated for the
// dtypes the op allows; any other dtype is Error(unsupported).
template <DTypeSet accepted, typename Operation>
void map_same_type(KernelContext& context, const char* name, Operation operation) {
  const Tensor& input = context.input(0);
  Tensor& output = context.allocate_output(0, input.dtype(), input.shape());
  dispatch_dtype(input.dtype(), accepted, name, [&]<typename T>() {
    if constexpr (dtype_accepted<accepted, T>()) {
      using Compute = compute_type_t<T>;
      const T* source = input.data<T>();
      T* destination = output.data<T>();
      const int64_t count = input.element_count();
      for (int64_t i = 0; i < count; ++i) destination[i] = static_cast<T>(operation(static_cast<Compute>(source[i])));
    }
  });
}

// Same for predicates: the output is bool.
template <DTypeSet accepted, typename Predicate>
void map_to_bool(KernelContext& context, const char* name, Predicate predicate) {
  const Tensor& input = context.input(0);
  Tensor& output = context.allocate_output(0, DType::boolean, input.shape());
  dispatch_dtype(input.dtype(), accepted, name, [&]<typename T>() {
    if constexpr (dtype_accepted<accepted, T>()) {
      using Compute = compute_type_t<T>;
      const T* source = input.data<T>();
      bool* destination = output.data<bool>();
      const int64_t count = input.element_count();
      for (int64_t i = 0; i < count; ++i) destination[i] = predicate(static_cast<Compute>(source[i]));
    }
  });
}

}  // namespace npukit::runtime::ref
