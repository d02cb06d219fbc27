// Transformers on NPUs: the Gelu kernels (ref against the formulas, cpu against ref, both forms), and the
// decompositions patch writes for targets without Gelu or Softmax, run before and after on random inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "check/target_check.h"
#include "npukit/error.h"
#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "engine/engine.h"
#include "passes/decompose_gelu.h"
#include "passes/decompose_softmax.h"
#include "target_test_graphs.h"
#include "targets/profile_loader.h"

namespace npukit::check {
namespace {

using testing::TestGraph;
using testing::count_ops;
using testing::int_attr;
using testing::string_attr;

ir::Model gelu_model(const std::string& approximate, const std::vector<int64_t>& shape = {2, 5, 33}) {
  TestGraph graph;
  graph.model.opset_imports[""] = 20;
  ir::Value* x = graph.input("x", shape);
  std::map<std::string, ir::Attribute> attributes;
  if (!approximate.empty()) attributes["approximate"] = string_attr(approximate);
  graph.output(graph.node("Gelu", {x}, shape, attributes));
  return std::move(graph.model);
}

// Opsets 18 and later cannot go through an ONNX file here (npukit's libonnx 1.12 stops at opset 17), so these
// models run as built, in memory: `model` is moved into the session.
std::map<std::string, Tensor> run_on(ir::Model model, const std::string& backend, const Tensor& x) {
  engine::EngineOptions options;
  options.backend = backend;
  auto session = engine::Engine::from_model(std::make_shared<ir::Model>(std::move(model)), options);
  return session->run({{"x", x}});
}

// max|a − b| / max|a| of the one output.
double relative_difference(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double magnitude = 0, difference = 0;
  for (int64_t i = 0; i < a.element_count(); ++i) {
    magnitude = std::max(magnitude, std::fabs(a.value_as_double(i)));
    difference = std::max(difference, std::fabs(a.value_as_double(i) - b.value_as_double(i)));
  }
  return difference / std::max(magnitude, 1e-30);
}

Tensor spread_input(const Shape& shape) {
  Tensor x(DType::f32, shape);
  std::mt19937 generator(3);
  std::uniform_real_distribution<float> uniform(-6.0f, 6.0f);
  for (float& value : x.values<float>()) value = uniform(generator);
  x.data<float>()[0] = 0.0f;
  x.data<float>()[1] = -10.0f;
  x.data<float>()[2] = 10.0f;
  return x;
}

// Gelu is an opset-20 op and npukit's ONNX layer (Debian's libonnx 1.12) stops at opset 17, so no session can
// load a model with it yet: the kernels are called directly on an in-memory node.
Tensor run_gelu_kernel(const std::string& backend, const std::string& approximate, const Tensor& x) {
  ir::Model model = gelu_model(approximate, x.shape());
  const ir::Node& node = *model.graph->nodes().front();
  std::vector<Tensor> outputs(1);
  runtime::KernelContext context(node, 20, {&x}, outputs, nullptr);
  if (backend == "ref") {
    const runtime::KernelEntry* entry = runtime::ref::reference_registry().find("", "Gelu", 20);
    EXPECT_NE(entry, nullptr);
    EXPECT_EQ(runtime::ref::reference_registry().find("", "Gelu", 17), nullptr);  // Gelu does not exist before 20
    entry->function(context);
  } else {
    if (auto reason = runtime::cpu::gelu_unsupported_reason(node, 20)) {
      throw Error(ErrorKind::unsupported, *reason);
    }
    runtime::cpu::prepare_gelu(node, 20)->run(context);
  }
  return std::move(outputs.front());
}

TEST(GeluKernels, ReferenceFollowsBothDefinitionsAndCpuAgrees) {
  const Tensor x = spread_input({2, 5, 4099});  // more than one chunk of the cpu tanh path
  for (const std::string approximate : {"", "none", "tanh"}) {
    const Tensor ref = run_gelu_kernel("ref", approximate, x);
    const Tensor cpu = run_gelu_kernel("cpu", approximate, x);
    ASSERT_EQ(ref.shape(), x.shape());
    ASSERT_EQ(cpu.shape(), x.shape());
    for (int64_t i = 0; i < x.element_count(); ++i) {
      const double v = x.data<float>()[i];
      const double expected = approximate == "tanh"
                                  ? 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)))
                                  : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
      ASSERT_NEAR(ref.data<float>()[i], expected, 1e-5 * std::max(1.0, std::fabs(expected))) << approximate << " x=" << v;
      ASSERT_NEAR(cpu.data<float>()[i], ref.data<float>()[i], 2e-6 * std::max(1.0, std::fabs(expected)))
          << approximate << " x=" << v;
    }
  }
  // The tanh form differs from the exact one (by up to ~1e-3): they are not interchangeable.
  const Tensor exact = run_gelu_kernel("ref", "none", x), approximated = run_gelu_kernel("ref", "tanh", x);
  EXPECT_GT(relative_difference(exact, approximated), 1e-5);
}

TEST(GeluKernels, UnknownApproximationIsAClearError) {
  for (const char* backend : {"ref", "cpu"}) {
    try {
      run_gelu_kernel(backend, "cubic", spread_input({2, 3}));
      FAIL() << backend << " accepted approximate 'cubic'";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("cubic"), std::string::npos) << error.what();
    }
  }
}

