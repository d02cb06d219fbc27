#include "runtime/kernels/ref/data_movement_parameters.h"

#include <algorithm>
#include <string>

#include "runtime/kernels/ref/strided_copy.h"

namespace npukit::runtime::ref {

StridedView transposed_view(const KernelContext& context, const Tensor& data) {
  const size_t rank = data.rank();
  std::vector<int64_t> permutation = context.attribute_ints("perm");
  if (permutation.empty()) {
    for (size_t axis = rank; axis-- > 0;) permutation.push_back(static_cast<int64_t>(axis));
  }
  if (permutation.size() != rank) {
    context.invalid("perm has " + std::to_string(permutation.size()) + " entries for an input of rank " +
                    std::to_string(rank));
  }
  std::vector<bool> seen(rank, false);
  const std::vector<int64_t> input_strides = contiguous_strides(data.shape());
  StridedView view{Shape(rank), std::vector<int64_t>(rank), 0};
  for (size_t axis = 0; axis < rank; ++axis) {
    const size_t source_axis = static_cast<size_t>(normalize_axis(permutation[axis], static_cast<int64_t>(rank), context));
    if (seen[source_axis]) context.invalid("perm is not a permutation");
    seen[source_axis] = true;
    view.shape[axis] = data.dim(source_axis);
    view.strides[axis] = input_strides[source_axis];
  }
  return view;
}

StridedView sliced_view(const KernelContext& context, const Tensor& data) {
  const int64_t rank = static_cast<int64_t>(data.rank());
  std::vector<int64_t> starts, ends, axes, steps;
  if (context.opset() < 10) {
    starts = context.attribute_ints("starts");
    ends = context.attribute_ints("ends");
    axes = context.attribute_ints("axes");
  } else {
    starts = context.input(1).to_int64_vector();
    ends = context.input(2).to_int64_vector();
    if (const Tensor* axes_input = context.optional_input(3)) axes = axes_input->to_int64_vector();
    if (const Tensor* steps_input = context.optional_input(4)) steps = steps_input->to_int64_vector();
  }
  if (starts.size() != ends.size()) context.invalid("starts and ends have different lengths");
  if (axes.empty()) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) {
    context.invalid("starts, ends, axes and steps must have the same length");
  }
  StridedView view{data.shape(), contiguous_strides(data.shape()), 0};
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t axis = static_cast<size_t>(normalize_axis(axes[i], rank, context));
    if (seen[axis]) context.invalid("axis " + std::to_string(axes[i]) + " is repeated");
    seen[axis] = true;
    const int64_t extent = data.dim(axis);
    const int64_t step = steps[i];
    if (step == 0) context.invalid("slice step 0");
    int64_t start = starts[i], end = ends[i];
    if (start < 0) start += extent;
    if (end < 0) end += extent;
    // Clamping as the spec says: [0, extent] for positive steps, [-1, extent - 1] for negative ones.
    if (extent == 0) {
      start = end = 0;
    } else if (step > 0) {
      start = std::clamp<int64_t>(start, 0, extent);
      end = std::clamp<int64_t>(end, 0, extent);
    } else {
      start = std::clamp<int64_t>(start, 0, extent - 1);
      end = std::clamp<int64_t>(end, -1, extent - 1);
    }
    const int64_t count =
        std::max<int64_t>(0, step > 0 ? (end - start + step - 1) / step : (start - end - step - 1) / -step);
    view.shape[axis] = count;
    if (count > 0) view.offset += start * view.strides[axis];
    view.strides[axis] *= step;
  }
  return view;
}

std::vector<int64_t> split_sizes(const KernelContext& context, const Tensor& data, size_t axis) {
  const int64_t extent = data.dim(axis);
  const size_t output_count = context.output_count();
  std::vector<int64_t> sizes;
  if (context.opset() < 13) {
    sizes = context.attribute_ints("split");
  } else if (const Tensor* split = context.optional_input(1)) {
    sizes = split->to_int64_vector();
  }
  if (sizes.empty()) {
    // Equal parts; opset 18's num_outputs lets the last part be smaller.
    const int64_t parts = static_cast<int64_t>(output_count);
    if (context.opset() >= 18) {
      const int64_t chunk = (extent + parts - 1) / parts;
      for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::clamp<int64_t>(extent - i * chunk, 0, chunk));
    } else {
      if (extent % parts != 0) {
        context.invalid("axis extent " + std::to_string(extent) + " does not split into " + std::to_string(parts) +
                        " equal parts");
      }
      sizes.assign(output_count, extent / parts);
    }
  }
  if (sizes.size() != output_count) {
    context.invalid("split has " + std::to_string(sizes.size()) + " sizes for " + std::to_string(output_count) +
                    " outputs");
  }
  int64_t total = 0;
  for (int64_t size : sizes) {
    if (size < 0) context.invalid("split sizes must not be negative");
    total += size;
  }
  if (total != extent) {
    context.invalid("split sizes sum to " + std::to_string(total) + " but the axis has extent " + std::to_string(extent));
  }
  return sizes;
}

}  // namespace npukit::runtime::ref
