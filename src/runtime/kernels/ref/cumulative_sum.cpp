// CumSum along one axis (from an input tensor), with exclusive and reverse.
#include "core/dtype_traits.h"
#include "runtime/kernels/ref/elementwise_map.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/axis_split.h"

namespace npukit::runtime::ref {

namespace {

void cumsum_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& axis_tensor = context.input(1);
  if (axis_tensor.element_count() != 1) context.invalid("CumSum axis must hold one value");
  const int64_t rank = static_cast<int64_t>(input.rank());
  if (rank == 0) context.invalid("CumSum input must have rank >= 1");
  const int64_t axis = normalize_axis(axis_tensor.value_as_int64(0), rank, context);
  const bool exclusive = context.attribute_int("exclusive", 0) != 0;
  const bool reverse = context.attribute_int("reverse", 0) != 0;
  const AxisSplit split = split_at(input.shape(), static_cast<size_t>(axis));
  const int64_t outer = split.outer, extent = split.extent, inner = split.inner;
  Tensor& output = context.allocate_output(0, input.dtype(), input.shape());
  constexpr DTypeSet accepted = kNumericTypes;
  dispatch_dtype(input.dtype(), accepted, "CumSum", [&]<typename T>() {
    if constexpr (dtype_accepted<accepted, T>()) {
      using Compute = compute_type_t<T>;
      const T* source = input.data<T>();
      T* destination = output.data<T>();
      // Running sums of a whole row of `inner` elements, so the innermost loop runs over contiguous memory.
      std::vector<Compute> running(static_cast<size_t>(inner));
      for (int64_t o = 0; o < outer; ++o) {
        std::fill(running.begin(), running.end(), Compute(0));
        for (int64_t step = 0; step < extent; ++step) {
          const int64_t k = reverse ? extent - 1 - step : step;
          const T* row = source + (o * extent + k) * inner;
          T* out_row = destination + (o * extent + k) * inner;
          for (int64_t i = 0; i < inner; ++i) {
            const Compute value = static_cast<Compute>(row[i]);
            if (exclusive) {
              out_row[i] = static_cast<T>(running[static_cast<size_t>(i)]);
              running[static_cast<size_t>(i)] = wrapping_add(running[static_cast<size_t>(i)], value);
            } else {
              running[static_cast<size_t>(i)] = wrapping_add(running[static_cast<size_t>(i)], value);
              out_row[i] = static_cast<T>(running[static_cast<size_t>(i)]);
            }
          }
        }
      }
    }
  });
}

}  // namespace

void register_cumulative_sum_kernels(KernelRegistry& registry) { registry.add("CumSum", cumsum_kernel, 11); }

}  // namespace npukit::runtime::ref
