// Kept intermediate values (SessionOptions::keep_values, `npukit run --keep`): a kept value is handed back
// as computed, in plain NCHW even where the cpu backend holds it blocked, keeping it changes no output bit,
// "all" lists every value the backend computes, and names that cannot be kept are errors that say why.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "engine/engine.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"
#include "ir/graph.h"
#include "npukit/session.h"
#include "onnx/onnx_import.h"
#include "onnx_test_models.h"

namespace npukit::testing {
namespace {

constexpr int64_t channels = 16, side = 9;

std::vector<float> ramp(int64_t count, float scale, float offset) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = std::sin(0.37f * float(i)) * scale + offset;
  return values;
}

// x -> Conv 1x1 ("c") -> Sigmoid ("s") -> Mul ("silu") -> Conv 3x3 pad 1 ("d") -> Relu ("y"). On cpu the
// SiLU fuses into the first Conv (c and s are not computed there), and "silu" sits between two
// convolutions with 16 channels, so the cpu backend holds it blocked.
std::string write_silu_chain(const TemporaryFolder& folder) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, channels, side, side});
  add_float_initializer(graph, "w1", {channels, channels, 1, 1}, ramp(channels * channels, 0.5f, 0.0f));
  add_float_initializer(graph, "w2", {channels, channels, 3, 3}, ramp(channels * channels * 9, 0.2f, 0.01f));
  add_node(graph, "Conv", {"x", "w1"}, {"c"}, "conv1");
  add_node(graph, "Sigmoid", {"c"}, {"s"}, "sigmoid");
  add_node(graph, "Mul", {"c", "s"}, {"silu"}, "mul");
  onnx::NodeProto* conv2 = add_node(graph, "Conv", {"silu", "w2"}, {"d"}, "conv2");
  onnx::AttributeProto* pads = conv2->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  add_node(graph, "Relu", {"d"}, {"y"}, "relu");
  add_output(graph, "y", {1, channels, side, side});
  return write_model(model, folder.file("silu_chain.onnx"));
}

Tensor input() {
  return Tensor::from_vector<float>(DType::f32, {1, channels, side, side}, ramp(channels * side * side, 3.0f, 0.5f));
}

std::unique_ptr<Session> open(const std::string& path, const std::string& backend, std::vector<std::string> keep) {
  SessionOptions options;
  options.backend = backend;
  options.keep_values = std::move(keep);
  auto session = Session::load(path, options);
  session->set_input("x", input());
  return session;
}

double largest_difference(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_float_vector(), y = b.to_float_vector();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(double(x[i]) - y[i]));
  return worst;
}

TEST(KeptValues, CpuHandsBackABlockedValuePlainAndEqualToRef) {
  TemporaryFolder folder;
  const std::string path = write_silu_chain(folder);
  auto cpu = open(path, "cpu", {"silu"});
  auto ref = open(path, "ref", {"silu"});
  // The case must really cover the reorder out of the blocked layout.
  auto engine = engine::Engine::adopt(std::make_shared<ir::Model>(onnx_io::load_model(path)), {.backend = "cpu"});
  ASSERT_TRUE(engine->blocked_layouts()->is_blocked(engine->model().graph->find_value("silu")));
  cpu->run();
  ref->run();
  ASSERT_EQ(cpu->kept_values().size(), 1u);
  EXPECT_EQ(cpu->kept_values()[0].name, "silu");
  EXPECT_EQ(cpu->kept_values()[0].shape, (std::vector<int64_t>{1, channels, side, side}));
  const Tensor& ours = cpu->output("silu");
  ASSERT_EQ(ours.shape(), (Shape{1, channels, side, side}));
  double magnitude = 0;
  for (float value : ref->output("silu").to_float_vector()) magnitude = std::max(magnitude, double(std::fabs(value)));
  ASSERT_GT(magnitude, 1.0);
  // Element by element in NCHW order: a tensor left in nChw8c/16c order would be off by whole values.
  EXPECT_LE(largest_difference(ours, ref->output("silu")), 1e-5 * magnitude);
}

TEST(KeptValues, KeepingChangesNoOutputBit) {
  TemporaryFolder folder;
  const std::string path = write_silu_chain(folder);
  for (const std::string backend : {"cpu", "ref"}) {
    auto plain = open(path, backend, {});
    auto observed = open(path, backend, {"all"});
    plain->run();
    observed->run();
    const Tensor& a = plain->output("y");
    const Tensor& b = observed->output("y");
    ASSERT_EQ(a.byte_size(), b.byte_size());
    EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.byte_size()), 0) << backend;
  }
}

TEST(KeptValues, AllIsEveryValueTheBackendComputes) {
  TemporaryFolder folder;
  const std::string path = write_silu_chain(folder);
  auto cpu = open(path, "cpu", {"all"});
  auto ref = open(path, "ref", {"all"});
  auto names = [](const Session& session) {
    std::vector<std::string> result;
    for (const ValueInfo& value : session.kept_values()) result.push_back(value.name);
    return result;
  };
  // On cpu: the fused Conv+SiLU, then the second Conv+Relu (whose output is the graph output, not kept).
  EXPECT_EQ(names(*cpu), (std::vector<std::string>{"silu"}));
  EXPECT_EQ(names(*ref), (std::vector<std::string>{"c", "s", "silu", "d"}));
  ref->run();
  for (const std::string& name : names(*ref)) EXPECT_EQ(ref->output(name).shape(), (Shape{1, channels, side, side}));
}

std::string error_of(const std::string& path, const std::string& backend, const std::string& name) {
  try {
    open(path, backend, {name});
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(KeptValues, NamesThatCannotBeKeptAreErrorsThatSayWhy) {
  TemporaryFolder folder;
  const std::string path = write_silu_chain(folder);
  // A value the fusion would swallow is computed unfused instead (tests/kept_values_unfused_test.cpp); the
  // error for a name the passes still removed is tested there too.
  EXPECT_EQ(error_of(path, "cpu", "c"), "");
  EXPECT_EQ(error_of(path, "ref", "c"), "");  // ref runs the model as written
  const std::string unknown = error_of(path, "cpu", "no_such_value");
  EXPECT_NE(unknown.find("no value of that name"), std::string::npos) << unknown;
  const std::string input_name = error_of(path, "ref", "x");
  EXPECT_NE(input_name.find("graph input"), std::string::npos) << input_name;
  const std::string weight = error_of(path, "ref", "w1");
  EXPECT_NE(weight.find("constant"), std::string::npos) << weight;
}

}  // namespace
}  // namespace npukit::testing
