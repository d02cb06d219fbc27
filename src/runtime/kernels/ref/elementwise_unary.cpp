// Elementwise unary math: one output element from one input element, same shape.
// 16-bit floats are computed in float (compute_type_t) and rounded once at the store.
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/elementwise_map.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

void abs_kernel(KernelContext& context) {
  map_same_type<kNumericTypes>(context, "Abs", []<typename C>(C x) -> C {
    if constexpr (std::is_unsigned_v<C>) {
      return x;
    } else {
      return x < C(0) ? wrapping_sub(C(0), x) : x;
    }
  });
}

void neg_kernel(KernelContext& context) {
  map_same_type<kFloatTypes | kSignedIntegerTypes>(context, "Neg", []<typename C>(C x) -> C { return wrapping_sub(C(0), x); });
}

void sign_kernel(KernelContext& context) {
  map_same_type<kNumericTypes>(context, "Sign", []<typename C>(C x) -> C {
    if (x > C(0)) return C(1);
    if (x < C(0)) return C(-1);
    return x;  // keeps 0 (and NaN propagates as NaN, since NaN compares false)
  });
}

void reciprocal_kernel(KernelContext& context) {
  map_same_type<kFloatTypes>(context, "Reciprocal", []<typename C>(C x) -> C { return C(1) / x; });
}

// Float-only ops with a plain std:: function.
#define NPUKIT_FLOAT_UNARY(function_name, op_name, expression)                                                     \
  void function_name(KernelContext& context) {                                                                     \
    map_same_type<kFloatTypes>(context, op_name, []<typename C>(C x) -> C { return static_cast<C>(expression); }); \
  }

NPUKIT_FLOAT_UNARY(exp_kernel, "Exp", std::exp(x))
NPUKIT_FLOAT_UNARY(log_kernel, "Log", std::log(x))
NPUKIT_FLOAT_UNARY(sqrt_kernel, "Sqrt", std::sqrt(x))
NPUKIT_FLOAT_UNARY(floor_kernel, "Floor", std::floor(x))
NPUKIT_FLOAT_UNARY(ceil_kernel, "Ceil", std::ceil(x))
// Round half to even: nearbyint under the default rounding mode.
NPUKIT_FLOAT_UNARY(round_kernel, "Round", std::nearbyint(x))
NPUKIT_FLOAT_UNARY(sin_kernel, "Sin", std::sin(x))
NPUKIT_FLOAT_UNARY(cos_kernel, "Cos", std::cos(x))
NPUKIT_FLOAT_UNARY(tan_kernel, "Tan", std::tan(x))
NPUKIT_FLOAT_UNARY(asin_kernel, "Asin", std::asin(x))
NPUKIT_FLOAT_UNARY(acos_kernel, "Acos", std::acos(x))
NPUKIT_FLOAT_UNARY(atan_kernel, "Atan", std::atan(x))
NPUKIT_FLOAT_UNARY(sinh_kernel, "Sinh", std::sinh(x))
NPUKIT_FLOAT_UNARY(cosh_kernel, "Cosh", std::cosh(x))
NPUKIT_FLOAT_UNARY(asinh_kernel, "Asinh", std::asinh(x))
NPUKIT_FLOAT_UNARY(acosh_kernel, "Acosh", std::acosh(x))
NPUKIT_FLOAT_UNARY(atanh_kernel, "Atanh", std::atanh(x))
NPUKIT_FLOAT_UNARY(erf_kernel, "Erf", std::erf(x))

#undef NPUKIT_FLOAT_UNARY

void erf_numeric_kernel(KernelContext& context) {
  // Erf accepts integer inputs too (opset 9+); erf of an integer rounds to -1, 0 or 1.
  const DType type = context.input(0).dtype();
  if (dtype_is_float(type)) return erf_kernel(context);
  map_same_type<kIntegerTypes>(context, "Erf", []<typename C>(C x) -> C {
    return static_cast<C>(std::nearbyint(std::erf(static_cast<double>(x))));
  });
}

void not_kernel(KernelContext& context) {
  map_same_type<dtype_bit(DType::boolean)>(context, "Not", [](bool x) { return !x; });
}

void bitwise_not_kernel(KernelContext& context) {
  map_same_type<kIntegerTypes>(context, "BitwiseNot", []<typename C>(C x) -> C { return static_cast<C>(~x); });
}

void isnan_kernel(KernelContext& context) {
  map_to_bool<kFloatTypes>(context, "IsNaN", []<typename C>(C x) { return std::isnan(x); });
}

void isinf_kernel(KernelContext& context) {
  const bool detect_negative = context.attribute_int("detect_negative", 1) != 0;
  const bool detect_positive = context.attribute_int("detect_positive", 1) != 0;
  map_to_bool<kFloatTypes>(context, "IsInf", [&]<typename C>(C x) {
    if (!std::isinf(x)) return false;
    return x > C(0) ? detect_positive : detect_negative;
  });
}

}  // namespace

void register_elementwise_unary_kernels(KernelRegistry& registry) {
  registry.add("Abs", abs_kernel);
  registry.add("Neg", neg_kernel);
  registry.add("Sign", sign_kernel);
  registry.add("Reciprocal", reciprocal_kernel);
  registry.add("Exp", exp_kernel);
  registry.add("Log", log_kernel);
  registry.add("Sqrt", sqrt_kernel);
  registry.add("Floor", floor_kernel);
  registry.add("Ceil", ceil_kernel);
  registry.add("Round", round_kernel);
  registry.add("Sin", sin_kernel);
  registry.add("Cos", cos_kernel);
  registry.add("Tan", tan_kernel);
  registry.add("Asin", asin_kernel);
  registry.add("Acos", acos_kernel);
  registry.add("Atan", atan_kernel);
  registry.add("Sinh", sinh_kernel);
  registry.add("Cosh", cosh_kernel);
  registry.add("Asinh", asinh_kernel);
  registry.add("Acosh", acosh_kernel);
  registry.add("Atanh", atanh_kernel);
  registry.add("Erf", erf_numeric_kernel);
  registry.add("Not", not_kernel);
  registry.add("BitwiseNot", bitwise_not_kernel, 18);
  registry.add("IsNaN", isnan_kernel);
  registry.add("IsInf", isinf_kernel);
}

}  // namespace npukit::runtime::ref
