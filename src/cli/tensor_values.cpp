#include "cli/tensor_values.h"

#include <cmath>
#include <limits>

#include "core/float16.h"

namespace npukit::cli {

TensorValueSummary summarize_values(const Tensor& tensor, size_t first) {
  TensorValueSummary summary;
  summary.element_count = tensor.element_count();
  double minimum = std::numeric_limits<double>::infinity();
  double maximum = -std::numeric_limits<double>::infinity();
  double sum = 0;
  for (int64_t i = 0; i < tensor.element_count(); ++i) {
    double value = tensor.value_as_double(i);
    if (static_cast<size_t>(i) < first) summary.first_values.push_back(value);
    if (std::isnan(value)) {
      ++summary.nan_count;
    } else if (std::isinf(value)) {
      ++summary.infinity_count;
    } else {
      ++summary.finite_count;
      minimum = std::min(minimum, value);
      maximum = std::max(maximum, value);
      sum += value;
    }
  }
  if (summary.finite_count > 0) {
    summary.minimum = minimum;
    summary.maximum = maximum;
    summary.mean = sum / static_cast<double>(summary.finite_count);
  }
  return summary;
}

namespace {

double unit_interval(std::mt19937_64& generator) {
  return static_cast<double>(generator() >> 11) * (1.0 / 9007199254740992.0);  // 53 bits → [0, 1)
}

int64_t integer_in(std::mt19937_64& generator, int64_t low, int64_t high) {
  uint64_t range = static_cast<uint64_t>(high - low) + 1;
  return low + static_cast<int64_t>(generator() % range);
}

template <typename T>
void fill_integers(Tensor& tensor, std::mt19937_64& generator, int64_t low, int64_t high) {
  for (T& value : tensor.values<T>()) value = static_cast<T>(integer_in(generator, low, high));
}

}  // namespace

Tensor random_tensor(DType dtype, const Shape& shape, std::mt19937_64& generator) {
  Tensor tensor(dtype, shape);
  switch (dtype) {
    case DType::f32:
      for (float& value : tensor.values<float>()) value = static_cast<float>(unit_interval(generator));
      break;
    case DType::f64:
      for (double& value : tensor.values<double>()) value = unit_interval(generator);
      break;
    case DType::f16:
      for (Float16& value : tensor.values<Float16>()) value = Float16(static_cast<float>(unit_interval(generator)));
      break;
    case DType::bf16:
      for (BFloat16& value : tensor.values<BFloat16>()) value = BFloat16(static_cast<float>(unit_interval(generator)));
      break;
    case DType::u8: fill_integers<uint8_t>(tensor, generator, 0, 255); break;
    case DType::i8: fill_integers<int8_t>(tensor, generator, -128, 127); break;
    case DType::boolean: fill_integers<uint8_t>(tensor, generator, 0, 1); break;
    case DType::i16: fill_integers<int16_t>(tensor, generator, 0, 9); break;
    case DType::u16: fill_integers<uint16_t>(tensor, generator, 0, 9); break;
    case DType::i32: fill_integers<int32_t>(tensor, generator, 0, 9); break;
    case DType::u32: fill_integers<uint32_t>(tensor, generator, 0, 9); break;
    case DType::i64: fill_integers<int64_t>(tensor, generator, 0, 9); break;
    case DType::u64: fill_integers<uint64_t>(tensor, generator, 0, 9); break;
    case DType::i4: fill_integers<int8_t>(tensor, generator, -8, 7); break;
    case DType::u4: fill_integers<uint8_t>(tensor, generator, 0, 15); break;
    case DType::undefined:
      throw Error(ErrorKind::invalid_argument, "cannot make random data for an input of undefined dtype");
  }
  return tensor;
}

std::string sanitize_file_name(const std::string& name) {
  std::string safe;
  for (char c : name) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '-' || c == '_';
    safe += keep ? c : '_';
  }
  if (safe.empty() || safe == "." || safe == "..") safe = "output" + safe;
  // A leading dot would hide the file; a leading dash would read as an option to shell tools.
  if (safe[0] == '.' || safe[0] == '-') safe[0] = '_';
  return safe.substr(0, 200);
}

}  // namespace npukit::cli
