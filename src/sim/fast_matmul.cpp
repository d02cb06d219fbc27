// IntegerMatMul on the sim backend, fast, for a constant [K, N] right operand (a weight: Gemm, a MatMul by a
// constant): a [..., M, K] flattened to rows, moved to the u8 grid, oneDNN's exact s32 sums
// (int8_accumulation.h), the zero points folded in (zero_point_folding.h, with each row's sum of activations
// when a column's zero point is not 0), and the target's requantization over each row (vector_output_stage.h).
#include <map>
#include <mutex>

#include "npukit/error.h"
#include "runtime/kernels/cpu/dnnl_runtime.h"
#include "runtime/kernels/cpu/int8_accumulation.h"
#include "sim/fast_integer_kernels.h"
#include "sim/vector_output_stage.h"
#include "sim/zero_point_folding.h"

namespace npukit::sim {

namespace {

using runtime::cpu::ScratchSlot;
using runtime::cpu::scratch;

class FastMatMul final : public runtime::NodeExecutable {
 public:
  FastMatMul(const runtime::integer::MatMulParameters& parameters, DType input_type, int64_t depth, int64_t columns,
             FoldedWeights folded)
      : parameters_(parameters),
        input_type_(input_type),
        depth_(depth),
        columns_(columns),
        folded_(std::move(folded)),
        output_stage_(parameters.output, columns) {}

  bool writes_whole_outputs() const override { return true; }

  void run(runtime::KernelContext& context) const override {
    const Tensor& a = context.input(0);
    if (a.dtype() != input_type_ || a.rank() < 2 || a.dim(a.rank() - 1) != depth_) {
      context.set_output(0, runtime::integer::matmul(a, context.input(1), context.optional_input(2), parameters_));
      return;
    }
    const int64_t rows = a.element_count() / depth_;
    const runtime::cpu::int8::ExactInt8MatMul& accumulation = plan_for(rows);
    Shape shape = a.shape();
    shape.back() = columns_;
    Tensor& output = context.allocate_output(0, parameters_.output.dtype, shape);
    const int64_t source_depth = accumulation.source_depth();
    auto* source = static_cast<uint8_t*>(scratch(ScratchSlot::source, static_cast<size_t>(rows * source_depth)));
    auto* accumulators = static_cast<int32_t*>(scratch(ScratchSlot::destination, static_cast<size_t>(rows * columns_) * sizeof(int32_t)));
    const uint8_t flip = input_type_ == DType::i8 ? 0x80 : 0;
    const auto* bytes = static_cast<const uint8_t*>(a.raw_data());
    for (int64_t r = 0; r < rows; ++r) {
      for (int copy = 0; copy < accumulation.copies(); ++copy) {
        uint8_t* to = source + r * source_depth + copy * depth_;
        for (int64_t k = 0; k < depth_; ++k) to[k] = static_cast<uint8_t>(bytes[r * depth_ + k] ^ flip);
      }
    }
    accumulation.run(source, accumulators);
    const int32_t* offsets = folded_.offsets.data();
    const int32_t* zero_points = folded_.zero_points.data();
    for (int64_t r = 0; r < rows; ++r) {
      int32_t sum = 0;
      if (folded_.any_weight_zero_point) {
        for (int64_t k = 0; k < depth_; ++k) sum += source[r * source_depth + k];
      }
      int32_t* row = accumulators + r * columns_;
      for (int64_t n = 0; n < columns_; ++n) {
        row[n] = wrapping_subtract(wrapping_add(row[n], offsets[n]), wrapping_multiply(zero_points[n], sum));
      }
    }
    output_stage_.finish_rows(accumulators, rows, output.raw_data());
  }

 private:
  const runtime::cpu::int8::ExactInt8MatMul& plan_for(int64_t rows) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& plan = plans_[rows];
    if (!plan) plan = std::make_unique<runtime::cpu::int8::ExactInt8MatMul>(rows, depth_, columns_, folded_.weights.data());
    return *plan;
  }

  runtime::integer::MatMulParameters parameters_;
  DType input_type_;
  int64_t depth_, columns_;
  FoldedWeights folded_;
  VectorOutputStage output_stage_;
  mutable std::mutex mutex_;
  mutable std::map<int64_t, std::unique_ptr<runtime::cpu::int8::ExactInt8MatMul>> plans_;
};

}  // namespace

std::unique_ptr<runtime::NodeExecutable> prepare_fast_matmul(const ir::Node& node,
                                                             const runtime::integer::MatMulParameters& parameters) {
  const ir::Value* input = node.input(0);
  const ir::Value* right = node.input(1);
  if (!input || !right || !right->initializer || right->is_graph_input || right->initializer->rank() != 2) return nullptr;
  const DType input_type = input->quant ? input->quant->storage : input->type.dtype;
  if (input_type != DType::i8 && input_type != DType::u8) return nullptr;
  if (VectorOutputStage::unsupported_reason(parameters.output)) return nullptr;
  const ir::Value* bias_value = node.input(2);
  if (bias_value && (!bias_value->initializer || bias_value->is_graph_input)) return nullptr;
  const Tensor* bias = bias_value ? &*bias_value->initializer : nullptr;
  const int32_t unsigned_zero_point = parameters.a_zero_point + (input_type == DType::i8 ? 128 : 0);
  if (unsigned_zero_point < 0 || unsigned_zero_point > 255) return nullptr;
  const Tensor& weights = *right->initializer;
  const int64_t depth = weights.dim(0), columns = weights.dim(1);
  std::optional<FoldedWeights> folded =
      fold_zero_points(weights, columns, depth, false, parameters.b_zero_points, bias, unsigned_zero_point);
  if (!folded) return nullptr;
  return std::make_unique<FastMatMul>(parameters, input_type, depth, columns, std::move(*folded));
}

}  // namespace npukit::sim
