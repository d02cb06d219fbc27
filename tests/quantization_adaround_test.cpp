// `quantize --algorithm adaround` (src/quantization/algorithms/adaround.cpp): the learned rounding lowers each
// layer's output error against nearest rounding on the calibration data, moves no weight more than one step
// from nearest, leaves weights the export stores exactly, and behaves as documented on thin or odd data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "core/npy.h"
#include "npukit/error.h"
#include "onnx_test_models.h"
#include "quantization/algorithms/adaround.h"
#include "quantization/algorithms/block_reconstruction.h"
#include "quantization/quantize.h"
#include "quantization/quantize_model.h"
#include "quantization_fixtures.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

// The float weight `name` of `model` on its grid: q per element (the export's own quantize_tensor).
std::vector<int64_t> weight_integers(const ir::Model& model, const std::string& name) {
  const ir::Value* weight = model.graph->find_value(name);
  const Tensor q = quantize_tensor(*weight->initializer, *weight->quant);
  std::vector<int64_t> integers;
  for (int64_t i = 0; i < q.element_count(); ++i) integers.push_back(q.value_as_int64(i));
  return integers;
}

class Adaround : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("npukit_adaround_" + std::to_string(::getpid()));
    fs::create_directories(folder_);
    model_ = write_conv_bn_relu_net((folder_ / "net.onnx").string());
    calibration_ = write_calibration_folder((folder_ / "calibration").string(), 8, 500);
  }
  void TearDown() override { fs::remove_all(folder_); }

  QuantizeResult quantize(const std::string& calibration, bool adaround, int iterations = 400, double budget = 0) {
    QuantizeOptions options;
    options.calibration = calibration;
    options.method = RangeMethod::minmax;
    options.adaround_iterations = iterations;
    options.time_budget_seconds = budget;
    if (adaround) options.algorithms = parse_algorithm_list("adaround");
    return quantize_model(model_, targets::find_builtin_target("rk3588"), options);
  }

  fs::path folder_;
  std::string model_;
  std::string calibration_;
};

TEST_F(Adaround, LearnedRoundingLowersEveryLayersOutputErrorOnTheCalibrationData) {
  const QuantizeResult result = quantize(calibration_, true);
  ASSERT_EQ(result.algorithms.size(), 1u);
  const AlgorithmOutcome& outcome = result.algorithms[0];
  EXPECT_EQ(outcome.algorithm, "adaround");
  ASSERT_EQ(outcome.layers.size(), 2u) << "both convolutions are learned";
  bool strictly_better = false;
  for (const LayerOutcome& layer : outcome.layers) {
    ASSERT_TRUE(layer.before && layer.after) << layer.node << ": " << layer.detail;
    // SQNR in dB: higher is a lower error. Never worse than nearest on the rows it learned from.
    EXPECT_GE(*layer.after, *layer.before) << layer.node;
    strictly_better |= *layer.after > *layer.before + 0.05;
  }
  EXPECT_TRUE(strictly_better) << "AdaRound should beat nearest rounding on at least one layer";
  ASSERT_TRUE(outcome.before && outcome.after);
  EXPECT_TRUE(std::isfinite(*outcome.before));
  EXPECT_FALSE(outcome.notes.empty());
}

TEST_F(Adaround, ChosenIntegersAreWithinOneStepOfNearestAndTheExportStoresThemExactly) {
  const QuantizeResult nearest = quantize(calibration_, false);
  const QuantizeResult learned = quantize(calibration_, true);
  size_t moved = 0;
  std::vector<std::string> names;
  for (const QuantizedTensor& tensor : learned.tensors) {
    if (tensor.role == PointRole::weight) names.push_back(tensor.value);
  }
  ASSERT_EQ(names.size(), 2u);
  for (const std::string& name : names) {
    const ir::Value* weight = learned.model.graph->find_value(name);
    ASSERT_NE(weight, nullptr) << name;
    ASSERT_TRUE(weight->quant.has_value());
    EXPECT_EQ(*weight->quant, *nearest.model.graph->find_value(name)->quant) << "parameters must not change";
    const std::vector<int64_t> a = weight_integers(nearest.model, name);
    const std::vector<int64_t> b = weight_integers(learned.model, name);
    ASSERT_EQ(a.size(), b.size());
    const std::vector<float> stored = weight->initializer->to_float_vector();
    const ir::QuantParams& params = *weight->quant;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_LE(std::llabs(a[i] - b[i]), 1) << name << "[" << i << "]";
      moved += a[i] != b[i];
      // The float weight is exactly s · (q - z): the export's Q lands on q and its DQ gives the same float back.
      const size_t channel = parameter_index(params, weight->initializer->shape(), static_cast<int64_t>(i));
      EXPECT_EQ(stored[i], params.scales[channel] * static_cast<float>(b[i] - params.zero_point(channel)))
          << name << "[" << i << "]";
    }
  }
  EXPECT_GT(moved, 0u) << "some weights should round the other way";
}

