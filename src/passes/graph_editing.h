// Small edits the rewrite passes share: fresh names, typed values, constants, and sweeping away what a
// rewrite left unused.
#pragma once

#include <cstdint>
#include <optional>
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

// The static dims of a value, or an empty optional.
std::optional<std::vector<int64_t>> static_dims_of(const ir::Value* value);

// Removes nodes none of whose outputs is read or a graph output (repeatedly), then values nobody produces,
// reads or declares (unused initializers included). Returns how many nodes went.
int remove_unused_nodes_and_values(ir::Graph& graph);

}  // namespace npukit::passes
