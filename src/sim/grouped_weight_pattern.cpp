#include "sim/grouped_weight_pattern.h"

#include <algorithm>
#include <cmath>

#include "passes/graph_editing.h"

namespace npukit::sim {

namespace {

ir::Node* producer_of(const ir::Value* value, const char* op_type) {
  if (!value || !value->producer || !value->producer->domain.empty() || value->producer->op_type != op_type) return nullptr;
  return value->producer;
}

// The non-constant input of a binary node and its constant partner.
bool split_inputs(const ir::Node& node, const ir::Value*& computed, const Tensor*& constant) {
  if (node.inputs.size() != 2) return false;
  for (size_t i = 0; i < 2; ++i) {
    const Tensor* data = passes::constant_of(node.input(i));
    if (data && !passes::constant_of(node.input(1 - i))) {
      computed = node.input(1 - i);
      constant = data;
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<GroupedWeightSource> read_grouped_weight(const ir::Value* weight) {
  ir::Node* reshape = producer_of(weight, "Reshape");
  if (!reshape) return std::nullopt;
  const Tensor* shape_data = passes::constant_of(reshape->input(1));
  // A short last group: Reshape(Slice(Reshape(Mul))) cuts the zero padding off (onnx/qdq_mapping.h).
  ir::Node* slice = producer_of(reshape->input(0), "Slice");
  ir::Node* flatten = slice ? producer_of(slice->input(0), "Reshape") : nullptr;
  if (slice && !flatten) return std::nullopt;
  ir::Node* mul = producer_of(flatten ? flatten->input(0) : reshape->input(0), "Mul");
  if (!shape_data || shape_data->dtype() != DType::i64 || !mul) return std::nullopt;
  const std::optional<std::vector<int64_t>> weight_shape = shape_data->to_int64_vector();
  if (std::any_of(weight_shape->begin(), weight_shape->end(), [](int64_t dim) { return dim <= 0; })) return std::nullopt;
  const ir::Value* centred = nullptr;
  const Tensor* scales = nullptr;
  if (!split_inputs(*mul, centred, scales) || scales->dtype() != DType::f32 || scales->rank() != 3) return std::nullopt;
  ir::Node* sub = producer_of(centred, "Sub");
  const Tensor* zero_points = nullptr;
  const ir::Value* integers = centred;
  if (sub) {
    if (!split_inputs(*sub, integers, zero_points) || zero_points->dtype() != DType::f32 ||
        zero_points->shape() != scales->shape()) {
      return std::nullopt;
    }
  }
  ir::Node* dequantize = producer_of(integers, "DequantizeLinear");
  if (!dequantize) return std::nullopt;
  const ir::Value* quantized = dequantize->input(0);
  if (!quantized || !quantized->initializer || quantized->is_graph_input || !quantized->quant) return std::nullopt;
  const ir::QuantParams& unit = *quantized->quant;
  if (unit.scales.size() != 1 || unit.scales[0] != 1.0f || unit.zero_point(0) != 0) return std::nullopt;
  const Tensor& grouped = *quantized->initializer;
  if (grouped.rank() != 3) return std::nullopt;
  // [C, G, group] with scales [C, G, 1] (channel axis 0), or [G, group, N] with scales [G, 1, N] ([K, N], axis 1).
  const Shape& q = grouped.shape();
  const Shape& s = scales->shape();
  const bool channels_first = s[0] == q[0] && s[1] == q[1] && s[2] == 1;
  const bool groups_first = s[0] == q[0] && s[1] == 1 && s[2] == q[2];
  if (channels_first == groups_first) return std::nullopt;
  const int64_t channels = channels_first ? q[0] : q[2];
  const int64_t groups = channels_first ? q[1] : q[0];
  const int64_t group_size = channels_first ? q[2] : q[1];
  if (channels_first && (weight_shape->empty() || (*weight_shape)[0] != channels)) return std::nullopt;
  if (!channels_first && (weight_shape->size() != 2 || (*weight_shape)[1] != channels)) return std::nullopt;
  int64_t elements = 1;
  for (int64_t dim : *weight_shape) elements *= dim;
  const int64_t inputs = elements / channels;
  // Whole groups, or (with the Slice) a last group short by less than one group.
  if (elements != channels * inputs || inputs > groups * group_size || inputs <= (groups - 1) * group_size) return std::nullopt;
  if (!slice && inputs != groups * group_size) return std::nullopt;

  GroupedWeightSource source;
  source.params.storage = unit.storage;
  source.params.axis = channels_first ? 0 : 1;
  source.params.group_size = group_size;
  const std::vector<float> scale_values = scales->to_float_vector();
  const std::vector<float> zero_values = zero_points ? zero_points->to_float_vector() : std::vector<float>{};
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t g = 0; g < groups; ++g) {
      const size_t at = static_cast<size_t>(channels_first ? c * groups + g : g * channels + c);
      if (!(scale_values[at] > 0) || !std::isfinite(scale_values[at])) return std::nullopt;
      source.params.scales.push_back(scale_values[at]);
      if (zero_points) {
        // The export writes integer zero points as floats; anything else is not this pattern.
        if (zero_values[at] != std::nearbyint(zero_values[at])) return std::nullopt;
        source.params.zero_points.push_back(static_cast<int64_t>(zero_values[at]));
      }
    }
  }
  source.integers = Tensor(grouped.dtype(), *weight_shape);
  const auto* from = static_cast<const std::byte*>(grouped.raw_data());
  auto* to = static_cast<std::byte*>(source.integers.raw_data());
  const size_t element = dtype_size(grouped.dtype());
  if (channels_first) {  // each channel's first `inputs` of its padded row
    for (int64_t c = 0; c < channels; ++c) {
      std::copy_n(from + static_cast<size_t>(c * groups * group_size) * element, static_cast<size_t>(inputs) * element,
                  to + static_cast<size_t>(c * inputs) * element);
    }
  } else {  // the first K rows
    std::copy_n(from, source.integers.byte_size(), to);
  }
  source.nodes = {reshape};
  if (slice) source.nodes.insert(source.nodes.end(), {slice, flatten});
  source.nodes.push_back(mul);
  if (sub) source.nodes.push_back(sub);
  source.nodes.push_back(dequantize);
  return source;
}

}  // namespace npukit::sim
