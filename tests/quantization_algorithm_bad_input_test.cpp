// Issue 11's bar for bad input, for EVERY algorithm of the registry (quantization_algorithms(), so a new one is
// covered the day it is listed): one calibration sample, a layer whose weights are all zero (its output constant),
// a model with nothing for the algorithm to do, --keep-float / --keep-int16 larger than the layer count, and an
// unknown algorithm name at the command line. Each gives a clear error naming the algorithm, or runs, leaves usable
// parameters and says what it did. (Elsewhere: an impossible --budget-latency in mixed_precision_test.cpp, constant
// calibration data for adaround in quantization_adaround_test.cpp, dead channels with every algorithm together in
// quantization_algorithms_together_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cli_runner.h"
#include "engine/engine.h"
#include "ir/value_info.h"
#include "npukit/error.h"
#include "onnx_test_models.h"
#include "quantization/mixed_precision.h"
#include "quantization/quantization_algorithm.h"
#include "quantization/quantize_model.h"
#include "quantization_fixtures.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  auto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t value : values) attribute->add_ints(value);
}

// x → Conv (all-zero weights and bias: its output is 0 whatever x) → Relu → MaxPool → Conv → y.
std::string write_dead_layer_net(const std::string& path) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, 3, 8, 8});
  add_output(graph, "y", {1, 2, 4, 4});
  add_float_initializer(graph, "w1", {4, 3, 3, 3}, std::vector<float>(108, 0.0f));
  add_float_initializer(graph, "b1", {4}, std::vector<float>(4, 0.0f));
  add_float_initializer(graph, "w2", {2, 4, 1, 1}, seeded_values(8, 2, -1.0f, 1.0f));
  add_float_initializer(graph, "b2", {2}, {0.3f, -0.3f});
  set_ints(add_node(graph, "Conv", {"x", "w1", "b1"}, {"conv1"}, "conv1"), "pads", {1, 1, 1, 1});
  add_node(graph, "Relu", {"conv1"}, {"relu1"}, "relu1");
  onnx::NodeProto* pool = add_node(graph, "MaxPool", {"relu1"}, {"pool1"}, "pool1");
  set_ints(pool, "kernel_shape", {2, 2});
  set_ints(pool, "strides", {2, 2});
  add_node(graph, "Conv", {"pool1", "w2", "b2"}, {"y"}, "conv2");
  return write_model(model, path);
}

// x → Relu → MaxPool → y: points, but no weight, no bias, no Conv pair.
std::string write_weightless_net(const std::string& path) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, 3, 8, 8});
  add_output(graph, "y", {1, 3, 4, 4});
  add_node(graph, "Relu", {"x"}, {"relu1"}, "relu1");
  onnx::NodeProto* pool = add_node(graph, "MaxPool", {"relu1"}, {"y"}, "pool1");
  set_ints(pool, "kernel_shape", {2, 2});
  set_ints(pool, "strides", {2, 2});
  return write_model(model, path);
}

class AlgorithmBadInput : public CliRunner {
 protected:
  void SetUp() override {
    CliRunner::SetUp();
    calibration_ = write_calibration_folder(path("calibration"), 6, 900);
    one_sample_ = write_calibration_folder(path("one"), 1, 901);
  }
  QuantizeOptions options(const std::string& algorithm, const std::string& calibration) const {
    QuantizeOptions chosen;
    chosen.calibration = calibration;
    chosen.method = RangeMethod::minmax;
    chosen.sensitivity_samples = 2;
    chosen.adaround_iterations = 40;  // what is tested here is the handling, not the learning
    if (!algorithm.empty()) chosen.algorithms = parse_algorithm_list(algorithm);
    return chosen;
  }
  // Every parameter usable (finite scales > 0) and the model runs on sim with finite outputs.
  void expect_usable(const QuantizeResult& result, const std::string& algorithm) {
    for (const QuantizedTensor& tensor : result.tensors) {
      for (float scale : tensor.params.scales) {
        EXPECT_TRUE(std::isfinite(scale) && scale > 0) << algorithm << ": " << tensor.value << " scale " << scale;
      }
    }
    std::unique_ptr<engine::Engine> sim = simulate_quantized_model(result.model, "rk3588");
    std::unique_ptr<CalibrationSource> source = open_calibration_source(calibration_, ir::declared_inputs(result.model), {});
    const std::map<std::string, Tensor> outputs = sim->run(source->sample(0).inputs);
    for (const auto& [name, tensor] : outputs) {
      for (float value : tensor.to_float_vector()) ASSERT_TRUE(std::isfinite(value)) << algorithm << ": " << name;
    }
  }
  std::string calibration_;
  std::string one_sample_;
};

TEST_F(AlgorithmBadInput, OneCalibrationSampleIsRefusedNamingTheAlgorithmOrUsedAndSaidSo) {
  const std::string model = write_conv_bn_relu_net(path("net.onnx"));
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  for (const QuantizationAlgorithm& algorithm : quantization_algorithms()) {
    try {
      const QuantizeResult result = quantize_model(model, target, options(algorithm.name, one_sample_));
      ASSERT_EQ(result.algorithms.size(), 1u) << algorithm.name;
      EXPECT_EQ(result.algorithms[0].algorithm, algorithm.name);
      // An algorithm that reads calibration data says on how many samples it worked.
      if (algorithm.stage != AlgorithmStage::before_calibration) {
        bool said = false;
        for (const std::string& note : result.algorithms[0].notes) said = said || note.find("1 calibration sample") != std::string::npos;
        EXPECT_TRUE(said) << algorithm.name << " did not say it worked on 1 calibration sample";
      }
      expect_usable(result, algorithm.name);
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::invalid_argument) << algorithm.name << ": " << error.reason();
      EXPECT_EQ(error.reason().rfind(algorithm.name + ": ", 0), 0u) << error.reason();
      EXPECT_NE(error.reason().find("give at least"), std::string::npos) << error.reason();
    }
  }
}

