// npukit compare: the metrics on hand-computed vectors, the pairing of values between two models or two
// backends (by name, through a QDQ export's DequantizeLinear, fused values listed with their reason), where
// the error enters (a model with one layer's weights perturbed), and the command's errors and outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "compare/comparison_cells.h"
#include "compare/error_entry.h"
#include "compare/layer_comparison.h"
#include "compare/model_comparison.h"
#include "core/npy.h"
#include "engine/engine.h"
#include "onnx/onnx_export.h"
#include "onnx/onnx_import.h"
#include "onnx_test_models.h"
#include "preparation/model_preparation.h"

namespace npukit::testing {
namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

// ---- metrics on hand-computed vectors ----

TEST(LayerComparison, SqnrCosineAndErrorsOnHandComputedVectors) {
  // Σa² = 30, Σ(a−b)² = 1: SQNR = 10·log10(30); Σab = 34, Σb² = 39: cosine = 34 / √(30·39).
  const compare::LayerMetrics metrics = compare::compare_values({1, 2, 3, 4}, {1, 2, 3, 5});
  EXPECT_NEAR(metrics.sqnr_db, 14.771212547196624, 1e-12);
  ASSERT_TRUE(metrics.cosine.has_value());
  EXPECT_NEAR(*metrics.cosine, 34.0 / std::sqrt(30.0 * 39.0), 1e-15);
  EXPECT_DOUBLE_EQ(metrics.max_abs_error, 1.0);
  EXPECT_DOUBLE_EQ(metrics.mean_abs_error, 0.25);
  EXPECT_DOUBLE_EQ(metrics.reference_peak, 4.0);
  EXPECT_FALSE(metrics.identical);
  EXPECT_FALSE(metrics.lsb.has_value());

  // Negatives and a sign flip: Σa² = 1 + 4 = 5, Σ(a−b)² = 4 + 0 = 4; cosine = (−1 + 4) / (√5·√5) = 0.6.
  const compare::LayerMetrics flipped = compare::compare_values({1, -2}, {-1, -2});
  EXPECT_NEAR(flipped.sqnr_db, 10 * std::log10(5.0 / 4.0), 1e-12);
  EXPECT_NEAR(*flipped.cosine, 0.6, 1e-15);
  EXPECT_DOUBLE_EQ(flipped.max_abs_error, 2.0);
}

TEST(LayerComparison, IdenticalZeroAndNonFiniteCases) {
  const compare::LayerMetrics same = compare::compare_values({0.5, -3, 7}, {0.5, -3, 7});
  EXPECT_TRUE(same.identical);
  EXPECT_EQ(same.sqnr_db, infinity);
  EXPECT_DOUBLE_EQ(*same.cosine, 1.0);
  EXPECT_EQ(compare::format_sqnr(same.sqnr_db), "∞ (identical)");

  const compare::LayerMetrics zeros = compare::compare_values({0, 0}, {0, 0});
  EXPECT_TRUE(zeros.identical);
  EXPECT_DOUBLE_EQ(*zeros.cosine, 1.0);

  // The reference is all zero and B is not: SQNR −∞, no direction to compare.
  const compare::LayerMetrics from_zero = compare::compare_values({0, 0}, {1, 0});
  EXPECT_EQ(from_zero.sqnr_db, -infinity);
  EXPECT_FALSE(from_zero.cosine.has_value());

  // A NaN on one side only is an unbounded error; NaN on both, or the same infinity, agree.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const compare::LayerMetrics broken = compare::compare_values({1, 2, 3}, {1, nan, 3});
  EXPECT_EQ(broken.non_finite_mismatches, 1);
  EXPECT_EQ(broken.sqnr_db, -infinity);
  EXPECT_EQ(broken.max_abs_error, infinity);
  EXPECT_FALSE(broken.identical);
  const compare::LayerMetrics agreeing = compare::compare_values({1, nan, infinity}, {1, nan, infinity});
  EXPECT_TRUE(agreeing.identical);
  EXPECT_EQ(agreeing.non_finite_mismatches, 0);
}

TEST(LayerComparison, LsbHistogramRoundsToTheNearestStep) {
  // Scale 0.5: differences 0, 0.2, 0.5, 1.0, 1.5, 2.0, 3.9, 4.0 are 0, 0 (0.4 steps), 1, 2, 3, 4, 8 (7.8), 8 steps.
  const std::vector<double> a(8, 0.0);
  const std::vector<double> b = {0, 0.2, -0.5, 1.0, 1.5, -2.0, 3.9, 4.0};
  const compare::LayerMetrics metrics = compare::compare_values(a, b, std::vector<double>(8, 0.5));
  ASSERT_TRUE(metrics.lsb.has_value());
  const std::array<int64_t, compare::lsb_bin_count> expected = {2, 1, 1, 1, 1, 2};
  EXPECT_EQ(metrics.lsb->counts, expected);
  EXPECT_EQ(metrics.lsb->largest_step, 8);
  EXPECT_EQ(compare::format_lsb_histogram(metrics.lsb), "0:25.0% 1:12.5% 2:12.5% 3:12.5% 4-7:12.5% >=8:25.0%");
}

TEST(LayerComparison, IntegerTensorsAreComparedAsTheRealValuesTheirGridGives) {
  // Per channel along axis 0: row 0 has scale 0.5 and zero point 1, row 1 scale 2 and zero point −1.
  ir::QuantParams params;
  params.storage = DType::i8;
  params.axis = 0;
  params.scales = {0.5f, 2.0f};
  params.zero_points = {1, -1};
  const Tensor q = Tensor::from_vector<int8_t>(DType::i8, {2, 2}, {3, 1, 0, 2});
  EXPECT_EQ(compare::real_values(q, &params), (std::vector<double>{1.0, 0.0, 2.0, 6.0}));
  EXPECT_EQ(compare::element_scales({2, 2}, params), (std::vector<double>{0.5, 0.5, 2.0, 2.0}));

  // One element one step off on each channel: 0.5 and 2.0 apart as reals, one LSB each.
  const Tensor other = Tensor::from_vector<int8_t>(DType::i8, {2, 2}, {3, 2, 0, 3});
  const compare::LayerMetrics metrics = compare::compare_tensors(q, other, &params, &params, &params);
  EXPECT_DOUBLE_EQ(metrics.max_abs_error, 2.0);
  // Σa² = 1 + 4 + 36 = 41, Σ(a−b)² = 0.25 + 4.
  EXPECT_NEAR(metrics.sqnr_db, 10 * std::log10(41.0 / 4.25), 1e-12);
  ASSERT_TRUE(metrics.lsb.has_value());
  EXPECT_EQ(metrics.lsb->counts[0], 2);
  EXPECT_EQ(metrics.lsb->counts[1], 2);

  // Parameters that do not fit the tensor are an error, not a guess.
  params.scales = {0.5f, 2.0f, 1.0f};
  params.zero_points = {};
  EXPECT_THROW(compare::real_values(q, &params), Error);
}

// ---- models ----

std::vector<float> wave(int64_t count, float scale, float phase) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = scale * std::sin(0.61f * float(i) + phase);
  return values;
}

