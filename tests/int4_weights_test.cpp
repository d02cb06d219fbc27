// INT4 weights (issue 11 §7): the int4 grid and its rounding, per-group parameters (groups within each output
// channel), the QDQ file's per-group layout (exact in float: the same weights ONNX Runtime computes), the sim
// backend's per-group integer arithmetic against a float computation with the dequantized weights, and what
// quantize refuses (a group size that does not divide a layer's inputs, int4 on a target without it).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <onnx/onnx_pb.h>

#include "engine/engine.h"
#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "onnx/onnx_import.h"
#include "onnx_test_models.h"
#include "quantization/quantization_manifest.h"
#include "quantization/quantize.h"
#include "quantization/quantize_model.h"
#include "quantization_fixtures.h"
#include "sim/lowering.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

ir::QuantParams per_tensor(DType storage, float scale, int64_t zero_point) {
  ir::QuantParams params;
  params.storage = storage;
  params.scales = {scale};
  params.zero_points = {zero_point};
  return params;
}

TEST(Int4Grid, RoundsTiesAndClampsToMinus8To7) {
  const Grid int4{-8, 7};
  // x / s = 2.5 and 3.5: half to even gives 2 and 4; half away from zero 3 and 4.
  EXPECT_EQ(quantize_value(1.25f, 0.5f, 0, int4, RoundingMode::half_to_even), 2);
  EXPECT_EQ(quantize_value(1.75f, 0.5f, 0, int4, RoundingMode::half_to_even), 4);
  EXPECT_EQ(quantize_value(1.25f, 0.5f, 0, int4, RoundingMode::half_away_from_zero), 3);
  EXPECT_EQ(quantize_value(-3.75f, 0.5f, 0, int4, RoundingMode::half_to_even), -8);  // -7.5 -> -8 (even)
  EXPECT_EQ(quantize_value(-3.25f, 0.5f, 0, int4, RoundingMode::half_to_even), -6);  // -6.5 -> -6
  EXPECT_EQ(quantize_value(5.0f, 0.5f, 0, int4, RoundingMode::half_to_even), 7);     // 10 clamps to 7
  EXPECT_EQ(quantize_value(-5.0f, 0.5f, 0, int4, RoundingMode::half_to_even), -8);   // -10 clamps to -8
  // Symmetric int4 parameters: scale = max |w| / 7, so the weights use [-7, 7] and -8 only by clamping.
  const ir::QuantParams params = params_for_range(-3.5, 1.0, DType::i4, false, true);
  EXPECT_FLOAT_EQ(params.scales[0], 0.5f);
  EXPECT_EQ(params.zero_points[0], 0);
  EXPECT_EQ(params.storage_min(), -8);
  EXPECT_EQ(params.storage_max(), 7);
  // Asymmetric uint4: [0, 15] over [-1, 2]: scale 3 / 15 = 0.2, zero point round(0 - (-1) / 0.2) = 5.
  const ir::QuantParams unsigned_params = params_for_range(-1.0, 2.0, DType::u4, false, false);
  EXPECT_FLOAT_EQ(unsigned_params.scales[0], 0.2f);
  EXPECT_EQ(unsigned_params.zero_points[0], 5);
}

