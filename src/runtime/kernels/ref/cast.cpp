// Cast and CastLike between every numeric and bool dtype npukit holds.
//
// Rules (numpy astype semantics, which generate the ONNX test outputs): float -> integer truncates toward
// zero; values out of the integer range saturate and NaN becomes 0 (C++ leaves those undefined, and a
// reference kernel must not); integer -> narrower integer wraps; anything -> bool is "!= 0".
// double -> float16/bfloat16 rounds once: going through float with round-to-odd keeps the final
// round-to-nearest-even correct.
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/dtype_traits.h"
#include "onnx/dtype_mapping.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

// Nearest float to `value` except that an inexact result has its last mantissa bit set (round to odd), so
// a later rounding to fewer bits cannot round twice.
float double_to_float_round_to_odd(double value) {
  float nearest = static_cast<float>(value);
  if (std::isnan(value) || std::isinf(nearest) || static_cast<double>(nearest) == value) return nearest;
  uint32_t bits = float_bits(nearest);
  if ((bits & 1u) == 0) {
    bool magnitude_too_large = std::fabs(static_cast<double>(nearest)) > std::fabs(value);
    bits = magnitude_too_large ? bits - 1 : bits + 1;
  }
  return float_from_bits(bits);
}

template <typename Destination, typename Source>
Destination convert(Source source) {
  using SourceCompute = compute_type_t<Source>;
  if constexpr (std::is_same_v<Destination, bool>) {
    return static_cast<SourceCompute>(source) != SourceCompute(0);
  } else if constexpr (std::is_same_v<Destination, Float16> || std::is_same_v<Destination, BFloat16>) {
    if constexpr (std::is_same_v<Source, double>) {
      return Destination(double_to_float_round_to_odd(source));
    } else if constexpr (std::is_same_v<Source, int64_t> || std::is_same_v<Source, uint64_t>) {
      return Destination(double_to_float_round_to_odd(static_cast<double>(source)));
    } else {
      return Destination(static_cast<float>(static_cast<SourceCompute>(source)));
    }
  } else if constexpr (std::is_integral_v<Destination> && std::is_floating_point_v<SourceCompute>) {
    double value = static_cast<double>(static_cast<SourceCompute>(source));
    if (std::isnan(value)) return Destination(0);
    value = std::trunc(value);
    if (value <= static_cast<double>(std::numeric_limits<Destination>::lowest())) {
      return std::numeric_limits<Destination>::lowest();
    }
    if (value >= static_cast<double>(std::numeric_limits<Destination>::max())) {
      return std::numeric_limits<Destination>::max();
    }
    return static_cast<Destination>(value);
  } else {
    return static_cast<Destination>(static_cast<SourceCompute>(source));
  }
}

void cast_to(KernelContext& context, const Tensor& input, DType target) {
  Tensor& output = context.allocate_output(0, target, input.shape());
  dispatch_dtype(input.dtype(), kAllTypes, "Cast", [&]<typename Source>() {
    dispatch_dtype(target, kAllTypes, "Cast", [&]<typename Destination>() {
      const Source* source = input.data<Source>();
      Destination* destination = output.data<Destination>();
      const int64_t count = input.element_count();
      for (int64_t i = 0; i < count; ++i) destination[i] = convert<Destination>(source[i]);
    });
  });
}

void cast_kernel(KernelContext& context) {
  if (!context.node().has_attribute("to")) context.fail(ErrorKind::invalid_model, "Cast needs the 'to' attribute");
  const auto onnx_type = static_cast<int32_t>(context.attribute_int("to", 0));
  std::optional<DType> target = onnx_io::dtype_from_onnx(onnx_type);
  if (!target) context.unsupported("Cast to " + onnx_io::onnx_type_name(onnx_type) + " is not supported");
  cast_to(context, context.input(0), *target);
}

void cast_like_kernel(KernelContext& context) {
  cast_to(context, context.input(0), context.input(1).dtype());
}

}  // namespace

void register_cast_kernels(KernelRegistry& registry) {
  registry.add("Cast", cast_kernel);
  registry.add("CastLike", cast_like_kernel);
}

}  // namespace npukit::runtime::ref
