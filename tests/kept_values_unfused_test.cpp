// The cpu backend hands back every value asked for, even one its fusions would swallow (a Conv output
// before its SiLU, BatchNorm, Relu or residual Add): the pass list leaves kept values in the graph
// (passes/pass_lists.h). The kept values equal the ref backend's (the oracle) to float rounding, only the
// named values are taken out of their fusions, and calibration therefore runs on cpu.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "ir/graph.h"
#include "onnx/onnx_import.h"
#include "onnx_test_models.h"
#include "passes/pass_lists.h"
#include "quantization/calibration_run.h"
#include "runtime/kept_values.h"

namespace npukit::testing {
namespace {

constexpr int64_t channels = 8, side = 9;

std::vector<float> wave(int64_t count, float scale, float offset, float frequency = 0.37f) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = std::sin(frequency * float(i)) * scale + offset;
  return values;
}

// x → Conv 1×1 (c1) → Sigmoid (s) → Mul (silu)                  Conv + SiLU
//   → Conv 3×3 pad 1 (c2) → BatchNormalization (b) → Relu (r)   Conv + BatchNorm + Relu
//   → Conv 1×1 (c3) → Add (c3, r) = y                             Conv + residual Add
// On cpu without kept values all three collapse into FusedConv nodes and c1, s, c2, b, c3 are not computed.
std::string write_fusable_chain(const TemporaryFolder& folder) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  const std::vector<int64_t> shape{1, channels, side, side};
  add_input(graph, "x", shape);
  add_float_initializer(graph, "w1", {channels, channels, 1, 1}, wave(channels * channels, 0.5f, 0.0f));
  add_float_initializer(graph, "w2", {channels, channels, 3, 3}, wave(channels * channels * 9, 0.2f, 0.01f, 0.53f));
  add_float_initializer(graph, "w3", {channels, channels, 1, 1}, wave(channels * channels, 0.4f, -0.02f, 0.71f));
  add_float_initializer(graph, "gamma", {channels}, wave(channels, 0.3f, 1.0f));
  add_float_initializer(graph, "beta", {channels}, wave(channels, 0.2f, 0.1f, 1.3f));
  add_float_initializer(graph, "mean", {channels}, wave(channels, 0.1f, 0.05f, 0.9f));
  add_float_initializer(graph, "variance", {channels}, wave(channels, 0.2f, 0.8f, 1.7f));
  add_node(graph, "Conv", {"x", "w1"}, {"c1"}, "conv1");
  add_node(graph, "Sigmoid", {"c1"}, {"s"}, "sigmoid");
  add_node(graph, "Mul", {"c1", "s"}, {"silu"}, "mul");
  onnx::NodeProto* conv2 = add_node(graph, "Conv", {"silu", "w2"}, {"c2"}, "conv2");
  onnx::AttributeProto* pads = conv2->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  add_node(graph, "BatchNormalization", {"c2", "gamma", "beta", "mean", "variance"}, {"b"}, "batchnorm");
  add_node(graph, "Relu", {"b"}, {"r"}, "relu");
  add_node(graph, "Conv", {"r", "w3"}, {"c3"}, "conv3");
  add_node(graph, "Add", {"c3", "r"}, {"y"}, "residual");
  add_output(graph, "y", shape);
  return write_model(model, folder.file("fusable_chain.onnx"));
}

Tensor sample_input(float offset) {
  return Tensor::from_vector<float>(DType::f32, {1, channels, side, side}, wave(channels * side * side, 3.0f, offset));
}

const std::vector<std::string> swallowed_values{"c1", "s", "c2", "b", "c3"};

std::unique_ptr<engine::Engine> engine_on(const std::string& path, const std::string& backend,
                                          const std::vector<std::string>& keep) {
  engine::EngineOptions options;
  options.backend = backend;
  options.keep_values = keep;
  return engine::Engine::from_model(std::make_shared<const ir::Model>(onnx_io::load_model(path)), options);
}

size_t count_nodes(const ir::Graph& graph, const std::string& op_type) {
  size_t count = 0;
  for (const auto& node : graph.nodes()) count += node->op_type == op_type;
  return count;
}

double largest_difference(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_float_vector(), y = b.to_float_vector();
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) worst = std::max(worst, std::fabs(double(x[i]) - y[i]));
  return worst;
}

double largest_magnitude(const Tensor& tensor) {
  double magnitude = 0;
  for (float value : tensor.to_float_vector()) magnitude = std::max(magnitude, double(std::fabs(value)));
  return magnitude;
}

TEST(KeptValuesUnfused, WithoutKeptValuesTheCpuBackendFusesAllThree) {
  TemporaryFolder folder;
  ir::Model model = onnx_io::load_model(write_fusable_chain(folder));
  passes::run_cpu_pass_list(model);
  EXPECT_EQ(count_nodes(*model.graph, "FusedConv"), 3u);
  for (const std::string& name : swallowed_values) {
    const ir::Value* value = model.graph->find_value(name);
    EXPECT_TRUE(!value || !value->producer) << name << " should be fused away";
  }
}

