// Tensor: a dense, row-major block of elements of one DType with a static shape.
//
// Storage is shared (copying a Tensor copies a handle, not the data); use clone() for a deep copy.
// A tensor either owns its storage or views memory owned by someone else (for example an arena), which
// lets backends hand out tensors without allocating on the run path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "npukit/dtype.h"
#include "npukit/error.h"

namespace npukit {

using Shape = std::vector<int64_t>;

// Number of elements of a shape; throws Error(resource_limit) when the product overflows int64 or a
// dimension is negative.
int64_t shape_element_count(const Shape& shape);

// "[1, 3, 640, 640]"
std::string shape_to_string(const Shape& shape);

// Largest single tensor npukit will allocate; protects against hostile files that declare absurd shapes.
// Default 16 GiB; the CLI exposes it as --memory-limit.
size_t tensor_memory_limit();
void set_tensor_memory_limit(size_t bytes);

class Tensor {
 public:
  Tensor() = default;
  // Allocates zero-filled storage; throws Error(resource_limit) beyond tensor_memory_limit().
  Tensor(DType dtype, Shape shape);

  // A tensor over memory the caller keeps alive for the tensor's lifetime.
  static Tensor view(DType dtype, Shape shape, void* data);

  template <typename T>
  static Tensor from_vector(DType dtype, Shape shape, const std::vector<T>& values);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t dim(size_t axis) const { return shape_[axis]; }
  int64_t element_count() const { return element_count_; }
  size_t byte_size() const { return static_cast<size_t>(element_count_) * dtype_size(dtype_); }
  bool empty() const { return dtype_ == DType::undefined; }

  void* raw_data() { return data_; }
  const void* raw_data() const { return data_; }

  // Typed access. The caller is responsible for T matching dtype() (see dtype_traits.h for checked use).
  template <typename T>
  T* data() { return static_cast<T*>(data_); }
  template <typename T>
  const T* data() const { return static_cast<const T*>(data_); }
  template <typename T>
  std::span<T> values() { return {data<T>(), static_cast<size_t>(element_count_)}; }
  template <typename T>
  std::span<const T> values() const { return {data<T>(), static_cast<size_t>(element_count_)}; }

  // Same storage, new shape with the same element count.
  Tensor reshaped(Shape shape) const;
  Tensor clone() const;

  // Reads element i (flat index) converted to double / int64, whatever the dtype. Slow; for shape
  // tensors, attributes and tests.
  double value_as_double(int64_t index) const;
  int64_t value_as_int64(int64_t index) const;
  // Whole tensor as int64 (for shape, axes, indices inputs).
  std::vector<int64_t> to_int64_vector() const;
  std::vector<float> to_float_vector() const;

 private:
  DType dtype_ = DType::undefined;
  Shape shape_;
  int64_t element_count_ = 0;
  std::shared_ptr<std::byte[]> storage_;
  void* data_ = nullptr;
};

template <typename T>
Tensor Tensor::from_vector(DType dtype, Shape shape, const std::vector<T>& values) {
  Tensor tensor(dtype, std::move(shape));
  if (static_cast<int64_t>(values.size()) != tensor.element_count() || sizeof(T) != dtype_size(dtype)) {
    throw Error(ErrorKind::internal, "Tensor::from_vector: size or element type does not match the shape");
  }
  std::copy(values.begin(), values.end(), tensor.data<T>());
  return tensor;
}

}  // namespace npukit
