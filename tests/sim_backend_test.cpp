// The sim backend (sim/lowering.h, sim/sim_backend.h) on the QDQ models of tools/make_qdq_models.py:
// every integer op within its LSB bound of the float `ref` run of the same QDQ file, targets that round ties
// differently giving different integers, float fallbacks reported, and hostile models and targets refused
// with a clear error. (Bit-exactness against the TFLite reference: tools/check_sim_against_tflite.py, ctest
// sim_matches_tflite_reference.)
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "core/npy.h"
#include "engine/engine.h"
#include "npukit/error.h"
#include "onnx/onnx_import.h"
#include "sim/lowering.h"

namespace npukit {
namespace {

std::string qdq_model(const std::string& name) { return std::string(NPUKIT_MODELS_DIR) + "/generated/qdq/" + name + ".onnx"; }

std::shared_ptr<const ir::Model> load(const std::string& name) {
  const std::string path = qdq_model(name);
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + " is missing: run tools/make_models.sh");
  return std::make_shared<const ir::Model>(onnx_io::load_model(path));
}

std::map<std::string, Tensor> run(const std::shared_ptr<const ir::Model>& model, const std::string& backend,
                                  const std::string& target, const Tensor& input) {
  engine::EngineOptions options;
  options.backend = backend;
  options.target = target;
  return engine::Engine::from_model(model, options)->run({{"input", input}});
}

Tensor test_input(const std::string& name) {
  return read_npy(std::string(NPUKIT_MODELS_DIR) + "/generated/qdq/" + name + ".input.npy");
}

// The scale of the integer tensor a graph output dequantizes (output <- Identity <- DequantizeLinear).
float output_scale(const ir::Model& model, const std::string& output) {
  const ir::Value* value = model.graph->find_value(output);
  while (value->producer && value->producer->op_type != "DequantizeLinear") value = value->producer->input(0);
  return value->producer->input(0)->quant->scales[0];
}

// Largest |sim - ref| of each output in LSBs of the output's scale.
std::map<std::string, double> lsb_differences(const std::string& name, const std::string& target) {
  const auto model = load(name);
  const Tensor input = test_input(name);
  const auto simulated = run(model, "sim", target, input);
  const auto reference = run(model, "ref", "", input);
  std::map<std::string, double> result;
  for (const auto& [output, expected] : reference) {
    const Tensor& actual = simulated.at(output);
    EXPECT_EQ(actual.shape(), expected.shape()) << name << "/" << output;
    const double scale = output_scale(*model, output);
    double largest = 0;
    for (int64_t i = 0; i < expected.element_count(); ++i) {
      largest = std::max(largest, std::abs(actual.data<float>()[i] - expected.data<float>()[i]) / scale);
    }
    result[output] = largest;
  }
  return result;
}

TEST(SimBackend, IsListedAndNeedsATarget) {
  const auto backends = engine::available_backends();
  EXPECT_NE(std::find(backends.begin(), backends.end(), "sim"), backends.end());
  try {
    run(load("conv_relu_int8"), "sim", "", test_input("conv_relu_int8"));
    FAIL() << "sim without a target ran";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(error.reason().find("--target"), std::string::npos) << error.reason();
  }
  EXPECT_THROW(run(load("conv_relu_int8"), "sim", "no-such-chip", test_input("conv_relu_int8")), Error);
}

// Each single-op model: the integer result within one LSB of the float QDQ result (the float path rounds once,
// half to even, the integer path with the target's fixed-point multiplier); two stages (an op feeding Add / Mul /
// Concat): two LSB.
TEST(SimBackend, EveryIntegerOpWithinItsLsbBoundOfFloatRef) {
  const std::map<std::string, double> bounds{{"conv_relu", 1}, {"conv_strided_dilated", 1}, {"conv_grouped", 1},
                                             {"conv_depthwise", 1}, {"gemm", 1}, {"matmul", 1}, {"pools", 1},
                                             {"shapes", 0}, {"tie_conv", 1}, {"add", 2}, {"mul", 2}, {"concat", 2},
                                             {"nonlinear", 2}};
  for (const auto& [stem, bound] : bounds) {
    for (const char* dtype : {"_int8", "_uint8"}) {
      for (const char* target : {"edgetpu", "rk3588"}) {
        for (const auto& [output, lsb] : lsb_differences(stem + dtype, target)) {
          EXPECT_LE(lsb, bound + 1e-3) << stem << dtype << "/" << output << " on " << target;
        }
      }
    }
  }
}

TEST(SimBackend, SmallCnnStaysCloseToFloatRef) {
  for (const char* name : {"small_cnn_int8", "small_cnn_uint8"}) {
    for (const auto& [output, lsb] : lsb_differences(name, "edgetpu")) EXPECT_LE(lsb, 4.0) << name << "/" << output;
  }
}

TEST(SimBackend, TargetsThatRoundTiesDifferentlyDiffer) {
  // tie_conv: y = x / 2 for x = -6..5, every odd x a tie. edgetpu (gemmlowp double rounding): ties toward
  // +infinity; rk3588 (assumed ONNX Runtime's float scale): half to even. The output dequantizes at scale 2.
  const auto model = load("tie_conv_int8");
  const Tensor input = test_input("tie_conv_int8");
  const Tensor edgetpu = run(model, "sim", "edgetpu", input).at("output");
  const Tensor rk3588 = run(model, "sim", "rk3588", input).at("output");
  const std::vector<float> edgetpu_expected{-6, -4, -4, -2, -2, 0, 0, 2, 2, 4, 4, 6};
  const std::vector<float> rk3588_expected{-6, -4, -4, -4, -2, 0, 0, 0, 2, 4, 4, 4};
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(edgetpu.data<float>()[i], edgetpu_expected[i]) << "x = " << static_cast<int>(i) - 6;
    EXPECT_EQ(rk3588.data<float>()[i], rk3588_expected[i]) << "x = " << static_cast<int>(i) - 6;
  }
}

