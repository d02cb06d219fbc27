// The executor against a tiny test backend, so these tests do not depend on the reference kernels.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "engine/engine.h"
#include "npukit/session.h"
#include "runtime/executor.h"

namespace npukit::runtime {
namespace {

void add_kernel(KernelContext& context) {
  const Tensor& left = context.input(0);
  const Tensor& right = context.input(1);
  if (left.shape() != right.shape()) context.invalid("shapes differ");
  Tensor& output = context.allocate_output(0, DType::f32, left.shape());
  for (int64_t i = 0; i < left.element_count(); ++i) {
    output.data<float>()[i] = left.data<float>()[i] + right.data<float>()[i];
  }
}

class TestExecutable final : public NodeExecutable {
 public:
  void run(KernelContext& context) const override { add_kernel(context); }
};

// Knows one op, Add; reports everything else unsupported.
class AddOnlyBackend final : public Backend {
 public:
  std::string_view name() const override { return "add-only"; }
  std::optional<std::string> unsupported_reason(const ir::Node& node, int64_t) const override {
    if (node.op_type == "Add") return std::nullopt;
    return "add-only knows no " + node.op_type;
  }
  std::unique_ptr<NodeExecutable> prepare(const ir::Node&, int64_t) const override {
    return std::make_unique<TestExecutable>();
  }
};

ir::TensorType float_type(Shape shape) {
  ir::TensorType type;
  type.dtype = DType::f32;
  std::vector<ir::Dim> dims;
  for (int64_t size : shape) dims.push_back(ir::Dim::fixed(size));
  type.shape = dims;
  return type;
}

// y = (x + x) + c, where c is an initializer.
std::shared_ptr<ir::Model> make_add_model() {
  auto model = std::make_shared<ir::Model>();
  model->opset_imports[""] = 13;
  ir::Graph& graph = *model->graph;
  ir::Value* x = graph.add_value("x", float_type({4}));
  x->is_graph_input = true;
  graph.inputs = {x};
  ir::Value* c = graph.add_initializer("c", Tensor::from_vector<float>(DType::f32, {4}, {10, 20, 30, 40}));
  ir::Value* twice = graph.add_value("twice", float_type({4}));
  ir::Value* y = graph.add_value("y", float_type({4}));
  y->is_graph_output = true;
  graph.outputs = {y};
  graph.add_node("Add", {x, x}, {twice}, "double");
  graph.add_node("Add", {twice, c}, {y}, "offset");
  return model;
}

TEST(Executor, RunsNodesInOrderWithInitializers) {
  AddOnlyBackend backend;
  Executor executor(make_add_model(), {&backend});
  Tensor x = Tensor::from_vector<float>(DType::f32, {4}, {1, 2, 3, 4});
  std::vector<Tensor> outputs = executor.run({{"x", x}});
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{12, 24, 36, 48}));
  EXPECT_EQ(executor.node_backends(), (std::vector<std::string>{"add-only", "add-only"}));
}

TEST(Executor, ListsEveryUnsupportedNodeAtOnce) {
  auto model = make_add_model();
  ir::Graph& graph = *model->graph;
  ir::Value* y = graph.find_value("y");
  ir::Value* z1 = graph.add_value("z1");
  ir::Value* z2 = graph.add_value("z2");
  graph.add_node("Relu", {y}, {z1}, "relu_a");
  graph.add_node("Frobnicate", {z1}, {z2}, "mystery", "com.example");
  model->opset_imports["com.example"] = 1;
  AddOnlyBackend backend;
  try {
    Executor executor(model, {&backend});
    FAIL() << "expected unsupported nodes to be reported";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
    std::string message = error.what();
    EXPECT_NE(message.find("2 node(s)"), std::string::npos) << message;
    EXPECT_NE(message.find("relu_a"), std::string::npos) << message;
    EXPECT_NE(message.find("mystery"), std::string::npos) << message;
  }
}

TEST(Executor, NodeInADomainWithoutOpsetImportIsUnsupported) {
  auto model = make_add_model();
  model->graph->add_node("Add", {model->graph->find_value("y"), model->graph->find_value("y")},
                         {model->graph->add_value("w")}, "foreign", "com.unknown");
  AddOnlyBackend backend;
  EXPECT_THROW(Executor(model, {&backend}), Error);
}

TEST(Executor, MissingInputIsAnError) {
  AddOnlyBackend backend;
  Executor executor(make_add_model(), {&backend});
  EXPECT_THROW(executor.run({}), Error);
  EXPECT_THROW(executor.run({{"not_an_input", Tensor(DType::f32, {4})}}), Error);
}

TEST(Executor, KernelErrorsNameTheNode) {
  AddOnlyBackend backend;
  Executor executor(make_add_model(), {&backend});
  try {
    executor.run({{"x", Tensor(DType::f32, {3})}});  // wrong length: the first Add still works, the second fails
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("offset"), std::string::npos) << error.what();
  }
}

TEST(Executor, OneExecutorServesManyThreads) {
  AddOnlyBackend backend;
  Executor executor(make_add_model(), {&backend});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int iteration = 0; iteration < 200; ++iteration) {
        float base = static_cast<float>(t * 1000 + iteration);
        Tensor x = Tensor::from_vector<float>(DType::f32, {4}, {base, base, base, base});
        std::vector<Tensor> outputs = executor.run({{"x", x}});
        if (outputs[0].data<float>()[3] != 2 * base + 40) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Session, ChecksInputDtypeAndShape) {
  auto model = make_add_model();
  // Session uses the reference backend (its Add kernel); this test exercises the input checks.
  std::unique_ptr<engine::Engine> session = engine::Engine::from_model(model, {.backend = "ref"});
  ASSERT_EQ(session->inputs().size(), 1u);
  EXPECT_EQ(session->inputs()[0].name, "x");
  EXPECT_EQ(session->inputs()[0].shape, (std::vector<int64_t>{4}));
  try {
    session->set_input("x", Tensor(DType::i32, {4}));
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("must be f32"), std::string::npos) << error.what();
  }
  try {
    session->set_input("x", Tensor(DType::f32, {5}));
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("must have shape [4]"), std::string::npos) << error.what();
  }
  EXPECT_THROW(session->set_input("nope", Tensor(DType::f32, {4})), Error);
  EXPECT_THROW(session->run(), Error);  // x not set
}

}  // namespace
}  // namespace npukit::runtime
