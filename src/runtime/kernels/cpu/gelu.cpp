// Gelu (opset 20) in f32: the erf form 0.5·x·(1 + erf(x/√2)) or the tanh form
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), elements split across the OpenMP threads. The tanh form uses
// vector_math's tanh (as the cpu Tanh does), so it agrees with ref to float rounding, not bit for bit.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/vector_math.h"

namespace npukit::runtime::cpu {

namespace {

class GeluExecutable final : public CpuExecutable {
 public:
  explicit GeluExecutable(bool tanh_form) : tanh_form_(tanh_form) {}
  std::vector<size_t> in_place_inputs() const override { return {0}; }
  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32) context.invalid("cpu Gelu needs an f32 input");
    Tensor& out = context.allocate_output(0, DType::f32, input.shape());
    const float* in = input.data<float>();
    float* result = out.data<float>();
    const int64_t count = input.element_count();
    if (!tanh_form_) {
#pragma omp parallel for schedule(static) if (count > 32768)
      for (int64_t i = 0; i < count; ++i) result[i] = 0.5f * in[i] * (1.0f + std::erf(in[i] * 0.70710678118654752f));
      return;
    }
    // In place is allowed (result may alias in): compute the tanh argument into the output first, then finish
    // element by element reading x again from a copy of the row.
    constexpr int64_t chunk = 4096;
#pragma omp parallel for schedule(static) if (count > 32768)
    for (int64_t start = 0; start < count; start += chunk) {
      const int64_t length = std::min(chunk, count - start);
      float x[chunk], inner[chunk];
      for (int64_t i = 0; i < length; ++i) {
        x[i] = in[start + i];
        inner[i] = 0.79788456080286535588f * (x[i] + 0.044715f * x[i] * x[i] * x[i]);
      }
      vector_math::tanh(inner, inner, length);
      for (int64_t i = 0; i < length; ++i) result[start + i] = 0.5f * x[i] * (1.0f + inner[i]);
    }
  }

 private:
  bool tanh_form_;
};

}  // namespace

std::optional<std::string> gelu_unsupported_reason(const ir::Node& node, int64_t) {
  const std::string approximate = node.get_string("approximate", "none");
  if (approximate != "none" && approximate != "tanh") return "Gelu approximate '" + approximate + "' is not none or tanh";
  if (!node.input(0) || node.input(0)->type.dtype != DType::f32) return "cpu Gelu runs f32 only";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_gelu(const ir::Node& node, int64_t) {
  return std::make_unique<GeluExecutable>(node.get_string("approximate", "none") == "tanh");
}

}  // namespace npukit::runtime::cpu
