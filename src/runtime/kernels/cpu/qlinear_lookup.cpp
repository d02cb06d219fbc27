// Table operators of the cpu backend's int8 path, each equal to ONNX Runtime to the bit by construction (its
// bytes are ORT's function of the one input byte, computed once at prepare time; qlinear_lookup.h says how):
//   com.microsoft QLinearSigmoid   x → QLinearSigmoid table
//   com.npukit    QLinearSiLU      x → QLinearMul(x, QLinearSigmoid(x)), inputs
//                                  (x, s_x, z_x, s_sigmoid, z_sigmoid, s_y, z_y), all constant but x
//   com.npukit    QLinearClip      x → Q(clamp(DQ(x), min, max)), inputs (x, s_x, z_x, s_y, z_y), attributes
//                                  min / max (ORT's float path for DQ [→ Relu / Clip] → Q)
// Elementwise, so any layout works: the layout plan keeps int8 chains channels-last through them.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "ir/fused_activation.h"
#include "ir/microsoft_domain.h"
#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/qlinear_lookup.h"
#include "runtime/kernels/cpu/qlinear_operands.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NPUKIT_LOOKUP_VBMI 1
#endif

namespace npukit::runtime::cpu {

namespace int8 {

namespace {

// MlasLogisticConstants (onnxruntime/core/mlas/lib/logistic.cpp), as float literals.
constexpr float lower_range = -18.0f, upper_range = 18.0f;
constexpr float alpha_9 = 4.37031012579801e-11f, alpha_7 = 1.15627324459942e-07f, alpha_5 = 6.08574864600143e-05f,
                alpha_3 = 8.51377133304701e-03f, alpha_1 = 2.48287947061529e-01f;
constexpr float beta_10 = 6.10247389755681e-13f, beta_8 = 5.76102136993427e-09f, beta_6 = 6.29106785017040e-06f,
                beta_4 = 1.70198817374094e-03f, beta_2 = 1.16817656904453e-01f, beta_0 = 9.93151921023180e-01f;

// Half to even without reading the FP environment, and cvtps2dq's answer (INT32_MIN) outside int32 or on NaN.
int32_t convert_like_cvtps(float value) {
  if (!(value > -2147483648.0f && value < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(std::nearbyint(value));
}

#ifdef NPUKIT_LOOKUP_VBMI
bool has_vbmi() {
  static const bool supported = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw");
  return supported;
}

// Two vpermi2b (bits 0-6 of the byte index the low or the high 128 entries) and a blend on bit 7.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void apply_vbmi(const uint8_t* x, uint8_t* y, int64_t count,
                                                                       const uint8_t* table) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  int64_t i = 0;
  for (; i + 64 <= count; i += 64) {
    const __m512i index = _mm512_loadu_si512(x + i);
    const __m512i low = _mm512_permutex2var_epi8(t0, index, t1);
    const __m512i high = _mm512_permutex2var_epi8(t2, index, t3);
    _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(index), low, high));
  }
  if (i < count) {
    const __mmask64 lanes = ~uint64_t{0} >> (64 - (count - i));
    const __m512i index = _mm512_maskz_loadu_epi8(lanes, x + i);
    const __m512i low = _mm512_permutex2var_epi8(t0, index, t1);
    const __m512i high = _mm512_permutex2var_epi8(t2, index, t3);
    _mm512_mask_storeu_epi8(y + i, lanes, _mm512_mask_blend_epi8(_mm512_movepi8_mask(index), low, high));
  }
}
#endif

}  // namespace

float logistic_like_mlas(float x) {
  // vmaxps / vminps against the range, then the same operation order as the FMA3 kernel's instructions.
  const float value = std::min(std::max(x, lower_range), upper_range);
  const float squared = value * value;
  float p = std::fma(squared, alpha_9, alpha_7);
  p = std::fma(squared, p, alpha_5);
  p = std::fma(squared, p, alpha_3);
  p = std::fma(squared, p, alpha_1);
  float q = std::fma(squared, beta_10, beta_8);
  q = std::fma(squared, q, beta_6);
  q = std::fma(squared, q, beta_4);
  q = std::fma(squared, q, beta_2);
  q = std::fma(squared, q, beta_0);
  p = value * p;
  const float result = p / q + 0.5f;
  return std::max(0.0f, result);  // the kernel clamps below only
}

