// `quantize --algorithm clip-search` (src/quantization/algorithms/clipping_search.h): the chosen weight clip never
// gives a layer more output error than no clipping on the calibration data (measured here independently, on the
// reference backend), and an activation with one huge outlier gets clipped.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/npy.h"
#include "ir/value_info.h"
#include "preparation/model_preparation.h"
#include "qalgo_fixtures.h"
#include "quantization/algorithms/layer_tools.h"
#include "quantization/quantization_algorithm.h"
#include "quantization/quantize.h"
#include "quantization/quantize_model.h"
#include "quantization_fixtures.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

class ClippingSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("npukit_clip_search_" + std::to_string(::getpid()));
    fs::create_directories(folder_);
    model_ = write_depthwise_separable_net((folder_ / "net.onnx").string(), "Relu");
    calibration_ = write_calibration_folder((folder_ / "calibration").string(), 8, 300);
  }
  void TearDown() override { fs::remove_all(folder_); }

  QuantizeResult quantize(const std::string& algorithms, const std::string& calibration, bool per_tensor) {
    QuantizeOptions options;
    options.calibration = calibration;
    options.method = RangeMethod::minmax;
    options.settings.per_tensor = per_tensor;
    options.algorithms = parse_algorithm_list(algorithms);
    return quantize_model(model_, targets::find_builtin_target("rk3588"), options);
  }

  // Σ over the calibration samples of (layer output with `weight` on its grid − float layer output)², the rest of
  // the model float: each layer judged on its own weight quantization.
  double layer_output_error(const std::string& weight, const ir::QuantParams& params, const std::string& output) {
    const ir::Model original = preparation::load_prepared_model(model_).model;
    ir::Model changed = original.clone();
    ir::Value* value = changed.graph->find_value(weight);
    const Tensor stored = quantize_tensor(*value->initializer, params);
    std::vector<float> dequantized(static_cast<size_t>(stored.element_count()));
    for (int64_t index = 0; index < stored.element_count(); ++index) {
      const size_t channel = parameter_index(params, value->initializer->shape(), index);
      dequantized[static_cast<size_t>(index)] = static_cast<float>(
          (stored.value_as_double(index) - static_cast<double>(params.zero_point(channel))) * params.scales[channel]);
    }
    value->initializer = Tensor::from_vector<float>(DType::f32, value->initializer->shape(), dequantized);
    std::unique_ptr<CalibrationSource> source = open_calibration_source(calibration_, ir::declared_inputs(original), {});
    const auto expected = capture_float_values(original, {output}, *source, 0);
    const auto actual = capture_float_values(changed, {output}, *source, 0);
    double error = 0;
    for (size_t sample = 0; sample < expected.size(); ++sample) {
      const std::vector<float> a = expected[sample].at(output).to_float_vector();
      const std::vector<float> b = actual[sample].at(output).to_float_vector();
      for (size_t element = 0; element < a.size(); ++element) error += (a[element] - b[element]) * (a[element] - b[element]);
    }
    return error;
  }

  fs::path folder_;
  std::string model_;
  std::string calibration_;
};

const QuantizedTensor& record_of(const QuantizeResult& result, const std::string& value) {
  for (const QuantizedTensor& record : result.tensors) {
    if (record.value == value) return record;
  }
  throw std::runtime_error("no record of " + value);
}

TEST_F(ClippingSearch, TheChosenWeightClipNeverGivesMoreLayerOutputErrorThanNone) {
  for (const bool per_tensor : {true, false}) {
    const QuantizeResult plain = quantize("", calibration_, per_tensor);
    const QuantizeResult clipped = quantize("clip-search", calibration_, per_tensor);
    size_t changed = 0;
    // The layers' outputs before their Relu: c1 and dw (pre-activation values), y for c3.
    for (const auto& [weight, output] : std::vector<std::pair<std::string, std::string>>{{"w1", "c1"}, {"w2", "dw"}, {"w3", "y"}}) {
      const ir::QuantParams& unclipped = record_of(plain, weight).params;
      const ir::QuantParams& chosen = record_of(clipped, weight).params;
      if (!(chosen == unclipped)) ++changed;
      const double none = layer_output_error(weight, unclipped, output);
      const double with_clip = layer_output_error(weight, chosen, output);
      EXPECT_LE(with_clip, none * (1 + 1e-6) + 1e-12)
          << weight << (per_tensor ? " per tensor" : " per channel") << ": " << with_clip << " > " << none;
    }
    EXPECT_GT(changed, 0u) << (per_tensor ? "per tensor" : "per channel") << ": no weight scale was clipped at all";
    // The outcome's own figures agree in direction.
    const AlgorithmOutcome& outcome = clipped.algorithms.at(0);
    for (const LayerOutcome& layer : outcome.layers) {
      ASSERT_TRUE(layer.before && layer.after) << layer.node;
      EXPECT_GE(*layer.after, *layer.before) << layer.node;  // SQNR in dB: not lower
    }
  }
}

TEST_F(ClippingSearch, AnInputWithOneHugeOutlierGetsClipped) {
  // 8 samples of [1,3,64,64] in [-1, 1), one element of one sample 1000: on ~10^5 elements one outlier costs more
  // grid resolution than clipping it costs error (the MSE optimum clips near 0.9 of the range; the sampled patches,
  // which most likely miss the outlier, clip further).
  model_ = write_depthwise_separable_net((folder_ / "large.onnx").string(), "Relu", 64);
  const fs::path folder = folder_ / "outlier";
  fs::create_directories(folder);
  for (int index = 0; index < 8; ++index) {
    std::vector<float> values = seeded_values(3 * 64 * 64, 500 + static_cast<uint32_t>(index), -1.0f, 1.0f);
    if (index == 3) values[1234] = 1000.0f;
    write_npy((folder / ("sample_" + std::to_string(index) + ".npy")).string(),
              Tensor::from_vector<float>(DType::f32, {1, 3, 64, 64}, values));
  }
  const QuantizeResult plain = quantize("", folder.string(), true);
  const QuantizeResult clipped = quantize("clip-search", folder.string(), true);
  EXPECT_NEAR(record_of(plain, "x").range_maximum, 1000.0, 1e-3);
  const QuantizedTensor& chosen = record_of(clipped, "x");
  EXPECT_LT(chosen.range_maximum, 1000.0 * 0.95) << "the outlier should have been clipped";
  EXPECT_LT(chosen.params.scales[0], record_of(plain, "x").params.scales[0]);
  // The first layer's bias follows the input's new scale (s_x · s_w).
  const ir::Value* bias = clipped.model.graph->find_value("b1");
  const ir::Value* weight = clipped.model.graph->find_value("w1");
  ASSERT_TRUE(bias->quant && weight->quant);
  EXPECT_FLOAT_EQ(bias->quant->scales[0], chosen.params.scales[0] * weight->quant->scales[0]);
}

}  // namespace
}  // namespace npukit::testing
