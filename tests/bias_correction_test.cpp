// `quantize --algorithm bias-correction` / `bias-correction-analytic` (src/quantization/algorithms/
// bias_correction.h): the per-channel mean error of every corrected layer is ~0 afterwards on the calibration data,
// the output SQNR is not worse, and one calibration sample is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "npukit/error.h"
#include "qalgo_fixtures.h"
#include "quantization/quantization_algorithm.h"
#include "quantization/quantize_model.h"
#include "quantization_fixtures.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

class BiasCorrection : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("npukit_bias_correction_" + std::to_string(::getpid()));
    fs::create_directories(folder_);
    model_ = write_depthwise_separable_net((folder_ / "net.onnx").string(), "Relu");
    calibration_ = write_calibration_folder((folder_ / "calibration").string(), 8, 300);
  }
  void TearDown() override { fs::remove_all(folder_); }

  QuantizeResult quantize(const std::string& algorithms, const std::string& calibration) {
    QuantizeOptions options;
    options.calibration = calibration;
    options.method = RangeMethod::minmax;
    options.settings.per_tensor = true;  // coarse weights: a clear systematic error to correct
    options.algorithms = parse_algorithm_list(algorithms);
    return quantize_model(model_, targets::find_builtin_target("rk3588"), options);
  }

  fs::path folder_;
  std::string model_;
  std::string calibration_;
};

TEST_F(BiasCorrection, EveryCorrectedLayersMeanErrorPerChannelIsNearZeroOnTheCalibrationData) {
  const QuantizeResult result = quantize("bias-correction", calibration_);
  ASSERT_EQ(result.algorithms.size(), 1u);
  const AlgorithmOutcome& outcome = result.algorithms[0];
  ASSERT_EQ(outcome.layers.size(), 3u);  // c1, dw, c3
  // Where each layer's output is measured (after its Relu, or the graph output) and its bias.
  const std::map<std::string, std::pair<std::string, std::string>> measured = {
      {"c1", {"a1", "b1"}}, {"dw", {"a2", "b2"}}, {"c3", {"y", "b3"}}};
  bool some_error = false;
  for (const LayerOutcome& layer : outcome.layers) {
    ASSERT_TRUE(layer.before && layer.after) << layer.node;
    // The bias moves on its own grid (s_x · s_w): with coarse per-tensor weights one bias step can be a good part
    // of an output step, and a correction lands within half a bias step of the ideal.
    const auto& [output, bias] = measured.at(layer.node);
    const double output_step = result.model.graph->find_value(output)->quant->scales[0];
    double bias_step = 0;
    for (float scale : result.model.graph->find_value(bias)->quant->scales) bias_step = std::max<double>(bias_step, scale);
    const double bound = 0.05 + 0.5 * bias_step / output_step;
    // After: the mean over channels of |mean error| (in output steps, LSB) is within that bound.
    EXPECT_LT(*layer.after, bound) << layer.node << " before " << *layer.before;
    EXPECT_LT(*layer.after, *layer.before) << layer.node;
    if (*layer.before > 0.1) some_error = true;
  }
  EXPECT_TRUE(some_error) << "the fixture should start with a visible mean error somewhere";
}

TEST_F(BiasCorrection, TheSimulatedOutputIsNotWorse) {
  const double plain = simulated_output_sqnr(quantize("", calibration_), model_, calibration_, "rk3588");
  const double corrected = simulated_output_sqnr(quantize("bias-correction", calibration_), model_, calibration_, "rk3588");
  EXPECT_GE(corrected, plain - 0.05) << "plain " << plain << " dB, corrected " << corrected << " dB";
}

TEST_F(BiasCorrection, TheAnalyticVariantCorrectsEveryLayerAndKeepsTheOutput) {
  const QuantizeResult result = quantize("bias-correction-analytic", calibration_);
  const AlgorithmOutcome& outcome = result.algorithms.at(0);
  EXPECT_EQ(outcome.algorithm, "bias-correction-analytic");
  EXPECT_EQ(outcome.layers.size(), 3u);
  const double plain = simulated_output_sqnr(quantize("", calibration_), model_, calibration_, "rk3588");
  const double corrected = simulated_output_sqnr(result, model_, calibration_, "rk3588");
  EXPECT_GE(corrected, plain - 0.5) << "plain " << plain << " dB, analytic " << corrected << " dB";
}

TEST_F(BiasCorrection, OneCalibrationSampleIsTooLittleAndSaysSo) {
  const std::string one = write_calibration_folder((folder_ / "one").string(), 1, 300);
  for (const char* name : {"bias-correction", "bias-correction-analytic"}) {
    try {
      quantize(name, one);
      FAIL() << name << " accepted a single calibration sample";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
      EXPECT_NE(error.reason().find("too few"), std::string::npos) << error.reason();
      EXPECT_NE(error.reason().find("at least 2"), std::string::npos) << error.reason();
    }
  }
}

}  // namespace
}  // namespace npukit::testing