TEST_F(AlgorithmBadInput, AnAllZeroLayerLeavesEveryAlgorithmWithUsableParameters) {
  const std::string model = write_dead_layer_net(path("dead.onnx"));
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  for (const QuantizationAlgorithm& algorithm : quantization_algorithms()) {
    const QuantizeResult result = quantize_model(model, target, options(algorithm.name, calibration_));
    ASSERT_EQ(result.algorithms.size(), 1u) << algorithm.name;
    expect_usable(result, algorithm.name);
    // No learned or corrected figure may be NaN.
    const AlgorithmOutcome& outcome = result.algorithms[0];
    if (outcome.before) EXPECT_FALSE(std::isnan(*outcome.before)) << algorithm.name;
    if (outcome.after) EXPECT_FALSE(std::isnan(*outcome.after)) << algorithm.name;
  }
}

TEST_F(AlgorithmBadInput, AnAlgorithmWithNothingToDoSaysSoAndChangesNothing) {
  const std::string model = write_weightless_net(path("weightless.onnx"));
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  const QuantizeResult plain = quantize_model(model, target, options("", calibration_));
  size_t weightless_ones = 0;
  for (const QuantizationAlgorithm& algorithm : quantization_algorithms()) {
    const QuantizeResult result = quantize_model(model, target, options(algorithm.name, calibration_));
    ASSERT_EQ(result.algorithms.size(), 1u) << algorithm.name;
    expect_usable(result, algorithm.name);
    const AlgorithmOutcome& outcome = result.algorithms[0];
    // clip-search also searches activation clips and sensitivity measures every layer: both have work here.
    if (algorithm.name == "clip-search" || algorithm.name == "sensitivity") continue;
    ++weightless_ones;
    EXPECT_TRUE(outcome.layers.empty()) << algorithm.name;
    bool said = false;
    for (const std::string& note : outcome.notes) {
      said = said || note.find("nothing to") != std::string::npos || note.find("no Conv") != std::string::npos;
    }
    EXPECT_TRUE(said) << algorithm.name << " did not say it had nothing to do";
    ASSERT_EQ(result.tensors.size(), plain.tensors.size()) << algorithm.name;
    for (size_t index = 0; index < plain.tensors.size(); ++index) {
      EXPECT_EQ(result.tensors[index].params.scales, plain.tensors[index].params.scales) << algorithm.name;
      EXPECT_EQ(result.tensors[index].params.zero_points, plain.tensors[index].params.zero_points) << algorithm.name;
    }
  }
  EXPECT_GE(weightless_ones, 5u);  // cle, adaround, block-reconstruction and both bias corrections at least
}

TEST_F(AlgorithmBadInput, KeepFloatOrKeepInt16BeyondTheLayerCountKeepsEveryCandidateAndSaysSo) {
  const std::string model = write_conv_bn_relu_net(path("net.onnx"));
  MixedPrecisionOptions mixed;
  mixed.keep_float = 50;
  const MixedPrecisionResult floats =
      quantize_with_mixed_precision(model, targets::find_builtin_target("rk3588"), options("", calibration_), mixed);
  EXPECT_GE(floats.float_layers.size(), 1u);
  EXPECT_LT(floats.float_layers.size(), 50u);
  const std::string expected = "--keep-float 50: only " + std::to_string(floats.float_layers.size()) + " layer(s)";
  bool said = false;
  for (const std::string& note : floats.quantized.algorithms[1].notes) said = said || note.rfind(expected, 0) == 0;
  EXPECT_TRUE(said) << expected;
  mixed.keep_float.reset();
  mixed.keep_int16 = 50;
  const MixedPrecisionResult sixteen =
      quantize_with_mixed_precision(model, targets::find_builtin_target("hailo8"), options("", calibration_), mixed);
  EXPECT_GE(sixteen.sixteen_bit_layers.size(), 1u);
  const std::string expected16 = "--keep-int16 50: only " + std::to_string(sixteen.sixteen_bit_layers.size()) + " candidate layer(s)";
  said = false;
  for (const std::string& note : sixteen.quantized.algorithms[1].notes) said = said || note.rfind(expected16, 0) == 0;
  EXPECT_TRUE(said) << expected16;
}

TEST_F(AlgorithmBadInput, CommandLineUnknownAlgorithmIsRefusedWithTheChoicesAndWritesNothing) {
  const std::string model = write_conv_bn_relu_net(path("net.onnx"));
  const CommandResult result = run("quantize '" + model + "' --target rk3588 --calibration '" + calibration_ +
                                   "' --algorithm cle,no-such-thing -o '" + path("q.onnx") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("'no-such-thing'"), std::string::npos) << result.err;
  for (const QuantizationAlgorithm& algorithm : quantization_algorithms()) {
    EXPECT_NE(result.err.find(algorithm.name), std::string::npos) << "the choices should list " << algorithm.name;
  }
  EXPECT_FALSE(fs::exists(path("q.onnx")));
  EXPECT_FALSE(fs::exists(path("q.quant.json")));
}

}  // namespace
}  // namespace npukit::testing