TEST(Int4Groups, GroupsRunWithinEachOutputChannel) {
  // A Conv weight [2, 2, 2, 2]: 8 inputs per output channel in (c, kh, kw) order, groups of 4 = 2 per channel.
  std::vector<float> values(16);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i + 1) * (i % 2 ? -1.0f : 1.0f);
  const Tensor conv_weight = Tensor::from_vector<float>(DType::f32, {2, 2, 2, 2}, values);
  const ir::QuantParams conv = weight_params(conv_weight, DType::i4, false, true, 0, 4);
  ASSERT_EQ(conv.scales.size(), 4u);  // [channels 2, groups 2]
  // Group (m, g) holds elements 8m + 4g .. 8m + 4g + 3: max |w| = 8m + 4g + 4 (the last one), scale that / 7.
  EXPECT_FLOAT_EQ(conv.scales[0], 4.0f / 7);
  EXPECT_FLOAT_EQ(conv.scales[1], 8.0f / 7);
  EXPECT_FLOAT_EQ(conv.scales[2], 12.0f / 7);
  EXPECT_FLOAT_EQ(conv.scales[3], 16.0f / 7);
  for (int64_t i = 0; i < 16; ++i) EXPECT_EQ(parameter_index(conv, conv_weight.shape(), i), static_cast<size_t>(i / 4)) << i;
  // A MatMul weight [K 8, N 2] (axis 1): groups run along K of each column; scales are [N, groups].
  const Tensor matmul_weight = Tensor::from_vector<float>(DType::f32, {8, 2}, values);
  const ir::QuantParams matmul = weight_params(matmul_weight, DType::i4, false, true, 1, 4);
  ASSERT_EQ(matmul.scales.size(), 4u);
  for (int64_t k = 0; k < 8; ++k) {
    for (int64_t n = 0; n < 2; ++n) {
      EXPECT_EQ(parameter_index(matmul, matmul_weight.shape(), k * 2 + n), static_cast<size_t>(n * 2 + k / 4));
    }
  }
  // Column 0 holds the odd positions 1, 3, 5, 7 (k 0..3) and 9 .. 15: max 7 and 15; column 1: -8 and -16.
  EXPECT_FLOAT_EQ(matmul.scales[0], 7.0f / 7);
  EXPECT_FLOAT_EQ(matmul.scales[1], 15.0f / 7);
  EXPECT_FLOAT_EQ(matmul.scales[2], 8.0f / 7);
  EXPECT_FLOAT_EQ(matmul.scales[3], 16.0f / 7);
  // Quantized and dequantized per group: q = round(w / s_g), w' = q * s_g.
  const Tensor q = quantize_tensor(conv_weight, conv);
  ASSERT_EQ(q.dtype(), DType::i8);  // the int8 container of the int4 grid
  const std::vector<int64_t> integers = q.to_int64_vector();
  for (size_t i = 0; i < values.size(); ++i) {
    const double expected = std::nearbyint(values[i] / conv.scales[i / 4]);
    EXPECT_EQ(integers[i], expected) << i;
    EXPECT_GE(integers[i], -8);
    EXPECT_LE(integers[i], 7);
  }
  // The bias grid of a per-group weight is at the channel's coarsest group: s_x * max_g s_g.
  const ir::QuantParams bias = bias_params(per_tensor(DType::u8, 0.5f, 128), conv, DType::i32, 2);
  EXPECT_FLOAT_EQ(bias.scales[0], 0.5f * 8.0f / 7);
  EXPECT_FLOAT_EQ(bias.scales[1], 0.5f * 16.0f / 7);
}

// A float model of one op, its values quantized by hand (input u8, weights int4 per group, bias int32, output
// u8), written as QDQ and read back: what the sim and ONNX Runtime both get.
struct HandQuantized {
  std::shared_ptr<const ir::Model> model;
  Tensor input;
  ir::QuantParams weight;
};

