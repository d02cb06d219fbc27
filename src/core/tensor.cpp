#include "npukit/tensor.h"

#include <atomic>
#include <cstring>

#include "core/dtype_traits.h"

namespace npukit {

namespace {
std::atomic<size_t> memory_limit_bytes{size_t{16} << 30};

// "16384 MiB" for whole MiB, else bytes: a limit of 1K is not "0 MiB".
std::string memory_limit_text(size_t limit) {
  return limit >= (size_t{1} << 20) && limit % (size_t{1} << 20) == 0 ? std::to_string(limit >> 20) + " MiB"
                                                                         : std::to_string(limit) + " bytes";
}
}  // namespace

size_t tensor_memory_limit() { return memory_limit_bytes.load(); }
void set_tensor_memory_limit(size_t bytes) { memory_limit_bytes.store(bytes); }

int64_t shape_element_count(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) {
      throw Error(ErrorKind::invalid_argument, "shape " + shape_to_string(shape) + " has a negative dimension");
    }
    if (dim != 0 && count > INT64_MAX / dim) {
      throw Error(ErrorKind::resource_limit,
                  "shape " + shape_to_string(shape) + " has more elements than fit in 64 bits");
    }
    count *= dim;
  }
  return count;
}

std::string shape_to_string(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  element_count_ = shape_element_count(shape_);
  size_t element_size = dtype_size(dtype);
  if (element_size == 0) throw Error(ErrorKind::internal, "tensor of undefined element type");
  size_t limit = tensor_memory_limit();
  if (static_cast<uint64_t>(element_count_) > limit / element_size) {
    throw Error(ErrorKind::resource_limit,
                "tensor of shape " + shape_to_string(shape_) + " and type " + std::string(dtype_name(dtype)) +
                    " needs more than the memory limit of " + memory_limit_text(limit) +
                    " (raise it with --memory-limit if the model really needs it)");
  }
  size_t bytes = static_cast<size_t>(element_count_) * element_size;
  // Always allocate at least one byte so data_ is never null, and zero-fill: kernels may rely on it.
  storage_ = std::shared_ptr<std::byte[]>(new std::byte[bytes == 0 ? 1 : bytes]());
  data_ = storage_.get();
}

Tensor Tensor::view(DType dtype, Shape shape, void* data) {
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.shape_ = std::move(shape);
  tensor.element_count_ = shape_element_count(tensor.shape_);
  tensor.data_ = data;
  return tensor;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_element_count(shape) != element_count_) {
    throw Error(ErrorKind::invalid_argument,
                "cannot reshape " + shape_to_string(shape_) + " to " + shape_to_string(shape));
  }
  Tensor tensor = *this;
  tensor.shape_ = std::move(shape);
  return tensor;
}

Tensor Tensor::clone() const {
  Tensor copy(dtype_, shape_);
  if (byte_size() > 0) std::memcpy(copy.data_, data_, byte_size());
  return copy;
}

double Tensor::value_as_double(int64_t index) const {
  return dispatch_dtype(dtype_, kAllTypes, "value_as_double", [&]<typename T>() -> double {
    return static_cast<double>(static_cast<compute_type_t<T>>(data<T>()[index]));
  });
}

int64_t Tensor::value_as_int64(int64_t index) const {
  return dispatch_dtype(dtype_, kAllTypes, "value_as_int64", [&]<typename T>() -> int64_t {
    return static_cast<int64_t>(static_cast<compute_type_t<T>>(data<T>()[index]));
  });
}

std::vector<int64_t> Tensor::to_int64_vector() const {
  std::vector<int64_t> result(static_cast<size_t>(element_count_));
  for (int64_t i = 0; i < element_count_; ++i) result[static_cast<size_t>(i)] = value_as_int64(i);
  return result;
}

std::vector<float> Tensor::to_float_vector() const {
  std::vector<float> result(static_cast<size_t>(element_count_));
  for (int64_t i = 0; i < element_count_; ++i) result[static_cast<size_t>(i)] = static_cast<float>(value_as_double(i));
  return result;
}

}  // namespace npukit
