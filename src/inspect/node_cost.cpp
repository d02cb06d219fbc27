#include "inspect/node_cost.h"

#include <algorithm>
#include <set>
#include <string>

namespace npukit::inspect {

namespace {

std::optional<std::vector<int64_t>> static_dims(const ir::Value* value) {
  if (!value || !value->type.has_static_shape()) return std::nullopt;
  return value->type.static_shape();
}

// Product of dims[first..]; nullopt on overflow (a hostile file may declare absurd shapes).
std::optional<int64_t> product_from(const std::vector<int64_t>& dims, size_t first) {
  int64_t product = 1;
  for (size_t i = first; i < dims.size(); ++i) {
    if (dims[i] < 0) return std::nullopt;
    if (dims[i] != 0 && product > INT64_MAX / dims[i]) return std::nullopt;
    product *= dims[i];
  }
  return product;
}

std::optional<int64_t> multiply(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a || !b) return std::nullopt;
  if (*a != 0 && *b > INT64_MAX / *a) return std::nullopt;
  return *a * *b;
}

std::optional<int64_t> sum_output_elements(const ir::Node& node) {
  int64_t total = 0;
  for (const ir::Value* output : node.outputs) {
    if (!output) continue;
    auto count = static_element_count(output);
    if (!count) return std::nullopt;
    total += *count;
  }
  return total;
}

// Output elements × product of the weight's dims after the first (Cin/group × kernel area for Conv).
std::optional<int64_t> convolution_macs(const ir::Node& node, size_t weight_index) {
  auto weight = static_dims(node.input(weight_index));
  if (!weight || weight->size() < 2) return std::nullopt;
  return multiply(static_element_count(node.output(0)), product_from(*weight, 1));
}

// Output elements × K, K being the last dimension of A (the shared dimension of the product).
std::optional<int64_t> matmul_macs(const ir::Node& node, size_t a_index) {
  auto a = static_dims(node.input(a_index));
  if (!a || a->empty()) return std::nullopt;
  return multiply(static_element_count(node.output(0)), a->back());
}

std::optional<int64_t> gemm_macs(const ir::Node& node) {
  auto a = static_dims(node.input(0));
  if (!a || a->size() != 2) return std::nullopt;
  int64_t k = node.get_int("transA", 0) ? (*a)[0] : (*a)[1];
  return multiply(static_element_count(node.output(0)), k);
}

std::optional<int64_t> recurrent_macs(const ir::Node& node) {
  auto x = static_dims(node.input(0));
  auto w = static_dims(node.input(1));
  auto r = static_dims(node.input(2));
  if (!x || !w || !r || x->size() != 3 || w->size() != 3 || r->size() != 3) return std::nullopt;
  // layout 0: X is [sequence, batch, input]; layout 1: [batch, sequence, input]. Either way the product
  // of the first two is sequence × batch.
  int64_t steps = (*x)[0] * (*x)[1];
  int64_t directions = (*w)[0];
  int64_t gate_rows = (*w)[1];
  int64_t per_row = (*w)[2] + (*r)[2];
  return multiply(multiply(multiply(steps, directions), gate_rows), per_row);
}

std::optional<int64_t> window_area(const ir::Node& node) {
  std::vector<int64_t> kernel = node.get_ints("kernel_shape", {});
  if (kernel.empty()) return std::nullopt;
  return product_from(kernel, 0);
}

bool is_data_movement(const std::string& op) {
  static const std::set<std::string> ops = {
      "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "Slice", "Gather",
      "GatherElements", "GatherND", "Shape", "Size", "Identity", "Constant", "ConstantOfShape", "Expand",
      "Tile", "Pad", "Dropout", "DepthToSpace", "SpaceToDepth", "ScatterND", "ScatterElements", "Scatter",
      "Compress", "NonZero", "Range", "ReverseSequence", "SequenceConstruct", "SequenceAt", "SplitToSequence",
      "ConcatFromSequence", "SequenceInsert", "SequenceEmpty", "SequenceLength", "Optional", "OptionalGetElement",
      "OptionalHasElement", "If", "Loop", "Scan", "EyeLike", "Trilu", "OneHot"};
  return ops.count(op) != 0;
}

bool reads_every_input_element(const std::string& op) {
  static const std::set<std::string> ops = {
      "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
      "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "Softmax", "LogSoftmax",
      "Hardmax", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "LayerNormalization",
      "InstanceNormalization", "GroupNormalization", "LpNormalization", "MeanVarianceNormalization", "TopK",
      "CumSum"};
  return ops.count(op) != 0;
}

}  // namespace

std::optional<int64_t> static_element_count(const ir::Value* value) {
  auto dims = static_dims(value);
  if (!dims) return std::nullopt;
  return product_from(*dims, 0);
}

namespace {

std::optional<int64_t> add(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a || !b || *b > INT64_MAX - *a) return std::nullopt;
  return *a + *b;
}