HandQuantized hand_quantized(const std::string& op, bool asymmetric_weights, int64_t group_size) {
  onnx::ModelProto proto = make_model(13);
  auto* graph = proto.mutable_graph();
  Shape input_shape, weight_shape;
  if (op == "Conv") {
    input_shape = {1, 4, 5, 5};
    weight_shape = {3, 4, 2, 2};  // 16 inputs per output channel: groups of 8
    add_node(graph, "Conv", {"x", "w", "b"}, {"y"}, "conv");
    add_float_initializer(graph, "b", {3}, {0.3f, -0.2f, 0.05f});
  } else if (op == "Gemm") {
    input_shape = {2, 16};
    weight_shape = {3, 16};  // transB: [N, K]
    auto* gemm = add_node(graph, "Gemm", {"x", "w", "b"}, {"y"}, "gemm");
    auto* attribute = gemm->add_attribute();
    attribute->set_name("transB");
    attribute->set_type(onnx::AttributeProto_AttributeType_INT);
    attribute->set_i(1);
    add_float_initializer(graph, "b", {3}, {0.3f, -0.2f, 0.05f});
  } else {
    input_shape = {2, 16};
    weight_shape = {16, 3};  // [K, N]
    add_node(graph, "MatMul", {"x", "w"}, {"y"}, "matmul");
  }
  const int64_t weight_count = shape_element_count(weight_shape);
  add_float_initializer(graph, "w", weight_shape, seeded_values(static_cast<size_t>(weight_count), 7, -1.0f, 1.0f));
  add_input(graph, "x", input_shape);
  add_output(graph, "y", op == "Conv" ? std::vector<int64_t>{1, 3, 4, 4} : std::vector<int64_t>{2, 3});
  ir::Model model = onnx_io::load_model_from_bytes(proto.SerializeAsString(), "hand.onnx", "");
  HandQuantized result;
  result.input = Tensor::from_vector<float>(DType::f32, input_shape,
                                            seeded_values(static_cast<size_t>(shape_element_count(input_shape)), 11, -1.0f, 1.0f));
  const ir::QuantParams x = per_tensor(DType::u8, 2.0f / 255, 128);
  model.graph->find_value("x")->quant = x;
  const int64_t axis = op == "MatMul" ? 1 : 0;
  result.weight = weight_params(*model.graph->find_value("w")->initializer, asymmetric_weights ? DType::u4 : DType::i4,
                                false, !asymmetric_weights, axis, group_size);
  model.graph->find_value("w")->quant = result.weight;
  if (ir::Value* b = model.graph->find_value("b")) b->quant = bias_params(x, result.weight, DType::i32, 3);
  model.graph->find_value("y")->quant = per_tensor(DType::u8, 6.0f / 255, 120);
  const std::string bytes = onnx_io::serialize_model(model);
  result.model = std::make_shared<const ir::Model>(onnx_io::load_model_from_bytes(bytes, "hand_qdq.onnx", ""));
  return result;
}

std::map<std::string, Tensor> run_on(const HandQuantized& hand, const std::string& backend, const std::string& target,
                                     std::vector<std::string> keep = {}) {
  engine::EngineOptions options;
  options.backend = backend;
  options.target = target;
  options.keep_values = std::move(keep);
  return engine::Engine::from_model(hand.model, options)->run({{"x", hand.input}});
}

void expect_sim_within_one_lsb(const std::string& op, bool asymmetric, const std::string& target,
                               int64_t group_size = 8) {
  SCOPED_TRACE(op + (asymmetric ? " asymmetric" : " symmetric") + " on " + target + ", groups of " +
               std::to_string(group_size));
  const HandQuantized hand = hand_quantized(op, asymmetric, group_size);
  // The file's float weights are exactly q * s_g (asymmetric: (q - z_g) * s_g): DequantizeLinear's semantic.
  const auto reference = run_on(hand, "ref", "", {"w"});
  const Tensor& written = reference.at("w");
  const std::vector<float> dequantized = written.to_float_vector();
  ASSERT_EQ(static_cast<int64_t>(dequantized.size()), written.element_count());
  // Every written weight lies on its group's grid.
  for (int64_t i = 0; i < written.element_count(); ++i) {
    const size_t p = parameter_index(hand.weight, written.shape(), i);
    const double steps = dequantized[static_cast<size_t>(i)] / hand.weight.scales[p] + static_cast<double>(hand.weight.zero_point(p));
    EXPECT_NEAR(steps, std::nearbyint(steps), 1e-4) << op << " weight " << i;
    EXPECT_GE(std::nearbyint(steps), static_cast<double>(hand.weight.storage_min()));
    EXPECT_LE(std::nearbyint(steps), static_cast<double>(hand.weight.storage_max()));
  }
  engine::EngineOptions options;
  options.backend = "sim";
  options.target = target;
  const auto simulated_engine = engine::Engine::from_model(hand.model, options);
  const auto simulated = simulated_engine->run({{"x", hand.input}});
  bool grouped = false;
  for (const auto& entry : simulated_engine->simulation_report()->integer_nodes) {
    grouped = grouped || entry.detail.find("GroupedWeights") != std::string::npos;
  }
  EXPECT_TRUE(grouped) << op << ": the per-group weights did not lower to the grouped integer op";
  EXPECT_TRUE(simulated_engine->simulation_report()->float_nodes.empty())
      << op << ": " << simulated_engine->simulation_report()->float_nodes.front().node << " stays float: "
      << simulated_engine->simulation_report()->float_nodes.front().detail;
  const std::vector<float> expected = reference.at("y").to_float_vector();
  const std::vector<float> actual = simulated.at("y").to_float_vector();
  ASSERT_EQ(expected.size(), actual.size());
  const double lsb = 6.0 / 255;
  int differing = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_LE(std::fabs(expected[i] - actual[i]), lsb * 1.001) << op << " output " << i;
    differing += expected[i] != actual[i];
  }
  // Most outputs agree exactly; a one-LSB difference is a float rounding tie, not a systematic error.
  EXPECT_LE(differing, static_cast<int>(expected.size()) / 4) << op;
}