TEST_F(Adaround, OneSampleWorksAndSaysItMayOverfit) {
  const std::string one = write_calibration_folder((folder_ / "one").string(), 1, 900);
  const QuantizeResult result = quantize(one, true, 100);
  const AlgorithmOutcome& outcome = result.algorithms.at(0);
  bool warned = false;
  for (const std::string& note : outcome.notes) warned |= note.find("1 calibration sample") != std::string::npos;
  EXPECT_TRUE(warned);
  for (const LayerOutcome& layer : outcome.layers) {
    if (layer.before && layer.after) EXPECT_GE(*layer.after, *layer.before) << layer.node;
  }
}

TEST_F(Adaround, ConstantCalibrationDataIsRefusedBeforeAnythingIsLearned) {
  const fs::path constant = folder_ / "constant";
  fs::create_directories(constant);
  for (int i = 0; i < 4; ++i) {
    write_npy((constant / ("sample_" + std::to_string(i) + ".npy")).string(),
              Tensor::from_vector<float>(DType::f32, {1, 3, 8, 8}, std::vector<float>(192, 0.25f)));
  }
  try {
    quantize(constant.string(), true, 100);
    FAIL() << "constant calibration data was accepted";
  } catch (const Error& error) {
    EXPECT_NE(error.reason().find("nothing to calibrate"), std::string::npos) << error.reason();
  }
}

TEST_F(Adaround, ATinyTimeBudgetCutsTheIterationsAndKeepsAValidModel) {
  const QuantizeResult result = quantize(calibration_, true, 100000, 0.5);
  const AlgorithmOutcome& outcome = result.algorithms.at(0);
  EXPECT_LT(outcome.seconds, 30.0);
  bool cut = false;
  for (const std::string& note : outcome.notes) cut |= note.find("time budget cut") != std::string::npos;
  EXPECT_TRUE(cut);
  for (const LayerOutcome& layer : outcome.layers) {
    if (layer.before && layer.after) EXPECT_GE(*layer.after, *layer.before) << layer.node;
  }
}

// Ten Conv 1×1 → Relu layers in a chain: more layers than the eight stages adaround once had by default.
std::string write_conv_chain(const std::string& path, int layers) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, 3, 8, 8});
  std::string input = "x";
  for (int l = 0; l < layers; ++l) {
    const std::string name = "conv" + std::to_string(l);
    add_float_initializer(graph, name + "_w", {3, 3, 1, 1}, seeded_values(9, 40 + static_cast<uint32_t>(l), -0.9f, 0.9f));
    add_float_initializer(graph, name + "_b", {3}, seeded_values(3, 80 + static_cast<uint32_t>(l), 0.0f, 0.2f));
    add_node(graph, "Conv", {input, name + "_w", name + "_b"}, {name}, name);
    const std::string output = l + 1 == layers ? "y" : "relu" + std::to_string(l);
    add_node(graph, "Relu", {name}, {output}, "relu" + std::to_string(l));
    input = output;
  }
  add_output(graph, "y", {1, 3, 8, 8});
  return write_model(model, path);
}

TEST_F(Adaround, WithoutABudgetEachLayerLearnsOnTheOutputOfTheLayersLearnedBeforeIt) {
  // A layer learned on x̃ from predecessors still at nearest fits an input error that is gone once they take their
  // learned rounding (on the 4-bit detector that undid every gain: docs/quantization.md, "The detector"). A small
  // model's simulations are cheap: one per layer.
  const std::string chain = write_conv_chain((folder_ / "chain.onnx").string(), 10);
  QuantizeOptions options;
  options.calibration = calibration_;
  options.method = RangeMethod::minmax;
  options.adaround_iterations = 50;
  options.algorithms = parse_algorithm_list("adaround");
  const QuantizeResult result = quantize_model(chain, targets::find_builtin_target("rk3588"), options);
  const AlgorithmOutcome& outcome = result.algorithms.at(0);
  EXPECT_EQ(outcome.layers.size(), 10u);
  bool sequential = false;
  for (const std::string& note : outcome.notes) {
    sequential |= note.find("inputs x̃ simulated 10 time(s) for 10 layer(s) (each layer on the output of the layers "
                            "learned before it)") != std::string::npos;
  }
  EXPECT_TRUE(sequential) << ::testing::PrintToString(outcome.notes);
}

