// `quantize --algorithm cle` (src/quantization/algorithms/cross_layer_equalization.h): the float function is kept,
// the channel ranges of each pair come out equal, a per-tensor depthwise net gains SQNR, Clip(0, 6) is handled as
// documented, and a model without pairs is left alone.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ir/value_info.h"
#include "preparation/model_preparation.h"
#include "qalgo_fixtures.h"
#include "quantization/algorithms/layer_tools.h"
#include "quantization/quantization_algorithm.h"
#include "quantization/quantize_model.h"
#include "quantization_fixtures.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

class CrossLayerEqualization : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("npukit_cle_" + std::to_string(::getpid()));
    fs::create_directories(folder_);
    calibration_ = write_calibration_folder((folder_ / "calibration").string(), 8, 300);
    held_out_ = write_calibration_folder((folder_ / "held_out").string(), 8, 900);
  }
  void TearDown() override { fs::remove_all(folder_); }

  QuantizeResult quantize(const std::string& model, const std::string& algorithms, bool per_tensor) {
    QuantizeOptions options;
    options.calibration = calibration_;
    options.method = RangeMethod::minmax;
    options.settings.per_tensor = per_tensor;
    options.algorithms = parse_algorithm_list(algorithms);
    return quantize_model(model, targets::find_builtin_target("rk3588"), options);
  }

  fs::path folder_;
  std::string calibration_;
  std::string held_out_;
};

ir::Node* node_named(const ir::Model& model, const std::string& name) {
  for (const auto& node : model.graph->nodes()) {
    if (node->name == name) return node.get();
  }
  return nullptr;
}

TEST_F(CrossLayerEqualization, TheFloatModelComputesTheSameOutputsAfterEqualizationAndAbsorption) {
  const std::string model = write_depthwise_separable_net((folder_ / "relu.onnx").string(), "Relu");
  const QuantizeResult result = quantize(model, "cle", true);
  ASSERT_EQ(result.algorithms.size(), 1u);
  const AlgorithmOutcome& outcome = result.algorithms[0];
  EXPECT_EQ(outcome.algorithm, "cle");
  // The equalized float weights (result.model keeps them as float initializers) against the original, on the
  // calibration samples (absorption is exact there by construction: the shift is at most the observed minimum).
  const ir::Model original = preparation::load_prepared_model(model).model;
  std::unique_ptr<CalibrationSource> source = open_calibration_source(calibration_, ir::declared_inputs(original), {});
  const auto before = capture_float_values(original, {"y"}, *source, 0);
  const auto after = capture_float_values(result.model, {"y"}, *source, 0);
  for (size_t sample = 0; sample < before.size(); ++sample) {
    const std::vector<float> expected = before[sample].at("y").to_float_vector();
    const std::vector<float> actual = after[sample].at("y").to_float_vector();
    for (size_t element = 0; element < expected.size(); ++element) {
      ASSERT_NEAR(actual[element], expected[element], 1e-4 * (1.0 + std::fabs(expected[element])))
          << "sample " << sample << " element " << element;
    }
  }
  bool absorbed = false;
  for (const std::string& note : outcome.notes) {
    if (note.find("high-bias absorption") != std::string::npos && note.find(": 0 channel") == std::string::npos) absorbed = true;
  }
  EXPECT_TRUE(absorbed) << "the even channels of dw never go below zero: some bias should have been absorbed";
  // The weight grid use rose (1 = every channel spans the tensor's range).
  ASSERT_TRUE(outcome.before && outcome.after);
  EXPECT_GT(*outcome.after, *outcome.before + 0.2);
}

TEST_F(CrossLayerEqualization, EachPairsChannelRangesComeOutEqual) {
  const std::string model = write_depthwise_separable_net((folder_ / "relu.onnx").string(), "Relu");
  const QuantizeResult result = quantize(model, "cle", true);
  const std::optional<LinearLayer> first = linear_layer(node_named(result.model, "c1"));
  const std::optional<LinearLayer> depthwise = linear_layer(node_named(result.model, "dw"));
  const std::optional<LinearLayer> last = linear_layer(node_named(result.model, "c3"));
  ASSERT_TRUE(first && depthwise && last);
  ASSERT_TRUE(depthwise->depthwise());
  const auto first_rows = weight_rows(*first);
  const auto depthwise_rows = weight_rows(*depthwise);
  const auto last_rows = weight_rows(*last);
  auto largest = [](const std::vector<float>& values) {
    double result = 0;
    for (float value : values) result = std::max(result, std::fabs(static_cast<double>(value)));
    return result;
  };
  for (size_t channel = 0; channel < 8; ++channel) {
    // Pair (c1, dw): output channel of c1 against the depthwise channel (which is both its input and output).
    // Pair (dw, c3): the depthwise channel against column `channel` of c3. At the fixed point of the sweeps the
    // three ranges of a channel agree.
    double column = 0;
    for (const auto& row : last_rows) column = std::max(column, std::fabs(static_cast<double>(row[channel])));
    const double r1 = largest(first_rows[channel]);
    const double r2 = largest(depthwise_rows[channel]);
    EXPECT_NEAR(r1 / r2, 1.0, 1e-3) << "channel " << channel;
    EXPECT_NEAR(r2 / column, 1.0, 1e-3) << "channel " << channel;
  }
}

