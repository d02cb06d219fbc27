// The seam of `quantize --algorithm` (quantization_algorithm.h): the list parser, the shared tools
// (float capture, SQNR, bias refresh) and the manifest's algorithms section.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "npukit/error.h"
#include "quantization/quantization_algorithm.h"
#include "quantization/quantization_manifest.h"
#include "quantization/quantize_model.h"
#include "quantization_fixtures.h"
#include "engine/engine.h"
#include "ir/value_info.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

TEST(QuantizationAlgorithmList, EmptyTextIsNoAlgorithmAndAnUnknownNameIsRefusedWithTheChoices) {
  EXPECT_TRUE(parse_algorithm_list("").empty());
  EXPECT_TRUE(parse_algorithm_list(",").empty());
  try {
    parse_algorithm_list("no-such-algorithm");
    FAIL() << "an unknown algorithm was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(error.reason().find("'no-such-algorithm'"), std::string::npos) << error.reason();
  }
  for (const QuantizationAlgorithm& algorithm : quantization_algorithms()) {
    const auto chosen = parse_algorithm_list(algorithm.name);
    ASSERT_EQ(chosen.size(), 1u);
    EXPECT_EQ(chosen[0]->name, algorithm.name);
    EXPECT_TRUE(static_cast<bool>(algorithm.apply)) << algorithm.name;
  }
}

TEST(QuantizationAlgorithmTools, SqnrOfAHandComputedPair) {
  const Tensor reference = Tensor::from_vector<float>(DType::f32, {4}, {1, 2, 3, 4});
  const Tensor measured = Tensor::from_vector<float>(DType::f32, {4}, {1, 2, 3, 5});
  // signal 1 + 4 + 9 + 16 = 30, noise 1: 10 log10 30.
  EXPECT_NEAR(sqnr_db(reference, measured), 10.0 * std::log10(30.0), 1e-12);
  EXPECT_TRUE(std::isinf(sqnr_db(reference, reference)));
  EXPECT_THROW(sqnr_db(reference, Tensor::from_vector<float>(DType::f32, {1}, {1})), Error);
}

class QuantizationAlgorithmSeam : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("npukit_algorithm_seam_" + std::to_string(::getpid()));
    fs::create_directories(folder_);
    model_ = write_conv_bn_relu_net((folder_ / "net.onnx").string());
    calibration_ = write_calibration_folder((folder_ / "calibration").string(), 8, 300);
  }
  void TearDown() override { fs::remove_all(folder_); }
  fs::path folder_;
  std::string model_;
  std::string calibration_;
};

TEST_F(QuantizationAlgorithmSeam, CapturedFloatValuesMatchTheQuantizedModelsSimulationWithinItsGrid) {
  QuantizeOptions options;
  options.calibration = calibration_;
  options.method = RangeMethod::minmax;
  const QuantizeResult result = quantize_model(model_, targets::find_builtin_target("rk3588"), options);
  std::unique_ptr<CalibrationSource> source =
      open_calibration_source(calibration_, ir::declared_inputs(result.model), {});
  const auto captured = capture_float_values(result.model, {"x", "relu1", "y"}, *source, 3);
  ASSERT_EQ(captured.size(), 3u);
  EXPECT_EQ(captured[0].at("relu1").shape(), (Shape{1, 4, 8, 8}));
  EXPECT_EQ(captured[2].at("x").shape(), (Shape{1, 3, 8, 8}));
  std::unique_ptr<engine::Engine> simulated = simulate_quantized_model(result.model, "rk3588");
  const auto outputs = simulated->run({{"x", captured[0].at("x")}});
  // An int8 simulation of a two-conv net on data it was calibrated on stays well above 25 dB.
  EXPECT_GT(sqnr_db(captured[0].at("y"), outputs.at("y")), 25.0);
}

TEST_F(QuantizationAlgorithmSeam, RefreshedBiasParametersFollowAChangedWeightScale) {
  QuantizeOptions options;
  options.calibration = calibration_;
  options.method = RangeMethod::minmax;
  QuantizeResult result = quantize_model(model_, targets::find_builtin_target("rk3588"), options);
  const QuantizationPlan plan = plan_quantization_points(*result.model.graph, result.spec, {});
  const PlannedPoint* bias = nullptr;
  for (const PlannedPoint& point : plan.points) {
    if (point.role == PointRole::bias) bias = &point;
  }
  ASSERT_NE(bias, nullptr);
  ir::Value* weight = result.model.graph->find_value(bias->bias_weight);
  ASSERT_TRUE(weight->quant.has_value());
  for (float& scale : weight->quant->scales) scale *= 2.0f;
  refresh_bias_parameters(result.model, plan, result.tensors);
  const ir::Value* input = result.model.graph->find_value(bias->bias_input);
  const ir::Value* bias_value = result.model.graph->find_value(bias->value);
  for (size_t channel = 0; channel < weight->quant->scales.size(); ++channel) {
    EXPECT_FLOAT_EQ(bias_value->quant->scales[channel], input->quant->scales[0] * weight->quant->scales[channel]);
  }
}

TEST(QuantizationAlgorithmManifest, OutcomesAppearInTheMarkdown) {
  AlgorithmOutcome outcome;
  outcome.algorithm = "example";
  outcome.metric = "output SQNR (dB)";
  outcome.before = 20.0;
  outcome.after = 26.5;
  outcome.layers.push_back({"conv1", 18.0, 25.0, "rounding learned"});
  outcome.notes.push_back("a note");
  const std::string markdown = algorithm_outcomes_markdown({outcome});
  EXPECT_NE(markdown.find("| example | output SQNR (dB) | 20 | 26.5 |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| conv1 | 18 | 25 | rounding learned |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("- a note"), std::string::npos) << markdown;
}

}  // namespace
}  // namespace npukit::testing
