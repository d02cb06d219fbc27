// The libonnx checker in the helper program npukit-validate (fork+exec), as a process with other threads uses
// it (include/npukit/isolation.h): the same answers as the fork, a crash still named by its node, and a helper
// that cannot be started is an error that says so.
#include <gtest/gtest.h>

#include <thread>

#include "core/child_process.h"
#include "npukit/error.h"
#include "npukit/isolation.h"
#include "onnx/onnx_import.h"
#include "onnx_test_models.h"

namespace npukit {
namespace {

using testing::add_float_initializer;
using testing::add_input;
using testing::add_node;
using testing::add_output;
using testing::make_model;
using testing::TemporaryFolder;
using testing::write_model;

// Sets the isolation for one test and puts the default back.
class IsolationScope {
 public:
  explicit IsolationScope(ValidationIsolation isolation) { set_validation_isolation(isolation); }
  ~IsolationScope() { set_validation_isolation(ValidationIsolation::automatic); }
};

onnx::ModelProto relu_model() {
  onnx::ModelProto proto = make_model(13);
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {1, 4});
  add_node(graph, "Relu", {"x"}, {"y"}, "relu");
  add_output(graph, "y", {1, 4});
  return proto;
}

TEST(ValidationHelper, IsBuiltAndFound) {
  const std::string helper = validation_helper_path();
  ASSERT_FALSE(helper.empty()) << "npukit-validate is not built beside the tests";
  EXPECT_NE(helper.find("npukit-validate"), std::string::npos);
}

TEST(ValidationHelper, LoadsAModelWithTheSameTypesAsTheFork) {
  TemporaryFolder folder;
  const std::string path = write_model(relu_model(), folder.file("relu.onnx"));
  std::string with_helper, with_fork;
  {
    IsolationScope scope(ValidationIsolation::helper_program);
    const ir::Model model = onnx_io::load_model(path);
    with_helper = model.graph->outputs[0]->type.to_string();
  }
  {
    IsolationScope scope(ValidationIsolation::fork);
    const ir::Model model = onnx_io::load_model(path);
    with_fork = model.graph->outputs[0]->type.to_string();
  }
  EXPECT_EQ(with_helper, "f32[1, 4]");
  EXPECT_EQ(with_helper, with_fork);
}

TEST(ValidationHelper, CheckerRejectionComesBackWithItsMessage) {
  IsolationScope scope(ValidationIsolation::helper_program);
  TemporaryFolder folder;
  onnx::ModelProto proto = relu_model();
  // Relu has no attribute 'alpha': npukit's own checks let it pass, the ONNX checker refuses it.
  onnx::AttributeProto* alpha = proto.mutable_graph()->mutable_node(0)->add_attribute();
  alpha->set_name("alpha");
  alpha->set_type(onnx::AttributeProto::FLOAT);
  alpha->set_f(1.0f);
  const std::string path = write_model(proto, folder.file("relu_alpha.onnx"));
  try {
    onnx_io::load_model(path);
    FAIL() << "a Relu with an attribute 'alpha' loaded";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_model);
    EXPECT_NE(std::string(error.what()).find("the ONNX checker rejects the model: Unrecognized attribute: alpha"),
              std::string::npos) << error.what();
  }
}

// tests/bad_model_test.cpp ShapeInferenceCrashBecomesAnErrorNamingTheNode, through the helper, from a thread
// while another thread runs: the search for the node starts the helper once per step.
TEST(ValidationHelper, ShapeInferenceCrashInTheHelperNamesTheNode) {
  IsolationScope scope(ValidationIsolation::helper_program);
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model(13);
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {1, 1});
  add_float_initializer(graph, "w", {1, 1, 2, 2}, {1, 2, 3, 4});
  add_node(graph, "Relu", {"x"}, {"x_relu"}, "relu");
  add_node(graph, "Identity", {"w"}, {"w_copy"}, "copy");
  add_node(graph, "Conv", {"x_relu", "w_copy"}, {"y"}, "conv");
  add_output(graph, "y", {-1, -1});
  const std::string path = write_model(proto, folder.file("conv_crash.onnx"));
  std::string message, node;
  std::thread loader([&] {
    try {
      onnx_io::load_model(path);
    } catch (const Error& error) {
      message = error.what();
      node = error.node();
    }
  });
  loader.join();
  EXPECT_NE(message.find("shape inference (libonnx 1.12) crashed"), std::string::npos) << message;
  EXPECT_EQ(node, "'conv' (Conv)");
}

TEST(ValidationHelper, AProgramThatCannotStartIsAFailureThatSaysSo) {
  const ChildProcessResult result = run_helper_program("/nonexistent/npukit-validate", "request", 10'000);
  EXPECT_FALSE(result.finished);
  EXPECT_NE(result.failure.find("cannot start /nonexistent/npukit-validate"), std::string::npos) << result.failure;
}

TEST(ValidationHelper, AHelperThatDiesBeforeReadingDoesNotKillTheCaller) {
  // /bin/false exits at once without reading: writing a large request must fail quietly (no SIGPIPE death).
  const ChildProcessResult result = run_helper_program("/bin/false", std::string(4'000'000, 'x'), 10'000);
  EXPECT_FALSE(result.finished);
  EXPECT_EQ(result.failure, "exit status 1");
}

TEST(ValidationHelper, CountsThisProcessThreads) {
  const size_t before = running_thread_count();
  ASSERT_GE(before, 1u);
  size_t during = 0;
  std::thread other([&] { during = running_thread_count(); });
  other.join();
  EXPECT_EQ(during, before + 1);
}

}  // namespace
}  // namespace npukit