int32_t quantize_like_mlas(float value, float scale, int32_t zero_point, DType type) {
  const int32_t minimum = type == DType::i8 ? -128 : 0, maximum = type == DType::i8 ? 127 : 255;
  float rounded = std::nearbyint(value / scale) + static_cast<float>(zero_point);
  if (std::isnan(rounded)) rounded = 0;
  rounded = std::min(std::max(rounded, static_cast<float>(minimum)), static_cast<float>(maximum));
  return static_cast<int32_t>(rounded);
}

QLinearMulParameters qlinear_mul_parameters(float a_scale, int32_t a_zero_point, float b_scale, int32_t b_zero_point,
                                            float c_scale, int32_t c_zero_point, DType type) {
  QLinearMulParameters p;
  p.ratio = a_scale * b_scale / c_scale;  // (s_a · s_b) / s_c, in float, as MlasQLinearMulKernel
  p.a_zero_point = a_zero_point;
  p.b_zero_point = b_zero_point;
  p.c_zero_point = c_zero_point;
  p.minimum = type == DType::i8 ? -128 : 0;
  p.maximum = type == DType::i8 ? 127 : 255;
  return p;
}

int32_t qlinear_mul_one(int32_t a, int32_t b, const QLinearMulParameters& p) {
  const int32_t product = (a - p.a_zero_point) * (b - p.b_zero_point);  // exact, |product| <= 255 · 255
  const float scaled = static_cast<float>(product) * p.ratio;
  const int32_t rounded = convert_like_cvtps(scaled + static_cast<float>(p.c_zero_point));
  // packs to int16, then to the 8-bit type: both saturate, so one clamp (INT32_MIN lands on the minimum).
  return rounded < p.minimum ? p.minimum : (rounded > p.maximum ? p.maximum : rounded);
}

ByteTable qlinear_sigmoid_table(float x_scale, int32_t x_zero_point, float y_scale, int32_t y_zero_point, DType type) {
  ByteTable table{};
  for (int i = 0; i < 256; ++i) {
    const int32_t q = type == DType::i8 ? static_cast<int8_t>(i) : i;
    const float x = x_scale * static_cast<float>(q - x_zero_point);
    table[static_cast<size_t>(i)] =
        static_cast<uint8_t>(quantize_like_mlas(logistic_like_mlas(x), y_scale, y_zero_point, type));
  }
  return table;
}

ByteTable qlinear_silu_table(float x_scale, int32_t x_zero_point, float sigmoid_scale, int32_t sigmoid_zero_point,
                             float y_scale, int32_t y_zero_point, DType type) {
  const ByteTable sigmoid = qlinear_sigmoid_table(x_scale, x_zero_point, sigmoid_scale, sigmoid_zero_point, type);
  const QLinearMulParameters mul =
      qlinear_mul_parameters(x_scale, x_zero_point, sigmoid_scale, sigmoid_zero_point, y_scale, y_zero_point, type);
  ByteTable table{};
  for (int i = 0; i < 256; ++i) {
    const int32_t q = type == DType::i8 ? static_cast<int8_t>(i) : i;
    const uint8_t s_byte = sigmoid[static_cast<size_t>(i)];
    const int32_t s = type == DType::i8 ? static_cast<int8_t>(s_byte) : s_byte;
    table[static_cast<size_t>(i)] = static_cast<uint8_t>(qlinear_mul_one(q, s, mul));
  }
  return table;
}

ByteTable requantize_table(float x_scale, int32_t x_zero_point, DType input_type, float low, float high, float y_scale,
                           int32_t y_zero_point, DType output_type) {
  ByteTable table{};
  for (int i = 0; i < 256; ++i) {
    const int32_t q = input_type == DType::i8 ? static_cast<int8_t>(i) : i;
    const float x = static_cast<float>(q - x_zero_point) * x_scale;
    const float clipped = std::min(std::max(x, low), high);
    table[static_cast<size_t>(i)] = static_cast<uint8_t>(quantize_like_mlas(clipped, y_scale, y_zero_point, output_type));
  }
  return table;
}

void apply_byte_table(const uint8_t* x, uint8_t* y, int64_t count, const ByteTable& table) {
#ifdef NPUKIT_LOOKUP_VBMI
  if (has_vbmi()) {
    apply_vbmi(x, y, count, table.data());
    return;
  }
#endif
  for (int64_t i = 0; i < count; ++i) y[i] = table[x[i]];
}

}  // namespace int8

namespace {

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }

const Tensor* constant(const ir::Value* value) {
  return value && value->initializer && !value->is_graph_input ? &*value->initializer : nullptr;
}

