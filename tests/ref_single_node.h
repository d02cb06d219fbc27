// Builds a one-node model by hand and runs it on the reference backend, for kernel tests of cases the ONNX
// node suite does not cover (odd shapes, edge values, error paths).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "engine/engine.h"
#include "npukit/session.h"

namespace npukit::testing {

struct NodeInput {
  std::string name;
  Tensor tensor;         // empty(): an omitted optional input
  bool constant = false;  // an initializer instead of a graph input
};

inline ir::TensorType type_of(const Tensor& tensor) {
  ir::TensorType type;
  type.dtype = tensor.dtype();
  std::vector<ir::Dim> dims;
  for (int64_t size : tensor.shape()) dims.push_back(ir::Dim::fixed(size));
  type.shape = dims;
  return type;
}

// A one-node model of op_type over the inputs, and the feeds for its graph inputs.
struct SingleNodeModel {
  std::shared_ptr<ir::Model> model;
  std::map<std::string, Tensor> feeds;
};

inline SingleNodeModel single_node_model(const std::string& op_type, const std::vector<NodeInput>& inputs,
                                         const std::map<std::string, ir::Attribute>& attributes,
                                         size_t output_count = 1, int64_t opset = 17,
                                         const std::string& domain = "") {
  SingleNodeModel built;
  built.model = std::make_shared<ir::Model>();
  auto& model = built.model;
  model->opset_imports[""] = opset;
  if (!domain.empty()) model->opset_imports[domain] = 1;
  ir::Graph& graph = *model->graph;
  graph.name = "single_node";  // ONNX requires a graph name once the model is exported
  std::vector<ir::Value*> node_inputs;
  for (const NodeInput& input : inputs) {
    if (input.tensor.empty()) {
      node_inputs.push_back(nullptr);
    } else if (input.constant) {
      node_inputs.push_back(graph.add_initializer(input.name, input.tensor));
    } else {
      ir::Value* value = graph.add_value(input.name, type_of(input.tensor));
      value->is_graph_input = true;
      graph.inputs.push_back(value);
      node_inputs.push_back(value);
      built.feeds[input.name] = input.tensor;
    }
  }
  std::vector<ir::Value*> node_outputs;
  for (size_t i = 0; i < output_count; ++i) {
    ir::Value* value = graph.add_value("output" + std::to_string(i));
    value->is_graph_output = true;
    graph.outputs.push_back(value);
    node_outputs.push_back(value);
  }
  ir::Node* node = graph.add_node(op_type, node_inputs, node_outputs, "node", domain);
  node->attributes = attributes;
  return built;
}

// Runs op_type on the inputs with the attributes; returns the outputs in order. Throws npukit::Error.
inline std::vector<Tensor> run_single_node(const std::string& op_type, const std::vector<NodeInput>& inputs,
                                           const std::map<std::string, ir::Attribute>& attributes,
                                           size_t output_count = 1, int64_t opset = 17) {
  SingleNodeModel built = single_node_model(op_type, inputs, attributes, output_count, opset);
  auto session = engine::Engine::from_model(built.model, {.backend = "ref"});
  std::map<std::string, Tensor> results = session->run(built.feeds);
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < output_count; ++i) outputs.push_back(results.at("output" + std::to_string(i)));
  return outputs;
}

inline ir::Attribute int_attribute(int64_t value) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::integer;
  attribute.int_value = value;
  return attribute;
}

inline ir::Attribute ints_attribute(std::vector<int64_t> values) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::integers;
  attribute.int_values = std::move(values);
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

inline ir::Attribute strings_attribute(std::vector<std::string> values) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::strings;
  attribute.string_values = std::move(values);
  return attribute;
}

// Deterministic values in [-range, range) without a random engine: tests stay reproducible everywhere.
inline std::vector<float> pattern_values(int64_t count, float range = 4.0f, int64_t seed = 1) {
  std::vector<float> values(static_cast<size_t>(count));
  uint32_t state = static_cast<uint32_t>(seed) * 2654435761u + 12345u;
  for (float& value : values) {
    state = state * 1664525u + 1013904223u;
    value = (static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f) * range;
  }
  return values;
}

}  // namespace npukit::testing
