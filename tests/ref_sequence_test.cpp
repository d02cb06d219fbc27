// Reference control flow (Loop, Scan) and recurrent layers (RNN, GRU, LSTM) on small cases whose results
// are worked out by hand in the test.
#include <gtest/gtest.h>

#include <cmath>

#include "ref_single_node.h"

namespace npukit {
namespace {

using testing::float_attribute;
using testing::int_attribute;
using testing::run_single_node;
using testing::string_attribute;
using testing::strings_attribute;

ir::TensorType scalar_type(DType dtype, Shape shape = {}) {
  ir::TensorType type;
  type.dtype = dtype;
  std::vector<ir::Dim> dims;
  for (int64_t size : shape) dims.push_back(ir::Dim::fixed(size));
  type.shape = dims;
  return type;
}

ir::Attribute graph_attribute(std::shared_ptr<ir::Graph> graph) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::graph;
  attribute.graph_value = std::move(graph);
  return attribute;
}

// Loop body: acc_out = acc + x (x from the outer scope), scan output = float(iteration); cond passes through.
std::shared_ptr<ir::Graph> make_loop_body() {
  auto body = std::make_shared<ir::Graph>();
  body->name = "body";
  ir::Value* iteration = body->add_value("iteration", scalar_type(DType::i64));
  ir::Value* condition = body->add_value("condition", scalar_type(DType::boolean));
  ir::Value* accumulator = body->add_value("accumulator", scalar_type(DType::f32, {2}));
  body->inputs = {iteration, condition, accumulator};
  ir::Value* outer = body->add_value("x", scalar_type(DType::f32, {2}));
  outer->outer_scope = true;
  ir::Value* next = body->add_value("next", scalar_type(DType::f32, {2}));
  ir::Value* iteration_float = body->add_value("iteration_float", scalar_type(DType::f32));
  body->add_node("Add", {accumulator, outer}, {next});
  ir::Node* cast = body->add_node("Cast", {iteration}, {iteration_float});
  cast->attributes["to"] = int_attribute(1);
  body->outputs = {condition, next, iteration_float};
  return body;
}

TEST(RefControlFlow, LoopCarriesStateAndStacksScanOutputs) {
  auto model = std::make_shared<ir::Model>();
  model->opset_imports[""] = 13;
  ir::Graph& graph = *model->graph;
  ir::Value* trip_count = graph.add_initializer("M", Tensor::from_vector<int64_t>(DType::i64, {}, {3}));
  Tensor true_tensor(DType::boolean, {});
  true_tensor.data<bool>()[0] = true;
  ir::Value* condition = graph.add_initializer("cond", true_tensor);
  ir::Value* initial = graph.add_initializer("initial", Tensor::from_vector<float>(DType::f32, {2}, {1, 2}));
  ir::Value* x = graph.add_value("x", scalar_type(DType::f32, {2}));
  x->is_graph_input = true;
  graph.inputs = {x};
  ir::Value* final_value = graph.add_value("final");
  ir::Value* iterations = graph.add_value("iterations");
  final_value->is_graph_output = iterations->is_graph_output = true;
  graph.outputs = {final_value, iterations};
  auto body = make_loop_body();
  body->parent = &graph;
  ir::Node* loop = graph.add_node("Loop", {trip_count, condition, initial}, {final_value, iterations}, "loop");
  loop->attributes["body"] = graph_attribute(body);
  auto session = engine::Engine::from_model(model, {.backend = "ref"});
  auto results = session->run({{"x", Tensor::from_vector<float>(DType::f32, {2}, {10, 20})}});
  EXPECT_EQ(results.at("final").to_float_vector(), (std::vector<float>{31, 62}));
  EXPECT_EQ(results.at("iterations").shape(), (Shape{3}));
  EXPECT_EQ(results.at("iterations").to_float_vector(), (std::vector<float>{0, 1, 2}));
}

TEST(RefControlFlow, ScanInReverseDirection) {
  auto body = std::make_shared<ir::Graph>();
  ir::Value* state = body->add_value("state", scalar_type(DType::f32, {2}));
  ir::Value* row = body->add_value("row", scalar_type(DType::f32, {2}));
  body->inputs = {state, row};
  ir::Value* next = body->add_value("next", scalar_type(DType::f32, {2}));
  body->add_node("Add", {state, row}, {next});
  body->outputs = {next, next};
  auto outputs = run_single_node("Scan",
                                 {{"initial", Tensor::from_vector<float>(DType::f32, {2}, {0, 0})},
                                  {"x", Tensor::from_vector<float>(DType::f32, {3, 2}, {1, 2, 10, 20, 100, 200})}},
                                 {{"body", graph_attribute(body)},
                                  {"num_scan_inputs", int_attribute(1)},
                                  {"scan_input_directions", testing::ints_attribute({1})}},
                                 2, 11);
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{111, 222}));
  EXPECT_EQ(outputs[1].to_float_vector(), (std::vector<float>{100, 200, 110, 220, 111, 222}));
}

