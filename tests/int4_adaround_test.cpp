// AdaRound on 4-bit weights per group (quantization/algorithms/learned_rounding.cpp follows the sim's per-group
// arithmetic: int32 group sums rescaled onto the channel's coarsest group scale, rounded once, then the target's
// requantization), and the short-dot-product rule (--int4-min-inputs: layers with few inputs per output keep
// 8-bit weights, listed with the reason). What is asserted: the learned rounding beats nearest on the layers' own
// rows; the sim computes exactly what the optimizer predicted; an all-zero group and a group of denormal weights
// do not blow up; the rule keeps the right layers, says so and counts the share of weights left on 4 bits; bad
// values of the option are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cli_runner.h"
#include "core/npy.h"
#include "engine/engine.h"
#include "npukit/error.h"
#include "onnx_test_models.h"
#include "quantization/algorithms/learned_rounding.h"
#include "quantization/quantization_manifest.h"
#include "quantization/quantize.h"
#include "quantization/quantize_model.h"
#include "quantization_fixtures.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

// x[1,8,10,10] → Conv(8→6, 3×3, pad 1: 72 inputs per output, groups of 32 are 32, 32 and a short 8) → Relu →
// Conv(6→4, 1×1: 6 inputs) → y. `first_weights` replaces the first conv's seeded weights when given.
std::string write_grouped_net(const std::string& path, std::vector<float> first_weights = {}) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, 8, 10, 10});
  add_output(graph, "y", {1, 4, 10, 10});
  if (first_weights.empty()) first_weights = seeded_values(432, 21, -0.4f, 0.4f);
  add_float_initializer(graph, "w1", {6, 8, 3, 3}, first_weights);
  add_float_initializer(graph, "b1", {6}, seeded_values(6, 22, -0.1f, 0.1f));
  add_float_initializer(graph, "w2", {4, 6, 1, 1}, seeded_values(24, 23, -0.5f, 0.5f));
  add_float_initializer(graph, "b2", {4}, seeded_values(4, 24, -0.1f, 0.1f));
  onnx::NodeProto* conv = add_node(graph, "Conv", {"x", "w1", "b1"}, {"conv1"}, "conv1");
  onnx::AttributeProto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  add_node(graph, "Relu", {"conv1"}, {"relu1"}, "relu1");
  add_node(graph, "Conv", {"relu1", "w2", "b2"}, {"y"}, "conv2");
  return write_model(model, path);
}

// Smooth pictures (neighbouring pixels and channels alike): correlated inputs, where rounding can be learned.
std::string write_smooth_calibration(const fs::path& folder, int count) {
  fs::create_directories(folder);
  for (int index = 0; index < count; ++index) {
    const std::vector<float> noise = seeded_values(800, 900 + static_cast<uint32_t>(index), -1.0f, 1.0f);
    std::vector<float> picture(800);
    for (int c = 0; c < 8; ++c) {
      for (int h = 0; h < 10; ++h) {
        for (int w = 0; w < 10; ++w) {
          picture[(c * 10 + h) * 10 + w] = 0.5f * noise[c] + 0.4f * std::sin(0.5f * h + noise[8 + c]) * std::cos(0.3f * w + c) +
                                           0.15f * noise[(c * 10 + h) * 10 + w];
        }
      }
    }
    write_npy((folder / ("sample_" + std::to_string(index) + ".npy")).string(),
              Tensor::from_vector<float>(DType::f32, {1, 8, 10, 10}, picture));
  }
  return folder.string();
}

class Int4Adaround : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("npukit_int4_adaround_" + std::to_string(::getpid()));
    fs::create_directories(folder_);
    model_ = write_grouped_net((folder_ / "net.onnx").string());
    calibration_ = write_smooth_calibration(folder_ / "calibration", 6);
  }
  void TearDown() override { fs::remove_all(folder_); }

  QuantizeOptions options(bool adaround, int64_t minimum_inputs) const {
    QuantizeOptions options;
    options.calibration = calibration_;
    options.method = RangeMethod::minmax;
    options.settings.weights = targets::StorageGrid::int4;
    options.settings.group_size = 32;
    options.settings.int4_minimum_inputs = minimum_inputs;
    options.adaround_iterations = 400;
    if (adaround) options.algorithms = parse_algorithm_list("adaround");
    return options;
  }

  fs::path folder_;
  std::string model_;
  std::string calibration_;
};

