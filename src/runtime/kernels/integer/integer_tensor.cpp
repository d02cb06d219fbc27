#include "runtime/kernels/integer/integer_tensor.h"

#include <limits>
#include <string>

#include "npukit/error.h"

namespace npukit::runtime::integer {

namespace {
template <typename T>
std::vector<int32_t> widen_as(const Tensor& tensor) {
  const T* data = tensor.data<T>();
  return std::vector<int32_t>(data, data + tensor.element_count());
}

template <typename T>
void narrow_as(Tensor& tensor, const std::vector<int32_t>& values) {
  T* data = tensor.data<T>();
  for (size_t i = 0; i < values.size(); ++i) data[i] = static_cast<T>(values[i]);
}
}  // namespace

bool is_integer_grid(DType dtype) {
  return dtype == DType::i8 || dtype == DType::u8 || dtype == DType::i16 || dtype == DType::u16 || dtype == DType::i32;
}

int32_t grid_minimum(DType dtype) {
  switch (dtype) {
    case DType::i8: return std::numeric_limits<int8_t>::min();
    case DType::u8: return 0;
    case DType::i16: return std::numeric_limits<int16_t>::min();
    case DType::u16: return 0;
    case DType::i32: return std::numeric_limits<int32_t>::min();
    default: throw Error(ErrorKind::invalid_argument, "not an integer grid: " + std::string(dtype_name(dtype)));
  }
}

int32_t grid_maximum(DType dtype) {
  switch (dtype) {
    case DType::i8: return std::numeric_limits<int8_t>::max();
    case DType::u8: return std::numeric_limits<uint8_t>::max();
    case DType::i16: return std::numeric_limits<int16_t>::max();
    case DType::u16: return std::numeric_limits<uint16_t>::max();
    case DType::i32: return std::numeric_limits<int32_t>::max();
    default: throw Error(ErrorKind::invalid_argument, "not an integer grid: " + std::string(dtype_name(dtype)));
  }
}

std::vector<int32_t> widen(const Tensor& tensor, const char* what) {
  switch (tensor.dtype()) {
    case DType::i8: return widen_as<int8_t>(tensor);
    case DType::u8: return widen_as<uint8_t>(tensor);
    case DType::i16: return widen_as<int16_t>(tensor);
    case DType::u16: return widen_as<uint16_t>(tensor);
    case DType::i32: return widen_as<int32_t>(tensor);
    default:
      throw Error(ErrorKind::invalid_argument, std::string(what) + " must be an integer tensor (int8, uint8, int16, "
                                                                    "uint16 or int32), got " + std::string(dtype_name(tensor.dtype())));
  }
}

Tensor narrow(DType dtype, Shape shape, const std::vector<int32_t>& values) {
  Tensor tensor(dtype, std::move(shape));
  if (static_cast<size_t>(tensor.element_count()) != values.size()) {
    throw Error(ErrorKind::internal, "narrow: value count does not match the shape");
  }
  switch (dtype) {
    case DType::i8: narrow_as<int8_t>(tensor, values); break;
    case DType::u8: narrow_as<uint8_t>(tensor, values); break;
    case DType::i16: narrow_as<int16_t>(tensor, values); break;
    case DType::u16: narrow_as<uint16_t>(tensor, values); break;
    case DType::i32: narrow_as<int32_t>(tensor, values); break;
    default: throw Error(ErrorKind::invalid_argument, "not an integer grid: " + std::string(dtype_name(dtype)));
  }
  return tensor;
}

}  // namespace npukit::runtime::integer