TEST_F(CrossLayerEqualization, ADepthwiseNetWithSpreadChannelsGainsSqnrPerTensorOnHeldOutSamples) {
  const std::string model = write_depthwise_separable_net((folder_ / "relu.onnx").string(), "Relu");
  const double plain = simulated_output_sqnr(quantize(model, "", true), model, held_out_, "rk3588");
  const double equalized = simulated_output_sqnr(quantize(model, "cle", true), model, held_out_, "rk3588");
  EXPECT_GT(equalized, plain + 6.0) << "plain " << plain << " dB, cle " << equalized << " dB";
}

TEST_F(CrossLayerEqualization, ClipFromZeroStaysAndTheChannelsThatReachItKeepTheirScale) {
  const std::string model = write_depthwise_separable_net((folder_ / "clip.onnx").string(), "Clip");
  const QuantizeResult result = quantize(model, "cle", true);
  EXPECT_EQ(node_named(result.model, "a1")->op_type, "Clip");
  EXPECT_EQ(node_named(result.model, "a2")->op_type, "Clip");
  // The float function is kept on the calibration data although Clip(0, 6) is cut in many channels.
  const ir::Model original = preparation::load_prepared_model(model).model;
  std::unique_ptr<CalibrationSource> source = open_calibration_source(calibration_, ir::declared_inputs(original), {});
  const auto before = capture_float_values(original, {"y"}, *source, 0);
  const auto after = capture_float_values(result.model, {"y"}, *source, 0);
  for (size_t sample = 0; sample < before.size(); ++sample) {
    const std::vector<float> expected = before[sample].at("y").to_float_vector();
    const std::vector<float> actual = after[sample].at("y").to_float_vector();
    for (size_t element = 0; element < expected.size(); ++element) {
      ASSERT_NEAR(actual[element], expected[element], 1e-4 * (1.0 + std::fabs(expected[element]))) << element;
    }
  }
  // Channels of c1 and dw with maxima above 6 (the fixture's large even channels) were held at their scale: their
  // weights are unchanged; some other channel moved.
  const ir::Model prepared = preparation::load_prepared_model(model).model;
  const auto original_rows = weight_rows(*linear_layer(node_named(prepared, "c1")));
  const auto equalized_rows = weight_rows(*linear_layer(node_named(result.model, "c1")));
  const auto maxima = capture_float_values(original, {"c1"}, *source, 0);
  size_t held = 0, moved = 0;
  for (size_t channel = 0; channel < 8; ++channel) {
    double maximum = -1e30;
    for (const auto& row : maxima) {
      const std::vector<float> values = row.at("c1").to_float_vector();
      for (size_t index = channel * 64; index < (channel + 1) * 64; ++index) maximum = std::max<double>(maximum, values[index]);
    }
    if (maximum > 6.0) {
      EXPECT_EQ(equalized_rows[channel], original_rows[channel]) << "channel " << channel << " reached 6";
      ++held;
    } else if (equalized_rows[channel] != original_rows[channel]) {
      ++moved;
    }
  }
  EXPECT_GT(held, 0u);
  EXPECT_GT(moved, 0u);
  bool noted = false;
  for (const std::string& note : result.algorithms.at(0).notes) {
    if (note.find("reached c on the calibration data and keep their scale") != std::string::npos) noted = true;
  }
  EXPECT_TRUE(noted);
}

TEST_F(CrossLayerEqualization, AModelWithoutPairsIsLeftAloneWithANote) {
  // conv1 → BN → Relu → MaxPool → conv2: the MaxPool between the Convs is no pair CLE handles.
  const std::string model = write_conv_bn_relu_net((folder_ / "net.onnx").string());
  const QuantizeResult plain = quantize(model, "", true);
  const QuantizeResult result = quantize(model, "cle", true);
  const AlgorithmOutcome& outcome = result.algorithms.at(0);
  ASSERT_EQ(outcome.notes.size(), 1u);
  EXPECT_NE(outcome.notes[0].find("nothing to equalize"), std::string::npos);
  EXPECT_FALSE(outcome.before.has_value());
  for (const auto& node : result.model.graph->nodes()) {
    if (node->op_type != "Conv") continue;
    const std::vector<float> equalized = node->input(1)->initializer->to_float_vector();
    const std::vector<float> untouched = node_named(plain.model, node->name)->input(1)->initializer->to_float_vector();
    EXPECT_EQ(equalized, untouched);
  }
}

}  // namespace
}  // namespace npukit::testing
