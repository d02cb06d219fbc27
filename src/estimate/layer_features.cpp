#include "estimate/layer_features.h"

#include <set>

#include "inspect/node_cost.h"

namespace npukit::estimate {

namespace {

// Ops that only move or reinterpret data: no arithmetic, their cost is memory traffic and the per-layer overhead.
bool is_data_movement(const std::string& op_type) {
  static const std::set<std::string> ops = {"Reshape", "Transpose", "Concat", "Slice", "Split", "Gather", "Flatten",
                                            "Squeeze", "Unsqueeze", "Identity", "Pad", "Expand", "Tile",
                                            "DepthToSpace", "SpaceToDepth", "Shape", "Cast"};
  return ops.count(op_type) != 0;
}

double elements(const ir::Value* value, bool& known) {
  auto count = inspect::static_element_count(value);
  if (!count) {
    known = false;
    return 0;
  }
  return static_cast<double>(*count);
}

bool is_mac_op(const ir::Node* node) {
  if (!node) return false;
  static const std::set<std::string> ops = {"Conv", "ConvTranspose", "Gemm", "MatMul", "ConvInteger", "QLinearConv"};
  return ops.count(node->op_type) != 0;
}

// Accelerator compilers fuse an activation into the convolution or matrix product before it (nn-Meter's fusion
// rules; RKNN lists Conv+activation as one op): it then costs no memory pass and no layer of its own. SiLU is
// written x·sigmoid(x): the Sigmoid reads the conv output and the Mul joins the two, both fused.
bool fuses_into_producer(const ir::Node& node) {
  static const std::set<std::string> activations = {"Relu", "Clip", "Sigmoid", "LeakyRelu", "HardSwish", "HardSigmoid",
                                                    "Tanh", "PRelu", "Elu", "Softplus", "Mish", "Gelu"};
  const ir::Value* input = node.input(0);
  if (activations.count(node.op_type)) return input && is_mac_op(input->producer);
  if (node.op_type == "Mul" && node.inputs.size() == 2 && node.input(0) && node.input(1)) {
    for (int side = 0; side < 2; ++side) {
      const ir::Value* direct = node.input(side);
      const ir::Value* gated = node.input(1 - side);
      if (is_mac_op(direct->producer) && gated->producer && gated->producer->op_type == "Sigmoid" &&
          gated->producer->input(0) == direct) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::string_view layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::convolution: return "conv";
    case LayerKind::depthwise_convolution: return "depthwise";
    case LayerKind::matrix_multiply: return "matmul";
    case LayerKind::elementwise: return "elementwise";
    case LayerKind::data_movement: return "data movement";
  }
  return "elementwise";
}

double LayerFeatures::alignment_share(int64_t alignment) const {
  if (alignment <= 1 || (input_channels <= 0 && output_channels <= 0)) return 1.0;
  auto share = [alignment](int64_t channels) {
    if (channels <= 0) return 1.0;
    const int64_t padded = (channels + alignment - 1) / alignment * alignment;
    return static_cast<double>(channels) / static_cast<double>(padded);
  };
  return share(input_channels) * share(output_channels);
}

std::vector<LayerFeatures> extract_layer_features(const ir::Graph& graph) {
  std::vector<LayerFeatures> layers;
  for (const auto& owned : graph.nodes()) {
    const ir::Node& node = *owned;
    LayerFeatures layer;
    layer.name = node.name;
    layer.op_type = node.op_type;
    const inspect::NodeCost cost = inspect::estimate_node_cost(node);
    layer.shape_known = cost.macs.has_value() && cost.other_operations.has_value();
    layer.macs = static_cast<double>(cost.macs.value_or(0));
    layer.other_operations = static_cast<double>(cost.other_operations.value_or(0));
    for (const ir::Value* input : node.inputs) {
      if (!input) continue;
      (input->initializer ? layer.weight_elements : layer.input_elements) += elements(input, layer.shape_known);
    }
    for (const ir::Value* output : node.outputs) {
      if (output) layer.output_elements += elements(output, layer.shape_known);
    }
    const bool convolution = node.op_type == "Conv" || node.op_type == "ConvTranspose" || node.op_type == "ConvInteger" ||
                             node.op_type == "QLinearConv";
    const bool matrix = node.op_type == "MatMul" || node.op_type == "Gemm" || node.op_type == "MatMulInteger" ||
                        node.op_type == "QLinearMatMul";
    if (convolution) {
      const size_t weight_index = node.op_type == "QLinearConv" ? 3 : 1;
      auto weight = ir::static_dims_of(node.input(weight_index));
      const int64_t group = node.get_int("group", 1);
      layer.kind = LayerKind::convolution;
      if (weight && weight->size() >= 2) {
        const bool transposed = node.op_type == "ConvTranspose";
        // The array reduces over input channels × kernel window (im2col order), so a 3-channel first layer with a
        // 6×6 kernel fills 108 lanes, not 3.
        int64_t window = 1;
        for (size_t axis = 2; axis < weight->size(); ++axis) window *= std::max<int64_t>((*weight)[axis], 1);
        layer.input_channels = (transposed ? (*weight)[0] / std::max<int64_t>(group, 1) : (*weight)[1]) * window;
        layer.output_channels = transposed ? (*weight)[1] : (*weight)[0] / std::max<int64_t>(group, 1);
        if (group > 1 && (*weight)[1] == 1) {
          layer.kind = LayerKind::depthwise_convolution;
          // A depthwise convolution fills the array with channels side by side: its alignment is on the channels.
          layer.input_channels = 0;
          layer.output_channels = (*weight)[0];
        }
      }
    } else if (matrix) {
      layer.kind = LayerKind::matrix_multiply;
      auto a = ir::static_dims_of(node.input(0));
      auto out = ir::static_dims_of(node.output(0));
      if (a && !a->empty()) layer.input_channels = node.get_int("transA", 0) && a->size() == 2 ? (*a)[0] : a->back();
      if (out && !out->empty()) layer.output_channels = out->back();
    } else if (is_data_movement(node.op_type)) {
      layer.kind = LayerKind::data_movement;
    }
    layer.fused_into_producer = fuses_into_producer(node);
    layers.push_back(std::move(layer));
  }
  return layers;
}

}  // namespace npukit::estimate