TEST(Int4Groups, SimConvMatchesTheFloatComputationWithTheDequantizedWeights) {
  expect_sim_within_one_lsb("Conv", false, "rk3588");
  expect_sim_within_one_lsb("Conv", true, "edgetpu");
  // 16 inputs in groups of 6: 6, 6 and a short last group of 4 (the file pads it and slices the padding off).
  expect_sim_within_one_lsb("Conv", false, "rk3588", 6);
}

TEST(Int4Groups, SimMatMulAndGemmMatchTheFloatComputationWithTheDequantizedWeights) {
  expect_sim_within_one_lsb("MatMul", false, "rk3588");
  expect_sim_within_one_lsb("Gemm", false, "rk3588");
  expect_sim_within_one_lsb("MatMul", true, "hailo8");
  expect_sim_within_one_lsb("MatMul", false, "rk3588", 6);
  expect_sim_within_one_lsb("Gemm", true, "hailo8", 6);
}

class Int4Quantize : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("npukit_int4_" + std::to_string(::getpid()));
    fs::create_directories(folder_);
    model_ = write_conv_bn_relu_net((folder_ / "net.onnx").string());
    calibration_ = write_calibration_folder((folder_ / "calibration").string(), 6, 41);
  }
  void TearDown() override { fs::remove_all(folder_); }

  std::string error_of(const std::string& target, const QuantizationSettings& settings) {
    QuantizeOptions options;
    options.calibration = calibration_;
    options.settings = settings;
    try {
      quantize_model(model_, targets::find_builtin_target(target), options);
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
      return error.reason();
    }
    return "";
  }

  fs::path folder_;
  std::string model_;
  std::string calibration_;
};