TEST_F(Int4Adaround, GroupedLayersAreLearnedAndBeatNearestOnTheirRows) {
  const QuantizeResult result = quantize_model(model_, targets::find_builtin_target("qualcomm-htp"), options(true, 0));
  const AlgorithmOutcome& outcome = result.algorithms.at(0);
  for (const std::string& note : outcome.notes) EXPECT_EQ(note.find("left at nearest"), std::string::npos) << note;
  ASSERT_EQ(outcome.layers.size(), 2u) << "the grouped conv1 and the per-channel conv2 are both learned";
  bool strictly_better = false;
  for (const LayerOutcome& layer : outcome.layers) {
    ASSERT_TRUE(layer.before && layer.after) << layer.node << ": " << layer.detail;
    EXPECT_GE(*layer.after, *layer.before) << layer.node;
    strictly_better |= *layer.after > *layer.before + 0.1;
  }
  EXPECT_TRUE(strictly_better) << "learned rounding should beat nearest on a 4-bit layer";
  const ir::Value* w1 = result.model.graph->find_value("w1");
  ASSERT_TRUE(w1->quant && w1->quant->group_size == 32);
}

// A stand-in calibration source for a context whose samples are not read.
class NoSamples : public CalibrationSource {
 public:
  size_t size() const override { return 0; }
  CalibrationSample sample(size_t) override { throw Error(ErrorKind::internal, "no samples"); }
  std::string describe() const override { return "none"; }
};

TEST_F(Int4Adaround, TheSimComputesExactlyWhatTheOptimizerPredicts) {
  const targets::TargetProfile& target = targets::find_builtin_target("qualcomm-htp");
  QuantizeOptions settings = options(true, 0);
  QuantizeResult result = quantize_model(model_, target, settings);
  // The layers as the optimizer sees them, read from the learned model (its weights now lie on the learned
  // integers: their nearest rounding is what was learned).
  NoSamples none;
  const QuantizationPlan plan;
  AlgorithmContext context{result.model, target, plan, settings, none};
  std::vector<std::string> skipped;
  const std::vector<LinearLayer> layers = find_linear_layers(context, skipped);
  EXPECT_TRUE(skipped.empty()) << skipped.front();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].weight_group_size, 32);
  EXPECT_EQ(layers[0].groups_per_output, 3);
  EXPECT_EQ(layers[1].weight_group_size, 0);

  std::unique_ptr<engine::Engine> sim =
      simulate_quantized_model(result.model, target.id, {"x_quantized", "relu1_quantized", "y_quantized"});
  for (size_t index = 0; index < 2; ++index) {
    sim->set_input("x", read_npy(calibration_ + "/sample_" + std::to_string(index) + ".npy"));
    sim->run();
    for (const LinearLayer& layer : layers) {
      const Tensor& input = sim->output(layer.input_value + "_quantized");
      const Tensor& output = sim->output(layer.output_value + "_quantized");
      const int64_t positions = output_positions(layer, output.shape());
      std::vector<int16_t> patches;
      for (int64_t position = 0; position < positions; ++position) append_input_patch(layer, input, output.shape(), position, patches);
      const std::vector<float> rows(patches.begin(), patches.end());
      std::vector<float> predicted;
      layer_forward(layer, rows.data(), static_cast<size_t>(positions), centred_weights(layer, layer.nearest), predicted, nullptr);
      std::vector<float> simulated;
      for (int64_t position = 0; position < positions; ++position) {
        std::vector<float> row;
        append_output_row(layer, output, position, row);
        for (float q : row) simulated.push_back(layer.output_scale * (q - static_cast<float>(layer.output_stage.zero_point)));
      }
      ASSERT_EQ(predicted.size(), simulated.size());
      size_t different = 0;
      for (size_t i = 0; i < predicted.size(); ++i) different += predicted[i] != simulated[i];
      EXPECT_EQ(different, 0u) << layer.node->name << ": " << different << " of " << predicted.size() << " outputs differ";
    }
  }
}

TEST_F(Int4Adaround, AnAllZeroGroupAndADenormalGroupDoNotBlowUp) {
  std::vector<float> weights = seeded_values(432, 31, -0.4f, 0.4f);
  for (int k = 32; k < 64; ++k) weights[0 * 72 + k] = 0.0f;     // channel 0, group 1: zeros
  for (int k = 0; k < 32; ++k) weights[1 * 72 + k] = (k % 2 ? 1e-39f : -2e-39f);  // channel 1, group 0: denormals
  const std::string model = write_grouped_net((folder_ / "odd.onnx").string(), weights);
  const QuantizeResult result = quantize_model(model, targets::find_builtin_target("qualcomm-htp"), options(true, 0));
  const ir::Value* w1 = result.model.graph->find_value("w1");
  ASSERT_TRUE(w1->quant);
  const std::vector<float>& scales = w1->quant->scales;  // [6 channels, 3 groups]
  ASSERT_EQ(scales.size(), 18u);
  // The zero group takes its channel's coarsest other scale, not 1: it must not become the channel's reference.
  EXPECT_EQ(scales[1], std::max(scales[0], scales[2]));
  EXPECT_LT(scales[1], 1.0f);
  EXPECT_GT(scales[3], 0.0f);
  EXPECT_LT(scales[3], 1e-38f) << "the denormal group keeps its own (denormal) scale";
  const AlgorithmOutcome& outcome = result.algorithms.at(0);
  ASSERT_TRUE(outcome.before && outcome.after);
  EXPECT_TRUE(std::isfinite(*outcome.before) && std::isfinite(*outcome.after));
  for (const LayerOutcome& layer : outcome.layers) {
    ASSERT_TRUE(layer.before && layer.after) << layer.node;
    EXPECT_TRUE(std::isfinite(*layer.before) && std::isfinite(*layer.after)) << layer.node;
  }
  const std::vector<float> stored = w1->initializer->to_float_vector();
  for (float value : stored) EXPECT_TRUE(std::isfinite(value));
  for (int k = 32; k < 64; ++k) EXPECT_EQ(stored[k], 0.0f) << "a zero stays zero";
  const Tensor integers = quantize_tensor(*w1->initializer, *w1->quant);
  for (int k = 0; k < 32; ++k) EXPECT_LE(std::abs(integers.value_as_int64(72 + k)), 8) << k;
}