void set_pads(onnx::NodeProto* node, int64_t pad) {
  onnx::AttributeProto* pads = node->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(pad);
}

constexpr int64_t channels = 8, side = 8;

// x [1,4,8,8] -> Conv 3x3 "conv1" (c1) -> Relu (r1) -> Conv 3x3 "conv2" (c2) -> Relu (r2) -> Conv 1x1 "conv3" (y).
// `perturbation` scales conv2's weights by (1 + perturbation·sin(i)).
std::string write_cnn(const std::string& path, float perturbation = 0, int64_t input_side = side) {
  onnx::ModelProto model = make_model(13);
  onnx::GraphProto* graph = model.mutable_graph();
  add_input(graph, "x", {1, 4, input_side, input_side});
  add_float_initializer(graph, "w1", {channels, 4, 3, 3}, wave(channels * 4 * 9, 0.3f, 0.1f));
  std::vector<float> w2 = wave(channels * channels * 9, 0.2f, 0.7f);
  for (size_t i = 0; i < w2.size(); ++i) w2[i] *= 1 + perturbation * std::sin(1.3f * float(i));
  add_float_initializer(graph, "w2", {channels, channels, 3, 3}, w2);
  add_float_initializer(graph, "w3", {channels, channels, 1, 1}, wave(channels * channels, 0.4f, 1.9f));
  set_pads(add_node(graph, "Conv", {"x", "w1"}, {"c1"}, "conv1"), 1);
  add_node(graph, "Relu", {"c1"}, {"r1"}, "relu1");
  set_pads(add_node(graph, "Conv", {"r1", "w2"}, {"c2"}, "conv2"), 1);
  add_node(graph, "Relu", {"c2"}, {"r2"}, "relu2");
  add_node(graph, "Conv", {"r2", "w3"}, {"y"}, "conv3");
  add_output(graph, "y", {1, channels, input_side, input_side});
  return write_model(model, path);
}

