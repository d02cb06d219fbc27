// Slice of any rank and dtype: starts / ends / axes / steps (attributes before opset 10, inputs from 10
// on), negative indices counted from the end and clamped as the spec says (ref's slice_kernel). The
// result is one strided view of the input, copied by strided_copy: YOLOv8's channel halves (a Slice that
// keeps whole rows) become one memcpy per image block. A 4-D u8 / s8 input held channels-last (NHWC,
// blocked_layout.h) gives a channels-last output: the same view, its axes read in NHWC order.
#include <algorithm>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/strided_copy.h"

namespace npukit::runtime::cpu {

namespace {

// The NCHW view of an NCHW input re-expressed on the same tensor held NHWC: per axis the start and step are
// recovered from the NCHW strides and offset, then laid on NHWC strides in the order n, h, w, c (the order
// the channels-last output is written in).
StridedView channels_last_view(const StridedView& view, const Shape& input) {
  const int64_t channels = input[1], height = input[2], width = input[3];
  const int64_t planar[4] = {channels * height * width, height * width, width, 1};
  const int64_t interleaved[4] = {height * width * channels, 1, width * channels, channels};
  int64_t remainder = view.offset, starts[4], steps[4];
  for (size_t axis = 0; axis < 4; ++axis) {
    starts[axis] = remainder / planar[axis];
    remainder -= starts[axis] * planar[axis];
    steps[axis] = view.strides[axis] / planar[axis];
  }
  StridedView result;
  result.offset = 0;
  for (size_t axis : {0, 2, 3, 1}) {
    result.shape.push_back(view.shape[axis]);
    result.strides.push_back(steps[axis] * interleaved[axis]);
    result.offset += starts[axis] * interleaved[axis];
  }
  return result;
}

class SliceExecutable final : public CpuExecutable {
 public:
  explicit SliceExecutable(bool channels_last) : channels_last_(channels_last) {}
  void run(KernelContext& context) const override {
    const Tensor& data = context.input(0);
    const StridedView view = ref::sliced_view(context, data);
    Tensor& output = context.allocate_output(0, data.dtype(), view.shape);
    if (channels_last_) {
      if (data.rank() != 4) context.invalid("a channels-last Slice needs a 4-D input");
      for (int64_t extent : view.shape) {
        if (extent == 0) return;  // nothing to copy (and no start to recover)
      }
      strided_copy(data.raw_data(), output.raw_data(), dtype_size(data.dtype()), channels_last_view(view, data.shape()));
      return;
    }
    strided_copy(data.raw_data(), output.raw_data(), dtype_size(data.dtype()), view);
  }

 private:
  bool channels_last_;
};

}  // namespace

std::optional<std::string> slice_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (!node.input(0)) return "Slice needs data";
  if (opset > 21) return "cpu Slice covers opsets up to 21, as ref";
  if (opset >= 10 && (!node.input(1) || !node.input(2))) return "Slice needs starts and ends";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_slice(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  const DType type = node.inputs[0]->type.dtype;
  const bool bytes = type == DType::u8 || type == DType::i8;
  return std::make_unique<SliceExecutable>(bytes && layouts.is_blocked(node.inputs[0]));
}

}  // namespace npukit::runtime::cpu
