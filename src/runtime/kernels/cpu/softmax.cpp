// Softmax and LogSoftmax of f32 tensors with ref's semantics (kernels/ref/softmax.cpp): up to opset 12 the
// input is coerced to 2-D at `axis` (default 1), from 13 the op runs along the single axis `axis`
// (default -1); both are an (outer, length, inner) walk, opset 12 the case inner = 1. Numerically stable:
// the maximum along the axis is subtracted before exp (vector_math.h).
//  - inner = 1 (the usual last axis): one row per task, max, exp and sum (in double), scale.
//  - inner > 1 (YOLOv8's DFL softmax over 16 bins at axis 1, inner 33600): columns of the inner axis
//    are processed in blocks, each block keeping its running max and sum in a small local array, so
//    the work vectorizes along the contiguous inner axis.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/vector_math.h"

namespace npukit::runtime::cpu {

namespace {

struct SoftmaxLayout {
  int64_t outer = 1, length = 1, inner = 1;
};

void softmax_rows(const float* source, float* destination, const SoftmaxLayout& layout, bool logarithm) {
  const int64_t length = layout.length;
#pragma omp parallel for schedule(static) if (layout.outer * length > 32768)
  for (int64_t o = 0; o < layout.outer; ++o) {
    const float* x = source + o * length;
    float* y = destination + o * length;
    const float maximum = vector_math::maximum(x, length);
    const double sum = vector_math::exp_shifted_sum(x, maximum, y, length);
    if (logarithm) {
      const float shift = maximum + static_cast<float>(std::log(sum));
      for (int64_t l = 0; l < length; ++l) y[l] = x[l] - shift;
    } else {
      const float factor = static_cast<float>(1.0 / sum);
      for (int64_t l = 0; l < length; ++l) y[l] *= factor;
    }
  }
}

// running[i] = max(running[i], row[i]); restrict lets the compiler vectorize it (maxps).
void running_maximum(const float* __restrict row, float* __restrict running, int64_t count) {
  for (int64_t i = 0; i < count; ++i) running[i] = row[i] > running[i] ? row[i] : running[i];
}

void softmax_columns(const float* source, float* destination, const SoftmaxLayout& layout, bool logarithm) {
  constexpr int64_t block = 256;
  const int64_t length = layout.length, inner = layout.inner;
  const int64_t blocks_per_outer = (inner + block - 1) / block;
  const int64_t tasks = layout.outer * blocks_per_outer;
#pragma omp parallel for schedule(static) if (layout.outer * length * inner > 32768)
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t o = task / blocks_per_outer;
    const int64_t first = (task % blocks_per_outer) * block;
    const int64_t width = std::min(block, inner - first);
    const float* x = source + o * length * inner + first;
    float* y = destination + o * length * inner + first;
    float maximum[block], sum[block], exponentials[block];
    std::fill(maximum, maximum + width, -std::numeric_limits<float>::infinity());
    std::fill(sum, sum + width, 0.0f);
    for (int64_t l = 0; l < length; ++l) running_maximum(x + l * inner, maximum, width);
    for (int64_t l = 0; l < length; ++l) {
      // Softmax keeps the exponentials in the output, to be scaled below; LogSoftmax only sums them.
      float* target = logarithm ? exponentials : y + l * inner;
      vector_math::exp_of_difference(x + l * inner, maximum, target, width);
      for (int64_t i = 0; i < width; ++i) sum[i] += target[i];
    }
    if (logarithm) {
      for (int64_t i = 0; i < width; ++i) maximum[i] += std::log(sum[i]);
      for (int64_t l = 0; l < length; ++l) {
        for (int64_t i = 0; i < width; ++i) y[l * inner + i] = x[l * inner + i] - maximum[i];
      }
    } else {
      for (int64_t i = 0; i < width; ++i) sum[i] = 1.0f / sum[i];
      for (int64_t l = 0; l < length; ++l) {
        for (int64_t i = 0; i < width; ++i) y[l * inner + i] *= sum[i];
      }
    }
  }
}

class SoftmaxExecutable final : public CpuExecutable {
 public:
  explicit SoftmaxExecutable(bool logarithm) : logarithm_(logarithm) {}

  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32) context.invalid("cpu Softmax needs an f32 input");
    Tensor& output = context.allocate_output(0, DType::f32, input.shape());
    if (input.element_count() == 0) return;
    const int64_t rank = static_cast<int64_t>(input.rank());
    const bool coerce_to_2d = context.opset() < 13;
    const int64_t axis =
        normalize_axis(context.attribute_int("axis", coerce_to_2d ? 1 : -1), std::max<int64_t>(rank, 1), context);
    SoftmaxLayout layout;
    for (int64_t d = 0; d < axis && d < rank; ++d) layout.outer *= input.dim(static_cast<size_t>(d));
    if (coerce_to_2d) {
      for (int64_t d = axis; d < rank; ++d) layout.length *= input.dim(static_cast<size_t>(d));
    } else if (rank > 0) {
      layout.length = input.dim(static_cast<size_t>(axis));
      for (int64_t d = axis + 1; d < rank; ++d) layout.inner *= input.dim(static_cast<size_t>(d));
    }
    if (layout.inner == 1) softmax_rows(input.data<float>(), output.data<float>(), layout, logarithm_);
    else softmax_columns(input.data<float>(), output.data<float>(), layout, logarithm_);
  }

 private:
  bool logarithm_;
};

}  // namespace

std::optional<std::string> softmax_unsupported_reason(const ir::Node& node, int64_t opset) {
  const ir::Value* input = node.input(0);
  if (!input || (input->type.dtype != DType::f32 && input->type.dtype != DType::undefined)) {
    return "cpu " + node.op_type + " runs f32 only";
  }
  if (opset > 17) return "cpu " + node.op_type + " covers opsets up to 17";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_softmax(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<SoftmaxExecutable>(node.op_type == "LogSoftmax");
}

}  // namespace npukit::runtime::cpu
