// QLinearMatMul with constant 2-D s8 weights on the cpu backend, equal to ONNX Runtime's CPU execution
// provider to the bit (and to the ref kernel): the activations flattened to [rows, K] (s8 shifted to u8,
// copied twice side by side when the weights are split, int8_accumulation.h), an exact s32 product on
// oneDNN, then ORT's float-scale requantization with -z_a · sum(b column) as the per-column offset.
#include <map>
#include <mutex>

#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/cpu/int8_accumulation.h"
#include "runtime/kernels/cpu/qlinear_operands.h"

namespace npukit::runtime::cpu {

namespace {

class QLinearMatMulExecutable final : public CpuExecutable {
 public:
  QLinearMatMulExecutable(const ir::Node& node, QLinearOperands operands) : node_(node), operands_(std::move(operands)) {
    depth_ = operands_.weights->dim(0);
    columns_ = operands_.weights->dim(1);
    for (int64_t n = 0; n < columns_; ++n) {
      const float weight_scale = operands_.weight_scales.size() == 1 ? operands_.weight_scales[0]
                                                                     : operands_.weight_scales[static_cast<size_t>(n)];
      scales_.push_back(int8::output_scale_for(operands_.input_scale, weight_scale, operands_.output_scale));
    }
    unsigned_zero_point_ = operands_.input_zero_point + (operands_.input_type == DType::i8 ? 128 : 0);
    const ir::Value* input = node.input(0);
    if (input->type.has_static_shape() && input->type.static_shape().size() >= 2) {
      plan_for(rows_of(input->type.static_shape()));
    }
  }

  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (input.dtype() != operands_.input_type || input.rank() < 2) {
      context.invalid("cpu QLinearMatMul needs a " + std::string(dtype_name(operands_.input_type)) + " input of rank >= 2");
    }
    if (input.shape().back() != depth_) {
      context.invalid("input " + shape_to_string(input.shape()) + " does not match the weights' inner size " +
                      std::to_string(depth_));
    }
    const int64_t rows = rows_of(input.shape());
    const Plan& plan = plan_for(rows);
    Shape output_shape = input.shape();
    output_shape.back() = columns_;
    Tensor& output = context.allocate_output(0, operands_.output_type, output_shape);
    const int copies = plan.accumulation->copies();
    const bool shift = operands_.input_type == DType::i8;
    const uint8_t* source = static_cast<const uint8_t*>(input.raw_data());
    if (copies > 1 || shift) {
      uint8_t* copy = static_cast<uint8_t*>(scratch(ScratchSlot::source, static_cast<size_t>(rows * depth_ * copies)));
      const uint8_t flip = shift ? 0x80 : 0;  // s8 q → u8 q + 128: the byte XOR 0x80
#pragma omp parallel for schedule(static) if (rows * depth_ > 16384)
      for (int64_t row = 0; row < rows; ++row) {
        const uint8_t* from = source + row * depth_;
        for (int c = 0; c < copies; ++c) {
          uint8_t* to = copy + (row * copies + c) * depth_;
          for (int64_t k = 0; k < depth_; ++k) to[k] = static_cast<uint8_t>(from[k] ^ flip);
        }
      }
      source = copy;
    }
    int32_t* accumulators =
        static_cast<int32_t*>(scratch(ScratchSlot::destination, static_cast<size_t>(rows * columns_) * sizeof(int32_t)));
    plan.accumulation->run(source, accumulators);
    int8::requantize_float_scale_rows(accumulators, rows, columns_, plan.offsets.data(), scales_.data(), true,
                                      operands_.output_zero_point, operands_.output_type, output.raw_data());
  }

 private:
  struct Plan {
    std::unique_ptr<int8::ExactInt8MatMul> accumulation;
    std::vector<int32_t> offsets;
  };

  static int64_t rows_of(const Shape& shape) {
    int64_t rows = 1;
    for (size_t axis = 0; axis + 1 < shape.size(); ++axis) rows *= shape[axis];
    return rows;
  }

  const Plan& plan_for(int64_t rows) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = plans_.find(rows);
    if (found != plans_.end()) return *found->second;
    auto plan = std::make_unique<Plan>();
    plan->accumulation = std::make_unique<int8::ExactInt8MatMul>(rows, depth_, columns_, operands_.weights->data<int8_t>());
    for (int64_t n = 0; n < columns_; ++n) {
      const uint32_t correction = static_cast<uint32_t>(unsigned_zero_point_) *
                                  static_cast<uint32_t>(plan->accumulation->weight_sums()[static_cast<size_t>(n)]);
      plan->offsets.push_back(static_cast<int32_t>(0u - correction));
    }
    return *(plans_[rows] = std::move(plan));
  }

  const ir::Node& node_;
  QLinearOperands operands_;
  int64_t depth_ = 0, columns_ = 0;
  int32_t unsigned_zero_point_ = 0;
  std::vector<float> scales_;
  mutable std::mutex mutex_;
  mutable std::map<int64_t, std::unique_ptr<Plan>> plans_;
};

}  // namespace

std::optional<std::string> qlinear_matmul_unsupported_reason(const ir::Node& node, int64_t opset) {
  const ir::Value* weights = node.input(3);
  if (!weights || !weights->initializer || weights->initializer->rank() != 2) {
    return "cpu QLinearMatMul needs constant 2-D weights";
  }
  QLinearOperands operands;
  return read_qlinear_operands(node, weights->initializer->dim(1), operands);
}

std::unique_ptr<NodeExecutable> prepare_qlinear_matmul(const ir::Node& node, int64_t opset,
                                                       const BlockedLayoutPlan& layouts) {
  QLinearOperands operands;
  if (std::optional<std::string> reason = read_qlinear_operands(node, node.input(3)->initializer->dim(1), operands)) {
    throw Error(ErrorKind::unsupported, *reason, {}, node.describe());
  }
  return std::make_unique<QLinearMatMulExecutable>(node, std::move(operands));
}

}  // namespace npukit::runtime::cpu