// One-unit RNN with Relu: h_t = relu(0.5 x_t + h_{t-1}).
std::vector<Tensor> run_tiny_rnn(const std::string& direction, Tensor x, Tensor lengths = Tensor()) {
  const int64_t directions = direction == "bidirectional" ? 2 : 1;
  std::vector<float> w(static_cast<size_t>(directions), 0.5f), r(static_cast<size_t>(directions), 1.0f);
  std::vector<std::string> activations(static_cast<size_t>(directions), "Relu");
  return run_single_node("RNN",
                         {{"x", x},
                          {"w", Tensor::from_vector(DType::f32, {directions, 1, 1}, w), true},
                          {"r", Tensor::from_vector(DType::f32, {directions, 1, 1}, r), true},
                          {"b", Tensor()},
                          {"lengths", lengths, true}},
                         {{"hidden_size", int_attribute(1)},
                          {"direction", string_attribute(direction)},
                          {"activations", strings_attribute(activations)}},
                         2, 14);
}

TEST(RefRecurrent, RnnForwardReverseAndBidirectional) {
  Tensor x = Tensor::from_vector<float>(DType::f32, {2, 1, 1}, {1, 2});
  auto forward = run_tiny_rnn("forward", x);
  EXPECT_EQ(forward[0].to_float_vector(), (std::vector<float>{0.5f, 1.5f}));
  EXPECT_EQ(forward[1].to_float_vector(), (std::vector<float>{1.5f}));
  auto reverse = run_tiny_rnn("reverse", x);
  EXPECT_EQ(reverse[0].to_float_vector(), (std::vector<float>{1.5f, 1.0f}));
  EXPECT_EQ(reverse[1].to_float_vector(), (std::vector<float>{1.5f}));
  auto both = run_tiny_rnn("bidirectional", x);
  ASSERT_EQ(both[0].shape(), (Shape{2, 2, 1, 1}));
  EXPECT_EQ(both[0].to_float_vector(), (std::vector<float>{0.5f, 1.5f, 1.5f, 1.0f}));
  EXPECT_EQ(both[1].to_float_vector(), (std::vector<float>{1.5f, 1.5f}));
}

