#include "ir/verifier.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "npukit/error.h"

namespace npukit::ir {

namespace {

[[noreturn]] void fail(const std::string& reason, const std::string& where = {}) {
  throw Error(ErrorKind::invalid_model, reason, {}, where);
}

std::string graph_label(const Graph& graph) {
  return "graph '" + graph.name + "'";
}

bool resolves_outside(const Graph& graph, const std::string& name) {
  for (const Graph* scope = graph.parent; scope; scope = scope->parent) {
    if (const Value* value = scope->find_value(name); value && !value->outer_scope) return true;
  }
  return false;
}

// A value is defined when something other than a node of this graph gives it a tensor, or a node does.
bool is_defined(const Value& value) {
  return value.producer || value.initializer || value.is_graph_input || value.outer_scope;
}

void check_type_matches_initializer(const Value& value) {
  const Tensor& data = *value.initializer;
  if (value.type.dtype != DType::undefined && value.type.dtype != data.dtype()) {
    fail("initializer '" + value.name + "' holds " + std::string(dtype_name(data.dtype())) + " data but is declared " +
         value.type.to_string());
  }
  if (!value.type.shape) return;
  const auto& dims = *value.type.shape;
  bool matches = dims.size() == data.rank();
  for (size_t i = 0; matches && i < dims.size(); ++i) {
    matches = !dims[i].is_static() || dims[i].value == data.dim(i);
  }
  if (!matches) {
    fail("initializer '" + value.name + "' has shape " + shape_to_string(data.shape()) + " but is declared " +
         value.type.to_string());
  }
}

void verify_graph(const Graph& graph) {
  std::unordered_map<const Node*, size_t> position;
  for (size_t i = 0; i < graph.nodes().size(); ++i) position[graph.nodes()[i].get()] = i;
  std::set<const Value*> owned;
  for (const auto& value : graph.values()) owned.insert(value.get());

  for (const auto& value : graph.values()) {
    const int definitions = (value->producer ? 1 : 0) + (value->outer_scope ? 1 : 0) +
                            ((value->initializer || value->is_graph_input) ? 1 : 0);
    if (definitions > 1) {
      fail("value '" + value->name + "' has more than one definition (" +
               std::string(value->producer ? "a producer node, " : "") +
               (value->initializer ? "an initializer, " : "") + (value->is_graph_input ? "a graph input, " : "") +
               (value->outer_scope ? "an outer-scope name" : "") + ")",
           value->producer ? value->producer->describe() : graph_label(graph));
    }
    if (value->producer) {
      if (!position.count(value->producer)) {
        fail("value '" + value->name + "' names a producer that is not a node of " + graph_label(graph));
      }
      const auto& outputs = value->producer->outputs;
      if (std::find(outputs.begin(), outputs.end(), value.get()) == outputs.end()) {
        fail("value '" + value->name + "' names this node as producer but is not among its outputs",
             value->producer->describe());
      }
    }
    if (value->outer_scope && !resolves_outside(graph, value->name)) {
      fail("'" + value->name + "' is read from an enclosing graph, but no enclosing graph defines it",
           value->consumers.empty() ? graph_label(graph) : value->consumers.front()->describe());
    }
    if (value->initializer) check_type_matches_initializer(*value);
    for (const Node* consumer : value->consumers) {
      if (!position.count(consumer)) {
        fail("value '" + value->name + "' lists a consumer that is not a node of " + graph_label(graph));
      }
      const auto uses_here = std::count(consumer->inputs.begin(), consumer->inputs.end(), value.get());
      const auto listed = std::count(value->consumers.begin(), value->consumers.end(), consumer);
      if (uses_here != listed) {
        fail("value '" + value->name + "' lists this node " + std::to_string(listed) + " time(s) as consumer, but it reads it " +
                 std::to_string(uses_here) + " time(s)",
             consumer->describe());
      }
    }
  }

  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    const Node& node = *graph.nodes()[i];
    for (const Value* input : node.inputs) {
      if (!input) continue;
      if (!owned.count(input)) fail("reads a value that does not belong to " + graph_label(graph), node.describe());
      if (!is_defined(*input)) {
        fail("reads '" + input->name + "', which no node, initializer or graph input defines", node.describe());
      }
      if (input->producer && position.at(input->producer) >= i) {
        fail("reads '" + input->name + "' before its producer " + input->producer->describe() +
                 " runs (nodes are not in topological order)",
             node.describe());
      }
      const auto& consumers = input->consumers;
      if (std::find(consumers.begin(), consumers.end(), &node) == consumers.end()) {
        fail("reads '" + input->name + "', but the value does not list this node as a consumer", node.describe());
      }
    }
    for (const Value* output : node.outputs) {
      if (!output) continue;
      if (!owned.count(output)) fail("writes a value that does not belong to " + graph_label(graph), node.describe());
      if (output->producer != &node) {
        fail("writes '" + output->name + "', but the value names another producer", node.describe());
      }
    }
    for (const auto& [key, attribute] : node.attributes) {
      try {
        if (attribute.graph_value) {
          if (attribute.graph_value->parent != &graph) fail("subgraph '" + key + "' does not point back at its graph");
          verify_graph(*attribute.graph_value);
        }
        for (const auto& subgraph : attribute.graph_values) {
          if (subgraph->parent != &graph) fail("subgraph in '" + key + "' does not point back at its graph");
          verify_graph(*subgraph);
        }
      } catch (const Error& error) {
        if (!error.node().empty()) throw;
        throw error.with_node(node.describe());
      }
    }
  }

  for (const Value* input : graph.inputs) {
    if (!owned.count(input)) fail("a graph input does not belong to " + graph_label(graph));
    if (!input->is_graph_input) fail("graph input '" + input->name + "' is not marked as an input", graph_label(graph));
    if (input->producer) {
      fail("graph input '" + input->name + "' is also produced by a node", input->producer->describe());
    }
  }
  for (const Value* output : graph.outputs) {
    if (!output) fail("a graph output is missing", graph_label(graph));
    if (!owned.count(output)) fail("graph output '" + output->name + "' does not belong to " + graph_label(graph));
    if (!output->is_graph_output) fail("graph output '" + output->name + "' is not marked as an output", graph_label(graph));
    if (!is_defined(*output)) {
      fail("graph output '" + output->name + "' is never computed: no node, initializer or input defines it",
           graph_label(graph));
    }
  }
}

}  // namespace

void verify(const Graph& graph) { verify_graph(graph); }

}  // namespace npukit::ir
