#include "passes/specialize_if.h"

#include <map>
#include <set>

#include "npukit/error.h"
#include "passes/graph_editing.h"

namespace npukit::passes {

namespace {

// The condition's truth, when it is a constant of one element.
std::optional<bool> constant_condition(const ir::Node& node) {
  const Tensor* condition = constant_of(node.input(0));
  if (!condition || condition->element_count() != 1) return std::nullopt;
  switch (condition->dtype()) {
    case DType::boolean: return condition->data<uint8_t>()[0] != 0;
    case DType::u8: return condition->data<uint8_t>()[0] != 0;
    case DType::i32: return condition->data<int32_t>()[0] != 0;
    case DType::i64: return condition->data<int64_t>()[0] != 0;
    case DType::f32: return condition->data<float>()[0] != 0.0f;
    default: return std::nullopt;
  }
}

// Moves the nodes of `branch` into `graph` in place of `node`. Returns an empty string on success, otherwise why
// it could not.
std::string inline_branch(ir::Graph& graph, ir::Node* node, const ir::Graph& branch) {
  if (branch.outputs.size() != node->outputs.size()) {
    return "its branch has " + std::to_string(branch.outputs.size()) + " outputs, the node " +
           std::to_string(node->outputs.size());
  }
  const std::set<std::string> nested_reads = names_read_by_subgraphs(branch);
  std::map<const ir::Value*, ir::Value*> mapped;
  auto map_value = [&](const ir::Value* value) -> ir::Value* {
    if (!value) return nullptr;
    auto found = mapped.find(value);
    if (found != mapped.end()) return found->second;
    ir::Value* result = nullptr;
    if (value->outer_scope) {
      result = graph.find_value(value->name);
      if (!result) {  // defined further out: this graph reads it from its own enclosing scope
        result = graph.add_value(value->name, value->type);
        result->outer_scope = true;
      }
    } else if (value->initializer) {
      result = graph.add_initializer(unused_value_name(graph, value->name), *value->initializer);
    } else {
      result = graph.add_value(unused_value_name(graph, value->name), value->type);
    }
    mapped[value] = result;
    return result;
  };
  // Refuse before editing anything: a renamed value that a nested body reads by name would break that body.
  for (const auto& body_node : branch.nodes()) {
    for (const ir::Value* output : body_node->outputs) {
      if (output && graph.find_value(output->name) && nested_reads.count(output->name)) {
        return "value '" + output->name + "' of the branch is read by a nested subgraph and its name is taken";
      }
    }
  }
  for (const auto& body_node : branch.nodes()) {
    std::vector<ir::Value*> inputs, outputs;
    for (const ir::Value* input : body_node->inputs) inputs.push_back(map_value(input));
    for (const ir::Value* output : body_node->outputs) outputs.push_back(map_value(output));
    ir::Node* copy = graph.add_node(body_node->op_type, inputs, outputs, body_node->name, body_node->domain);
    copy->attributes = body_node->attributes;
    for (ir::Graph* body : ir::subgraphs_of(*copy)) body->parent = &graph;
  }
  std::vector<std::pair<ir::Value*, ir::Value*>> results;  // the node's output, what the branch computes for it
  for (size_t i = 0; i < node->outputs.size(); ++i) {
    if (node->outputs[i]) results.push_back({node->outputs[i], map_value(branch.outputs[i])});
  }
  const std::set<std::string> read_by_name = names_read_by_subgraphs(graph);
  graph.remove_node(node);
  for (auto [result, computed] : results) {
    if (result->is_graph_output || !computed->producer || read_by_name.count(result->name)) {
      // The name is part of the model's interface or read by name in another body, or the branch returns a
      // constant or an outer value as it is: an Identity keeps the name.
      graph.add_node("Identity", {computed}, {result}, result->name + "_specialized");
    } else {
      graph.replace_all_uses(result, computed);
    }
  }
  return {};
}

}  // namespace

PassResult specialize_constant_ifs(ir::Model& model) {
  PassResult result;
  result.pass = "specialize-if";
  ir::Graph& graph = *model.graph;
  std::vector<ir::Node*> candidates;
  for (const auto& node : graph.nodes()) {
    if (node->op_type == "If" && (node->domain.empty() || node->domain == "ai.onnx")) candidates.push_back(node.get());
  }
  for (ir::Node* node : candidates) {
    std::optional<bool> condition = constant_condition(*node);
    if (!condition) continue;
    const ir::Attribute* branch = node->find_attribute(*condition ? "then_branch" : "else_branch");
    if (!branch || !branch->graph_value) continue;
    std::shared_ptr<ir::Graph> keep_alive = branch->graph_value;  // the node and its attributes go away
    const std::string description = node->describe();
    std::string refusal = inline_branch(graph, node, *keep_alive);
    if (!refusal.empty()) {
      result.notes.push_back(description + " keeps both branches: " + refusal);
      continue;
    }
    ++result.rewrites;
    result.notes.push_back(description + ": condition is constant (" + (*condition ? "true" : "false") + "), its " +
                           (*condition ? "then" : "else") + " branch (" + std::to_string(keep_alive->nodes().size()) +
                           " nodes) inlined");
  }
  if (result.rewrites) tidy_after_rewrites(graph);
  return result;
}

}  // namespace npukit::passes
