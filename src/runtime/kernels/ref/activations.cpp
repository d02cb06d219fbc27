// Activation functions: elementwise, with the op's attributes as parameters. Clip in both forms (min/max
// attributes before opset 11, optional scalar inputs from 11).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/elementwise_map.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

constexpr DTypeSet kSignedNumeric = kFloatTypes | kSignedIntegerTypes;

void relu_kernel(KernelContext& context) {
  map_same_type<kSignedNumeric>(context, "Relu", []<typename C>(C x) -> C { return x > C(0) ? x : C(0); });
}

void leaky_relu_kernel(KernelContext& context) {
  const float alpha = static_cast<float>(context.attribute_float("alpha", 0.01));
  map_same_type<kFloatTypes>(context, "LeakyRelu",
                             [alpha]<typename C>(C x) -> C { return x >= C(0) ? x : C(x * C(alpha)); });
}

void elu_kernel(KernelContext& context) {
  const float alpha = static_cast<float>(context.attribute_float("alpha", 1.0));
  map_same_type<kFloatTypes>(context, "Elu",
                             [alpha]<typename C>(C x) -> C { return x >= C(0) ? x : C(C(alpha) * (std::exp(x) - C(1))); });
}

void selu_kernel(KernelContext& context) {
  const float alpha = static_cast<float>(context.attribute_float("alpha", 1.67326319217681884765625));
  const float gamma = static_cast<float>(context.attribute_float("gamma", 1.05070102214813232421875));
  map_same_type<kFloatTypes>(context, "Selu", [alpha, gamma]<typename C>(C x) -> C {
    return x > C(0) ? C(C(gamma) * x) : C(C(gamma) * (C(alpha) * std::exp(x) - C(alpha)));
  });
}

void celu_kernel(KernelContext& context) {
  const float alpha = static_cast<float>(context.attribute_float("alpha", 1.0));
  map_same_type<kFloatTypes>(context, "Celu", [alpha]<typename C>(C x) -> C {
    return std::max(C(0), x) + std::min(C(0), C(C(alpha) * (std::exp(x / C(alpha)) - C(1))));
  });
}

void sigmoid_kernel(KernelContext& context) {
  map_same_type<kFloatTypes>(context, "Sigmoid", []<typename C>(C x) -> C {
    // Written per sign so exp never overflows.
    if (x >= C(0)) return C(1) / (C(1) + std::exp(-x));
    C e = std::exp(x);
    return e / (C(1) + e);
  });
}

void hard_sigmoid_kernel(KernelContext& context) {
  const float alpha = static_cast<float>(context.attribute_float("alpha", 0.2));
  const float beta = static_cast<float>(context.attribute_float("beta", 0.5));
  map_same_type<kFloatTypes>(context, "HardSigmoid", [alpha, beta]<typename C>(C x) -> C {
    return std::max(C(0), std::min(C(1), C(C(alpha) * x + C(beta))));
  });
}

void hard_swish_kernel(KernelContext& context) {
  map_same_type<kFloatTypes>(context, "HardSwish", []<typename C>(C x) -> C {
    return x * std::max(C(0), std::min(C(1), C(x / C(6) + C(0.5))));
  });
}

void softplus_kernel(KernelContext& context) {
  map_same_type<kFloatTypes>(context, "Softplus", []<typename C>(C x) -> C {
    // log(1 + exp(x)) without overflow for large x.
    return x > C(0) ? C(x + std::log1p(std::exp(-x))) : C(std::log1p(std::exp(x)));
  });
}

void softsign_kernel(KernelContext& context) {
  map_same_type<kFloatTypes>(context, "Softsign", []<typename C>(C x) -> C { return x / (C(1) + std::abs(x)); });
}

void tanh_kernel(KernelContext& context) {
  map_same_type<kFloatTypes>(context, "Tanh", []<typename C>(C x) -> C { return std::tanh(x); });
}

