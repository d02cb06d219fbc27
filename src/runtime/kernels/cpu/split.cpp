// Split of any rank and dtype along one axis: sizes from the `split` attribute (before opset 13) or input
// (from 13), else equal parts (opset 18's num_outputs lets the last part be smaller), as ref's
// split_kernel. Each output is, per index of the axes before `axis`, one contiguous block of the input;
// all blocks of all outputs are copied in one parallel loop (YOLOv5's head splits 85 channels 2/2/81). A u8 / s8
// input held channels-last (NHWC, blocked_layout.h) split on channels is the same copy with the channel axis last:
// every pixel hands each output its run of channels (YOLOv8's C2f blocks).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/ref/data_movement_parameters.h"

namespace npukit::runtime::cpu {

namespace {

class SplitExecutable final : public CpuExecutable {
 public:
  explicit SplitExecutable(bool channels_last) : channels_last_(channels_last) {}
  void run(KernelContext& context) const override {
    const Tensor& data = context.input(0);
    const int64_t rank = static_cast<int64_t>(data.rank());
    if (rank == 0) context.invalid("Split needs an input of rank 1 or more");
    const size_t axis = static_cast<size_t>(normalize_axis(context.attribute_int("axis", 0), rank, context));
    const int64_t extent = data.dim(axis);
    const size_t output_count = context.output_count();
    const std::vector<int64_t> sizes = ref::split_sizes(context, data, axis);
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d) outer *= data.dim(d);
    for (size_t d = axis + 1; d < data.rank(); ++d) inner *= data.dim(d);
    if (channels_last_) {
      if (rank != 4 || axis != 1) context.invalid("a channels-last Split divides 4-D tensors on channels only");
      outer = data.dim(0) * data.dim(2) * data.dim(3);
      inner = 1;
    }
    const size_t element_size = dtype_size(data.dtype());
    // Per output: where its block starts within an input row of extent * inner elements, and its storage.
    std::vector<int64_t> starts;
    std::vector<std::byte*> targets;
    int64_t start = 0;
    for (size_t i = 0; i < output_count; ++i) {
      Shape shape = data.shape();
      shape[axis] = sizes[i];
      // Unrequested outputs are skipped (a null target), as ref skips them.
      targets.push_back(context.output_requested(i)
                            ? static_cast<std::byte*>(context.allocate_output(i, data.dtype(), shape).raw_data())
                            : nullptr);
      starts.push_back(start * inner);
      start += sizes[i];
    }
    const auto* source = static_cast<const std::byte*>(data.raw_data());
    const int64_t row = extent * inner;
    const int64_t outputs = static_cast<int64_t>(output_count);
    const int64_t tasks = outer * outputs;
#pragma omp parallel for schedule(static) if (data.element_count() > 32768)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t o = task / outputs;
      const size_t i = static_cast<size_t>(task % outputs);
      const size_t block = static_cast<size_t>(sizes[i] * inner) * element_size;
      if (!targets[i] || block == 0) continue;
      std::memcpy(targets[i] + static_cast<size_t>(o) * block,
                  source + static_cast<size_t>(o * row + starts[i]) * element_size, block);
    }
  }

 private:
  bool channels_last_;
};

}  // namespace

std::optional<std::string> split_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (!node.input(0)) return "Split needs data";
  if (opset > 21) return "cpu Split covers opsets up to 21, as ref";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_split(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  const DType type = node.inputs[0]->type.dtype;
  const bool bytes = type == DType::u8 || type == DType::i8;
  return std::make_unique<SplitExecutable>(bytes && layouts.is_blocked(node.inputs[0]));
}

}  // namespace npukit::runtime::cpu
