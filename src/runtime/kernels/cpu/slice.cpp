// Slice of any rank and dtype: starts / ends / axes / steps (attributes before opset 10, inputs from 10
// on), negative indices counted from the end and clamped as the spec says (ref's slice_kernel). The
// result is one strided view of the input, copied by strided_copy: YOLOv8's channel halves (a Slice that
// keeps whole rows) become one memcpy per image block.
#include <algorithm>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/strided_copy.h"

namespace npukit::runtime::cpu {

namespace {

class SliceExecutable final : public CpuExecutable {
 public:
  void run(KernelContext& context) const override {
    const Tensor& data = context.input(0);
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
      // Clamped to [0, extent] for positive steps, [-1, extent - 1] for negative ones.
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
    Tensor& output = context.allocate_output(0, data.dtype(), view.shape);
    strided_copy(data.raw_data(), output.raw_data(), dtype_size(data.dtype()), view);
  }
};

}  // namespace

std::optional<std::string> slice_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (!node.input(0)) return "Slice needs data";
  if (opset > 21) return "cpu Slice covers opsets up to 21, as ref";
  if (opset >= 10 && (!node.input(1) || !node.input(2))) return "Slice needs starts and ends";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_slice(const ir::Node& node, int64_t opset) {
  return std::make_unique<SliceExecutable>();
}

}  // namespace npukit::runtime::cpu