void thresholded_relu_kernel(KernelContext& context) {
  const float alpha = static_cast<float>(context.attribute_float("alpha", 1.0));
  map_same_type<kFloatTypes>(context, "ThresholdedRelu",
                             [alpha]<typename C>(C x) -> C { return x > C(alpha) ? x : C(0); });
}

void mish_kernel(KernelContext& context) {
  map_same_type<kFloatTypes>(context, "Mish", []<typename C>(C x) -> C {
    C softplus = x > C(0) ? C(x + std::log1p(std::exp(-x))) : C(std::log1p(std::exp(x)));
    return x * std::tanh(softplus);
  });
}

void shrink_kernel(KernelContext& context) {
  const double lambd = context.attribute_float("lambd", 0.5);
  const double bias = context.attribute_float("bias", 0.0);
  map_same_type<kNumericTypes>(context, "Shrink", [lambd, bias]<typename C>(C x) -> C {
    // In double so integer inputs compare against the float threshold exactly, as numpy does.
    double value = static_cast<double>(x);
    if (value < -lambd) return static_cast<C>(value + bias);
    if (value > lambd) return static_cast<C>(value - bias);
    return C(0);
  });
}

void clip_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const bool bounds_are_inputs = context.opset() >= 11;
  for (size_t i = 1; i <= 2 && bounds_are_inputs; ++i) {
    const Tensor* bound = context.optional_input(i);
    if (!bound) continue;
    if (bound->element_count() != 1) context.invalid("Clip min and max must be scalars");
    if (bound->dtype() != input.dtype()) context.invalid("Clip min/max must have the input's element type");
  }
  constexpr DTypeSet accepted = kNumericTypes;
  Tensor& output = context.allocate_output(0, input.dtype(), input.shape());
  dispatch_dtype(input.dtype(), accepted, "Clip", [&]<typename T>() {
    if constexpr (dtype_accepted<accepted, T>()) {
      using Compute = compute_type_t<T>;
      Compute low, high;
      if constexpr (std::is_floating_point_v<Compute>) {
        low = -std::numeric_limits<Compute>::infinity();
        high = std::numeric_limits<Compute>::infinity();
      } else {
        low = std::numeric_limits<Compute>::lowest();
        high = std::numeric_limits<Compute>::max();
      }
      if (bounds_are_inputs) {
        if (const Tensor* minimum = context.optional_input(1)) low = static_cast<Compute>(minimum->data<T>()[0]);
        if (const Tensor* maximum = context.optional_input(2)) high = static_cast<Compute>(maximum->data<T>()[0]);
      } else {
        if (context.node().has_attribute("min")) low = static_cast<Compute>(context.attribute_float("min", 0));
        if (context.node().has_attribute("max")) high = static_cast<Compute>(context.attribute_float("max", 0));
      }
      const T* source = input.data<T>();
      T* destination = output.data<T>();
      for (int64_t i = 0; i < input.element_count(); ++i) {
        Compute value = static_cast<Compute>(source[i]);
        // numpy.clip order: max with low first, then min with high (so low > high gives high).
        value = value < low ? low : value;
        value = value > high ? high : value;
        destination[i] = static_cast<T>(value);
      }
    }
  });
}

}  // namespace

void register_activation_kernels(KernelRegistry& registry) {
  registry.add("Relu", relu_kernel);
  registry.add("LeakyRelu", leaky_relu_kernel);
  registry.add("Elu", elu_kernel);
  registry.add("Selu", selu_kernel);
  registry.add("Celu", celu_kernel);
  registry.add("Sigmoid", sigmoid_kernel);
  registry.add("HardSigmoid", hard_sigmoid_kernel);
  registry.add("HardSwish", hard_swish_kernel);
  registry.add("Softplus", softplus_kernel);
  registry.add("Softsign", softsign_kernel);
  registry.add("Tanh", tanh_kernel);
  registry.add("ThresholdedRelu", thresholded_relu_kernel);
  registry.add("Mish", mish_kernel, 18);
  registry.add("Shrink", shrink_kernel);
  registry.add("Clip", clip_kernel);
}

}  // namespace npukit::runtime::ref
