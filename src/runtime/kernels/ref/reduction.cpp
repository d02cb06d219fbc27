// Reductions over axes (ReduceSum … ReduceLogSumExp), ArgMax/ArgMin and TopK.
//
// Axes come from the attribute before the version that made them an input (ReduceSum: 13, the others: 18)
// and from the optional second input after. Float inputs accumulate in double so the result is the exact
// sum rounded once (numpy's pairwise sum is within the tests' tolerance of it).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/elementwise_map.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/axis_split.h"

namespace npukit::runtime::ref {

namespace {

enum class Reduce { sum, mean, max, min, prod, l1, l2, log_sum, log_sum_exp, sum_square };

struct ReductionLayout {
  Shape output_shape;                // with keepdims applied
  std::vector<int64_t> output_strides;  // per input dimension: output stride, 0 for reduced dimensions
  int64_t output_count = 0;
  int64_t reduced_count = 1;         // input elements folded into each output element
};

// Reads the axes (attribute or input by opset), applies noop_with_empty_axes. Returns false for the no-op case.
bool reduction_axes(const KernelContext& context, int64_t axes_input_opset, int64_t rank, std::vector<bool>& reduced) {
  std::vector<int64_t> axes;
  if (context.opset() >= axes_input_opset) {
    if (const Tensor* axes_tensor = context.optional_input(1)) axes = axes_tensor->to_int64_vector();
  } else {
    axes = context.attribute_ints("axes");
  }
  reduced.assign(static_cast<size_t>(rank), false);
  if (axes.empty()) {
    if (context.attribute_int("noop_with_empty_axes", 0) != 0) return false;
    reduced.assign(static_cast<size_t>(rank), true);
    return true;
  }
  for (int64_t axis : axes) {
    int64_t normalized = normalize_axis(axis, rank, context);
    if (reduced[static_cast<size_t>(normalized)]) context.invalid("axis " + std::to_string(axis) + " is repeated");
    reduced[static_cast<size_t>(normalized)] = true;
  }
  return true;
}

ReductionLayout make_layout(const Shape& input_shape, const std::vector<bool>& reduced, bool keepdims) {
  ReductionLayout layout;
  const size_t rank = input_shape.size();
  layout.output_strides.assign(rank, 0);
  int64_t stride = 1;
  for (size_t axis = rank; axis-- > 0;) {
    if (reduced[axis]) {
      layout.reduced_count *= input_shape[axis];
    } else {
      layout.output_strides[axis] = stride;
      stride *= input_shape[axis];
    }
  }
  for (size_t axis = 0; axis < rank; ++axis) {
    if (!reduced[axis]) {
      layout.output_shape.push_back(input_shape[axis]);
    } else if (keepdims) {
      layout.output_shape.push_back(1);
    }
  }
  layout.output_count = stride;
  return layout;
}

// Calls visit(output_index, input_value) for every input element, walking the input in memory order.
template <typename T, typename Visit>
void for_each_input(const Tensor& input, const ReductionLayout& layout, Visit visit) {
  const Shape& shape = input.shape();
  const int64_t count = input.element_count();
  if (count == 0) return;
  const T* values = input.data<T>();
  if (shape.empty()) {
    visit(int64_t{0}, values[0]);
    return;
  }
  const size_t rank = shape.size();
  const int64_t inner = shape[rank - 1];
  const int64_t inner_stride = layout.output_strides[rank - 1];
  std::vector<int64_t> counters(rank - 1, 0);
  int64_t output_base = 0;
  for (int64_t start = 0; start < count; start += inner) {
    for (int64_t i = 0; i < inner; ++i) visit(output_base + i * inner_stride, values[start + i]);
    for (size_t axis = rank - 1; axis-- > 0;) {
      if (++counters[axis] < shape[axis]) {
        output_base += layout.output_strides[axis];
        break;
      }
      output_base -= layout.output_strides[axis] * (shape[axis] - 1);
      counters[axis] = 0;
    }
  }
}

template <Reduce op>
void reduce_kernel(KernelContext& context, const char* name, int64_t axes_input_opset) {
  const Tensor& input = context.input(0);
  const int64_t rank = static_cast<int64_t>(input.rank());
  std::vector<bool> reduced;
  if (!reduction_axes(context, axes_input_opset, rank, reduced)) {
    // noop_with_empty_axes with no axes: the input unchanged.
    context.set_output(0, input);
    return;
  }
  const bool keepdims = context.attribute_int("keepdims", 1) != 0;
  ReductionLayout layout = make_layout(input.shape(), reduced, keepdims);
  Tensor& output = context.allocate_output(0, input.dtype(), layout.output_shape);
  dispatch_dtype(input.dtype(), kNumericTypes, name, [&]<typename T>() {
    if constexpr (dtype_accepted<kNumericTypes, T>()) {
      using Compute = compute_type_t<T>;
      using Accumulator = std::conditional_t<std::is_floating_point_v<Compute>, double, Compute>;
      Accumulator initial = Accumulator(0);
      if constexpr (op == Reduce::max) {
        initial = std::is_floating_point_v<Accumulator> ? -std::numeric_limits<Accumulator>::infinity()
                                                         : std::numeric_limits<Accumulator>::lowest();
      } else if constexpr (op == Reduce::min) {
        initial = std::is_floating_point_v<Accumulator> ? std::numeric_limits<Accumulator>::infinity()
                                                         : std::numeric_limits<Accumulator>::max();
      } else if constexpr (op == Reduce::prod) {
        initial = Accumulator(1);
      }
      std::vector<Accumulator> accumulators(static_cast<size_t>(layout.output_count), initial);
      std::vector<Accumulator> maxima;
      if constexpr (op == Reduce::log_sum_exp) {
        // Two passes: the maximum first so exp never overflows.
        maxima.assign(accumulators.size(), -std::numeric_limits<Accumulator>::infinity());
        for_each_input<T>(input, layout, [&](int64_t index, T value) {
          Accumulator x = static_cast<Accumulator>(static_cast<Compute>(value));
          if (x > maxima[static_cast<size_t>(index)]) maxima[static_cast<size_t>(index)] = x;
        });
        for (Accumulator& maximum : maxima) {
          if (std::isinf(static_cast<double>(maximum))) maximum = 0;
        }
      }
      for_each_input<T>(input, layout, [&](int64_t index, T value) {
        Accumulator x = static_cast<Accumulator>(static_cast<Compute>(value));
        Accumulator& accumulator = accumulators[static_cast<size_t>(index)];
        if constexpr (op == Reduce::max) {
          if (x > accumulator || std::isnan(static_cast<double>(x))) accumulator = x;
        } else if constexpr (op == Reduce::min) {
          if (x < accumulator || std::isnan(static_cast<double>(x))) accumulator = x;
        } else if constexpr (op == Reduce::prod) {
          accumulator = wrapping_mul(accumulator, x);
        } else if constexpr (op == Reduce::l1) {
          accumulator = wrapping_add(accumulator, x < Accumulator(0) ? wrapping_sub(Accumulator(0), x) : x);
        } else if constexpr (op == Reduce::l2 || op == Reduce::sum_square) {
          accumulator = wrapping_add(accumulator, wrapping_mul(x, x));
        } else if constexpr (op == Reduce::log_sum_exp) {
          accumulator += static_cast<Accumulator>(std::exp(static_cast<double>(x - maxima[static_cast<size_t>(index)])));
        } else {
          accumulator = wrapping_add(accumulator, x);
        }
      });
      T* destination = output.data<T>();
      for (int64_t i = 0; i < layout.output_count; ++i) {
        Accumulator value = accumulators[static_cast<size_t>(i)];
        double result = static_cast<double>(value);
        if constexpr (op == Reduce::mean) {
          result = result / static_cast<double>(layout.reduced_count);
        } else if constexpr (op == Reduce::l2) {
          result = std::sqrt(result);
        } else if constexpr (op == Reduce::log_sum) {
          result = std::log(result);
        } else if constexpr (op == Reduce::log_sum_exp) {
          result = std::log(result) + static_cast<double>(maxima[static_cast<size_t>(i)]);
        } else {
          // Exact for integers (no round trip through double).
          destination[i] = static_cast<T>(static_cast<Compute>(value));
          continue;
        }
        destination[i] = static_cast<T>(static_cast<Compute>(result));
      }
    }
  });
}

void reduce_sum_kernel(KernelContext& context) { reduce_kernel<Reduce::sum>(context, "ReduceSum", 13); }
void reduce_mean_kernel(KernelContext& context) { reduce_kernel<Reduce::mean>(context, "ReduceMean", 18); }
void reduce_max_kernel(KernelContext& context) { reduce_kernel<Reduce::max>(context, "ReduceMax", 18); }
void reduce_min_kernel(KernelContext& context) { reduce_kernel<Reduce::min>(context, "ReduceMin", 18); }
void reduce_prod_kernel(KernelContext& context) { reduce_kernel<Reduce::prod>(context, "ReduceProd", 18); }
void reduce_l1_kernel(KernelContext& context) { reduce_kernel<Reduce::l1>(context, "ReduceL1", 18); }
void reduce_l2_kernel(KernelContext& context) { reduce_kernel<Reduce::l2>(context, "ReduceL2", 18); }
void reduce_log_sum_kernel(KernelContext& context) { reduce_kernel<Reduce::log_sum>(context, "ReduceLogSum", 18); }
void reduce_log_sum_exp_kernel(KernelContext& context) {
  reduce_kernel<Reduce::log_sum_exp>(context, "ReduceLogSumExp", 18);
}
void reduce_sum_square_kernel(KernelContext& context) {
  reduce_kernel<Reduce::sum_square>(context, "ReduceSumSquare", 18);
}

// ArgMax / ArgMin along one axis; ties go to the first index, or the last with select_last_index.
template <bool find_max>
void arg_extreme_kernel(KernelContext& context, const char* name) {
  const Tensor& input = context.input(0);
  const int64_t rank = static_cast<int64_t>(input.rank());
  const int64_t axis = normalize_axis(context.attribute_int("axis", 0), std::max<int64_t>(rank, 1), context);
  const bool keepdims = context.attribute_int("keepdims", 1) != 0;
  const bool select_last = context.attribute_int("select_last_index", 0) != 0;
  Shape shape = input.shape();
  if (shape.empty()) shape = {1};
  const int64_t axis_size = shape[static_cast<size_t>(axis)];
  if (axis_size == 0) context.invalid(std::string(name) + " over an empty axis has no result");
  Shape output_shape;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (i != axis) output_shape.push_back(shape[static_cast<size_t>(i)]);
    else if (keepdims) output_shape.push_back(1);
  }
  if (input.rank() == 0) output_shape = Shape{};
  const AxisSplit split = split_at(shape, static_cast<size_t>(axis));
  const int64_t outer = split.outer, inner = split.inner;
  Tensor& output = context.allocate_output(0, DType::i64, output_shape);
  int64_t* indices = output.data<int64_t>();
  dispatch_dtype(input.dtype(), kNumericTypes, name, [&]<typename T>() {
    if constexpr (dtype_accepted<kNumericTypes, T>()) {
      using Compute = compute_type_t<T>;
      const T* values = input.data<T>();
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t in = 0; in < inner; ++in) {
          const T* base = values + o * axis_size * inner + in;
          Compute best = static_cast<Compute>(base[0]);
          int64_t best_index = 0;
          for (int64_t k = 1; k < axis_size; ++k) {
            Compute value = static_cast<Compute>(base[k * inner]);
            bool better = find_max ? value > best : value < best;
            if (better || (select_last && value == best)) {
              best = value;
              best_index = k;
            }
          }
          indices[o * inner + in] = best_index;
        }
      }
    }
  });
}

