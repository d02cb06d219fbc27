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
    const StridedView view = ref::sliced_view(context, data);
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

std::unique_ptr<NodeExecutable> prepare_slice(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<SliceExecutable>();
}

}  // namespace npukit::runtime::cpu
