// QuantizeLinear (f32 → u8 / s8) and DequantizeLinear (u8 / s8 → f32), per tensor, on the cpu backend: the
// same float arithmetic as the ref kernels (ref/quantization.cpp, which equals ONNX Runtime) eight lanes at a
// time. Quantize: x / scale (a division, as ONNX and ORT), rounded half to even, + zero point in float, NaN → 0,
// clamped. Dequantize: float(q - zero point) · scale. Per-axis parameters and other types run on ref.
#include <cmath>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/vector_math.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NPUKIT_QUANTIZE_X86 1
#endif

namespace npukit::runtime::cpu {

namespace {

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }

struct Parameters {
  float scale = 1;
  int32_t zero_point = 0;
  DType type = DType::u8;
};

Parameters parameters_of(const KernelContext& context, DType default_type) {
  const Tensor& scale = context.input(1);
  const Tensor* zero_point = context.optional_input(2);
  if (scale.dtype() != DType::f32 || scale.element_count() != 1) context.unsupported("cpu: per-tensor f32 scale expected");
  Parameters parameters;
  parameters.scale = scale.data<float>()[0];
  parameters.type = zero_point ? zero_point->dtype() : default_type;
  if (zero_point) {
    if (zero_point->element_count() != 1 || !is_8bit(zero_point->dtype())) context.unsupported("cpu: u8 / s8 scalar zero point expected");
    parameters.zero_point = static_cast<int32_t>(zero_point->value_as_double(0));
  }
  return parameters;
}

float quantize_one(float value, const Parameters& p, float low, float high) {
  float rounded = std::nearbyint(value / p.scale) + static_cast<float>(p.zero_point);
  if (std::isnan(rounded)) rounded = 0;
  return std::min(std::max(rounded, low), high);
}

#ifdef NPUKIT_QUANTIZE_X86
NPUKIT_TARGET_AVX2 void quantize_avx2(const float* in, void* out, int64_t begin, int64_t end, const Parameters& p,
                                      float low, float high) {
  const __m256 scale = _mm256_set1_ps(p.scale), zero_point = _mm256_set1_ps(static_cast<float>(p.zero_point));
  const __m256 low_vector = _mm256_set1_ps(low), high_vector = _mm256_set1_ps(high);
  alignas(32) int32_t lanes[8];
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    __m256 value = _mm256_div_ps(_mm256_loadu_ps(in + i), scale);
    value = _mm256_add_ps(_mm256_round_ps(value, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero_point);
    value = _mm256_and_ps(value, _mm256_cmp_ps(value, value, _CMP_ORD_Q));  // NaN → 0
    value = _mm256_min_ps(_mm256_max_ps(value, low_vector), high_vector);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_cvttps_epi32(value));
    if (p.type == DType::u8) {
      for (int lane = 0; lane < 8; ++lane) static_cast<uint8_t*>(out)[i + lane] = static_cast<uint8_t>(lanes[lane]);
    } else {
      for (int lane = 0; lane < 8; ++lane) static_cast<int8_t*>(out)[i + lane] = static_cast<int8_t>(lanes[lane]);
    }
  }
  for (; i < end; ++i) {
    const int32_t value = static_cast<int32_t>(quantize_one(in[i], p, low, high));
    if (p.type == DType::u8) static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(value);
    else static_cast<int8_t*>(out)[i] = static_cast<int8_t>(value);
  }
}
#endif

class QuantizeExecutable final : public CpuExecutable {
 public:
  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != DType::f32) context.unsupported("cpu QuantizeLinear reads f32");
    const Parameters p = parameters_of(context, DType::u8);
    Tensor& output = context.allocate_output(0, p.type, input.shape());
    const float low = p.type == DType::u8 ? 0.0f : -128.0f, high = p.type == DType::u8 ? 255.0f : 127.0f;
    const float* in = input.data<float>();
    void* out = output.raw_data();
    const int64_t count = input.element_count();
    const bool vector = vector_math::uses_avx2();
    constexpr int64_t block = 4096;
#pragma omp parallel for schedule(static) if (count > 4 * block)
    for (int64_t begin = 0; begin < count; begin += block) {
      const int64_t end = std::min(count, begin + block);
#ifdef NPUKIT_QUANTIZE_X86
      if (vector) {
        quantize_avx2(in, out, begin, end, p, low, high);
        continue;
      }
#endif
      (void)vector;
      for (int64_t i = begin; i < end; ++i) {
        const int32_t value = static_cast<int32_t>(quantize_one(in[i], p, low, high));
        if (p.type == DType::u8) static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(value);
        else static_cast<int8_t*>(out)[i] = static_cast<int8_t>(value);
      }
    }
  }
};

class DequantizeExecutable final : public CpuExecutable {
 public:
  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (!is_8bit(input.dtype())) context.unsupported("cpu DequantizeLinear reads u8 / s8");
    const Parameters p = parameters_of(context, input.dtype());
    if (p.type != input.dtype()) context.invalid("x_zero_point must have the element type of x");
    Tensor& output = context.allocate_output(0, DType::f32, input.shape());
    float* out = output.data<float>();
    const int64_t count = input.element_count();
    const float scale = p.scale;
    const int32_t zero_point = p.zero_point;
    // Plain loops the compiler vectorizes: an exact integer subtraction, one rounding in the multiply.
    if (input.dtype() == DType::u8) {
      const uint8_t* in = input.data<uint8_t>();
#pragma omp parallel for schedule(static) if (count > 16384)
      for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(static_cast<int32_t>(in[i]) - zero_point) * scale;
    } else {
      const int8_t* in = input.data<int8_t>();
#pragma omp parallel for schedule(static) if (count > 16384)
      for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(static_cast<int32_t>(in[i]) - zero_point) * scale;
    }
  }
};

// Per-tensor parameters, known when the node is prepared (constants) or checked at run time.
std::optional<std::string> per_tensor_reason(const ir::Node& node) {
  const ir::Value* scale = node.input(1);
  if (!scale || !scale->type.shape || (scale->type.has_static_shape() && shape_element_count(scale->type.static_shape()) != 1)) {
    return "cpu " + node.op_type + " runs per-tensor parameters only";
  }
  if (scale->type.dtype != DType::f32) return "cpu " + node.op_type + " needs an f32 scale";
  const ir::Value* zero_point = node.input(2);
  if (zero_point && !is_8bit(zero_point->type.dtype)) return "cpu " + node.op_type + " runs u8 / s8 only";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> quantize_linear_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (node.has_attribute("output_dtype") || node.has_attribute("saturate")) return "cpu QuantizeLinear: opset 19+ attributes";
  if (node.input(0) && node.input(0)->type.dtype != DType::f32) return "cpu QuantizeLinear reads f32";
  return per_tensor_reason(node);
}

std::optional<std::string> dequantize_linear_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (!node.input(0) || !is_8bit(node.input(0)->type.dtype)) return "cpu DequantizeLinear reads u8 / s8";
  return per_tensor_reason(node);
}

std::unique_ptr<NodeExecutable> prepare_quantize_linear(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<QuantizeExecutable>();
}

std::unique_ptr<NodeExecutable> prepare_dequantize_linear(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<DequantizeExecutable>();
}

}  // namespace npukit::runtime::cpu