float scalar_scale(const ir::Node& node, size_t index) { return constant(node.input(index))->data<float>()[0]; }
int32_t scalar_zero_point(const ir::Node& node, size_t index) {
  const Tensor* tensor = constant(node.input(index));
  return tensor ? static_cast<int32_t>(tensor->value_as_double(0)) : 0;
}

bool is_silu(const ir::Node& node) { return node.op_type == "QLinearSiLU"; }
bool is_clip(const ir::Node& node) { return node.op_type == "QLinearClip"; }

class ByteTableExecutable final : public CpuExecutable {
 public:
  explicit ByteTableExecutable(const ir::Node& node) {
    const size_t output_zero_point = is_silu(node) ? 6 : 4;
    type_ = constant(node.input(output_zero_point)) ? constant(node.input(output_zero_point))->dtype()
                                                    : node.input(0)->type.dtype;
    input_type_ = type_;
    if (is_clip(node)) {
      input_type_ = constant(node.input(2))->dtype();
      table_ = int8::requantize_table(scalar_scale(node, 1), scalar_zero_point(node, 2), input_type_,
                                      static_cast<float>(node.get_float("min", -FLT_MAX)),
                                      static_cast<float>(node.get_float("max", FLT_MAX)), scalar_scale(node, 3),
                                      scalar_zero_point(node, 4), type_);
    } else if (is_silu(node)) {
      table_ = int8::qlinear_silu_table(scalar_scale(node, 1), scalar_zero_point(node, 2), scalar_scale(node, 3),
                                        scalar_zero_point(node, 4), scalar_scale(node, 5), scalar_zero_point(node, 6),
                                        type_);
    } else {
      table_ = int8::qlinear_sigmoid_table(scalar_scale(node, 1), scalar_zero_point(node, 2), scalar_scale(node, 3),
                                           scalar_zero_point(node, 4), type_);
    }
    op_type_ = node.op_type;
  }

  void run(KernelContext& context) const override {
    const Tensor& x = context.input(0);
    if (x.dtype() != input_type_) {
      context.invalid("cpu " + op_type_ + " needs X of type " + std::string(dtype_name(input_type_)));
    }
    Tensor& y = context.allocate_output(0, type_, x.shape());
    const int64_t count = x.element_count();
    const uint8_t* in = static_cast<const uint8_t*>(x.raw_data());
    uint8_t* out = static_cast<uint8_t*>(y.raw_data());
    const int64_t chunk = 65536;
#pragma omp parallel for schedule(static) if (count > 2 * chunk)
    for (int64_t begin = 0; begin < count; begin += chunk) {
      int8::apply_byte_table(in + begin, out + begin, std::min(chunk, count - begin), table_);
    }
  }

 private:
  DType type_ = DType::u8, input_type_ = DType::u8;
  int8::ByteTable table_{};
  std::string op_type_;
};

}  // namespace

std::optional<std::string> qlinear_lookup_unsupported_reason(const ir::Node& node, int64_t) {
  const bool silu = is_silu(node);
  const std::string name = "cpu " + node.op_type;
  if (!node.input(0)) return name + " needs X";
  if (node.inputs.size() < (silu ? 7u : 4u) || !node.input(0)) return name + " needs X and its parameters";
  const std::vector<size_t> scales = silu ? std::vector<size_t>{1, 3, 5} : std::vector<size_t>{1, 3};
  if (std::optional<std::string> reason = scalar_scales_reason(node, scales, name)) return reason;
  if (is_clip(node)) {
    // Its own input and output types; every parameter present.
    if (node.inputs.size() < 5) return name + " needs X and its parameters";
    for (size_t index : {2, 4}) {
      DType own_type = DType::undefined;
      if (std::optional<std::string> reason = scalar_zero_points_reason(node, {index}, name, own_type, true)) {
        return reason;
      }
    }
    if (std::isnan(node.get_float("min", 0)) || std::isnan(node.get_float("max", 0))) return name + " needs numeric bounds";
    return std::nullopt;
  }
  DType type = is_8bit(node.input(0)->type.dtype) ? node.input(0)->type.dtype : DType::undefined;
  const std::vector<size_t> zero_points = silu ? std::vector<size_t>{2, 4, 6} : std::vector<size_t>{2, 4};
  if (std::optional<std::string> reason = scalar_zero_points_reason(node, zero_points, name, type, silu)) return reason;
  if (type == DType::undefined) return name + " needs a u8 / s8 X";
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_qlinear_lookup(const ir::Node& node, int64_t, const BlockedLayoutPlan&) {
  return std::make_unique<ByteTableExecutable>(node);
}

}  // namespace npukit::runtime::cpu
