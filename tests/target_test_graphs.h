// Small hand-built models for the target, check and patch tests: one op at a time, static shapes, seeded
// float weights, so each test states exactly the graph it checks.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check/target_check.h"
#include "ir/graph.h"
#include "passes/graph_editing.h"

namespace npukit::testing {

class TestGraph {
 public:
  TestGraph() {
    model.opset_imports[""] = 17;
    model.graph->name = "test";
  }

  ir::Value* input(const std::string& name, const std::vector<int64_t>& shape, DType dtype = DType::f32) {
    ir::Value* value = passes::add_typed_value(*model.graph, name, dtype, shape);
    value->is_graph_input = true;
    model.graph->inputs.push_back(value);
    return value;
  }

  ir::Value* weights(const std::string& name, const std::vector<int64_t>& shape, float scale = 0.5f) {
    int64_t count = 1;
    for (int64_t dim : shape) count *= dim;
    std::uniform_real_distribution<float> uniform(-scale, scale);
    std::vector<float> values(static_cast<size_t>(count));
    for (float& value : values) value = uniform(generator_);
    return passes::add_float_constant(*model.graph, name, shape, values);
  }

  ir::Value* ints(const std::string& name, const std::vector<int64_t>& values) {
    return passes::add_int64_constant(*model.graph, name, values);
  }

  // Adds `op` with one output of the given shape (the test states it; no inference here).
  ir::Value* node(const std::string& op, const std::vector<ir::Value*>& inputs, const std::vector<int64_t>& shape,
                  std::map<std::string, ir::Attribute> attributes = {}, DType dtype = DType::f32) {
    const std::string name = op + "_" + std::to_string(model.graph->nodes().size());
    ir::Value* output = passes::add_typed_value(*model.graph, name + "_out", dtype, shape);
    ir::Node* added = model.graph->add_node(op, inputs, {output}, name);
    added->attributes = std::move(attributes);
    return output;
  }

  void output(ir::Value* value) {
    value->is_graph_output = true;
    model.graph->outputs.push_back(value);
  }

  ir::Node* producer_of(ir::Value* value) { return value->producer; }

  ir::Model model;

 private:
  std::mt19937 generator_{7};
};

inline ir::Attribute ints_attr(std::vector<int64_t> values) { return passes::integers_attribute(std::move(values)); }
inline ir::Attribute int_attr(int64_t value) { return passes::integer_attribute(value); }
inline ir::Attribute float_attr(double value) { return passes::float_attribute(value); }
inline ir::Attribute string_attr(std::string value) { return passes::string_attribute(std::move(value)); }

// How many nodes of a model have this op type.
inline size_t count_ops(const ir::Model& model, const std::string& op) {
  size_t count = 0;
  for (const auto& node : model.graph->nodes()) count += node->op_type == op;
  return count;
}

// The verdict of the first node of this op type (throws when there is none).
inline const check::NodeVerdict& verdict_of(const check::CheckResult& result, const std::string& op) {
  for (const check::NodeVerdict& node : result.nodes) {
    if (node.op_type == op) return node;
  }
  throw std::runtime_error("no " + op + " node");
}

}  // namespace npukit::testing