// A layer built by hand (a Gemm-like product of 24 inputs to 6 outputs, fixed-point double rounding): the learned
// rounding's output error is lower than nearest's on the rows, and a zero weight tensor stays zero.
LinearLayer hand_layer(const std::vector<float>& weights, float weight_scale) {
  LinearLayer layer;
  layer.outputs = 6;
  layer.patch = 24;
  layer.input_channels = 24;
  layer.weight_zero_points.assign(6, 0);
  layer.bias.assign(6, 0);
  layer.output_scale = 0.05f;
  const float input_scale = 0.02f;
  layer.multipliers.assign(6, static_cast<double>(input_scale) * weight_scale / layer.output_scale);
  layer.output_stage.requantizer =
      runtime::integer::Requantizer(layer.multipliers, targets::Requantization::fixed_point_double_rounding, 31);
  layer.output_stage.minimum = -128;
  layer.output_stage.maximum = 127;
  layer.weight_minimum = -127;
  layer.weight_maximum = 127;
  for (float w : weights) {
    const float ratio = w / weight_scale;
    layer.floor_plus_zero.push_back(std::floor(ratio));
    layer.fraction.push_back(ratio - std::floor(ratio));
    layer.nearest.push_back(static_cast<int32_t>(std::nearbyint(ratio)));
  }
  layer.weight_scales.assign(6, weight_scale);
  return layer;
}

// Under a deadline the β schedule is shortened to what the time left pays for at the pace so far (80 % of it), so
// the annealing ends and every weight is decided; it never grows, and never ends before the current iteration.
TEST(AdaroundLayer, UnderADeadlineTheScheduleIsFittedToTheIterationsTheTimeAllows) {
  EXPECT_EQ(fitted_schedule_length(1000, 10, 0.010, 0.200), 170);  // 1 ms an iteration, 200 ms left: 10 + 160
  EXPECT_EQ(fitted_schedule_length(1000, 10, 0.010, 10.0), 1000);  // time for all of them: unchanged
  EXPECT_EQ(fitted_schedule_length(300, 50, 0.050, 0.0), 51);      // deadline reached: no shorter than now + 1
  EXPECT_EQ(fitted_schedule_length(300, 0, 0.0, 1.0), 300);        // nothing timed yet
  // The learning itself: with the deadline already passed it stops before the first step.
  std::vector<float> weights = seeded_values(6 * 24, 77, -0.3f, 0.3f);
  ir::Node node;
  node.name = "hand";
  LinearLayer layer = hand_layer(weights, 0.3f / 7.0f);
  layer.node = &node;
  LayerRows rows;
  rows.rows = 64;
  std::mt19937 random(5);
  std::uniform_int_distribution<int> value(-100, 100);
  for (size_t r = 0; r < rows.rows; ++r) {
    for (int k = 0; k < 24; ++k) rows.inputs.push_back(static_cast<int16_t>(value(random)));
    for (int m = 0; m < 6; ++m) rows.targets.push_back(0.0f);
  }
  const LearnedRounding late = learn_layer_rounding(layer, rows, RoundingLearningSettings{},
                                                    std::chrono::steady_clock::now() - std::chrono::seconds(1));
  EXPECT_EQ(late.iterations, 0);
}