compare::ComparisonSide side_of(const std::string& path, const std::string& backend) {
  preparation::PreparationOptions options;
  options.run_reference_for_unknown_shapes = false;
  compare::ComparisonSide result;
  result.model_path = path;
  result.model = std::make_shared<ir::Model>(preparation::load_prepared_model(path, options).model);
  result.options.backend = backend;
  return result;
}

std::map<std::string, Tensor> uniform_input(int64_t input_side = side) {
  std::mt19937 generator(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(4 * input_side * input_side));
  for (float& value : values) value = uniform(generator);
  return {{"x", Tensor::from_vector<float>(DType::f32, {1, 4, input_side, input_side}, values)}};
}

const compare::ValueComparison* find(const compare::ModelComparison& comparison, const std::string& name_a,
                                     const std::string& name_b = "") {
  for (const compare::ValueComparison& value : comparison.values) {
    if (value.name_a == name_a && (name_b.empty() || value.name_b == name_b)) return &value;
  }
  return nullptr;
}

const compare::NotComparable* find_refused(const compare::ModelComparison& comparison, const std::string& name) {
  for (const compare::NotComparable& item : comparison.not_comparable) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

TEST(ModelComparison, PerturbedWeightsAreWhereTheErrorEnters) {
  TemporaryFolder folder;
  const std::string original = write_cnn(folder.file("original.onnx"));
  const std::string perturbed = write_cnn(folder.file("perturbed.onnx"), 0.02f);
  compare::ModelComparison comparison =
      compare::compare_models(side_of(original, "ref"), side_of(perturbed, "ref"), uniform_input());
  const std::optional<compare::ErrorEntry> entry = compare::locate_error_entry(comparison);
  ASSERT_TRUE(entry.has_value());
  const compare::ValueComparison& entered = comparison.values[entry->value];
  EXPECT_EQ(entered.name_a, "c2");
  EXPECT_EQ(entered.layer_a, "'conv2' (Conv)");
  EXPECT_TRUE(entered.error_enters_here);
  // Everything before conv2 agrees bit for bit; conv2's output and what follows does not.
  for (const std::string name : {"x", "c1", "r1"}) {
    ASSERT_NE(find(comparison, name), nullptr) << name;
    EXPECT_TRUE(find(comparison, name)->metrics.identical) << name;
  }
  EXPECT_EQ(entry->inputs_sqnr_db, infinity);
  // 2% on the weights of a convolution whose terms mostly cancel: about 18 dB, far below float rounding.
  EXPECT_LT(entered.metrics.sqnr_db, 40);
  EXPECT_GT(entered.metrics.sqnr_db, 5);
  EXPECT_NEAR(entry->drop_db, compare::sqnr_clamp_db - entered.metrics.sqnr_db, 1e-9);
  for (const std::string name : {"r2", "y"}) {
    ASSERT_NE(find(comparison, name), nullptr) << name;
    EXPECT_FALSE(find(comparison, name)->metrics.identical) << name;
    EXPECT_LT(*find(comparison, name)->drop_db, entry->drop_db) << name;
  }
  EXPECT_TRUE(find(comparison, "y")->is_output);
  // Two models on one backend: nothing is left out.
  EXPECT_TRUE(comparison.not_comparable.empty());
  const std::string line = compare::verdict(comparison, entry);
  EXPECT_EQ(line.rfind("error enters at 'conv2' (Conv), value 'c2': identical inputs → ", 0), 0u) << line;
}

TEST(ModelComparison, RefAgainstCpuAgreesAndListsTheFusedValues) {
  TemporaryFolder folder;
  const std::string model = write_cnn(folder.file("cnn.onnx"));
  compare::ModelComparison comparison = compare::compare_models(side_of(model, "ref"), side_of(model, "cpu"), uniform_input());
  const std::optional<compare::ErrorEntry> entry = compare::locate_error_entry(comparison);
  // Every value ref computes is either compared or listed with its reason.
  for (const std::string name : {"c1", "r1", "c2", "r2", "y"}) {
    EXPECT_TRUE(find(comparison, name) || find_refused(comparison, name)) << name;
  }
  // The cpu backend fuses each Relu into its Conv: the Conv outputs are not computed there.
  const compare::NotComparable* fused = find_refused(comparison, "c1");
  ASSERT_NE(fused, nullptr);
  EXPECT_EQ(fused->side, "A");
  EXPECT_NE(fused->reason.find("fused"), std::string::npos) << fused->reason;
  ASSERT_NE(find(comparison, "y"), nullptr);
  ASSERT_NE(find(comparison, "r1"), nullptr);
  for (const compare::ValueComparison& value : comparison.values) {
    EXPECT_GT(value.metrics.sqnr_db, 100) << value.name_a;
    EXPECT_GT(*value.metrics.cosine, 0.9999999) << value.name_a;
  }
  EXPECT_NE(compare::verdict(comparison, entry).find("float rounding only"), std::string::npos) << compare::verdict(comparison, entry);
}

// The CNN with quantization points on x (u8, 1/255), w1 (i8 per channel), r1 (u8) and y (i8), exported as QDQ.
std::string write_qdq_cnn(const std::string& float_path, const std::string& qdq_path) {
  ir::Model model = onnx_io::load_model(float_path);
  ir::QuantParams input;
  input.storage = DType::u8;
  input.scales = {1.0f / 255};
  input.zero_points = {0};
  model.graph->find_value("x")->quant = input;
  ir::QuantParams weights;
  weights.storage = DType::i8;
  weights.narrow_range = true;
  weights.axis = 0;
  weights.scales.assign(channels, 0.3f / 127);
  model.graph->find_value("w1")->quant = weights;
  ir::QuantParams activation;
  activation.storage = DType::u8;
  activation.scales = {1.25f / 255};  // r1 peaks at 1.24
  activation.zero_points = {0};
  model.graph->find_value("r1")->quant = activation;
  ir::QuantParams output;
  output.storage = DType::i8;
  output.scales = {0.1f / 127};  // |y| peaks at 0.1
  output.zero_points = {0};
  model.graph->find_value("y")->quant = output;
  onnx_io::save_model(model, qdq_path);
  return qdq_path;
}

TEST(ModelComparison, FloatAgainstItsQdqExportPairsValuesThroughTheDequantizeLinear) {
  TemporaryFolder folder;
  const std::string float_model = write_cnn(folder.file("float.onnx"));
  const std::string qdq_model = write_qdq_cnn(float_model, folder.file("qdq.onnx"));
  compare::ModelComparison comparison =
      compare::compare_models(side_of(float_model, "ref"), side_of(qdq_model, "ref"), uniform_input());
  compare::locate_error_entry(comparison);

  // The quantized input is paired with the float input: uniform [0, 1) on a grid of 1/255 loses
  // 10·log10((1/3) / (s²/12)) = 10·log10(4·255²) ≈ 54.2 dB.
  const compare::ValueComparison* input = find(comparison, "x", "x_dequantized");
  ASSERT_NE(input, nullptr);
  EXPECT_NEAR(input->metrics.sqnr_db, 10 * std::log10(4.0 * 255 * 255), 1.5);
  ASSERT_TRUE(input->metrics.lsb.has_value());
  EXPECT_EQ(input->grid_side, "B");
  EXPECT_EQ(input->metrics.lsb->counts[0], input->metrics.elements);  // within half a step everywhere
  EXPECT_FALSE(input->error_enters_here);  // quantizing a graph input is no layer

  // r1 and y are DequantizeLinear outputs under the float names, on their grids.
  for (const std::string name : {"r1", "y"}) {
    const compare::ValueComparison* value = find(comparison, name, name);
    ASSERT_NE(value, nullptr) << name;
    ASSERT_TRUE(value->metrics.lsb.has_value()) << name;
    EXPECT_GT(value->metrics.sqnr_db, 15) << name;
    EXPECT_LT(value->metrics.sqnr_db, 60) << name;
    EXPECT_FALSE(value->inputs.empty()) << name;
  }
  EXPECT_EQ(find(comparison, "y")->layer_b, "'conv3' (Conv)");  // through the DequantizeLinear to the layer
  // The QDQ model's own tensors have no counterpart and are listed, with why.
  const compare::NotComparable* integer = find_refused(comparison, "r1_quantized");
  ASSERT_NE(integer, nullptr);
  EXPECT_EQ(integer->side, "B");
  EXPECT_NE(integer->reason.find("QuantizeLinear"), std::string::npos);
  const compare::NotComparable* before = find_refused(comparison, "r1_float");
  ASSERT_NE(before, nullptr);
  EXPECT_NE(before->reason.find("before a QuantizeLinear"), std::string::npos);

  // The same QDQ file on ref and on cpu: the integer tensors are compared on their grid.
  compare::ModelComparison backends = compare::compare_models(side_of(qdq_model, "ref"), side_of(qdq_model, "cpu"), uniform_input());
  const compare::ValueComparison* integers = find(backends, "r1_quantized");
  ASSERT_NE(integers, nullptr);
  EXPECT_EQ(integers->dtype_a, DType::u8);
  ASSERT_TRUE(integers->metrics.lsb.has_value());
  int64_t counted = 0;
  for (int64_t count : integers->metrics.lsb->counts) counted += count;
  EXPECT_EQ(counted, integers->metrics.elements);
  EXPECT_LE(integers->metrics.lsb->largest_step, 1);
}

// Every activation and weight of the CNN quantized (int8 per-channel weights, int8 activations): on the sim
// backend each Conv (+ Relu) becomes one IntegerConv writing the QuantizeLinear's integer output.
std::string write_fully_quantized_cnn(const std::string& float_path, const std::string& qdq_path) {
  ir::Model model = onnx_io::load_model(float_path);
  auto activation = [](float peak, bool non_negative) {
    ir::QuantParams params;
    params.storage = DType::i8;
    params.scales = {peak / (non_negative ? 255.0f : 127.0f)};
    params.zero_points = {non_negative ? -128 : 0};
    return params;
  };
  model.graph->find_value("x")->quant = activation(1.0f, true);
  model.graph->find_value("r1")->quant = activation(1.25f, true);
  model.graph->find_value("r2")->quant = activation(2.0f, true);
  model.graph->find_value("y")->quant = activation(2.0f, false);
  for (const std::string& name : {"w1", "w2", "w3"}) {
    ir::QuantParams weights;
    weights.storage = DType::i8;
    weights.narrow_range = true;
    weights.axis = 0;
    weights.scales.assign(channels, 0.4f / 127);
    model.graph->find_value(name)->quant = weights;
  }
  onnx_io::save_model(model, qdq_path);
  return qdq_path;
}

TEST(ModelComparison, FloatAgainstItsQdqFileOnSimComparesEveryLayer) {
  TemporaryFolder folder;
  const std::string float_model = write_cnn(folder.file("float.onnx"));
  const std::string qdq_model = write_fully_quantized_cnn(float_model, folder.file("qdq.onnx"));
  compare::ComparisonSide simulated = side_of(qdq_model, "sim");
  simulated.options.target = "edgetpu";
  compare::ModelComparison comparison = compare::compare_models(side_of(float_model, "ref"), simulated, uniform_input());
  const std::optional<compare::ErrorEntry> entry = compare::locate_error_entry(comparison);

  // The lowering renamed the values (its integer ops write the QuantizeLinear outputs): each is paired with the
  // float value it stands for, on its own grid.
  for (const std::string name : {"r1", "r2"}) {
    const compare::ValueComparison* value = find(comparison, name, name + "_quantized");
    ASSERT_NE(value, nullptr) << name;
    EXPECT_EQ(value->dtype_b, DType::i8) << name;
    EXPECT_EQ(value->op_b, "IntegerConv") << name;
    EXPECT_EQ(value->grid_side, "B") << name;
    ASSERT_TRUE(value->metrics.lsb.has_value()) << name;
    EXPECT_GT(value->metrics.sqnr_db, 15) << name;
    EXPECT_LT(value->metrics.sqnr_db, 60) << name;
    EXPECT_FALSE(value->inputs.empty()) << name;
  }
  // The quantized graph input is compared too: the first layer's inputs carry the input's quantization error,
  // and quantizing an input is no layer.
  const compare::ValueComparison* input = find(comparison, "x", "x_quantized");
  ASSERT_NE(input, nullptr);
  EXPECT_LT(input->metrics.sqnr_db, 60);
  EXPECT_FALSE(input->error_enters_here);
  const compare::ValueComparison* first = find(comparison, "r1", "r1_quantized");
  ASSERT_TRUE(first->inputs_sqnr_db.has_value());
  EXPECT_DOUBLE_EQ(*first->inputs_sqnr_db, input->metrics.sqnr_db);

  // Where the error enters is a layer of the run, named, with the SQNR its inputs had.
  ASSERT_TRUE(entry.has_value());
  const compare::ValueComparison& entered = comparison.values[entry->value];
  EXPECT_TRUE(entered.error_enters_here);
  EXPECT_EQ(entered.op_b, "IntegerConv");
  EXPECT_TRUE(std::isfinite(entry->inputs_sqnr_db));
  const std::string text = compare::verdict(comparison, entry);
  EXPECT_EQ(text.rfind("error enters at '", 0), 0u) << text;
  EXPECT_NE(text.find(entered.layer_a.empty() ? entered.layer_b : entered.layer_a), std::string::npos) << text;
  EXPECT_EQ(text.find("identical inputs"), std::string::npos) << text;
  // Nothing the float model computes is left unpaired for want of a name.
  for (const compare::NotComparable& item : comparison.not_comparable) {
    EXPECT_NE(item.reason, "B has no value of this name") << item.name;
    EXPECT_FALSE(item.name == "r1" || item.name == "r2") << item.name << ": " << item.reason;
  }
}

TEST(ModelComparison, DifferentInputsAreRefusedNamingTheInput) {
  TemporaryFolder folder;
  const std::string small = write_cnn(folder.file("small.onnx"));
  const std::string large = write_cnn(folder.file("large.onnx"), 0, 9);
  try {
    compare::common_inputs(side_of(small, "ref"), side_of(large, "ref"));
    FAIL() << "different input shapes were accepted";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("input 'x' has shape [1, 4, 8, 8] on A but [1, 4, 9, 9] on B"), std::string::npos) << message;
  }
}