TEST_F(Int4Adaround, ShortLayersKeepEightBitWeightsAndAreListedWithTheShareOnFourBits) {
  // Default threshold (64): conv2 has 6 inputs per output and stays int8; conv1 (72) is int4 per group.
  const QuantizeResult result = quantize_model(model_, targets::find_builtin_target("qualcomm-htp"), options(false, -1));
  for (const QuantizedTensor& tensor : result.tensors) {
    if (tensor.role != PointRole::weight) continue;
    if (tensor.value == "w1") {
      EXPECT_EQ(tensor.params.storage, DType::i4);
      EXPECT_EQ(tensor.precision_reason, "");
    } else {
      EXPECT_EQ(tensor.params.storage, DType::i8);
      EXPECT_EQ(tensor.params.bits(), 8);
      EXPECT_EQ(tensor.precision_reason, "8 bits: 6 inputs per output < --int4-min-inputs 64");
    }
  }
  std::string note;
  for (const std::string& line : result.notes) {
    if (line.find("4-bit weights on") != std::string::npos) note = line;
  }
  EXPECT_NE(note.find("4-bit weights on 94.7% of the quantized weights (432 of 456)"), std::string::npos) << note;
  EXPECT_NE(note.find("conv2 (6)"), std::string::npos) << note;
  EXPECT_NE(manifest_json(result).find("\"precision_reason\": \"8 bits: 6 inputs per output"), std::string::npos);
  EXPECT_NE(manifest_markdown(result).find(" (8 bits: 6 inputs per output < --int4-min-inputs 64) | "), std::string::npos);
  // The file runs on the sim: int8 and int4 weights side by side.
  const std::string output = (folder_ / "mixed.onnx").string();
  write_quantized_model(result, output);
  std::unique_ptr<engine::Engine> sim = simulate_quantized_model(result.model, "qualcomm-htp");
  sim->set_input("x", read_npy(calibration_ + "/sample_0.npy"));
  sim->run();
  EXPECT_EQ(sim->output("y").element_count(), 400);

  // Off (0): every weight on 4 bits, and the note says so.
  const QuantizeResult all = quantize_model(model_, targets::find_builtin_target("qualcomm-htp"), options(false, 0));
  for (const QuantizedTensor& tensor : all.tensors) {
    if (tensor.role == PointRole::weight) EXPECT_EQ(tensor.params.storage, DType::i4) << tensor.value;
  }
  bool said = false;
  for (const std::string& line : all.notes) said |= line.find("100.0% of the quantized weights (456 of 456); --int4-min-inputs 0") != std::string::npos;
  EXPECT_TRUE(said);
}

class Int4MinimumInputsCli : public CliRunner {};

TEST_F(Int4MinimumInputsCli, NegativeAbsurdOrWithoutInt4WeightsIsRefused) {
  const fs::path folder = directory_;
  const std::string model = write_grouped_net((folder / "net.onnx").string());
  const std::string calibration = write_smooth_calibration(folder / "calibration", 2);
  const std::string base = "quantize '" + model + "' --target qualcomm-htp --calibration '" + calibration + "' -o '" +
                           path("q.onnx") + "'";
  for (const std::string value : {"-3", "100000"}) {
    const CommandResult result = run(base + " --weights int4 --int4-min-inputs " + value);
    EXPECT_NE(result.exit_code, 0) << value;
    EXPECT_NE(result.err.find("--int4-min-inputs " + value + ": give the fewest inputs"), std::string::npos) << result.err;
  }
  const CommandResult eight = run(base + " --int4-min-inputs 64");
  EXPECT_NE(eight.exit_code, 0);
  EXPECT_NE(eight.err.find("give it with --weights int4"), std::string::npos) << eight.err;
  EXPECT_FALSE(fs::exists(path("q.onnx"))) << "nothing written on a refusal";
  const CommandResult fine = run(base + " --weights int4 --group-size 32 --int4-min-inputs 4");
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
  EXPECT_NE(fine.out.find("4-bit weights on 100.0%"), std::string::npos) << fine.out;
}

}  // namespace
}  // namespace npukit::testing
