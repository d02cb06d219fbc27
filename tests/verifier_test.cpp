// The IR verifier accepts what the importer builds and names the node for each kind of broken graph.
#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ir/verifier.h"

namespace npukit {
namespace {

ir::TensorType f32(std::vector<int64_t> dims) {
  ir::TensorType type;
  type.dtype = DType::f32;
  std::vector<ir::Dim> shape;
  for (int64_t dim : dims) shape.push_back(ir::Dim::fixed(dim));
  type.shape = shape;
  return type;
}

void expect_rejected(const ir::Graph& graph, const std::string& node_fragment, const std::string& reason_fragment) {
  try {
    ir::verify(graph);
    ADD_FAILURE() << "the verifier accepted a broken graph";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_model);
    EXPECT_NE(std::string(error.what()).find(node_fragment), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(reason_fragment), std::string::npos) << error.what();
  }
}

// x → Relu('relu') → r → Add('add', with initializer w) → y
struct SmallGraph {
  ir::Graph graph;
  ir::Value* x;
  ir::Value* r;
  ir::Value* w;
  ir::Value* y;
  ir::Node* relu;
  ir::Node* add;

  SmallGraph() {
    graph.name = "small";
    x = graph.add_value("x", f32({2}));
    x->is_graph_input = true;
    graph.inputs.push_back(x);
    w = graph.add_initializer("w", Tensor::from_vector<float>(DType::f32, {2}, {1, 2}));
    r = graph.add_value("r", f32({2}));
    y = graph.add_value("y", f32({2}));
    relu = graph.add_node("Relu", {x}, {r}, "relu");
    add = graph.add_node("Add", {r, w}, {y}, "add");
    y->is_graph_output = true;
    graph.outputs.push_back(y);
  }
};

TEST(Verifier, AcceptsAWellFormedGraph) {
  SmallGraph small;
  EXPECT_NO_THROW(ir::verify(small.graph));
}

TEST(Verifier, RejectsNodesOutOfTopologicalOrder) {
  ir::Graph graph;
  ir::Value* x = graph.add_value("x", f32({2}));
  x->is_graph_input = true;
  graph.inputs.push_back(x);
  ir::Value* r = graph.add_value("r", f32({2}));
  ir::Value* y = graph.add_value("y", f32({2}));
  // Consumer first, producer second.
  graph.add_node("Neg", {r}, {y}, "consumer");
  graph.add_node("Relu", {x}, {r}, "producer");
  y->is_graph_output = true;
  graph.outputs.push_back(y);
  expect_rejected(graph, "'consumer' (Neg)", "topological order");
  graph.sort_topologically();
  EXPECT_NO_THROW(ir::verify(graph));
}

TEST(Verifier, RejectsADanglingInput) {
  SmallGraph small;
  ir::Value* ghost = small.graph.add_value("ghost", f32({2}));
  small.add->inputs[1] = ghost;
  ghost->consumers.push_back(small.add);
  small.w->consumers.clear();
  expect_rejected(small.graph, "'add' (Add)", "'ghost'");
}

TEST(Verifier, RejectsInconsistentConsumerLinks) {
  SmallGraph small;
  small.r->consumers.clear();
  expect_rejected(small.graph, "'add' (Add)", "consumer");
}

TEST(Verifier, RejectsTwoDefinitions) {
  SmallGraph small;
  small.r->initializer = Tensor::from_vector<float>(DType::f32, {2}, {0, 0});
  expect_rejected(small.graph, "'relu' (Relu)", "more than one definition");
}

TEST(Verifier, RejectsAnUndefinedGraphOutput) {
  SmallGraph small;
  ir::Value* orphan = small.graph.add_value("orphan", f32({2}));
  orphan->is_graph_output = true;
  small.graph.outputs.push_back(orphan);
  expect_rejected(small.graph, "graph 'small'", "'orphan'");
}

TEST(Verifier, RejectsAnInitializerOfAnotherType) {
  SmallGraph small;
  small.w->type = f32({3});
  expect_rejected(small.graph, "", "initializer 'w'");
  small.w->type.dtype = DType::i32;
  small.w->type.shape.reset();
  expect_rejected(small.graph, "", "initializer 'w'");
}

TEST(Verifier, RejectsAnUnresolvedOuterScopeName) {
  SmallGraph small;
  auto body = std::make_shared<ir::Graph>();
  body->name = "body";
  body->parent = &small.graph;
  ir::Value* outer = body->add_value("missing", f32({2}));
  outer->outer_scope = true;
  ir::Value* out = body->add_value("out", f32({2}));
  body->add_node("Relu", {outer}, {out}, "inner");
  out->is_graph_output = true;
  body->outputs.push_back(out);
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::graph;
  attribute.graph_value = body;
  small.add->attributes["body"] = attribute;
  expect_rejected(small.graph, "'inner' (Relu)", "'missing'");

  // Resolving it in the enclosing graph makes the graph valid.
  auto valid_body = std::make_shared<ir::Graph>();
  valid_body->name = "body";
  valid_body->parent = &small.graph;
  ir::Value* x_outer = valid_body->add_value("x", f32({2}));
  x_outer->outer_scope = true;
  ir::Value* valid_out = valid_body->add_value("out", f32({2}));
  valid_body->add_node("Relu", {x_outer}, {valid_out}, "inner");
  valid_out->is_graph_output = true;
  valid_body->outputs.push_back(valid_out);
  small.add->attributes["body"].graph_value = valid_body;
  EXPECT_NO_THROW(ir::verify(small.graph));
}

}  // namespace
}  // namespace npukit