SubgraphCost::Body body_cost(const std::string& attribute, const ir::Graph& body) {
  SubgraphCost::Body cost;
  cost.attribute = attribute;
  cost.macs = 0;
  cost.other_operations = 0;
  for (const auto& value : body.values()) {
    if (value->initializer && !value->is_graph_input) {
      cost.parameter_count += value->initializer->element_count();
      cost.parameter_bytes += static_cast<int64_t>(value->initializer->byte_size());
    }
  }
  for (const auto& node : body.nodes()) {
    ++cost.nodes;
    NodeCost node_cost = estimate_node_cost(*node);
    cost.macs = add(cost.macs, node_cost.macs);
    cost.other_operations = add(cost.other_operations, node_cost.other_operations);
    if (auto nested = estimate_subgraph_cost(*node)) {
      cost.nodes += nested->nodes;
      for (const SubgraphCost::Body& inner : nested->bodies) {
        cost.parameter_count += inner.parameter_count;
        cost.parameter_bytes += inner.parameter_bytes;
      }
    }
  }
  return cost;
}

std::optional<int64_t> constant_scalar(const ir::Value* value) {
  if (!value || !value->initializer || value->is_graph_input || value->initializer->element_count() != 1) {
    return std::nullopt;
  }
  return value->initializer->value_as_int64(0);
}

}  // namespace

std::optional<SubgraphCost> estimate_subgraph_cost(const ir::Node& node) {
  SubgraphCost cost;
  for (const auto& [key, attribute] : node.attributes) {
    if (attribute.graph_value) cost.bodies.push_back(body_cost(key, *attribute.graph_value));
    for (size_t i = 0; i < attribute.graph_values.size(); ++i) {
      cost.bodies.push_back(body_cost(key + "[" + std::to_string(i) + "]", *attribute.graph_values[i]));
    }
  }
  if (cost.bodies.empty()) return std::nullopt;
  for (const SubgraphCost::Body& body : cost.bodies) cost.nodes += body.nodes;
  const bool standard = node.domain.empty() || node.domain == "ai.onnx";
  if (standard && node.op_type == "If") {
    // The costlier branch: what one inference may cost.
    cost.macs = 0;
    cost.other_operations = 0;
    for (const SubgraphCost::Body& body : cost.bodies) {
      cost.macs = body.macs && cost.macs ? std::max(*cost.macs, *body.macs) : std::optional<int64_t>();
      cost.other_operations = body.other_operations && cost.other_operations
                                  ? std::max(*cost.other_operations, *body.other_operations)
                                  : std::optional<int64_t>();
    }
    return cost;
  }
  if (standard && node.op_type == "Loop") {
    cost.iterations = constant_scalar(node.input(0));
  } else if (standard && node.op_type == "Scan") {
    // The length of the first scanned input along its scan axis (axis 0 unless scan_input_axes says otherwise).
    const int64_t state_count = node.inputs.size() - node.get_int("num_scan_inputs", 0);
    const ir::Value* scanned = node.input(static_cast<size_t>(std::max<int64_t>(state_count, 0)));
    std::vector<int64_t> axes = node.get_ints("scan_input_axes", {});
    if (auto dims = static_dims(scanned)) {
      int64_t axis = axes.empty() ? 0 : axes[0];
      if (axis < 0) axis += static_cast<int64_t>(dims->size());
      if (axis >= 0 && axis < static_cast<int64_t>(dims->size())) cost.iterations = (*dims)[axis];
    }
  }
  std::optional<int64_t> macs = 0, other = 0;
  for (const SubgraphCost::Body& body : cost.bodies) {
    macs = add(macs, body.macs);
    other = add(other, body.other_operations);
  }
  if (cost.iterations) {
    cost.macs = multiply(macs, *cost.iterations);
    cost.other_operations = multiply(other, *cost.iterations);
  } else {
    cost.per_iteration = true;
    cost.macs = macs;
    cost.other_operations = other;
  }
  return cost;
}

NodeCost estimate_node_cost(const ir::Node& node) {
  const std::string& op = node.op_type;
  if (auto subgraphs = estimate_subgraph_cost(node)) {
    // A Loop of unknown trip count has a known cost per iteration only: the total is unknown.
    if (subgraphs->per_iteration) return {std::nullopt, std::nullopt};
    return {subgraphs->macs, subgraphs->other_operations};
  }
  // Ops of other domains (com.microsoft, vendor ops) have unknown semantics: do not pretend to know.
  bool standard = node.domain.empty() || node.domain == "ai.onnx";
  if (!standard) return {0, sum_output_elements(node)};
  if (op == "Conv" || op == "ConvInteger") return {convolution_macs(node, 1), 0};
  if (op == "QLinearConv") return {convolution_macs(node, 3), 0};
  if (op == "ConvTranspose") {
    auto weight = static_dims(node.input(1));
    if (!weight || weight->size() < 2) return {std::nullopt, 0};
    return {multiply(static_element_count(node.input(0)), product_from(*weight, 1)), 0};
  }
  if (op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul") return {matmul_macs(node, 0), 0};
  if (op == "Gemm") return {gemm_macs(node), 0};
  if (op == "RNN" || op == "GRU" || op == "LSTM") return {recurrent_macs(node), 0};
  if (is_data_movement(op)) return {0, 0};
  if (op == "MaxPool" || op == "AveragePool" || op == "LpPool") {
    return {0, multiply(static_element_count(node.output(0)), window_area(node))};
  }
  if (reads_every_input_element(op)) return {0, static_element_count(node.input(0))};
  return {0, sum_output_elements(node)};
}

}  // namespace npukit::inspect
