#include <gtest/gtest.h>

#include "ir/graph.h"

namespace npukit::ir {
namespace {

TEST(IrGraph, TopologicalSortKeepsValidOrderAndFixesInvalidOne) {
  Graph graph;
  Value* input = graph.add_value("x");
  Value* middle = graph.add_value("m");
  Value* output = graph.add_value("y");
  // Added consumer first: the sort must move the producer before it.
  Node* second = graph.add_node("Relu", {middle}, {output}, "second");
  Node* first = graph.add_node("Neg", {input}, {middle}, "first");
  graph.sort_topologically();
  ASSERT_EQ(graph.nodes().size(), 2u);
  EXPECT_EQ(graph.nodes()[0].get(), first);
  EXPECT_EQ(graph.nodes()[1].get(), second);
  EXPECT_EQ(first->index, 0u);
  EXPECT_EQ(second->index, 1u);
}

TEST(IrGraph, CycleIsReportedWithANodeName) {
  Graph graph;
  Value* a = graph.add_value("a");
  Value* b = graph.add_value("b");
  graph.add_node("Relu", {a}, {b}, "left");
  graph.add_node("Relu", {b}, {a}, "right");
  try {
    graph.sort_topologically();
    FAIL() << "a cycle must be an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_model);
    EXPECT_NE(std::string(error.what()).find("cycle"), std::string::npos);
    EXPECT_FALSE(error.node().empty());
  }
}

TEST(IrGraph, DuplicateValueNameIsAnError) {
  Graph graph;
  graph.add_value("x");
  EXPECT_THROW(graph.add_value("x"), Error);
}

TEST(IrGraph, SecondProducerOfAValueIsAnError) {
  Graph graph;
  Value* x = graph.add_value("x");
  Value* y = graph.add_value("y");
  graph.add_node("Relu", {x}, {y});
  EXPECT_THROW(graph.add_node("Neg", {x}, {y}), Error);
}

TEST(IrGraph, ReplaceAllUsesMovesConsumersAndGraphOutputs) {
  Graph graph;
  Value* x = graph.add_value("x");
  Value* y = graph.add_value("y");
  Value* z = graph.add_value("z");
  Node* consumer = graph.add_node("Relu", {y}, {z});
  graph.outputs = {y};
  y->is_graph_output = true;
  graph.replace_all_uses(y, x);
  EXPECT_EQ(consumer->inputs[0], x);
  EXPECT_EQ(graph.outputs[0], x);
  EXPECT_TRUE(x->is_graph_output);
  EXPECT_TRUE(y->consumers.empty());
}

TEST(IrGraph, OuterScopeValuesResolveThroughParents) {
  Graph outer;
  Value* weight = outer.add_value("w");
  auto body = std::make_shared<Graph>();
  body->parent = &outer;
  Value* placeholder = body->add_value("w");
  placeholder->outer_scope = true;
  Value* result = body->add_value("r");
  body->add_node("Neg", {placeholder}, {result});
  std::vector<Value*> reads = body->outer_scope_values();
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0], weight);
}

TEST(IrGraph, AttributeOfTheWrongKindNamesTheNode) {
  Graph graph;
  Node* node = graph.add_node("Conv", {}, {}, "conv_1");
  Attribute strides;
  strides.kind = Attribute::Kind::string;
  strides.string_value = "oops";
  node->attributes["strides"] = strides;
  try {
    node->get_ints("strides");
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("conv_1"), std::string::npos);
  }
  EXPECT_EQ(node->get_int("group", 1), 1);
}

TEST(IrTensorType, PrintsStaticAndSymbolicDims) {
  TensorType type;
  type.dtype = DType::f32;
  type.shape = std::vector<Dim>{Dim::symbolic("batch"), Dim::fixed(3), Dim{}};
  EXPECT_EQ(type.to_string(), "f32[batch, 3, ?]");
  EXPECT_FALSE(type.has_static_shape());
}

}  // namespace
}  // namespace npukit::ir
