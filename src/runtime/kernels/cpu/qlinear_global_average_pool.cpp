// com.microsoft QLinearGlobalAveragePool on the cpu backend, with ONNX Runtime's arithmetic (MLAS's
// MlasQLinearGlobalAveragePoolNchw / Nhwc): per image and channel the exact int32 sum of the integers plus the
// bias -z_x · (H·W), then MlasRequantizeOutputVector: float(sum) · scale with scale = s_x / (s_y · float(H·W))
// (each step rounded to float), clamped to the grid minus z_y, rounded half to even, + z_y, which is
// requantize_float_scale_rows (int8_accumulation.h). ORT refuses scales outside [2^-32, 256) and images of 2^24
// pixels or more; so does the fusion (passes/qdq_integer_fusion.h), and this kernel.
// The input is NCHW, or NHWC when the layout plan holds it channels-last (the output, [N, C, 1, 1], has the
// same bytes in both layouts).
#include <cmath>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/int8_accumulation.h"

namespace npukit::runtime::cpu {

namespace {

bool is_8bit(DType type) { return type == DType::u8 || type == DType::i8; }

const Tensor* constant(const ir::Value* value) {
  return value && value->initializer && !value->is_graph_input ? &*value->initializer : nullptr;
}

template <typename Integer>
void sum_channels(const Integer* input, int64_t batch, int64_t channels, int64_t pixels, bool channels_last,
                  int32_t* sums) {
  for (int64_t n = 0; n < batch; ++n) {
    const Integer* image = input + n * channels * pixels;
    int32_t* image_sums = sums + n * channels;
    if (channels_last) {
      for (int64_t c = 0; c < channels; ++c) image_sums[c] = 0;
      for (int64_t p = 0; p < pixels; ++p) {
        const Integer* pixel = image + p * channels;
        for (int64_t c = 0; c < channels; ++c) image_sums[c] += pixel[c];
      }
    } else {
      for (int64_t c = 0; c < channels; ++c) {
        const Integer* plane = image + c * pixels;
        int32_t sum = 0;
        for (int64_t p = 0; p < pixels; ++p) sum += plane[p];
        image_sums[c] = sum;
      }
    }
  }
}

class QLinearGlobalAveragePoolExecutable final : public CpuExecutable {
 public:
  QLinearGlobalAveragePoolExecutable(const ir::Node& node, bool channels_last) : channels_last_(channels_last) {
    input_scale_ = constant(node.input(1))->data<float>()[0];
    const Tensor* input_zero_point = constant(node.input(2));
    output_scale_ = constant(node.input(3))->data<float>()[0];
    const Tensor* output_zero_point = constant(node.input(4));
    type_ = output_zero_point->dtype();
    input_zero_point_ = input_zero_point ? static_cast<int32_t>(input_zero_point->value_as_double(0)) : 0;
    output_zero_point_ = static_cast<int32_t>(output_zero_point->value_as_double(0));
  }

  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != type_ || input.rank() != 4) {
      context.invalid("cpu QLinearGlobalAveragePool needs a 4-D " + std::string(dtype_name(type_)) + " input");
    }
    const int64_t batch = input.dim(0), channels = input.dim(1), pixels = input.dim(2) * input.dim(3);
    if (pixels <= 0 || pixels >= (int64_t{1} << 24)) context.invalid("ONNX Runtime's QLinearGlobalAveragePool needs 1 to 2^24 - 1 pixels");
    const float scale = input_scale_ / (output_scale_ * static_cast<float>(pixels));
    if (!(scale >= 0x1.0p-32f && scale < 256.0f)) {
      context.invalid("QLinearGlobalAveragePool's scale s_x / (s_y · H · W) is outside ONNX Runtime's range [2^-32, 256)");
    }
    Tensor& output = context.allocate_output(0, type_, {batch, channels, 1, 1});
    std::vector<int32_t> sums(static_cast<size_t>(batch * channels));
    if (type_ == DType::u8) {
      sum_channels(input.data<uint8_t>(), batch, channels, pixels, channels_last_, sums.data());
    } else {
      sum_channels(input.data<int8_t>(), batch, channels, pixels, channels_last_, sums.data());
    }
    const std::vector<int32_t> bias(static_cast<size_t>(channels), static_cast<int32_t>(-input_zero_point_ * pixels));
    int8::requantize_float_scale_rows(sums.data(), batch, channels, bias.data(), &scale, false, output_zero_point_,
                                      type_, output.raw_data());
  }

 private:
  bool channels_last_ = false;
  float input_scale_ = 1, output_scale_ = 1;
  int32_t input_zero_point_ = 0, output_zero_point_ = 0;
  DType type_ = DType::u8;
};

}  // namespace

std::optional<std::string> qlinear_global_average_pool_unsupported_reason(const ir::Node& node, int64_t) {
  if (node.get_int("channels_last", 0) != 0) return "cpu QLinearGlobalAveragePool runs channels_last = 0";
  if (node.inputs.size() < 5 || !node.input(0)) return "cpu QLinearGlobalAveragePool needs X and its parameters";
  for (size_t index : {1, 3}) {
    const Tensor* scale = constant(node.input(index));
    if (!scale || scale->dtype() != DType::f32 || scale->element_count() != 1 || !std::isfinite(scale->data<float>()[0]) ||
        scale->data<float>()[0] <= 0) {
      return "cpu QLinearGlobalAveragePool needs constant, finite, positive scalar scales";
    }
  }
  const Tensor* output_zero_point = constant(node.input(4));
  if (!output_zero_point || output_zero_point->element_count() != 1 || !is_8bit(output_zero_point->dtype())) {
    return "cpu QLinearGlobalAveragePool needs a constant u8 / s8 scalar y zero point";
  }
  const Tensor* input_zero_point = constant(node.input(2));
  if (node.input(2) && (!input_zero_point || input_zero_point->element_count() != 1 ||
                        input_zero_point->dtype() != output_zero_point->dtype())) {
    return "cpu QLinearGlobalAveragePool needs a constant scalar x zero point of y's type";
  }
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_qlinear_global_average_pool(const ir::Node& node, int64_t,
                                                                    const BlockedLayoutPlan& layouts) {
  return std::make_unique<QLinearGlobalAveragePoolExecutable>(node, layouts.is_blocked(node.inputs[0]));
}

}  // namespace npukit::runtime::cpu
