// Reference Softmax, LogSoftmax and Hardmax.
//
// Two semantics: up to opset 12 the input is coerced to 2-D at `axis` (default 1) and the op runs over
// everything from `axis` on; from opset 13 it runs along the single axis `axis` (default -1). Both are an
// (outer, length, inner) walk: opset 12 is the case inner = 1.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/compute_buffer.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/window_geometry.h"

namespace npukit::runtime::ref {

namespace {

enum class SoftmaxKind { softmax, log_softmax, hardmax };

struct SoftmaxLayout {
  int64_t outer = 1, length = 1, inner = 1;
};

SoftmaxLayout softmax_layout(const KernelContext& context, const Tensor& input) {
  const int64_t rank = static_cast<int64_t>(input.rank());
  const bool coerce_to_2d = context.opset() < 13;
  const int64_t axis = normalize_axis(context.attribute_int("axis", coerce_to_2d ? 1 : -1), std::max<int64_t>(rank, 1), context);
  SoftmaxLayout layout;
  for (int64_t d = 0; d < axis && d < rank; ++d) layout.outer *= input.dim(d);
  if (coerce_to_2d) {
    layout.length = product_from(input.shape(), static_cast<size_t>(axis));
  } else if (rank > 0) {
    layout.length = input.dim(axis);
    layout.inner = product_from(input.shape(), static_cast<size_t>(axis + 1));
  }
  return layout;
}

template <SoftmaxKind kind>
void softmax_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  Tensor& output = context.allocate_output(0, input.dtype(), input.shape());
  if (input.element_count() == 0) return;
  const SoftmaxLayout layout = softmax_layout(context, input);
  const char* name = kind == SoftmaxKind::softmax ? "Softmax" : kind == SoftmaxKind::log_softmax ? "LogSoftmax" : "Hardmax";
  dispatch_float(input.dtype(), name, [&]<typename T>() {
    using C = compute_type_t<T>;
    std::vector<C> input_storage;
    const C* source = compute_view<T, C>(input, input_storage);
    ComputeOutput<T, C> result(output);
    C* destination = result.data();
    const int64_t inner = layout.inner, length = layout.length;
    // Per inner position: the running maximum (and its index for Hardmax) and the sum of exponentials.
    // The sum is kept in double: a float running sum over a wide axis (OCR's 6625 classes) drifts by ~1e-4.
    std::vector<C> maximum(static_cast<size_t>(inner));
    std::vector<double> sum(static_cast<size_t>(inner));
    std::vector<int64_t> argmax(static_cast<size_t>(inner));
    for (int64_t o = 0; o < layout.outer; ++o) {
      const C* x = source + o * length * inner;
      C* y = destination + o * length * inner;
      std::fill(maximum.begin(), maximum.end(), -std::numeric_limits<C>::infinity());
      std::fill(argmax.begin(), argmax.end(), 0);
      for (int64_t l = 0; l < length; ++l) {
        for (int64_t i = 0; i < inner; ++i) {
          if (x[l * inner + i] > maximum[i]) {
            maximum[i] = x[l * inner + i];
            argmax[i] = l;
          }
        }
      }
      if constexpr (kind == SoftmaxKind::hardmax) {
        for (int64_t i = 0; i < inner; ++i) y[argmax[i] * inner + i] = C(1);
      } else {
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t l = 0; l < length; ++l) {
          for (int64_t i = 0; i < inner; ++i) {
            const C shifted = x[l * inner + i] - maximum[i];
            const C exponential = std::exp(shifted);
            sum[i] += exponential;
            y[l * inner + i] = kind == SoftmaxKind::softmax ? exponential : shifted;
          }
        }
        if constexpr (kind == SoftmaxKind::softmax) {
          for (int64_t l = 0; l < length; ++l) {
            for (int64_t i = 0; i < inner; ++i) {
              y[l * inner + i] = static_cast<C>(static_cast<double>(y[l * inner + i]) / sum[i]);
            }
          }
        } else {
          for (int64_t i = 0; i < inner; ++i) sum[i] = std::log(sum[i]);
          for (int64_t l = 0; l < length; ++l) {
            for (int64_t i = 0; i < inner; ++i) y[l * inner + i] -= static_cast<C>(sum[i]);
          }
        }
      }
    }
    result.finish();
  });
}

}  // namespace

void register_softmax_kernels(KernelRegistry& registry) {
  registry.add("Softmax", softmax_kernel<SoftmaxKind::softmax>, 1, 17);
  registry.add("LogSoftmax", softmax_kernel<SoftmaxKind::log_softmax>, 1, 17);
  registry.add("Hardmax", softmax_kernel<SoftmaxKind::hardmax>, 1, 17);
}

}  // namespace npukit::runtime::ref
