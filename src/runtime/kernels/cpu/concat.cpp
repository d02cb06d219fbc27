// Concat of f32 tensors, and of u8 / s8 ones (the bytes of a QDQ Concat, qdq_integer_fusion.cpp): for each index
// of the axes before `axis`, each input contributes one contiguous block; the blocks are copied in parallel (YOLO
// necks concatenate large feature maps on every scale). int8 values held channels-last (NHWC, blocked_layout.h)
// concatenated on channels interleave instead: every pixel takes its channels from each input in turn, which is
// the plain rule with the channel axis moved last.
#include <cstring>

#include "runtime/kernels/cpu/cpu_kernels.h"

namespace npukit::runtime::cpu {

namespace {

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }

class ConcatExecutable final : public CpuExecutable {
 public:
  explicit ConcatExecutable(bool channels_last) : channels_last_(channels_last) {}
  // In place only for plain blocks: an interleaved (NHWC) part is not one contiguous range of the output.
  bool inputs_may_live_in_output() const override { return !channels_last_; }
  void run(KernelContext& context) const override {
    const Tensor& first = context.input(0);
    const int64_t rank = static_cast<int64_t>(first.rank());
    if (rank == 0) context.invalid("Concat needs inputs of rank 1 or more");
    const int64_t axis = normalize_axis(context.attribute_int("axis", 0), rank, context);
    Shape shape = first.shape();
    shape[axis] = 0;
    std::vector<const Tensor*> inputs;
    const DType type = first.dtype();
    if (type != DType::f32 && !is_8bit(type)) context.invalid("cpu Concat runs f32, u8 or s8 inputs only");
    for (size_t i = 0; i < context.input_count(); ++i) {
      const Tensor& input = context.input(i);
      if (input.dtype() != type || input.rank() != first.rank()) {
        context.invalid("Concat inputs must all be " + std::string(dtype_name(type)) + " of rank " + std::to_string(rank));
      }
      for (int64_t d = 0; d < rank; ++d) {
        if (d != axis && input.dim(d) != first.dim(d)) {
          context.invalid("input " + std::to_string(i) + " has shape " + shape_to_string(input.shape()) +
                          ", which does not match " + shape_to_string(first.shape()) + " off axis " +
                          std::to_string(axis));
        }
      }
      shape[axis] += input.dim(axis);
      inputs.push_back(&input);
    }
    Tensor& out = context.allocate_output(0, type, shape);
    const size_t element = dtype_size(type);
    int64_t outer = 1, inner = 1;
    if (channels_last_) {
      if (rank != 4 || axis != 1) context.invalid("a channels-last Concat joins 4-D tensors on channels only");
      outer = shape[0] * shape[2] * shape[3];  // pixels; the channels are innermost
    } else {
      for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
      for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[d];
    }
    const int64_t out_block = shape[axis] * inner;
    std::vector<int64_t> offsets(inputs.size());
    for (size_t i = 1; i < inputs.size(); ++i) offsets[i] = offsets[i - 1] + inputs[i - 1]->dim(axis) * inner;
    const int64_t count = outer * static_cast<int64_t>(inputs.size());
    std::byte* out_data = static_cast<std::byte*>(out.raw_data());
    if (channels_last_) {
      // Rows of pixels, each pixel a run of every input's channels in turn.
#pragma omp parallel for schedule(static) if (out.element_count() > 32768)
      for (int64_t pixel = 0; pixel < outer; ++pixel) {
        for (size_t i = 0; i < inputs.size(); ++i) {
          const int64_t block = inputs[i]->dim(axis);
          std::memcpy(out_data + (pixel * out_block + offsets[i]) * element,
                      static_cast<const std::byte*>(inputs[i]->raw_data()) + pixel * block * element,
                      static_cast<size_t>(block) * element);
        }
      }
      return;
    }
#pragma omp parallel for schedule(static) if (out.element_count() > 32768)
    for (int64_t task = 0; task < count; ++task) {
      const int64_t o = task / static_cast<int64_t>(inputs.size());
      const size_t i = static_cast<size_t>(task % static_cast<int64_t>(inputs.size()));
      const int64_t block = inputs[i]->dim(axis) * inner;
      std::byte* target = out_data + (o * out_block + offsets[i]) * element;
      const std::byte* source = static_cast<const std::byte*>(inputs[i]->raw_data()) + o * block * element;
      // The memory plan may have had the producer write this part in place already (memory_plan.h).
      if (target != source) std::memcpy(target, source, static_cast<size_t>(block) * element);
    }
  }

 private:
  bool channels_last_;
};

}  // namespace

std::optional<std::string> concat_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (node.inputs.empty() || !node.inputs[0]) return "Concat needs inputs";
  const DType type = node.inputs[0]->type.dtype;
  for (const ir::Value* input : node.inputs) {
    if (!input || input->type.dtype != type || (type != DType::f32 && !is_8bit(type))) {
      return "cpu Concat runs inputs all declared f32, all u8 or all s8 only";
    }
  }
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_concat(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  // Only int8 values are held channels-last; blocked f32 channel parts are the plain byte ranges (blocked_layout.h).
  const bool channels_last = is_8bit(node.inputs[0]->type.dtype) && layouts.is_blocked(node.outputs[0]);
  return std::make_unique<ConcatExecutable>(channels_last);
}

}  // namespace npukit::runtime::cpu