TEST_F(Int4Quantize, PerGroupWeightsAreDeclaredInTheManifestAndWrittenExactly) {
  QuantizeOptions options;
  options.calibration = calibration_;
  options.settings.weights = targets::StorageGrid::int4;
  options.settings.group_size = 9;  // conv1: 3 x 3 x 3 = 27 inputs per channel: 3 groups; conv2: 4 inputs: one
  options.settings.int4_minimum_inputs = 0;  // every weight on 4 bits (the short-layer rule: int4_adaround_test.cpp)
  const QuantizeResult result = quantize_model(model_, targets::find_builtin_target("hailo8"), options);
  int grouped = 0;
  for (const QuantizedTensor& tensor : result.tensors) {
    if (tensor.role != PointRole::weight) continue;
    EXPECT_EQ(tensor.params.storage, DType::i4);
    EXPECT_EQ(tensor.params.bits(), 4);
    if (tensor.params.group_size > 0) {
      ++grouped;
      EXPECT_EQ(tensor.params.group_size, 9);
      EXPECT_EQ(tensor.groups_per_channel, 3);
      EXPECT_EQ(tensor.params.scales.size(), 12u);  // [4 channels, 3 groups]
    } else {
      EXPECT_EQ(tensor.params.scales.size(), 2u);  // per channel: one group each
    }
  }
  EXPECT_EQ(grouped, 1);
  const std::string manifest = manifest_json(result);
  EXPECT_NE(manifest.find("\"group_size\": 9"), std::string::npos);
  EXPECT_NE(manifest.find("\"bits\": 4"), std::string::npos);
  bool noted = false;
  for (const std::string& note : result.notes) noted = noted || note.find("one group each") != std::string::npos;
  EXPECT_TRUE(noted);
  // The written file runs, and on the sim its grouped conv is integer.
  const std::string output = (folder_ / "int4.onnx").string();
  write_quantized_model(result, output);
  engine::EngineOptions sim_options;
  sim_options.backend = "sim";
  sim_options.target = "hailo8";
  const auto engine = engine::Engine::from_model(std::make_shared<const ir::Model>(onnx_io::load_model(output)), sim_options);
  bool grouped_op = false;
  for (const auto& entry : engine->simulation_report()->integer_nodes) grouped_op = grouped_op || entry.detail.find("GroupedWeights") != std::string::npos;
  EXPECT_TRUE(grouped_op);
}

TEST_F(Int4Quantize, ContradictionsAndTargetsWithoutInt4AreRefusedClearly) {
  QuantizationSettings settings;
  settings.weights = targets::StorageGrid::int4;
  // rk3588's profile lists int8 and float16 only.
  const std::string no_int4 = error_of("rk3588", settings);
  EXPECT_NE(no_int4.find("target 'rk3588' does not run int4 weights"), std::string::npos) << no_int4;
  EXPECT_NE(no_int4.find("--weights int8"), std::string::npos) << no_int4;
  // conv1 has 27 inputs per channel: groups of 8 are 8, 8, 8 and a short 3 (as ONNX's block_size).
  settings.group_size = 8;
  EXPECT_EQ(error_of("hailo8", settings), "");
  settings.per_tensor = true;
  EXPECT_NE(error_of("hailo8", settings).find("contradict"), std::string::npos);
  EXPECT_THROW(parse_storage_grid("int4", "--activations"), Error);
  EXPECT_EQ(parse_storage_grid("int4", "--weights"), targets::StorageGrid::int4);
}

TEST_F(Int4Quantize, Int16ActivationsAreWrittenAsContribQdqAroundInt4Weights) {
  QuantizeOptions options;
  options.calibration = calibration_;
  options.settings.weights = targets::StorageGrid::int4;
  options.settings.activations = targets::StorageGrid::int16;
  options.settings.int4_minimum_inputs = 0;
  const QuantizeResult result = quantize_model(model_, targets::find_builtin_target("hailo8"), options);
  int activations = 0, biases = 0;
  for (const QuantizedTensor& tensor : result.tensors) {
    EXPECT_TRUE(tensor.written) << tensor.value;
    if (tensor.role == PointRole::activation) {
      ++activations;
      EXPECT_EQ(tensor.params.storage, DType::i16);
      EXPECT_TRUE(result.model.graph->find_value(tensor.value)->quant.has_value());
    }
    biases += tensor.role == PointRole::bias;  // its input is an int16 point now: the bias is int32 at s_x * s_w
  }
  EXPECT_EQ(biases, 2);
  const std::string output = (folder_ / "w4a16.onnx").string();
  write_quantized_model(result, output);
  const ir::Model written = onnx_io::load_model(output);
  int quantize_nodes = 0, dequantize_nodes = 0;
  for (const auto& node : written.graph->nodes()) {
    quantize_nodes += node->op_type == "QuantizeLinear";
    dequantize_nodes += node->op_type == "DequantizeLinear";
  }
  EXPECT_EQ(quantize_nodes, activations);
  EXPECT_EQ(dequantize_nodes, activations + 2 + biases);  // and the two weights
}

}  // namespace
}  // namespace npukit::testing
