// Elementwise binary and variadic ops with numpy broadcasting: arithmetic, comparison, logic, bitwise,
// Max/Min/Sum/Mean, Where, PRelu. 16-bit floats compute in float and round once at the store.
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/broadcast.h"
#include "runtime/kernels/ref/elementwise_map.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

template <DTypeSet accepted, typename T>
constexpr bool accepts() {
  return dtype_accepted<accepted, T>();
}

// Before opset 7, binary ops broadcast only with broadcast=1 and an explicit `axis`; numpy broadcasting
// covers the suffix-matching form (no axis) but not an axis in the middle.
void reject_legacy_axis_broadcast(const KernelContext& context) {
  if (context.opset() < 7 && context.node().has_attribute("axis")) {
    context.unsupported("legacy broadcasting with an explicit 'axis' attribute (opset < 7) is not supported");
  }
}

// Two inputs of one dtype, broadcast; output dtype is the input dtype or bool (comparisons).
// operation is a generic lambda over the compute type.
template <DTypeSet accepted, bool output_is_bool, typename Operation>
void binary_kernel(KernelContext& context, const char* name, Operation operation) {
  reject_legacy_axis_broadcast(context);
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  if (a.dtype() != b.dtype()) {
    context.invalid(std::string(name) + " inputs have different element types (" + std::string(dtype_name(a.dtype())) +
                    " and " + std::string(dtype_name(b.dtype())) + ")");
  }
  Shape output_shape = broadcast_shapes({a.shape(), b.shape()}, name);
  Tensor& output = context.allocate_output(0, output_is_bool ? DType::boolean : a.dtype(), output_shape);
  BroadcastMapper mapper({a.shape(), b.shape()}, output_shape);
  dispatch_dtype(a.dtype(), accepted, name, [&]<typename T>() {
    if constexpr (accepts<accepted, T>()) {
      using Compute = compute_type_t<T>;
      using Out = std::conditional_t<output_is_bool, bool, T>;
      broadcast_binary(mapper, a.data<T>(), b.data<T>(), output.data<Out>(), [&](T x, T y) {
        return static_cast<Out>(operation(static_cast<Compute>(x), static_cast<Compute>(y)));
      });
    }
  });
}

void add_kernel(KernelContext& context) {
  binary_kernel<kNumericTypes, false>(context, "Add", []<typename C>(C x, C y) -> C { return wrapping_add(x, y); });
}
void sub_kernel(KernelContext& context) {
  binary_kernel<kNumericTypes, false>(context, "Sub", []<typename C>(C x, C y) -> C { return wrapping_sub(x, y); });
}
void mul_kernel(KernelContext& context) {
  binary_kernel<kNumericTypes, false>(context, "Mul", []<typename C>(C x, C y) -> C { return wrapping_mul(x, y); });
}
void div_kernel(KernelContext& context) {
  binary_kernel<kNumericTypes, false>(context, "Div", []<typename C>(C x, C y) -> C {
    if constexpr (std::is_integral_v<C>) {
      // Integer division truncates (as numpy's astype after true division). Division by zero has no defined
      // result; give 0 rather than trap, and avoid the one overflowing case MIN / -1.
      if (y == C(0)) return C(0);
      if constexpr (std::is_signed_v<C>) {
        if (x == std::numeric_limits<C>::min() && y == C(-1)) return x;
      }
    }
    return C(x / y);
  });
}

void mod_kernel(KernelContext& context) {
  const bool use_fmod = context.attribute_int("fmod", 0) != 0;
  if (!use_fmod && dtype_is_float(context.input(0).dtype())) {
    context.invalid("Mod of floating-point inputs requires fmod=1");
  }
  binary_kernel<kNumericTypes, false>(context, "Mod", [use_fmod]<typename C>(C x, C y) -> C {
    if constexpr (std::is_floating_point_v<C>) {
      return std::fmod(x, y);
    } else {
      if (y == C(0)) return C(0);  // undefined; never trap
      if constexpr (std::is_signed_v<C>) {
        if (y == C(-1)) return C(0);  // also avoids MIN % -1 overflow
        C remainder = C(x % y);
        // Without fmod the result takes the sign of the divisor (Python's %).
        if (!use_fmod && remainder != 0 && ((remainder < 0) != (y < 0))) remainder = C(remainder + y);
        return remainder;
      } else {
        return C(x % y);
      }
    }
  });
}

