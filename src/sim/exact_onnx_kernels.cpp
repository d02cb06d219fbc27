#include "sim/exact_onnx_kernels.h"

#include <algorithm>
#include <limits>

#include "npukit/error.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"
#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/dnnl_runtime.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "runtime/kernels/ref/window_geometry.h"

namespace npukit::sim {

namespace {

bool is_eight_bit(DType type) { return type == DType::u8 || type == DType::i8; }

// The cpu kernels read a layout plan; the sim backend holds every value plain (NCHW).
const runtime::cpu::BlockedLayoutPlan& plain_layouts() {
  static const runtime::cpu::BlockedLayoutPlan plan;
  return plan;
}

// MaxPool of bytes, 2-D, NCHW, without indices.
class BytesMaxPool final : public runtime::NodeExecutable {
 public:
  explicit BytesMaxPool(int64_t opset) : opset_(opset) {}

  bool writes_whole_outputs() const override { return true; }

  void run(runtime::KernelContext& context) const override {
    const Tensor& input = context.input(0);
    const std::vector<int64_t> kernel = context.attribute_ints("kernel_shape", {});
    if (!is_eight_bit(input.dtype()) || input.rank() != 4 || kernel.size() != 2 ||
        context.attribute_ints("dilations", {1, 1}) != std::vector<int64_t>{1, 1}) {
      // Not what this kernel was prepared for: ref computes it, or says what is wrong.
      const runtime::KernelEntry* reference = runtime::ref::reference_registry().find("", "MaxPool", opset_);
      if (!reference) context.unsupported("no kernel for this MaxPool");
      reference->function(context);
      return;
    }
    const runtime::ref::WindowGeometry geometry =
        runtime::ref::compute_window_geometry(context, {input.dim(2), input.dim(3)}, kernel, opset_ >= 10);
    Tensor& output = context.allocate_output(0, input.dtype(), {input.dim(0), input.dim(1), geometry.output[0], geometry.output[1]});
    if (input.dtype() == DType::u8) {
      pool(input.data<uint8_t>(), output.data<uint8_t>(), input.dim(0) * input.dim(1), geometry);
    } else {
      pool(input.data<int8_t>(), output.data<int8_t>(), input.dim(0) * input.dim(1), geometry);
    }
  }

 private:
  template <typename T>
  static void pool(const T* input, T* output, int64_t planes, const runtime::ref::WindowGeometry& geometry) {
    const int64_t height = geometry.input[0], width = geometry.input[1];
    const int64_t output_height = geometry.output[0], output_width = geometry.output[1];
    // Each window's columns clipped to the input, once for all rows and planes.
    std::vector<std::pair<int64_t, int64_t>> columns(static_cast<size_t>(output_width));
    for (int64_t ox = 0; ox < output_width; ++ox) {
      const int64_t first = runtime::ref::window_start(geometry, 1, ox);
      columns[static_cast<size_t>(ox)] = {std::max<int64_t>(first, 0), std::min(first + geometry.kernel[1], width)};
    }
    auto* row_maxima = static_cast<T*>(runtime::cpu::scratch(runtime::cpu::ScratchSlot::staging,
                                                             static_cast<size_t>(height * output_width) * sizeof(T)));
    for (int64_t plane = 0; plane < planes; ++plane) {
      const T* image = input + plane * height * width;
      for (int64_t y = 0; y < height; ++y) {
        const T* row = image + y * width;
        T* maxima = row_maxima + y * output_width;
        for (int64_t ox = 0; ox < output_width; ++ox) {
          T best = std::numeric_limits<T>::lowest();  // a window in the padding only: ref's lowest value
          for (int64_t x = columns[static_cast<size_t>(ox)].first; x < columns[static_cast<size_t>(ox)].second; ++x) best = std::max(best, row[x]);
          maxima[ox] = best;
        }
      }
      T* destination = output + plane * output_height * output_width;
      for (int64_t oy = 0; oy < output_height; ++oy) {
        const int64_t first = runtime::ref::window_start(geometry, 0, oy);
        const int64_t begin = std::max<int64_t>(first, 0), end = std::min(first + geometry.kernel[0], height);
        T* out = destination + oy * output_width;
        std::fill_n(out, output_width, std::numeric_limits<T>::lowest());
        for (int64_t y = begin; y < end; ++y) {
          const T* maxima = row_maxima + y * output_width;
          for (int64_t ox = 0; ox < output_width; ++ox) out[ox] = std::max(out[ox], maxima[ox]);
        }
      }
    }
  }

  int64_t opset_;
};

}  // namespace

std::optional<std::string> exact_onnx_kernel_unsupported_reason(const ir::Node& node, int64_t opset) {
  if (!node.domain.empty()) return "not an ONNX op";
  // Per-tensor f32 scale, u8 / s8 zero point (or none: u8): the cpu kernels' own checks.
  if (node.op_type == "DequantizeLinear") return runtime::cpu::dequantize_linear_unsupported_reason(node, opset);
  if (node.op_type == "QuantizeLinear") return runtime::cpu::quantize_linear_unsupported_reason(node, opset);
  if (node.op_type == "MaxPool") {
    // Floats stay on ref: which NaN a maximum returns is not a question the simulation should depend on.
    const ir::Value* input = node.input(0);
    if (!input || !is_eight_bit(input->type.dtype)) return "MaxPool of floats";
    if (input->type.shape && input->type.shape->size() != 4) return "MaxPool other than 2-D";
    if (node.get_ints("kernel_shape", {}).size() != 2) return "MaxPool other than 2-D";
    if (node.get_ints("dilations", {1, 1}) != std::vector<int64_t>{1, 1}) return "dilated MaxPool";
    if (node.outputs.size() > 1 && node.output(1)) return "MaxPool with indices";
    return std::nullopt;
  }
  return "no exact kernel for " + node.op_type;
}

std::unique_ptr<runtime::NodeExecutable> prepare_exact_onnx_kernel(const ir::Node& node, int64_t opset) {
  if (node.op_type == "DequantizeLinear") return runtime::cpu::prepare_dequantize_linear(node, opset, plain_layouts());
  if (node.op_type == "QuantizeLinear") return runtime::cpu::prepare_quantize_linear(node, opset, plain_layouts());
  if (node.op_type == "MaxPool") return std::make_unique<BytesMaxPool>(opset);
  throw Error(ErrorKind::internal, "prepare_exact_onnx_kernel: no exact kernel for " + node.op_type, {}, node.describe());
}

}  // namespace npukit::sim