TEST(KeptValuesUnfused, CpuHandsBackWhatItsFusionsWouldSwallowEqualToRef) {
  TemporaryFolder folder;
  const std::string path = write_fusable_chain(folder);
  std::vector<std::string> keep = swallowed_values;
  keep.push_back("silu");
  keep.push_back("r");
  auto cpu = engine_on(path, "cpu", keep);
  auto ref = engine_on(path, "ref", keep);
  ASSERT_EQ(cpu->kept_values().size(), keep.size());
  for (size_t i = 0; i < keep.size(); ++i) EXPECT_EQ(cpu->kept_values()[i].name, keep[i]);
  for (const float offset : {0.5f, -1.25f}) {
    cpu->set_input("x", sample_input(offset));
    ref->set_input("x", sample_input(offset));
    cpu->run();
    ref->run();
    for (const std::string& name : keep) {
      const double magnitude = largest_magnitude(ref->output(name));
      ASSERT_GT(magnitude, 0.1) << name;
      EXPECT_LE(largest_difference(cpu->output(name), ref->output(name)), 1e-5 * magnitude) << name;
    }
    EXPECT_LE(largest_difference(cpu->output("y"), ref->output("y")), 1e-5 * largest_magnitude(ref->output("y")));
  }
}

TEST(KeptValuesUnfused, OnlyTheNamedValuesLeaveTheirFusion) {
  TemporaryFolder folder;
  const std::string path = write_fusable_chain(folder);
  auto cpu = engine_on(path, "cpu", {"c3"});
  const ir::Graph& executed = *cpu->model().graph;
  // Conv + SiLU and Conv + BatchNorm + Relu stay fused; the third Conv computes c3 and the Add runs alone.
  EXPECT_EQ(count_nodes(executed, "FusedConv"), 2u);
  ASSERT_NE(executed.find_value("c3"), nullptr);
  EXPECT_EQ(executed.find_value("c3")->producer->op_type, "Conv");
  EXPECT_FALSE(executed.find_value("c3")->is_graph_output);  // pinned as an output only while the passes ran
  EXPECT_EQ(executed.outputs.size(), 1u);
  const ir::Value* c1 = executed.find_value("c1");
  EXPECT_TRUE(!c1 || !c1->producer);
  // "all" is what the backend computes after its fusions: it pins nothing.
  auto everything = engine_on(path, "cpu", {"all"});
  EXPECT_EQ(count_nodes(*everything->model().graph, "FusedConv"), 3u);
}

TEST(KeptValuesUnfused, ANameThePassesRemovedIsStillAnErrorThatSaysWhy) {
  // The message for a value a pass removed anyway (no pass of the cpu list does since kept values are
  // pinned): find_kept_values on a graph fused without them.
  TemporaryFolder folder;
  const std::string path = write_fusable_chain(folder);
  ir::Model model = onnx_io::load_model(path);
  const std::set<std::string> loaded = runtime::value_names(*model.graph);
  passes::run_cpu_pass_list(model);
  try {
    runtime::find_kept_values(*model.graph, {"c1"}, loaded, "cpu", path);
    FAIL() << "c1 was fused away and must be refused";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("cannot keep 'c1'"), std::string::npos) << message;
    EXPECT_NE(message.find("fused"), std::string::npos) << message;
  }
}

// Two samples in memory.
class TwoSamples : public quantization::CalibrationSource {
 public:
  size_t size() const override { return 2; }
  quantization::CalibrationSample sample(size_t index) override {
    return {{{"x", sample_input(index == 0 ? 0.5f : -1.25f)}}, "sample " + std::to_string(index)};
  }
  std::string describe() const override { return "two samples in memory"; }
};

TEST(KeptValuesUnfused, CalibrationRunsOnCpuWithTheRangesOfRef) {
  TemporaryFolder folder;
  const std::string path = write_fusable_chain(folder);
  const ir::Model model = onnx_io::load_model(path);
  std::vector<std::string> points = swallowed_values;
  points.insert(points.end(), {"x", "silu", "r", "y"});
  TwoSamples source;
  const quantization::CalibrationRunResult result = quantization::run_calibration(model, points, source, {});
  EXPECT_EQ(result.backend, "cpu");
  for (const std::string& note : result.notes) EXPECT_EQ(note.find("ref backend"), std::string::npos) << note;
  EXPECT_EQ(result.samples, 2u);
  // The exact minimum and maximum of every point over both samples, against the oracle's.
  auto ref = engine_on(path, "ref", {"c1", "s", "silu", "c2", "b", "r", "c3"});
  std::map<std::string, std::pair<double, double>> extremes;
  for (size_t index = 0; index < 2; ++index) {
    ref->set_input("x", source.sample(index).inputs.at("x"));
    ref->run();
    for (const std::string& name : points) {
      if (name == "x") continue;
      for (float value : ref->output(name).to_float_vector()) {
        auto [entry, fresh] = extremes.try_emplace(name, value, value);
        entry->second.first = std::min(entry->second.first, double(value));
        entry->second.second = std::max(entry->second.second, double(value));
      }
    }
  }
  for (const auto& [name, range] : extremes) {
    const quantization::ValueHistogram& histogram = result.histograms.at(name);
    const double tolerance = 1e-5 * std::max(std::fabs(range.first), std::fabs(range.second));
    EXPECT_NEAR(histogram.minimum(), range.first, tolerance) << name;
    EXPECT_NEAR(histogram.maximum(), range.second, tolerance) << name;
  }
}

}  // namespace
}  // namespace npukit::testing
