// ir::Model::clone: a deep copy of the graph structure (nodes, values, subgraphs) whose initializers share their
// bytes with the original, so a backend or a pass can rewrite its own copy of a large model for free.
#include <gtest/gtest.h>

#include <set>

#include "engine/engine.h"
#include "ir/graph.h"
#include "onnx/onnx_import.h"

namespace npukit {
namespace {

ir::Model speech_model() { return onnx_io::load_model(std::string(NPUKIT_MODELS_DIR) + "/generated/speech_if.onnx"); }

// Checks that `copy` has the structure of `original` and shares no Node, Value or Graph with it.
void expect_same_structure_nothing_shared(const ir::Graph& original, const ir::Graph& copy, const ir::Graph* parent) {
  EXPECT_NE(&original, &copy);
  EXPECT_EQ(copy.parent, parent);
  EXPECT_EQ(copy.name, original.name);
  ASSERT_EQ(copy.nodes().size(), original.nodes().size());
  ASSERT_EQ(copy.values().size(), original.values().size());
  std::set<const ir::Value*> original_values;
  for (const auto& value : original.values()) original_values.insert(value.get());
  for (size_t i = 0; i < original.values().size(); ++i) {
    const ir::Value& a = *original.values()[i];
    const ir::Value& b = *copy.values()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type.to_string(), b.type.to_string());
    EXPECT_EQ(copy.find_value(a.name), &b);
    ASSERT_EQ(a.consumers.size(), b.consumers.size());
    ASSERT_EQ(a.producer == nullptr, b.producer == nullptr);
    if (b.producer) {
      EXPECT_EQ(b.producer->index, a.producer->index);
      EXPECT_EQ(copy.nodes()[b.producer->index].get(), b.producer);
    }
    for (size_t use = 0; use < b.consumers.size(); ++use) EXPECT_EQ(b.consumers[use]->name, a.consumers[use]->name);
    ASSERT_EQ(a.initializer.has_value(), b.initializer.has_value());
    if (a.initializer) {
      // Shared bytes, not a copy of them.
      EXPECT_EQ(a.initializer->raw_data(), b.initializer->raw_data()) << a.name;
      EXPECT_EQ(a.initializer->shape(), b.initializer->shape());
    }
  }
  for (size_t i = 0; i < original.nodes().size(); ++i) {
    const ir::Node& a = *original.nodes()[i];
    const ir::Node& b = *copy.nodes()[i];
    EXPECT_NE(&a, &b);
    EXPECT_EQ(a.op_type, b.op_type);
    EXPECT_EQ(a.name, b.name);
    ASSERT_EQ(a.inputs.size(), b.inputs.size());
    for (size_t k = 0; k < b.inputs.size(); ++k) {
      if (!b.inputs[k]) continue;
      EXPECT_EQ(b.inputs[k]->name, a.inputs[k]->name);
      EXPECT_FALSE(original_values.count(b.inputs[k])) << "node " << b.name << " reads the original's value";
      EXPECT_EQ(copy.find_value(b.inputs[k]->name), b.inputs[k]);
    }
    for (ir::Value* output : b.outputs) {
      if (output) EXPECT_EQ(output->producer, &b);
    }
    const std::vector<ir::Graph*> bodies_a = ir::subgraphs_of(a), bodies_b = ir::subgraphs_of(b);
    ASSERT_EQ(bodies_a.size(), bodies_b.size());
    for (size_t k = 0; k < bodies_a.size(); ++k) expect_same_structure_nothing_shared(*bodies_a[k], *bodies_b[k], &copy);
  }
  ASSERT_EQ(copy.inputs.size(), original.inputs.size());
  for (size_t i = 0; i < copy.inputs.size(); ++i) EXPECT_EQ(copy.inputs[i], copy.find_value(original.inputs[i]->name));
  ASSERT_EQ(copy.outputs.size(), original.outputs.size());
  for (size_t i = 0; i < copy.outputs.size(); ++i) EXPECT_EQ(copy.outputs[i], copy.find_value(original.outputs[i]->name));
}

TEST(IrClone, IsDeepForStructureAndSharesInitializerBytes) {
  const ir::Model original = speech_model();
  ASSERT_FALSE(original.graph->nodes().empty());
  const ir::Model copy = original.clone();
  EXPECT_NE(copy.graph.get(), original.graph.get());
  EXPECT_EQ(copy.opset_imports, original.opset_imports);
  EXPECT_EQ(copy.source_path, original.source_path);
  EXPECT_EQ(copy.metadata, original.metadata);
  size_t bodies = 0;
  for (const auto& node : original.graph->nodes()) bodies += ir::subgraphs_of(*node).size();
  ASSERT_EQ(bodies, 2u) << "the model should hold an If with two branches";
  expect_same_structure_nothing_shared(*original.graph, *copy.graph, nullptr);
}

TEST(IrClone, MutatingTheCloneLeavesTheOriginalIntact) {
  const ir::Model original = speech_model();
  const size_t nodes = original.graph->nodes().size(), values = original.graph->values().size();
  const std::string first_output = original.graph->outputs[0]->name;
  const std::string input_type = original.graph->inputs[0]->type.to_string();
  ir::Model copy = original.clone();
  // Rewire, rename, reshape, add and remove in the copy.
  ir::Graph& graph = *copy.graph;
  graph.inputs[0]->type.shape = std::vector<ir::Dim>{ir::Dim::fixed(7)};
  graph.outputs[0]->name = "renamed";
  ir::Value* weight = graph.add_initializer("extra_weight", Tensor(DType::f32, {4}));
  graph.add_node("Relu", {weight}, {graph.add_value("extra_out")}, "extra_relu");
  graph.remove_node(graph.nodes().back().get());
  graph.remove_node(graph.nodes().front().get());
  for (auto& node : graph.nodes()) {
    for (ir::Graph* body : ir::subgraphs_of(*node)) body->name = "changed";
  }

  EXPECT_EQ(original.graph->nodes().size(), nodes);
  EXPECT_EQ(original.graph->values().size(), values);
  EXPECT_EQ(original.graph->outputs[0]->name, first_output);
  EXPECT_EQ(original.graph->inputs[0]->type.to_string(), input_type);
  EXPECT_EQ(original.graph->find_value("extra_weight"), nullptr);
  for (const auto& node : original.graph->nodes()) {
    for (const ir::Graph* body : ir::subgraphs_of(*node)) EXPECT_NE(body->name, "changed");
    for (const ir::Value* output : node->outputs) {
      if (output) EXPECT_EQ(output->producer, node.get());
    }
  }
}

TEST(IrClone, RunsLikeTheOriginal) {
  auto original = std::make_shared<ir::Model>(speech_model());
  auto copy = std::make_shared<ir::Model>(original->clone());
  Tensor audio(DType::f32, {1, 512}), state(DType::f32, {1, 1, 32});
  for (int64_t i = 0; i < 512; ++i) audio.data<float>()[i] = static_cast<float>(i % 13) / 13.0f - 0.5f;
  const std::map<std::string, Tensor> feeds{
      {"input", audio}, {"sr", Tensor::from_vector<int64_t>(DType::i64, {}, {16000})}, {"state", state}};
  const Tensor expected = engine::Engine::from_model(original, {.backend = "ref"})->run(feeds).at("probability");
  const Tensor actual = engine::Engine::from_model(copy, {.backend = "ref"})->run(feeds).at("probability");
  EXPECT_EQ(actual.data<float>()[0], expected.data<float>()[0]);
}

}  // namespace
}  // namespace npukit