void argmax_kernel(KernelContext& context) { arg_extreme_kernel<true>(context, "ArgMax"); }
void argmin_kernel(KernelContext& context) { arg_extreme_kernel<false>(context, "ArgMin"); }

void topk_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  int64_t k = 0;
  if (context.opset() >= 10) {
    const Tensor& k_tensor = context.input(1);
    if (k_tensor.element_count() != 1) context.invalid("TopK K must hold one value");
    k = k_tensor.value_as_int64(0);
  } else {
    k = context.attribute_int("k", -1);
  }
  const int64_t rank = static_cast<int64_t>(input.rank());
  if (rank == 0) context.invalid("TopK input must have rank >= 1");
  const int64_t axis = normalize_axis(context.attribute_int("axis", -1), rank, context);
  const bool largest = context.attribute_int("largest", 1) != 0;
  // sorted=0 leaves the order unspecified; sorted order is one valid answer.
  const int64_t axis_size = input.dim(static_cast<size_t>(axis));
  if (k < 0 || k > axis_size) {
    context.invalid("TopK K=" + std::to_string(k) + " is outside [0, " + std::to_string(axis_size) + "]");
  }
  Shape output_shape = input.shape();
  output_shape[static_cast<size_t>(axis)] = k;
  Tensor& values_out = context.allocate_output(0, input.dtype(), output_shape);
  Tensor& indices_out = context.allocate_output(1, DType::i64, output_shape);
  const AxisSplit split = split_at(input.shape(), static_cast<size_t>(axis));
  const int64_t outer = split.outer, inner = split.inner;
  constexpr DTypeSet accepted = kNumericTypes;
  dispatch_dtype(input.dtype(), accepted, "TopK", [&]<typename T>() {
    if constexpr (dtype_accepted<accepted, T>()) {
      using Compute = compute_type_t<T>;
      const T* values = input.data<T>();
      T* top_values = values_out.data<T>();
      int64_t* top_indices = indices_out.data<int64_t>();
      std::vector<int64_t> order(static_cast<size_t>(axis_size));
      std::vector<Compute> column(static_cast<size_t>(axis_size));
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t in = 0; in < inner; ++in) {
          const T* base = values + o * axis_size * inner + in;
          for (int64_t j = 0; j < axis_size; ++j) column[static_cast<size_t>(j)] = static_cast<Compute>(base[j * inner]);
          std::iota(order.begin(), order.end(), 0);
          // Ties keep the lower index first, as the ONNX reference does.
          auto before = [&](int64_t left, int64_t right) {
            Compute a = column[static_cast<size_t>(left)], b = column[static_cast<size_t>(right)];
            if (a != b) return largest ? a > b : a < b;
            return left < right;
          };
          std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
          for (int64_t j = 0; j < k; ++j) {
            int64_t source = order[static_cast<size_t>(j)];
            int64_t target = o * k * inner + j * inner + in;
            top_values[target] = base[source * inner];
            top_indices[target] = source;
          }
        }
      }
    }
  });
}

}  // namespace

void register_reduction_kernels(KernelRegistry& registry) {
  registry.add("ReduceSum", reduce_sum_kernel);
  registry.add("ReduceMean", reduce_mean_kernel);
  registry.add("ReduceMax", reduce_max_kernel);
  registry.add("ReduceMin", reduce_min_kernel);
  registry.add("ReduceProd", reduce_prod_kernel);
  registry.add("ReduceL1", reduce_l1_kernel);
  registry.add("ReduceL2", reduce_l2_kernel);
  registry.add("ReduceLogSum", reduce_log_sum_kernel);
  registry.add("ReduceLogSumExp", reduce_log_sum_exp_kernel);
  registry.add("ReduceSumSquare", reduce_sum_square_kernel);
  registry.add("ArgMax", argmax_kernel);
  registry.add("ArgMin", argmin_kernel);
  registry.add("TopK", topk_kernel);
}

}  // namespace npukit::runtime::ref