TEST(TransformerDecompositions, GeluBothFormsAreExact) {
  for (const char* approximate : {"none", "tanh"}) {
    ir::Model rewritten = gelu_model(approximate, {1, 4, 16, 16});
    passes::PassResult result = passes::decompose_gelu(rewritten);
    EXPECT_EQ(result.rewrites, 1);
    EXPECT_EQ(count_ops(rewritten, "Gelu"), 0u);
    EXPECT_EQ(count_ops(rewritten, std::string(approximate) == "tanh" ? "Tanh" : "Erf"), 1u);
    // The written-out ops exist at opset 17: run them there and compare with the Gelu kernel.
    rewritten.opset_imports[""] = 17;
    const Tensor x = spread_input({1, 4, 16, 16});
    const Tensor before = run_gelu_kernel("ref", approximate, x);
    const Tensor after = run_on(std::move(rewritten), "ref", x).begin()->second;
    EXPECT_LT(relative_difference(before, after), 1e-6) << approximate;
  }
}

ir::Model softmax_model(int64_t opset, int64_t axis, const std::vector<int64_t>& shape) {
  TestGraph graph;
  graph.model.opset_imports[""] = opset;
  ir::Value* x = graph.input("x", shape);
  graph.output(graph.node("Softmax", {x}, shape, {{"axis", int_attr(axis)}}));
  return std::move(graph.model);
}

TEST(TransformerDecompositions, SoftmaxAtEveryOpsetFormOfTheReductions) {
  struct Case {
    int64_t opset, axis;
  };
  // Opset 11: attributes; 13: ReduceSum axes as input; 18: ReduceMax too. Attention rows are the last axis.
  // (npukit's runtime stops at opset 17, like its ONNX layer: 18 and 20 are checked for the node forms only.)
  for (const Case c : {Case{11, -1}, Case{13, 1}, Case{17, -1}, Case{17, 2}}) {
    ir::Model rewritten = softmax_model(c.opset, c.axis, {1, 3, 7, 9});
    passes::PassResult result = passes::decompose_softmax(rewritten);
    ASSERT_EQ(result.rewrites, 1) << c.opset;
    EXPECT_EQ(count_ops(rewritten, "Softmax"), 0u);
    EXPECT_EQ(count_ops(rewritten, "ReduceMax"), 1u);
    EXPECT_EQ(count_ops(rewritten, "Exp"), 1u);
    const Tensor x = spread_input({1, 3, 7, 9});
    const Tensor before = run_on(softmax_model(c.opset, c.axis, {1, 3, 7, 9}), "ref", x).begin()->second;
    const Tensor after = run_on(std::move(rewritten), "ref", x).begin()->second;
    EXPECT_LT(relative_difference(before, after), 1e-6) << "opset " << c.opset << " axis " << c.axis;
  }
  // Opset 18: ReduceMax takes its axes as an input, ReduceSum too (since 13).
  ir::Model at18 = softmax_model(18, -1, {1, 3, 7, 9});
  passes::decompose_softmax(at18);
  for (const auto& node : at18.graph->nodes()) {
    if (node->op_type == "ReduceMax" || node->op_type == "ReduceSum") {
      EXPECT_EQ(node->inputs.size(), 2u) << node->op_type;
      EXPECT_FALSE(node->has_attribute("axes")) << node->op_type;
    }
  }
  ir::Model at11 = softmax_model(11, -1, {1, 3, 7, 9});
  passes::decompose_softmax(at11);
  for (const auto& node : at11.graph->nodes()) {
    if (node->op_type == "ReduceMax" || node->op_type == "ReduceSum") {
      EXPECT_EQ(node->inputs.size(), 1u) << node->op_type;
      EXPECT_EQ(node->get_ints("axes"), (std::vector<int64_t>{3})) << node->op_type;
    }
  }
  // Before opset 13 a non-last axis flattens the rest: one reduction is not the same, so it is left alone.
  auto flattened = softmax_model(11, 1, {1, 3, 7, 9});
  passes::PassResult kept = passes::decompose_softmax(flattened);
  EXPECT_EQ(kept.rewrites, 0);
  ASSERT_FALSE(kept.notes.empty());
  EXPECT_NE(kept.notes.front().find("flattens"), std::string::npos);
}

TEST(TransformerDecompositions, CheckSuggestsThemOnlyWhereTheTargetHasTheWrittenOps) {
  // A profile with the pieces but neither Gelu nor Softmax: both decompositions are suggested.
  targets::TargetProfile profile = targets::find_builtin_target("hailo8");
  profile.ops.erase("Gelu");
  profile.ops.erase("Softmax");
  for (const char* op : {"ReduceMax", "ReduceSum", "Exp"}) profile.ops[op] = targets::OpSupport{};
  profile.unlisted_ops = targets::UnlistedOps::fallback;
  EXPECT_EQ(testing::verdict_of(check_model(gelu_model("none"), profile), "Gelu").patch, "decompose-gelu");
  EXPECT_EQ(testing::verdict_of(check_model(softmax_model(17, -1, {1, 3, 7, 9}), profile), "Softmax").patch,
            "decompose-softmax");
  // Without Tanh the tanh form has no decomposition on it.
  profile.ops.erase("Tanh");
  EXPECT_EQ(testing::verdict_of(check_model(gelu_model("tanh"), profile), "Gelu").patch, "");
  // RK3588 runs Gelu on its NPU: nothing to decompose there.
  EXPECT_EQ(testing::verdict_of(check_model(gelu_model("none"), targets::find_builtin_target("rk3588")), "Gelu").placement,
            Placement::accelerator);
}

}  // namespace
}  // namespace npukit::check
