// Gelu (opset 20): x·Φ(x), exactly with erf ("none", the default) or with the tanh approximation ("tanh"):
//   none: 0.5·x·(1 + erf(x/√2))
//   tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
// 16-bit floats are computed in float and rounded once at the store, as every elementwise kernel here.
#include <cmath>

#include "runtime/kernels/ref/elementwise_map.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

void gelu_kernel(KernelContext& context) {
  const std::string approximate = context.attribute_string("approximate", "none");
  if (approximate == "none") {
    map_same_type<kFloatTypes>(context, "Gelu", []<typename C>(C x) -> C {
      return static_cast<C>(C(0.5) * x * (C(1) + std::erf(x * C(0.70710678118654752440))));
    });
  } else if (approximate == "tanh") {
    map_same_type<kFloatTypes>(context, "Gelu", []<typename C>(C x) -> C {
      const C inner = C(0.79788456080286535588) * (x + C(0.044715) * x * x * x);
      return static_cast<C>(C(0.5) * x * (C(1) + std::tanh(inner)));
    });
  } else {
    context.invalid("approximate '" + approximate + "' is neither 'none' nor 'tanh'");
  }
}

}  // namespace

void register_gelu_kernels(KernelRegistry& registry) { registry.add("Gelu", gelu_kernel, 20); }

}  // namespace npukit::runtime::ref