TEST(SimBackend, LowersTheWholeCnnAndReportsWhatStaysFloat) {
  engine::EngineOptions options;
  options.backend = "sim";
  options.target = "edgetpu";
  const auto cnn = engine::Engine::from_model(load("small_cnn_int8"), options);
  const sim::LoweringReport* report = cnn->simulation_report();
  ASSERT_NE(report, nullptr);
  EXPECT_TRUE(report->float_nodes.empty()) << report->float_nodes.front().node << ": " << report->float_nodes.front().detail;
  EXPECT_GE(report->integer_nodes.size(), 15u);
  for (const auto* node : cnn->executed_nodes()) {
    const bool integer = node->domain == sim::kIntegerDomain || node->op_type == "MaxPool" || node->op_type == "Concat" ||
                         node->op_type == "Flatten" || node->op_type == "DequantizeLinear" || node->op_type == "Identity";
    EXPECT_TRUE(integer) << node->describe() << " runs in float";
  }
  // edgetpu does not list HardSwish as a table: it stays float between its DQ and Q, and is reported.
  const auto nonlinear = engine::Engine::from_model(load("nonlinear_int8"), options);
  const auto& floats = nonlinear->simulation_report()->float_nodes;
  ASSERT_EQ(floats.size(), 2u);  // HardSwish, and the QuantizeLinear of its float result (ONNX rounding)
  for (const auto& entry : floats) {
    if (entry.op_type == "HardSwish") {
      EXPECT_NE(entry.detail.find("lookup_table_ops"), std::string::npos) << entry.detail;
    } else {
      EXPECT_EQ(entry.op_type, "QuantizeLinear");
      EXPECT_NE(entry.detail.find("float op"), std::string::npos) << entry.detail;
    }
  }
  // rk3588 lists it: nothing stays float there.
  options.target = "rk3588";
  EXPECT_TRUE(engine::Engine::from_model(load("nonlinear_int8"), options)->simulation_report()->float_nodes.empty());
}

TEST(SimBackend, HostileModelsAndTargetsAreRefusedClearly) {
  const std::string directory = ::testing::TempDir();
  // A target file without a numerics section.
  const std::string profile_path = std::string(NPUKIT_TARGETS_DIR) + "/edgetpu.json";
  nlohmann::json profile = nlohmann::json::parse(std::ifstream(profile_path));
  profile.erase("numerics");
  const std::string no_numerics = directory + "/sim_no_numerics.json";
  std::ofstream(no_numerics) << profile.dump();
  try {
    run(load("conv_relu_int8"), "sim", no_numerics, test_input("conv_relu_int8"));
    FAIL() << "a target without numerics ran";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(error.reason().find("no numerics section"), std::string::npos) << error.reason();
  }
  // A QDQ model whose output scale is zero: refused at load, naming the node.
  std::ifstream file(qdq_model("conv_relu_int8"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ::onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(bytes));
  bool edited = false;
  for (auto& initializer : *proto.mutable_graph()->mutable_initializer()) {
    if (initializer.name().find("_relu_") != std::string::npos && initializer.name().find("scale") != std::string::npos) {
      initializer.clear_raw_data();
      initializer.clear_float_data();
      initializer.add_float_data(0.0f);
      edited = true;
    }
  }
  ASSERT_TRUE(edited);
  try {
    onnx_io::load_model_from_bytes(proto.SerializeAsString(), "zero_scale.onnx", directory);
    FAIL() << "a zero scale was accepted";
  } catch (const Error& error) {
    EXPECT_NE(error.reason().find("> 0"), std::string::npos) << error.reason();
    EXPECT_FALSE(error.node().empty()) << error.reason();
  }
}

}  // namespace
}  // namespace npukit