TEST(RefRecurrent, RnnStopsAtSequenceLength) {
  // Batch 2; the second sequence has length 1, so its t=1 input (100) is ignored and Y is zero there.
  Tensor x = Tensor::from_vector<float>(DType::f32, {2, 2, 1}, {1, 3, 2, 100});
  auto outputs = run_tiny_rnn("forward", x, Tensor::from_vector<int32_t>(DType::i32, {2}, {2, 1}));
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{0.5f, 1.5f, 1.5f, 0.0f}));
  EXPECT_EQ(outputs[1].to_float_vector(), (std::vector<float>{1.5f, 1.5f}));
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(RefRecurrent, LstmPeepholesUseGateOrderIOF) {
  // W = R = 0 so every gate is its bias plus its peephole term; c0 = 1.
  const double bi = 1, bo = 2, bf = -1, bc = 0.5, pi = 0.3, po = -0.2, pf = 0.7;
  auto outputs = run_single_node(
      "LSTM",
      {{"x", Tensor::from_vector<float>(DType::f32, {1, 1, 1}, {5})},
       {"w", Tensor(DType::f32, {1, 4, 1}), true},
       {"r", Tensor(DType::f32, {1, 4, 1}), true},
       {"b", Tensor::from_vector<float>(DType::f32, {1, 8}, {float(bi), float(bo), float(bf), float(bc), 0, 0, 0, 0}), true},
       {"lengths", Tensor()},
       {"h0", Tensor(DType::f32, {1, 1, 1}), true},
       {"c0", Tensor::from_vector<float>(DType::f32, {1, 1, 1}, {1}), true},
       {"p", Tensor::from_vector<float>(DType::f32, {1, 3}, {float(pi), float(po), float(pf)}), true}},
      {{"hidden_size", int_attribute(1)}}, 3, 14);
  const double input_gate = sigmoid(bi + pi * 1.0);
  const double forget_gate = sigmoid(bf + pf * 1.0);
  const double cell = forget_gate * 1.0 + input_gate * std::tanh(bc);
  const double output_gate = sigmoid(bo + po * cell);
  const double hidden = output_gate * std::tanh(cell);
  EXPECT_NEAR(outputs[0].to_float_vector()[0], hidden, 1e-6);
  EXPECT_NEAR(outputs[1].to_float_vector()[0], hidden, 1e-6);
  EXPECT_NEAR(outputs[2].to_float_vector()[0], cell, 1e-6);
}

std::vector<float> run_tiny_gru(int64_t linear_before_reset) {
  // x = 0, h0 = 1, R = [z 0.5, r -0.5, h 2], Wb_h = 0.3, Rb_h = 0.7.
  auto outputs = run_single_node(
      "GRU",
      {{"x", Tensor(DType::f32, {1, 1, 1})},
       {"w", Tensor(DType::f32, {1, 3, 1}), true},
       {"r", Tensor::from_vector<float>(DType::f32, {1, 3, 1}, {0.5f, -0.5f, 2.0f}), true},
       {"b", Tensor::from_vector<float>(DType::f32, {1, 6}, {0, 0, 0.3f, 0, 0, 0.7f}), true},
       {"lengths", Tensor()},
       {"h0", Tensor::from_vector<float>(DType::f32, {1, 1, 1}, {1}), true}},
      {{"hidden_size", int_attribute(1)}, {"linear_before_reset", int_attribute(linear_before_reset)}}, 2, 14);
  return outputs[1].to_float_vector();
}

TEST(RefRecurrent, GruLinearBeforeReset) {
  const double z = sigmoid(0.5), reset = sigmoid(-0.5);
  const double candidate_default = std::tanh(double(0.3f) + reset * 2.0 + double(0.7f));
  const double candidate_linear = std::tanh(double(0.3f) + reset * (2.0 + double(0.7f)));
  EXPECT_NEAR(run_tiny_gru(0)[0], (1 - z) * candidate_default + z, 1e-6);
  EXPECT_NEAR(run_tiny_gru(1)[0], (1 - z) * candidate_linear + z, 1e-6);
}

TEST(RefRecurrent, UnknownActivationIsUnsupported) {
  try {
    run_single_node("RNN",
                    {{"x", Tensor(DType::f32, {1, 1, 1})},
                     {"w", Tensor(DType::f32, {1, 1, 1}), true},
                     {"r", Tensor(DType::f32, {1, 1, 1}), true}},
                    {{"hidden_size", int_attribute(1)}, {"activations", strings_attribute({"Swish"})}}, 2, 14);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
  }
}

}  // namespace
}  // namespace npukit
