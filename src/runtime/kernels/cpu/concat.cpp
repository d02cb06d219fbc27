// Concat of f32 tensors: for each index of the axes before `axis`, each input contributes one contiguous
// block; the blocks are copied in parallel (YOLO necks concatenate large feature maps on every scale).
#include <cstring>

#include "runtime/kernels/cpu/cpu_kernels.h"

namespace npukit::runtime::cpu {

namespace {

class ConcatExecutable final : public CpuExecutable {
 public:
  bool inputs_may_live_in_output() const override { return true; }
  void run(KernelContext& context) const override {
    const Tensor& first = context.input(0);
    const int64_t rank = static_cast<int64_t>(first.rank());
    if (rank == 0) context.invalid("Concat needs inputs of rank 1 or more");
    const int64_t axis = normalize_axis(context.attribute_int("axis", 0), rank, context);
    Shape shape = first.shape();
    shape[axis] = 0;
    std::vector<const Tensor*> inputs;
    for (size_t i = 0; i < context.input_count(); ++i) {
      const Tensor& input = context.input(i);
      if (input.dtype() != DType::f32 || input.rank() != first.rank()) {
        context.invalid("Concat inputs must all be f32 of rank " + std::to_string(rank));
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
    Tensor& out = context.allocate_output(0, DType::f32, shape);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[d];
    const int64_t out_block = shape[axis] * inner;
    std::vector<int64_t> offsets(inputs.size());
    for (size_t i = 1; i < inputs.size(); ++i) offsets[i] = offsets[i - 1] + inputs[i - 1]->dim(axis) * inner;
    const int64_t count = outer * static_cast<int64_t>(inputs.size());
    float* out_data = out.data<float>();
#pragma omp parallel for schedule(static) if (out.element_count() > 32768)
    for (int64_t task = 0; task < count; ++task) {
      const int64_t o = task / static_cast<int64_t>(inputs.size());
      const size_t i = static_cast<size_t>(task % static_cast<int64_t>(inputs.size()));
      const int64_t block = inputs[i]->dim(axis) * inner;
      float* target = out_data + o * out_block + offsets[i];
      const float* source = inputs[i]->data<float>() + o * block;
      // The memory plan may have had the producer write this part in place already (memory_plan.h).
      if (target != source) std::memcpy(target, source, static_cast<size_t>(block) * sizeof(float));
    }
  }
};

}  // namespace

std::optional<std::string> concat_unsupported_reason(const ir::Node& node, int64_t opset) {
  for (const ir::Value* input : node.inputs) {
    if (!input || input->type.dtype != DType::f32) return "cpu Concat runs inputs declared f32 only";
  }
  if (node.inputs.empty()) return "Concat needs inputs";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_concat(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<ConcatExecutable>();
}

}  // namespace npukit::runtime::cpu