// Pow allows a different exponent type; computes in double (float for 16-bit bases is not enough for
// integer exponents of integer bases) and converts to the base type.
void pow_kernel(KernelContext& context) {
  reject_legacy_axis_broadcast(context);
  const Tensor& base = context.input(0);
  const Tensor& exponent = context.input(1);
  Shape output_shape = broadcast_shapes({base.shape(), exponent.shape()}, "Pow");
  Tensor& output = context.allocate_output(0, base.dtype(), output_shape);
  BroadcastMapper mapper({base.shape(), exponent.shape()}, output_shape);
  constexpr DTypeSet accepted = kFloatTypes | kSignedIntegerTypes | kUnsignedIntegerTypes;
  dispatch_dtype(base.dtype(), accepted, "Pow", [&]<typename T>() {
    if constexpr (accepts<accepted, T>()) {
      dispatch_dtype(exponent.dtype(), accepted, "Pow", [&]<typename E>() {
        if constexpr (accepts<accepted, E>()) {
          broadcast_binary(mapper, base.data<T>(), exponent.data<E>(), output.data<T>(), [](T x, E y) {
            double value = std::pow(static_cast<double>(static_cast<compute_type_t<T>>(x)),
                                    static_cast<double>(static_cast<compute_type_t<E>>(y)));
            if constexpr (std::is_integral_v<T>) {
              // Truncation toward zero like numpy's astype; out-of-range results saturate instead of UB.
              if (std::isnan(value)) return T(0);
              if (value >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
              if (value <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
              return static_cast<T>(value);
            } else {
              return static_cast<T>(static_cast<compute_type_t<T>>(value));
            }
          });
        }
      });
    }
  });
}

constexpr DTypeSet kBoolType = dtype_bit(DType::boolean);

void and_kernel(KernelContext& context) {
  binary_kernel<kBoolType, false>(context, "And", [](bool x, bool y) { return x && y; });
}
void or_kernel(KernelContext& context) {
  binary_kernel<kBoolType, false>(context, "Or", [](bool x, bool y) { return x || y; });
}
void xor_kernel(KernelContext& context) {
  binary_kernel<kBoolType, false>(context, "Xor", [](bool x, bool y) { return x != y; });
}

void equal_kernel(KernelContext& context) {
  binary_kernel<kAllTypes, true>(context, "Equal", []<typename C>(C x, C y) { return x == y; });
}
void less_kernel(KernelContext& context) {
  binary_kernel<kNumericTypes, true>(context, "Less", []<typename C>(C x, C y) { return x < y; });
}
void greater_kernel(KernelContext& context) {
  binary_kernel<kNumericTypes, true>(context, "Greater", []<typename C>(C x, C y) { return x > y; });
}
void less_or_equal_kernel(KernelContext& context) {
  binary_kernel<kNumericTypes, true>(context, "LessOrEqual", []<typename C>(C x, C y) { return x <= y; });
}
void greater_or_equal_kernel(KernelContext& context) {
  binary_kernel<kNumericTypes, true>(context, "GreaterOrEqual", []<typename C>(C x, C y) { return x >= y; });
}

void bit_shift_kernel(KernelContext& context) {
  std::string direction = context.attribute_string("direction", "");
  if (direction != "LEFT" && direction != "RIGHT") {
    context.invalid("BitShift direction must be LEFT or RIGHT, got '" + direction + "'");
  }
  const bool left = direction == "LEFT";
  binary_kernel<kUnsignedIntegerTypes, false>(context, "BitShift", [left]<typename C>(C x, C y) -> C {
    // Shifting by the type's width or more is undefined in C++; every bit is shifted out.
    if (y >= C(sizeof(C) * 8)) return C(0);
    return left ? C(x << y) : C(x >> y);
  });
}

void bitwise_and_kernel(KernelContext& context) {
  binary_kernel<kIntegerTypes, false>(context, "BitwiseAnd", []<typename C>(C x, C y) -> C { return C(x & y); });
}
void bitwise_or_kernel(KernelContext& context) {
  binary_kernel<kIntegerTypes, false>(context, "BitwiseOr", []<typename C>(C x, C y) -> C { return C(x | y); });
}
void bitwise_xor_kernel(KernelContext& context) {
  binary_kernel<kIntegerTypes, false>(context, "BitwiseXor", []<typename C>(C x, C y) -> C { return C(x ^ y); });
}

enum class VariadicOp { max, min, sum, mean };

// Max/Min/Sum/Mean over any number of broadcast inputs, accumulated in the compute type and stored once.
template <VariadicOp op>
void variadic_kernel(KernelContext& context, const char* name) {
  std::vector<const Tensor*> inputs;
  std::vector<Shape> shapes;
  for (size_t i = 0; i < context.input_count(); ++i) {
    if (!context.has_input(i)) continue;
    inputs.push_back(&context.input(i));
    shapes.push_back(inputs.back()->shape());
    if (inputs.back()->dtype() != inputs.front()->dtype()) {
      context.invalid(std::string(name) + " inputs have different element types");
    }
  }
  if (inputs.empty()) context.invalid(std::string(name) + " needs at least one input");
  Shape output_shape = broadcast_shapes(shapes, name);
  Tensor& output = context.allocate_output(0, inputs.front()->dtype(), output_shape);
  constexpr DTypeSet accepted = (op == VariadicOp::max || op == VariadicOp::min) ? kNumericTypes : kFloatTypes | kIntegerTypes;
  dispatch_dtype(inputs.front()->dtype(), accepted, name, [&]<typename T>() {
    if constexpr (accepts<accepted, T>()) {
      using Compute = compute_type_t<T>;
      const int64_t count = output.element_count();
      std::vector<Compute> accumulator(static_cast<size_t>(count));
      for (size_t k = 0; k < inputs.size(); ++k) {
        BroadcastMapper mapper({output_shape, inputs[k]->shape()}, output_shape);
        const T* source = inputs[k]->data<T>();
        broadcast_binary(mapper, accumulator.data(), source, accumulator.data(), [k](Compute current, T next_value) {
          Compute next = static_cast<Compute>(next_value);
          if (k == 0) return next;
          if constexpr (op == VariadicOp::max) {
            if constexpr (std::is_floating_point_v<Compute>) {
              if (std::isnan(current) || std::isnan(next)) return std::numeric_limits<Compute>::quiet_NaN();
            }
            return next > current ? next : current;
          } else if constexpr (op == VariadicOp::min) {
            if constexpr (std::is_floating_point_v<Compute>) {
              if (std::isnan(current) || std::isnan(next)) return std::numeric_limits<Compute>::quiet_NaN();
            }
            return next < current ? next : current;
          } else {
            return wrapping_add(current, next);
          }
        });
      }
      T* destination = output.data<T>();
      const Compute divisor = static_cast<Compute>(inputs.size());
      for (int64_t i = 0; i < count; ++i) {
        Compute value = accumulator[static_cast<size_t>(i)];
        if constexpr (op == VariadicOp::mean) value = Compute(value / divisor);
        destination[i] = static_cast<T>(value);
      }
    }
  });
}

void max_kernel(KernelContext& context) { variadic_kernel<VariadicOp::max>(context, "Max"); }
void min_kernel(KernelContext& context) { variadic_kernel<VariadicOp::min>(context, "Min"); }
void sum_kernel(KernelContext& context) { variadic_kernel<VariadicOp::sum>(context, "Sum"); }
void mean_kernel(KernelContext& context) { variadic_kernel<VariadicOp::mean>(context, "Mean"); }

void where_kernel(KernelContext& context) {
  const Tensor& condition = context.input(0);
  const Tensor& x = context.input(1);
  const Tensor& y = context.input(2);
  if (condition.dtype() != DType::boolean) context.invalid("Where condition must be bool");
  if (x.dtype() != y.dtype()) context.invalid("Where X and Y have different element types");
  Shape output_shape = broadcast_shapes({condition.shape(), x.shape(), y.shape()}, "Where");
  Tensor& output = context.allocate_output(0, x.dtype(), output_shape);
  BroadcastMapper mapper({condition.shape(), x.shape(), y.shape()}, output_shape);
  const int64_t step_condition = mapper.step(0), step_x = mapper.step(1), step_y = mapper.step(2);
  dispatch_dtype(x.dtype(), kAllTypes, "Where", [&]<typename T>() {
    const bool* conditions = condition.data<bool>();
    const T* x_values = x.data<T>();
    const T* y_values = y.data<T>();
    T* destination = output.data<T>();
    mapper.for_each_run([&](int64_t output_offset, const int64_t* offsets, int64_t length) {
      for (int64_t i = 0; i < length; ++i) {
        destination[output_offset + i] = conditions[offsets[0] + i * step_condition] ? x_values[offsets[1] + i * step_x]
                                                                                      : y_values[offsets[2] + i * step_y];
      }
    });
  });
}

void prelu_kernel(KernelContext& context) {
  const Tensor& x = context.input(0);
  Tensor slope = context.input(1);
  if (x.dtype() != slope.dtype()) context.invalid("PRelu X and slope have different element types");
  // Before opset 7 (no numpy broadcasting yet) a 1-D slope of C values is one slope per channel (axis 1), as
  // the Caffe2/PyTorch exporters of that time meant it: view it as [C, 1, ..., 1].
  if (context.opset() < 7 && slope.rank() == 1 && x.rank() >= 2 && slope.dim(0) == x.dim(1) && slope.dim(0) > 1) {
    Shape per_channel(x.rank() - 1, 1);
    per_channel[0] = slope.dim(0);
    slope = slope.reshaped(per_channel);
  }
  if (!broadcasts_to(slope.shape(), x.shape())) {
    context.invalid("PRelu slope of shape " + shape_to_string(slope.shape()) + " does not broadcast to X of shape " +
                    shape_to_string(x.shape()));
  }
  Tensor& output = context.allocate_output(0, x.dtype(), x.shape());
  BroadcastMapper mapper({x.shape(), slope.shape()}, x.shape());
  constexpr DTypeSet accepted = kFloatTypes | kSignedIntegerTypes | kUnsignedIntegerTypes;
  dispatch_dtype(x.dtype(), accepted, "PRelu", [&]<typename T>() {
    if constexpr (accepts<accepted, T>()) {
      using Compute = compute_type_t<T>;
      broadcast_binary(mapper, x.data<T>(), slope.data<T>(), output.data<T>(), [](T value, T alpha) {
        Compute v = static_cast<Compute>(value);
        return static_cast<T>(v < Compute(0) ? Compute(v * static_cast<Compute>(alpha)) : v);
      });
    }
  });
}

}  // namespace

void register_elementwise_binary_kernels(KernelRegistry& registry) {
  registry.add("Add", add_kernel);
  registry.add("Sub", sub_kernel);
  registry.add("Mul", mul_kernel);
  registry.add("Div", div_kernel);
  registry.add("Mod", mod_kernel);
  registry.add("Pow", pow_kernel);
  registry.add("And", and_kernel);
  registry.add("Or", or_kernel);
  registry.add("Xor", xor_kernel);
  registry.add("Equal", equal_kernel);
  registry.add("Less", less_kernel);
  registry.add("Greater", greater_kernel);
  registry.add("LessOrEqual", less_or_equal_kernel);
  registry.add("GreaterOrEqual", greater_or_equal_kernel);
  registry.add("BitShift", bit_shift_kernel);
  registry.add("BitwiseAnd", bitwise_and_kernel, 18);
  registry.add("BitwiseOr", bitwise_or_kernel, 18);
  registry.add("BitwiseXor", bitwise_xor_kernel, 18);
  registry.add("Max", max_kernel);
  registry.add("Min", min_kernel);
  registry.add("Sum", sum_kernel);
  registry.add("Mean", mean_kernel);
  registry.add("Where", where_kernel);
  registry.add("PRelu", prelu_kernel);
}

}  // namespace npukit::runtime::ref