TEST(AdaroundLayer, LearnedRoundingHasALowerOutputErrorThanNearestOnAHandBuiltLayer) {
  std::vector<float> weights = seeded_values(6 * 24, 77, -0.3f, 0.3f);
  const float weight_scale = 0.3f / 7.0f;  // a coarse grid (about 4 bits): rounding matters
  ir::Node node;
  node.name = "hand";
  LinearLayer layer = hand_layer(weights, weight_scale);
  layer.node = &node;
  LayerRows rows;
  std::mt19937 random(3);
  // Correlated inputs (4 hidden factors mixed into 24 channels, as neighbouring pixels and channels of a
  // feature map are): with independent inputs nearest rounding is already optimal (a diagonal Hessian), which is
  // exactly when AdaRound has nothing to win.
  std::uniform_real_distribution<float> factor(-1.0f, 1.0f);
  const std::vector<float> mixing = seeded_values(24 * 4, 78, -1.0f, 1.0f);
  rows.rows = 512;
  for (size_t r = 0; r < rows.rows; ++r) {
    std::vector<float> x(24);
    float hidden[4];
    for (float& h : hidden) h = factor(random);
    for (int k = 0; k < 24; ++k) {
      float mixed = 0;
      for (int j = 0; j < 4; ++j) mixed += mixing[k * 4 + j] * hidden[j];
      x[k] = std::nearbyint(std::clamp(40.0f * mixed, -127.0f, 127.0f));
      rows.inputs.push_back(static_cast<int16_t>(x[k]));
    }
    for (int m = 0; m < 6; ++m) {
      double y = 0;
      for (int k = 0; k < 24; ++k) y += 0.02 * x[k] * weights[m * 24 + k];
      rows.targets.push_back(static_cast<float>(y));
    }
  }
  RoundingLearningSettings settings;
  settings.iterations = 1000;
  const LearnedRounding learned =
      learn_layer_rounding(layer, rows, settings, std::chrono::steady_clock::time_point::max());
  std::printf("hand-built layer output SQNR on held-out rows: nearest %.2f dB, learned %.2f dB, %zu weights moved, "
              "%zu undecided\n", learned.nearest_db, learned.learned_db, learned.changed, learned.undecided);
  EXPECT_FALSE(learned.kept_nearest);
  EXPECT_GT(learned.learned_db, learned.nearest_db + 2.0) << "nearest " << learned.nearest_db << " dB";
  EXPECT_GT(learned.changed, 0u);
  EXPECT_EQ(learned.iterations, 1000);
  // The regularizer must have decided every weight (h(V) at 0 or 1) by the end of the annealing: a weight left in
  // between is rounded at 0.5, not where the loss was lowest (with λ = 0.01, the old default, 31 of these 144 were).
  EXPECT_EQ(learned.undecided, 0u);
  for (size_t i = 0; i < learned.integers.size(); ++i) {
    EXPECT_LE(std::abs(learned.integers[i] - layer.nearest[i]), 1) << i;
  }

  // A constant input (every row the same): the rounding cannot be told apart from any other that gives the same
  // sums; the result is never worse than nearest.
  LayerRows constant = rows;
  for (size_t r = 1; r < constant.rows; ++r) {
    std::copy_n(constant.inputs.begin(), 24, constant.inputs.begin() + static_cast<std::ptrdiff_t>(r * 24));
    std::copy_n(constant.targets.begin(), 6, constant.targets.begin() + static_cast<std::ptrdiff_t>(r * 6));
  }
  const LearnedRounding flat =
      learn_layer_rounding(layer, constant, settings, std::chrono::steady_clock::time_point::max());
  EXPECT_TRUE(flat.kept_nearest || flat.learned_db >= flat.nearest_db);
  if (flat.kept_nearest) EXPECT_EQ(flat.integers, layer.nearest);

  // A zero weight tensor: every weight on its grid point; nothing may move it off (it would only add error).
  LinearLayer zero = hand_layer(std::vector<float>(6 * 24, 0.0f), 1.0f);
  zero.node = &node;
  LayerRows silent = rows;
  std::fill(silent.targets.begin(), silent.targets.end(), 0.0f);
  const LearnedRounding still =
      learn_layer_rounding(zero, silent, settings, std::chrono::steady_clock::time_point::max());
  for (int32_t q : still.integers) EXPECT_EQ(q, 0);
}

}  // namespace
}  // namespace npukit::testing

namespace npukit::testing {
namespace {

// x[1,3,10,10] → Conv(3→8, 3×3, pad 1) → Relu → Conv(8→4, 3×3, pad 1) → y: one block of two chained layers.
std::string write_two_conv_block(const std::string& path) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, 3, 10, 10});
  add_output(graph, "y", {1, 4, 10, 10});
  add_float_initializer(graph, "w1", {8, 3, 3, 3}, seeded_values(216, 11, -0.4f, 0.4f));
  add_float_initializer(graph, "b1", {8}, seeded_values(8, 12, -0.1f, 0.1f));
  add_float_initializer(graph, "w2", {4, 8, 3, 3}, seeded_values(288, 13, -0.3f, 0.3f));
  add_float_initializer(graph, "b2", {4}, seeded_values(4, 14, -0.1f, 0.1f));
  auto padded = [](onnx::NodeProto* conv) {
    onnx::AttributeProto* pads = conv->add_attribute();
    pads->set_name("pads");
    pads->set_type(onnx::AttributeProto::INTS);
    for (int i = 0; i < 4; ++i) pads->add_ints(1);
  };
  padded(add_node(graph, "Conv", {"x", "w1", "b1"}, {"conv1"}, "conv1"));
  add_node(graph, "Relu", {"conv1"}, {"relu1"}, "relu1");
  padded(add_node(graph, "Conv", {"relu1", "w2", "b2"}, {"y"}, "conv2"));
  return write_model(model, path);
}

