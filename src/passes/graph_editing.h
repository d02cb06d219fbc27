// Small edits the rewrite passes share: fresh names, typed values, constants, bypassing a node, and sweeping
// away what a rewrite left unused. Subgraphs (If/Loop/Scan bodies) read enclosing values by name, which no
// consumer list shows: those names must not be renamed or removed.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::passes {

inline ir::Attribute integers_attribute(std::vector<int64_t> values) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::integers;
  attribute.int_values = std::move(values);
  return attribute;
}
inline ir::Attribute integer_attribute(int64_t value) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::integer;
  attribute.int_value = value;
  return attribute;
}
inline ir::Attribute float_attribute(double value) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::floating;
  attribute.float_value = value;
  return attribute;
}
inline ir::Attribute string_attribute(std::string value) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::string;
  attribute.string_value = std::move(value);
  return attribute;
}

// `base`, or `base_2`, `base_3` … whichever is not yet a value name in the graph.
std::string unused_value_name(const ir::Graph& graph, const std::string& base);

// A new value with a static shape.
ir::Value* add_typed_value(ir::Graph& graph, const std::string& base, DType dtype, const std::vector<int64_t>& shape);

// A new initializer holding the given int64 or float data.
ir::Value* add_int64_constant(ir::Graph& graph, const std::string& base, const std::vector<int64_t>& values);
ir::Value* add_float_constant(ir::Graph& graph, const std::string& base, const std::vector<int64_t>& shape,
                              const std::vector<float>& values);

using ir::static_dims_of;

// The names of this graph's values that its nodes' subgraphs read.
std::set<std::string> names_read_by_subgraphs(const ir::Graph& graph);

// Points every reader of node's output 0 at `replacement` and removes the node. Refused (false) when the
// output is a graph output (its name is part of the model's interface) or in `protected_names`.
bool bypass_node(ir::Graph& graph, ir::Node* node, ir::Value* replacement, const std::set<std::string>& protected_names);

// Removes values nobody produces or reads and that are neither graph inputs, outputs, outer-scope names nor
// in `protected_names` (orphaned outputs and initializers left behind by rewrites).
void remove_unused_values(ir::Graph& graph, const std::set<std::string>& protected_names);

// A value's constant data, or nullptr.
inline const Tensor* constant_of(const ir::Value* value) {
  return value && value->initializer && !value->is_graph_input ? &*value->initializer : nullptr;
}

// Removes nodes none of whose outputs is read or a graph output (repeatedly), then values nobody produces,
// reads or declares (unused initializers included). Returns how many nodes went.
int remove_unused_nodes_and_values(ir::Graph& graph);

// What every rewriting pass does after its last rewrite: drop what became unused, restore topological order
// (new nodes were appended at the end) and refresh node indices for messages.
void tidy_after_rewrites(ir::Graph& graph);

}  // namespace npukit::passes