// ---- the command ----

using CompareCommand = CliRunner;

TEST_F(CompareCommand, RefAgainstCpuAsJson) {
  const std::string model = write_cnn(path("cnn.onnx"));
  const CommandResult result = run("compare '" + model + "' --backend-a ref --backend-b cpu --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["a"]["backend"], "ref");
  EXPECT_EQ(json["b"]["backend"], "cpu");
  EXPECT_EQ(json["inputs"][0]["source"], "random (seed 0)");
  ASSERT_GE(json["values"].size(), 3u);
  for (const nlohmann::json& value : json["values"]) {
    if (value["identical"]) {
      EXPECT_TRUE(value["sqnr_db"].is_null());
    } else {
      EXPECT_GT(value["sqnr_db"].get<double>(), 100) << value["name"];
    }
  }
  bool fused_listed = false;
  for (const nlohmann::json& item : json["not_comparable"]) fused_listed = fused_listed || item["name"] == "c1";
  EXPECT_TRUE(fused_listed);
  EXPECT_NE(json["verdict"].get<std::string>().find("float rounding only"), std::string::npos);
}

TEST_F(CompareCommand, TwoModelsTableNamesTheLayerAndWritesMarkdown) {
  const std::string original = write_cnn(path("original.onnx"));
  const std::string perturbed = write_cnn(path("perturbed.onnx"), 0.02f);
  const std::string input = path("x.npy");
  write_npy(input, uniform_input().at("x"));
  const CommandResult result =
      run("compare '" + original + "' '" + perturbed + "' --backend-a ref --backend-b ref --input x='" + input + "' --report '" +
          path("compare.md") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("◀ error enters here"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("verdict: error enters at 'conv2' (Conv), value 'c2'"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("x.npy"), std::string::npos);  // the input's source
  const std::string markdown = read_text(path("compare.md"));
  EXPECT_NE(markdown.find("## Per-layer SQNR"), std::string::npos);
  EXPECT_NE(markdown.find("error enters at 'conv2'"), std::string::npos);
}

TEST_F(CompareCommand, BadArgumentsGiveClearErrors) {
  const std::string model = write_cnn(path("cnn.onnx"));
  const std::string larger = write_cnn(path("larger.onnx"), 0, 9);
  struct Case {
    std::string arguments;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"'" + path("missing.onnx") + "' --backend-a ref", "missing.onnx"},
      {"'" + model + "' '" + path("missing_b.onnx") + "'", "missing_b.onnx"},
      {"'" + model + "' --backend-a cpu --backend-b cpu", "same model on the same backend"},
      {"'" + model + "' --backend-b cpu --target-b rk3588", "add --backend-b sim"},
      {"'" + model + "' '" + larger + "'", "input 'x' has shape [1, 4, 8, 8] on A but [1, 4, 9, 9] on B"},
      {"'" + model + "' --input x='" + path("absent.npy") + "'", "absent.npy"},
      {"'" + model + "' --report '" + path("report.pdf") + "'", ".html or .md"},
  };
  for (const Case& item : cases) {
    const CommandResult result = run("compare " + item.arguments);
    EXPECT_EQ(result.exit_code, 1) << item.arguments;
    EXPECT_NE(result.err.find(item.message), std::string::npos) << item.arguments << "\n" << result.err;
    EXPECT_TRUE(result.out.empty()) << item.arguments;
  }
  EXPECT_FALSE(std::filesystem::exists(path("report.pdf")));
}

// The backend and target reach the engine as given: before the sim backend exists that is the engine's own
// "unknown backend" error; once it does, B runs on sim for the named target.
TEST_F(CompareCommand, SimBackendAndTargetArePassedThrough) {
  const std::string model = write_cnn(path("cnn.onnx"));
  const CommandResult result = run("compare '" + model + "' --backend-b sim --target-b rk3588 --json");
  const std::vector<std::string> backends = engine::available_backends();
  if (std::find(backends.begin(), backends.end(), "sim") == backends.end()) {
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.err.find("unknown backend 'sim'"), std::string::npos) << result.err;
    return;
  }
  EXPECT_EQ(result.err.find("unknown backend"), std::string::npos) << result.err;
  if (result.exit_code == 0) {
    const nlohmann::json json = nlohmann::json::parse(result.out);
    EXPECT_EQ(json["b"]["backend"], "sim");
    EXPECT_EQ(json["b"]["target"], "rk3588");
  } else {
    EXPECT_EQ(result.exit_code, 1) << result.err;  // a refusal from the sim backend, never a crash
    EXPECT_FALSE(result.err.empty());
  }
}

}  // namespace
}  // namespace npukit::testing