class BlockReconstruction : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("npukit_block_" + std::to_string(::getpid()));
    fs::create_directories(folder_ / "calibration");
    model_ = write_two_conv_block((folder_ / "block.onnx").string());
    // Smooth pictures (neighbouring pixels alike, as in photographs): correlated inputs, where learned rounding
    // has something to win.
    for (int index = 0; index < 8; ++index) {
      const std::vector<float> noise = seeded_values(300, 600 + static_cast<uint32_t>(index), -1.0f, 1.0f);
      std::vector<float> picture(300);
      for (int c = 0; c < 3; ++c) {
        for (int h = 0; h < 10; ++h) {
          for (int w = 0; w < 10; ++w) {
            picture[(c * 10 + h) * 10 + w] =
                0.5f * noise[c * 100] + 0.3f * std::sin(0.4f * h + noise[c * 100 + 1]) * std::cos(0.3f * w) +
                0.2f * noise[(c * 10 + h) * 10 + w];
          }
        }
      }
      write_npy((folder_ / "calibration" / ("sample_" + std::to_string(index) + ".npy")).string(),
                Tensor::from_vector<float>(DType::f32, {1, 3, 10, 10}, picture));
    }
  }
  void TearDown() override { fs::remove_all(folder_); }

  QuantizeResult quantize(const std::string& algorithms) {
    QuantizeOptions options;
    options.calibration = (folder_ / "calibration").string();
    options.method = RangeMethod::minmax;
    options.adaround_iterations = 600;
    options.algorithms = parse_algorithm_list(algorithms);
    return quantize_model(model_, targets::find_builtin_target("rk3588"), options);
  }

  fs::path folder_;
  std::string model_;
};

TEST_F(BlockReconstruction, LearnsTheTwoConvBlockTogetherAndItsOutputBeatsNearest) {
  const QuantizeResult block = quantize("block-reconstruction");
  const AlgorithmOutcome& outcome = block.algorithms.at(0);
  EXPECT_EQ(outcome.algorithm, "block-reconstruction");
  ASSERT_EQ(outcome.layers.size(), 1u) << "conv1 → relu1 → conv2 is one block";
  EXPECT_NE(outcome.layers[0].node.find(" + "), std::string::npos) << outcome.layers[0].node;
  ASSERT_TRUE(outcome.layers[0].before && outcome.layers[0].after);
  EXPECT_GT(*outcome.layers[0].after, *outcome.layers[0].before) << outcome.layers[0].detail;
}

TEST_F(BlockReconstruction, BlockOutputBeatsNearestAndStaysNearLayerWiseAdaround) {
  // The block's output is the model's output: the outcome's model SQNR (sim backend, first 4 samples) compares them.
  const QuantizeResult layer_wise = quantize("adaround");
  const QuantizeResult block = quantize("block-reconstruction");
  const double nearest = *layer_wise.algorithms.at(0).before;
  const double adaround = *layer_wise.algorithms.at(0).after;
  const double reconstructed = *block.algorithms.at(0).after;
  EXPECT_DOUBLE_EQ(*block.algorithms.at(0).before, nearest);
  std::printf("block output SQNR: nearest %.3f dB, adaround %.3f dB, block-reconstruction %.3f dB\n", nearest, adaround,
              reconstructed);
  EXPECT_GT(reconstructed, nearest);
  EXPECT_GT(adaround, nearest);
  // Measured, not asserted: at 8 bits on this block, learning the pair together does NOT beat sequential
  // layer-wise AdaRound (nearest 39.66, adaround 41.44, block 40.81 dB at 600 iterations; 41.16 and 40.95 at
  // 2000): adaround's second layer already learns on the first one's quantized output and compensates its error.
  // docs/quantization.md says so. The block stays within 1 dB of it.
  EXPECT_GT(reconstructed, adaround - 1.0);
}

TEST_F(BlockReconstruction, RefusesToRunWithAdaroundNamedToo) {
  try {
    quantize("adaround,block-reconstruction");
    FAIL() << "both were accepted";
  } catch (const Error& error) {
    EXPECT_NE(error.reason().find("not both"), std::string::npos) << error.reason();
  }
}

}  // namespace
}  // namespace npukit::testing
