// Moving tensor data between its storage type and the type a kernel computes in (compute_type_t).
//
// Why: 16-bit floats are computed in float and rounded once at the store; float and double need no copy,
// so these helpers hand out the tensor's own memory for them and a converted copy otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype_traits.h"
#include "npukit/tensor.h"

namespace npukit::runtime::ref {

// Elements of `tensor` (element type T) as compute type C; uses `storage` only when a conversion is needed.
template <typename T, typename C>
const C* compute_view(const Tensor& tensor, std::vector<C>& storage) {
  if constexpr (std::is_same_v<T, C>) {
    return tensor.data<C>();
  } else {
    const T* source = tensor.data<T>();
    storage.resize(static_cast<size_t>(tensor.element_count()));
    for (int64_t i = 0; i < tensor.element_count(); ++i) storage[i] = static_cast<C>(source[i]);
    return storage.data();
  }
}

// A writable compute-type buffer for an output tensor of element type T: the tensor's memory for float
// and double, a scratch vector otherwise; finish() rounds the scratch into the tensor.
template <typename T, typename C>
class ComputeOutput {
 public:
  explicit ComputeOutput(Tensor& tensor) : tensor_(tensor) {
    if constexpr (!std::is_same_v<T, C>) storage_.assign(static_cast<size_t>(tensor.element_count()), C(0));
  }
  C* data() {
    if constexpr (std::is_same_v<T, C>) {
      return tensor_.data<C>();
    } else {
      return storage_.data();
    }
  }
  void finish() {
    if constexpr (!std::is_same_v<T, C>) {
      T* destination = tensor_.data<T>();
      for (size_t i = 0; i < storage_.size(); ++i) destination[i] = static_cast<T>(storage_[i]);
    }
  }

 private:
  Tensor& tensor_;
  std::vector<C> storage_;
};

// dispatch_dtype restricted to the four float types; unlike dispatch_dtype it instantiates the body only
// for them, so the body may use float-only code (gemm_accumulate, std::exp) without constexpr guards.
template <typename Function>
void dispatch_float(DType type, const std::string& operation, Function&& function) {
  switch (type) {
    case DType::f32: function.template operator()<float>(); return;
    case DType::f64: function.template operator()<double>(); return;
    case DType::f16: function.template operator()<Float16>(); return;
    case DType::bf16: function.template operator()<BFloat16>(); return;
    default: throw_unsupported_dtype(type, operation);
  }
}

}  // namespace npukit::runtime::ref
