// Ops that create tensors from attributes or shapes: Constant, ConstantOfShape, Range, EyeLike, and the
// random generators (RandomUniform, RandomNormal, their *Like forms, Bernoulli).
//
// The random ops are registered so that a model using them gets a clear reason: their outputs depend on
// a random number generator that no reference (ONNX's numpy one or ONNX Runtime's) lets us reproduce, and
// a reference kernel must never produce an answer it cannot vouch for.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "onnx/dtype_mapping.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/strided_copy.h"

namespace npukit::runtime::ref {

namespace {

void constant_kernel(KernelContext& context) {
  const ir::Node& node = context.node();
  if (const ir::Attribute* value = node.find_attribute("value")) {
    if (value->kind != ir::Attribute::Kind::tensor) context.invalid("attribute 'value' is not a tensor");
    context.set_output(0, value->tensor_value);
    return;
  }
  if (node.has_attribute("value_float")) {
    Tensor& output = context.allocate_output(0, DType::f32, {});
    output.data<float>()[0] = static_cast<float>(context.attribute_float("value_float", 0.0));
    return;
  }
  if (node.has_attribute("value_floats")) {
    const std::vector<double> values = context.attribute_floats("value_floats");
    Tensor& output = context.allocate_output(0, DType::f32, {static_cast<int64_t>(values.size())});
    for (size_t i = 0; i < values.size(); ++i) output.data<float>()[i] = static_cast<float>(values[i]);
    return;
  }
  if (node.has_attribute("value_int")) {
    Tensor& output = context.allocate_output(0, DType::i64, {});
    output.data<int64_t>()[0] = context.attribute_int("value_int", 0);
    return;
  }
  if (node.has_attribute("value_ints")) {
    const std::vector<int64_t> values = context.attribute_ints("value_ints");
    Tensor& output = context.allocate_output(0, DType::i64, {static_cast<int64_t>(values.size())});
    std::copy(values.begin(), values.end(), output.data<int64_t>());
    return;
  }
  if (node.has_attribute("value_string") || node.has_attribute("value_strings")) {
    context.unsupported("string constants are not supported (npukit tensors hold numbers only)");
  }
  if (node.has_attribute("sparse_value")) context.unsupported("sparse constants are not supported");
  context.invalid("Constant has no value attribute");
}

void constant_of_shape_kernel(KernelContext& context) {
  const Shape shape = int64_values(context.input(0));
  for (int64_t extent : shape) {
    if (extent < 0) context.invalid("shape " + shape_to_string(shape) + " has a negative dimension");
  }
  const ir::Attribute* value = context.node().find_attribute("value");
  if (!value) {
    context.allocate_output(0, DType::f32, shape);  // zero-filled: the default value is float 0
    return;
  }
  if (value->kind != ir::Attribute::Kind::tensor || value->tensor_value.element_count() != 1) {
    context.invalid("attribute 'value' must be a one-element tensor");
  }
  const Tensor& fill = value->tensor_value;
  Tensor& output = context.allocate_output(0, fill.dtype(), shape);
  const size_t element_size = dtype_size(fill.dtype());
  auto* destination = static_cast<std::byte*>(output.raw_data());
  for (int64_t i = 0; i < output.element_count(); ++i) {
    std::memcpy(destination + static_cast<size_t>(i) * element_size, fill.raw_data(), element_size);
  }
}

void range_kernel(KernelContext& context) {
  const Tensor& start = context.input(0);
  const Tensor& limit = context.input(1);
  const Tensor& delta = context.input(2);
  if (start.element_count() != 1 || limit.element_count() != 1 || delta.element_count() != 1) {
    context.invalid("start, limit and delta must be scalars");
  }
  if (limit.dtype() != start.dtype() || delta.dtype() != start.dtype()) context.invalid("start, limit and delta differ in dtype");
  constexpr DTypeSet accepted = dtype_bit(DType::f32) | dtype_bit(DType::f64) | dtype_bit(DType::i16) |
                                dtype_bit(DType::i32) | dtype_bit(DType::i64);
  dispatch_dtype(start.dtype(), accepted, "Range", [&]<typename T>() {
    const T first = start.data<T>()[0];
    const T last = limit.data<T>()[0];
    const T step = delta.data<T>()[0];
    if (step == T{0}) context.invalid("delta is zero");
    // Element count max(ceil((limit - start) / delta), 0), computed in double as the spec writes it.
    const double span = std::ceil((static_cast<double>(last) - static_cast<double>(first)) / static_cast<double>(step));
    const int64_t count = span > 0 ? static_cast<int64_t>(span) : 0;
    Tensor& output = context.allocate_output(0, start.dtype(), {count});
    T* values = output.data<T>();
    for (int64_t i = 0; i < count; ++i) values[i] = static_cast<T>(first + static_cast<T>(i) * step);
  });
}

// The dtype named by an ONNX `dtype` attribute, or `fallback` when the attribute is absent.
DType dtype_attribute(const KernelContext& context, DType fallback) {
  if (!context.node().has_attribute("dtype")) return fallback;
  const int64_t code = context.attribute_int("dtype", 0);
  std::optional<DType> type = onnx_io::dtype_from_onnx(static_cast<int32_t>(code));
  if (!type) context.unsupported("dtype " + onnx_io::onnx_type_name(static_cast<int32_t>(code)) + " is not supported");
  return *type;
}

void eye_like_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  if (input.rank() != 2) context.invalid("EyeLike expects a 2-D input, got " + shape_to_string(input.shape()));
  const DType type = dtype_attribute(context, input.dtype());
  const int64_t diagonal = context.attribute_int("k", 0);
  Tensor& output = context.allocate_output(0, type, input.shape());
  const int64_t rows = input.dim(0), columns = input.dim(1);
  dispatch_dtype(type, kAllTypes, "EyeLike", [&]<typename T>() {
    T* values = output.data<T>();
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t column = row + diagonal;
      if (column >= 0 && column < columns) values[row * columns + column] = static_cast<T>(1.0f);
    }
  });
}

void random_kernel(KernelContext& context) {
  context.unsupported(context.node().op_type + " draws random numbers: random output: not reproducible");
}

}  // namespace

void register_generator_kernels(KernelRegistry& registry) {
  registry.add("Constant", constant_kernel, 1, 21);
  registry.add("ConstantOfShape", constant_of_shape_kernel, 9, 21);
  registry.add("Range", range_kernel, 11, 21);
  registry.add("EyeLike", eye_like_kernel, 9, 21);
  registry.add("RandomUniform", random_kernel, 1, 21);
  registry.add("RandomUniformLike", random_kernel, 1, 21);
  registry.add("RandomNormal", random_kernel, 1, 21);
  registry.add("RandomNormalLike", random_kernel, 1, 21);
  registry.add("Bernoulli", random_kernel, 15, 21);
}

}  // namespace npukit::runtime::ref
