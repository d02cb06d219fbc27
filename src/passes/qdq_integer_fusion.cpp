#include "passes/qdq_integer_fusion.h"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "ir/fused_activation.h"
#include "ir/microsoft_domain.h"
#include "passes/graph_editing.h"
#include "passes/qdq_groups.h"

namespace npukit::passes {

using namespace qdq_groups;  // the matched groups (qdq_groups.h) this pass rewrites

PassResult fuse_qdq_into_integer_ops(ir::Model& model) {
  PassResult result;
  result.pass = "fuse-qdq-integer";
  ir::Graph& graph = *model.graph;
  const std::set<std::string> protected_names = names_read_by_subgraphs(graph);
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes()) {
    if (node->domain.empty() && (node->op_type == "Conv" || node->op_type == "MatMul")) candidates.push_back(node.get());
  }
  for (ir::Node* op : candidates) {
    std::optional<Group> group = match_group(model, op, protected_names);
    if (!group) continue;
    const bool convolution = op->op_type == "Conv";
    ir::Value* input_zero_point = group->input.zero_point
                                      ? group->input.zero_point
                                      : zero_point_constant(graph, op->name + "_x_zero_point", group->input.type);
    ir::Value* weight_zero_point = group->weights.zero_point
                                       ? group->weights.zero_point
                                       : zero_point_constant(graph, op->name + "_w_zero_point", DType::i8);
    ir::Value* output_zero_point = group->output.zero_point
                                       ? group->output.zero_point
                                       : zero_point_constant(graph, op->name + "_y_zero_point", group->output.type);
    std::vector<ir::Value*> inputs{group->input.integer, group->input.scale, input_zero_point,
                                   group->weights.integer, group->weights.scale, weight_zero_point,
                                   group->output.scale, output_zero_point};
    if (group->bias) inputs.push_back(group->bias);
    std::map<std::string, ir::Attribute> attributes = op->attributes;
    std::string description = op->describe();
    for (ir::Node* node : group->swallowed) description += " + " + node->op_type;
    const std::string name = op->name;
    ir::Value* output = group->output.integer;
    graph.remove_node(op);
    for (ir::Node* node : group->swallowed) graph.remove_node(node);
    ir::Node* fused = graph.add_node(convolution ? "QLinearConv" : "QLinearMatMul", inputs, {output}, name);
    if (convolution) fused->attributes = std::move(attributes);
    result.notes.push_back("fused " + description + " into " + fused->op_type);
    ++result.rewrites;
  }
  // Gemm groups → Reshape [M, K, 1, 1] → QLinearConv 1x1 → Reshape [M, N] (ORT runs them as QGemm).
  std::vector<ir::Node*> gemms;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "Gemm")) gemms.push_back(node.get());
  }
  for (ir::Node* op : gemms) {
    std::optional<GemmGroup> group = match_gemm_group(model, op, protected_names);
    if (!group) continue;
    const Tensor& weights = *constant_of(group->weights.integer);
    const int64_t outputs = weights.dim(0), depth = weights.dim(1);
    const int64_t rows = group->input.integer->type.static_shape()[0];
    const std::string name = op->name.empty() ? "gemm" : op->name;
    Tensor convolution_weights(DType::i8, {outputs, depth, 1, 1});
    std::memcpy(convolution_weights.raw_data(), weights.raw_data(), weights.byte_size());
    ir::Value* weights_4d = graph.add_initializer(unused_value_name(graph, name + ".weight_1x1"), std::move(convolution_weights));
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem, DType type) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, name + stem, type);
    };
    ir::Value* input_4d = add_typed_value(graph, name + ".as_map", group->input.type, {rows, depth, 1, 1});
    ir::Value* result_4d = add_typed_value(graph, name + ".conv_out", group->output.type, {rows, outputs, 1, 1});
    std::vector<ir::Value*> inputs{input_4d, group->input.scale, zero_point_of(group->input, "_x_zero_point", group->input.type),
                                   weights_4d, group->weights.scale, zero_point_of(group->weights, "_w_zero_point", DType::i8),
                                   group->output.scale, zero_point_of(group->output, "_y_zero_point", group->output.type)};
    if (group->bias) inputs.push_back(group->bias);
    const std::string description =
        op->describe() + (group->activation ? " + " + group->activation->op_type : std::string()) + " + QuantizeLinear";
    ir::Value* output = group->output.integer;
    ir::Value* input = group->input.integer;
    graph.remove_node(op);
    if (group->activation) graph.remove_node(group->activation);
    graph.remove_node(group->output.node);
    graph.add_node("Reshape", {input, add_int64_constant(graph, name + ".map_shape", {rows, depth, 1, 1})}, {input_4d},
                   name + ".to_map");
    ir::Node* fused = graph.add_node("QLinearConv", inputs, {result_4d}, name);
    fused->attributes["kernel_shape"] = integers_attribute({1, 1});
    graph.add_node("Reshape", {result_4d, add_int64_constant(graph, name + ".out_shape", {rows, outputs})}, {output},
                   name + ".to_matrix");
    result.notes.push_back("fused " + description + " into a 1x1 QLinearConv (ORT's QGemm)");
    ++result.rewrites;
  }
  // Sigmoid groups → com.microsoft QLinearSigmoid (ORT's UnaryReplaceWithQLinear), before the Mul groups so
  // that a SiLU's two halves can be joined below.
  std::vector<ir::Node*> sigmoids;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "Sigmoid")) sigmoids.push_back(node.get());
  }
  for (ir::Node* op : sigmoids) {
    std::optional<UnaryGroup> group = match_sigmoid(op, protected_names);
    if (!group) continue;
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, op->name + stem, side.type);
    };
    std::vector<ir::Value*> inputs{group->input.integer, group->input.scale, zero_point_of(group->input, "_x_zero_point"),
                                   group->output.scale, zero_point_of(group->output, "_y_zero_point")};
    const std::string description = op->describe() + " + QuantizeLinear";
    const std::string name = op->name;
    ir::Value* output = group->output.integer;
    graph.remove_node(op);
    graph.remove_node(group->output.node);
    graph.add_node("QLinearSigmoid", inputs, {output}, name, ir::microsoft_domain);
    model.opset_imports[ir::microsoft_domain] = 1;
    result.notes.push_back("fused " + description + " into QLinearSigmoid");
    ++result.rewrites;
  }
  // Softmax groups → com.microsoft QLinearSoftmax, a Transpose before it moved onto the bytes (match_softmax).
  std::vector<ir::Node*> softmaxes;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "Softmax")) softmaxes.push_back(node.get());
  }
  for (ir::Node* op : softmaxes) {
    std::optional<SoftmaxGroup> group = match_softmax(op, protected_names);
    if (!group) continue;
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, op->name + stem, side.type);
    };
    const int64_t opset = model.opset("");
    const int64_t axis = op->get_int("axis", opset < 13 ? 1 : -1);
    std::string description = op->describe() + " + QuantizeLinear";
    const std::string name = op->name;
    ir::Value* bytes = group->input.integer;
    ir::Value* output = group->output.integer;
    std::vector<ir::Value*> parameters{group->input.scale, zero_point_of(group->input, "_x_zero_point"),
                                       group->output.scale, zero_point_of(group->output, "_y_zero_point")};
    graph.remove_node(op);
    graph.remove_node(group->output.node);
    if (group->transpose) {
      ir::Node* transpose = group->transpose;
      description = transpose->describe() + " + " + description;
      const Shape shape = transpose->output(0)->type.static_shape();
      const std::string transpose_name = transpose->name;
      std::map<std::string, ir::Attribute> attributes = transpose->attributes;
      ir::Value* moved = add_typed_value(graph, transpose->output(0)->name + "_quantized", group->input.type, shape);
      graph.remove_node(transpose);
      graph.add_node("Transpose", {bytes}, {moved}, transpose_name)->attributes = std::move(attributes);
      bytes = moved;
    }
    std::vector<ir::Value*> inputs{bytes};
    inputs.insert(inputs.end(), parameters.begin(), parameters.end());
    ir::Node* fused = graph.add_node("QLinearSoftmax", inputs, {output}, name, ir::microsoft_domain);
    fused->attributes["axis"] = integer_attribute(axis);
    fused->attributes["opset"] = integer_attribute(opset);
    model.opset_imports[ir::microsoft_domain] = 1;
    result.notes.push_back("fused " + description + " into QLinearSoftmax");
    ++result.rewrites;
  }
  // Add / Mul groups → com.microsoft QLinearAdd / QLinearMul (ORT's BinaryReplaceWithQLinear).
  std::vector<ir::Node*> additions;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "Add") || is_standard(node.get(), "Mul")) additions.push_back(node.get());
  }
  for (ir::Node* op : additions) {
    std::optional<BinaryGroup> group = match_binary_group(model, op, protected_names);
    if (!group) continue;
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, op->name + stem, side.type);
    };
    std::vector<ir::Value*> inputs{group->first.integer,  group->first.scale,  zero_point_of(group->first, "_a_zero_point"),
                                   group->second.integer, group->second.scale, zero_point_of(group->second, "_b_zero_point"),
                                   group->output.scale,   zero_point_of(group->output, "_c_zero_point")};
    const std::string description =
        op->describe() + (group->activation ? " + " + group->activation->op_type : std::string()) + " + QuantizeLinear";
    const std::string name = op->name;
    const std::string fused_type = op->op_type == "Add" ? "QLinearAdd" : "QLinearMul";
    ir::Value* output = group->output.integer;
    graph.remove_node(op);
    if (group->activation) graph.remove_node(group->activation);
    graph.remove_node(group->output.node);
    graph.add_node(fused_type, inputs, {output}, name, ir::microsoft_domain);
    model.opset_imports[ir::microsoft_domain] = 1;
    result.notes.push_back("fused " + description + " into " + fused_type);
    ++result.rewrites;
  }
  // QLinearMul(x, QLinearSigmoid(x)) on x's own grid → com.npukit QLinearSiLU: ORT computes the sigmoid's byte
  // from x's byte and the product from the two, so the pair is one 256-entry table of x (qlinear_lookup.h).
  // DQ [→ Relu / Clip] → Q left in float → com.npukit QLinearClip, a table (match_requantize says why).
  std::vector<ir::Node*> quantizers;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "QuantizeLinear")) quantizers.push_back(node.get());
  }
  for (ir::Node* quantize : quantizers) {
    std::optional<RequantizeGroup> group = match_requantize(model, quantize, protected_names);
    if (!group) continue;
    auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
      return side.zero_point ? side.zero_point : zero_point_constant(graph, quantize->name + stem, side.type);
    };
    std::vector<ir::Value*> inputs{group->input.integer, group->input.scale, zero_point_of(group->input, "_x_zero_point"),
                                   group->output.scale, zero_point_of(group->output, "_y_zero_point")};
    const std::string description = group->input.node->describe() +
                                    (group->activation ? " + " + group->activation->op_type : std::string()) +
                                    " + QuantizeLinear";
    const std::string name = quantize->name;
    ir::Value* output = group->output.integer;
    graph.remove_node(quantize);
    if (group->activation) graph.remove_node(group->activation);
    graph.remove_node(group->input.node);
    ir::Node* fused = graph.add_node("QLinearClip", inputs, {output}, name, ir::fused_domain);
    for (const auto& [key, bound] : {std::pair<const char*, float>{"min", group->low}, {"max", group->high}}) {
      ir::Attribute attribute;
      attribute.kind = ir::Attribute::Kind::floating;
      attribute.float_value = bound;
      fused->attributes[key] = attribute;
    }
    model.opset_imports[ir::fused_domain] = 1;
    result.notes.push_back("fused " + description + " into a QLinearClip table");
    ++result.rewrites;
  }
  // The DequantizeLinear nodes the fused groups no longer read must go first: until then they still read the
  // sigmoid's output, which would not look private.
  if (result.rewrites) tidy_after_rewrites(graph);
  std::vector<ir::Node*> products;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "QLinearMul" && node->domain == ir::microsoft_domain) products.push_back(node.get());
  }
  for (ir::Node* mul : products) {
    ir::Node* sigmoid = nullptr;
    size_t other = 0;
    for (size_t gate : {size_t{0}, size_t{3}}) {
      ir::Node* producer = mul->input(gate) ? mul->input(gate)->producer : nullptr;
      if (producer && is_silu_pair(*producer, *mul, gate == 0 ? 3 : 0, protected_names)) {
        sigmoid = producer;
        other = gate == 0 ? 3 : 0;
        break;
      }
    }
    if (!sigmoid) continue;
    const size_t gate = other == 0 ? 3 : 0;
    std::vector<ir::Value*> inputs{mul->input(other), mul->input(other + 1), mul->input(other + 2),
                                   mul->input(gate + 1), mul->input(gate + 2), mul->input(6), mul->input(7)};
    const std::string name = mul->name;
    ir::Value* output = mul->output(0);
    graph.remove_node(mul);
    graph.remove_node(sigmoid);
    graph.add_node("QLinearSiLU", inputs, {output}, name, ir::fused_domain);
    model.opset_imports[ir::fused_domain] = 1;
    result.notes.push_back("joined QLinearSigmoid + QLinearMul " + name + " into one QLinearSiLU table");
    ++result.rewrites;
  }
  // GlobalAveragePool groups → com.microsoft QLinearGlobalAveragePool (ORT's UnaryReplaceWithQLinear).
  std::vector<ir::Node*> pools;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "GlobalAveragePool")) pools.push_back(node.get());
  }
  for (ir::Node* op : pools) {
    std::optional<UnaryGroup> group = match_global_average_pool(op, protected_names);
    if (!group) continue;
    ir::Value* input_zero_point = group->input.zero_point ? group->input.zero_point
                                                          : zero_point_constant(graph, op->name + "_x_zero_point", group->input.type);
    ir::Value* output_zero_point = group->output.zero_point
                                       ? group->output.zero_point
                                       : zero_point_constant(graph, op->name + "_y_zero_point", group->output.type);
    std::vector<ir::Value*> inputs{group->input.integer, group->input.scale, input_zero_point, group->output.scale,
                                   output_zero_point};
    const std::string description = op->describe() + " + QuantizeLinear";
    const std::string name = op->name;
    ir::Value* output = group->output.integer;
    graph.remove_node(op);
    graph.remove_node(group->output.node);
    ir::Node* fused = graph.add_node("QLinearGlobalAveragePool", inputs, {output}, name, ir::microsoft_domain);
    ir::Attribute channels_last;
    channels_last.kind = ir::Attribute::Kind::integer;
    channels_last.int_value = 0;
    fused->attributes["channels_last"] = channels_last;
    model.opset_imports[ir::microsoft_domain] = 1;
    result.notes.push_back("fused " + description + " into QLinearGlobalAveragePool");
    ++result.rewrites;
  }
  // MaxPool, Slice, nearest Resize and Split between equal grids run on the bytes; Concat becomes byte tables where
  // grids differ and a Concat of bytes. Both keep int8 chains channels-last (blocked_layout.h). Reshape, Transpose,
  // Flatten, Squeeze and Unsqueeze between equal grids move bytes too (ORT's DropQDQNodesRules; YOLO heads).
  std::vector<ir::Node*> movements;
  for (const auto& node : graph.nodes()) {
    if (is_standard(node.get(), "MaxPool") || is_standard(node.get(), "Slice") || is_standard(node.get(), "Concat") ||
        is_standard(node.get(), "Split") || is_shape_only(node.get()) ||
        (is_standard(node.get(), "Resize") && node->get_string("mode", "nearest") == "nearest")) {
      movements.push_back(node.get());
    }
  }
  for (ir::Node* op : movements) {
    if (op->op_type == "Split") {
      std::optional<SplitGroup> group = match_split(op, protected_names);
      if (!group) continue;
      std::vector<ir::Value*> inputs = op->inputs, outputs;
      inputs[0] = group->input.integer;
      for (const QuantizedSide& output : group->outputs) outputs.push_back(output.integer);
      std::map<std::string, ir::Attribute> attributes = op->attributes;
      const std::string name = op->name, description = op->describe();
      graph.remove_node(op);
      for (const QuantizedSide& output : group->outputs) graph.remove_node(output.node);
      graph.add_node("Split", inputs, outputs, name)->attributes = std::move(attributes);
      result.notes.push_back("dropped the DequantizeLinear / QuantizeLinear around " + description + " (one grid)");
      ++result.rewrites;
      continue;
    }
    if (op->op_type == "MaxPool" || op->op_type == "Slice" || op->op_type == "Resize" || is_shape_only(op)) {
      std::optional<MovementGroup> group = match_same_grid(op, protected_names);
      if (!group) continue;
      ir::Value* output = group->output.integer;
      ir::Node* quantize = group->output.node;
      const std::string op_type = op->op_type;
      std::vector<ir::Value*> inputs = op->inputs;
      inputs[0] = group->input.integer;
      std::map<std::string, ir::Attribute> attributes = op->attributes;
      const std::string name = op->name, description = op->describe();
      graph.remove_node(op);
      graph.remove_node(quantize);
      graph.add_node(op_type, inputs, {output}, name)->attributes = std::move(attributes);
      result.notes.push_back("dropped the DequantizeLinear / QuantizeLinear around " + description + " (one grid)");
      ++result.rewrites;
      continue;
    }
    std::optional<ConcatGroup> group = match_concat(op, protected_names);
    if (!group) continue;
    std::vector<ir::Value*> inputs;
    int tables = 0;
    for (size_t i = 0; i < group->inputs.size(); ++i) {
      const QuantizedSide& input = group->inputs[i];
      if (same_grid(input, group->output)) {
        inputs.push_back(input.integer);
        continue;
      }
      auto zero_point_of = [&](const QuantizedSide& side, const std::string& stem) {
        return side.zero_point ? side.zero_point : zero_point_constant(graph, op->name + stem, side.type);
      };
      ir::Value* requantized = add_typed_value(graph, input.integer->name + "_requantized", group->output.type,
                                               input.integer->type.static_shape());
      ir::Node* table = graph.add_node(
          "QLinearClip",
          {input.integer, input.scale, zero_point_of(input, "_x_zero_point_" + std::to_string(i)), group->output.scale,
           zero_point_of(group->output, "_y_zero_point")},
          {requantized}, op->name + "_requantize_" + std::to_string(i), ir::fused_domain);
      for (const char* key : {"min", "max"}) {
        ir::Attribute attribute;
        attribute.kind = ir::Attribute::Kind::floating;
        attribute.float_value = key[1] == 'i' ? -FLT_MAX : FLT_MAX;
        table->attributes[key] = attribute;
      }
      model.opset_imports[ir::fused_domain] = 1;
      inputs.push_back(requantized);
      ++tables;
    }
    ir::Value* output = group->output.integer;
    ir::Node* quantize = group->output.node;
    std::map<std::string, ir::Attribute> attributes = op->attributes;
    const std::string name = op->name, description = op->describe();
    graph.remove_node(op);
    graph.remove_node(quantize);
    graph.add_node("Concat", inputs, {output}, name)->attributes = std::move(attributes);
    result.notes.push_back("fused " + description + " + QuantizeLinear into a Concat of bytes (" +
                           std::to_string(tables) + " requantization tables)");
    ++result.rewrites;
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
