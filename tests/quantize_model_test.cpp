// `npukit quantize` end to end on a small Conv+BN+Relu net: the exact QDQ structure for rk3588, the manifest,
// ONNX Runtime running the QDQ file within a stated SQNR of FP32, and hostile calibration data.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/npy.h"
#include "onnx/onnx_import.h"
#include "onnx_test_models.h"
#include "quantization/quantization_points.h"
#include "quantization_fixtures.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;

std::map<std::string, int> count_ops(const onnx::ModelProto& model) {
  std::map<std::string, int> counts;
  for (const auto& node : model.graph().node()) ++counts[node.op_type()];
  return counts;
}

const onnx::NodeProto* producer_of(const onnx::ModelProto& model, const std::string& value) {
  for (const auto& node : model.graph().node()) {
    for (const auto& output : node.output()) {
      if (output == value) return &node;
    }
  }
  return nullptr;
}

const onnx::TensorProto* initializer_of(const onnx::ModelProto& model, const std::string& name) {
  for (const auto& initializer : model.graph().initializer()) {
    if (initializer.name() == name) return &initializer;
  }
  return nullptr;
}

onnx::ModelProto read_proto(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromIstream(&file)) << path;
  return model;
}

// Signal-to-quantization-noise ratio of `approximate` against `reference`, in dB.
double sqnr_db(const Tensor& reference, const Tensor& approximate) {
  double signal = 0;
  double noise = 0;
  for (int64_t index = 0; index < reference.element_count(); ++index) {
    const double r = reference.data<float>()[index];
    const double a = approximate.data<float>()[index];
    signal += r * r;
    noise += (r - a) * (r - a);
  }
  return 10.0 * std::log10(signal / std::max(noise, 1e-30));
}

std::string repository() { return fs::path(NPUKIT_MODELS_DIR).parent_path().string(); }

class QuantizeCommand : public CliRunner {
 protected:
  void SetUp() override {
    CliRunner::SetUp();
    model_ = write_conv_bn_relu_net(path("net.onnx"));
    calibration_ = write_calibration_folder(path("calibration"), 24, 100);
  }
  std::string model_;
  std::string calibration_;
};

TEST_F(QuantizeCommand, ConvBatchNormReluGetsTheExactQdqStructureForRk3588) {
  const CommandResult result =
      run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ + "' -o '" + path("q.onnx") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const onnx::ModelProto quantized = read_proto(path("q.onnx"));
  const std::map<std::string, int> ops = count_ops(quantized);
  // Q/DQ on x, relu1, pool1 and y; DQ on both weights and both biases; BatchNormalization folded away.
  EXPECT_EQ(ops.at("QuantizeLinear"), 4);
  EXPECT_EQ(ops.at("DequantizeLinear"), 8);
  EXPECT_EQ(ops.count("BatchNormalization"), 0u);
  EXPECT_EQ(ops.at("Conv"), 2);
  EXPECT_EQ(ops.at("Relu"), 1);
  // No point inside the fusion group: the Relu reads the Conv's output directly.
  const onnx::NodeProto* relu = producer_of(quantized, "relu1_float");
  ASSERT_NE(relu, nullptr);
  ASSERT_EQ(relu->op_type(), "Relu");
  const onnx::NodeProto* conv = producer_of(quantized, relu->input(0));
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->op_type(), "Conv");
  // The Conv reads x, its weight and its bias through DequantizeLinear.
  for (int input = 0; input < 3; ++input) {
    const onnx::NodeProto* reader = producer_of(quantized, conv->input(input));
    ASSERT_NE(reader, nullptr) << conv->input(input);
    EXPECT_EQ(reader->op_type(), "DequantizeLinear") << conv->input(input);
  }
  // The weight is int8 per channel (axis 0, 4 scales); the bias int32 per channel at s_x * s_w.
  const onnx::NodeProto* weight_dq = producer_of(quantized, conv->input(1));
  const onnx::TensorProto* weight = initializer_of(quantized, weight_dq->input(0));
  ASSERT_NE(weight, nullptr);
  EXPECT_EQ(weight->data_type(), onnx::TensorProto_DataType_INT8);
  const onnx::TensorProto* weight_scale = initializer_of(quantized, weight_dq->input(1));
  EXPECT_EQ(weight_scale->dims(0), 4);
  const onnx::NodeProto* bias_dq = producer_of(quantized, conv->input(2));
  const onnx::TensorProto* bias = initializer_of(quantized, bias_dq->input(0));
  EXPECT_EQ(bias->data_type(), onnx::TensorProto_DataType_INT32);

  // The manifest: MaxPool shares the Relu's parameters (rk3588 lists MaxPool as shared-scale), the bias scale
  // is s_x * s_w, and the spec's unknowns are carried.
  const nlohmann::json manifest = nlohmann::json::parse(read_text(path("q.quant.json")));
  std::map<std::string, nlohmann::json> tensors;
  for (const auto& tensor : manifest["tensors"]) tensors[tensor["value"]] = tensor;
  ASSERT_EQ(tensors.size(), 8u);
  EXPECT_EQ(tensors.count("conv1"), 0u);  // inside the fusion group
  EXPECT_EQ(tensors["pool1"]["scales"], tensors["relu1"]["scales"]);
  EXPECT_EQ(tensors["pool1"]["zero_points"], tensors["relu1"]["zero_points"]);
  EXPECT_EQ(tensors["x"]["dtype"], "i8");
  // BatchNormalization folded into conv1 gives it new weights and a new bias (named by the fold).
  std::string w1, b1;
  for (const auto& [name, tensor] : tensors) {
    if (tensor["node"] == "conv1" && tensor["role"] == "weight") w1 = name;
    if (tensor["node"] == "conv1" && tensor["role"] == "bias") b1 = name;
  }
  ASSERT_FALSE(w1.empty());
  ASSERT_FALSE(b1.empty());
  EXPECT_EQ(tensors[w1]["granularity"], "per_channel");
  EXPECT_EQ(tensors[w1]["axis"], 0);
  EXPECT_EQ(tensors[b1]["dtype"], "i32");
  const double x_scale = tensors["x"]["scales"][0];
  for (int channel = 0; channel < 4; ++channel) {
    const double weight_channel_scale = tensors[w1]["scales"][channel];
    EXPECT_FLOAT_EQ(tensors[b1]["scales"][channel].get<float>(), static_cast<float>(x_scale * weight_channel_scale));
  }
  EXPECT_EQ(manifest["range"]["method"], "percentile");
  EXPECT_EQ(manifest["calibration"]["samples"], 24);
  EXPECT_EQ(manifest["numerics"]["quantize_rounding"]["known"], false);
  EXPECT_EQ(manifest["numerics"]["weights"]["granularity"]["value"], "per_channel");
  // The relu1 range is non-negative and its zero point sits at the bottom of the int8 grid.
  EXPECT_EQ(tensors["relu1"]["zero_points"][0], -128);
  EXPECT_NE(result.out.find("relu1"), std::string::npos);
}

TEST_F(QuantizeCommand, OnnxRuntimeRunsTheQdqFileWithin30DbOfFloat) {
  ASSERT_EQ(run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ + "' --method minmax -o '" +
                path("q.onnx") + "'")
                .exit_code,
            0);
  // An input unlike the calibration samples in its values but from the same distribution.
  const Tensor input = Tensor::from_vector<float>(DType::f32, {1, 3, 8, 8}, seeded_values(192, 9999, -1.0f, 1.0f));
  write_npy(path("input.npy"), input);
  const std::string ort_run = repository() + "/tools/ort_run.js";
  for (const std::string& name : {std::string("net"), std::string("q")}) {
    const std::string command = "node '" + ort_run + "' '" + path(name + ".onnx") + "' '" + path(name + "_out") +
                                "' x='" + path("input.npy") + "' > '" + path(name + "_ort.log") + "' 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << read_text(path(name + "_ort.log"));
  }
  const Tensor reference = read_npy(path("net_out/output_0.npy"));
  const Tensor quantized = read_npy(path("q_out/output_0.npy"));
  ASSERT_EQ(reference.shape(), quantized.shape());
  // Three int8 points in a row on uniform data: about 6 dB per bit less the range overhead; 30 dB is what
  // W8A8 must keep on a net this shallow.
  const double sqnr = sqnr_db(reference, quantized);
  EXPECT_GT(sqnr, 30.0);
  // And it is quantized: not the float output to the last bit.
  EXPECT_LT(sqnr, 120.0);
}

TEST_F(QuantizeCommand, ExcludingTheReluPutsAPointOnTheConvOutputAndCalibratesOnCpu) {
  const CommandResult result = run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ +
                                   "' --exclude Relu --json -o '" + path("q.onnx") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json manifest = nlohmann::json::parse(result.out);
  std::map<std::string, nlohmann::json> tensors;
  for (const auto& tensor : manifest["tensors"]) tensors[tensor["value"]] = tensor;
  // The group is broken: the Conv's output is written (after BatchNorm folding the Conv writes "bn1").
  ASSERT_EQ(tensors.count("bn1"), 1u);
  EXPECT_EQ(tensors["bn1"]["node"], "conv1");
  EXPECT_EQ(tensors.count("relu1"), 0u);   // the Relu runs in float and writes no point
  // MaxPool of a float input does not share a grid with it; its output is quantized as conv2's input.
  ASSERT_EQ(tensors.count("pool1"), 1u);
  EXPECT_EQ(tensors["pool1"]["scale_group"], "pool1");
  // The cpu backend computes the Conv output bn1 unfused (its Relu runs apart) rather than falling back to ref.
  EXPECT_EQ(manifest["calibration"]["backend"], "cpu");
  for (const auto& note : manifest["notes"]) {
    EXPECT_EQ(note.get<std::string>().find("ref backend"), std::string::npos) << note;
  }
  bool relu_listed = false;
  for (const auto& node : manifest["float_nodes"]) {
    relu_listed = relu_listed || (node["node"] == "relu1" && node["reason"] == "excluded by --exclude");
  }
  EXPECT_TRUE(relu_listed);
}

TEST_F(QuantizeCommand, PerTensorWeightsAndUint8Activations) {
  const CommandResult result = run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ +
                                   "' --per-tensor --activations uint8 --json -o '" + path("q.onnx") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json manifest = nlohmann::json::parse(result.out);
  for (const auto& tensor : manifest["tensors"]) {
    if (tensor["role"] == "weight") EXPECT_EQ(tensor["granularity"], "per_tensor") << tensor["value"];
    if (tensor["role"] == "activation") EXPECT_EQ(tensor["dtype"], "u8") << tensor["value"];
  }
}

TEST_F(QuantizeCommand, RefusesWhatOnnxCannotExpressNamingTheValue) {
  // int16 activations are written as com.microsoft QuantizeLinear / DequantizeLinear (ONNX's own 16-bit Q / DQ need
  // opset 21, beyond npukit's libonnx): every activation is in the file, and a note says how. hailo8 runs 16-bit
  // layers (a16_w8); rk3588's profile lists int8 and float16 only, so it refuses a whole model on 16 bits.
  const CommandResult refused = run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ +
                                    "' --activations int16 -o '" + path("a16.onnx") + "'");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("--activations int16: target 'rk3588' runs no 16-bit layers"), std::string::npos)
      << refused.err;
  EXPECT_FALSE(fs::exists(path("a16.onnx")));
  const CommandResult activations = run("quantize '" + model_ + "' --target hailo8 --calibration '" + calibration_ +
                                        "' --activations int16 --json -o '" + path("a16.onnx") + "'");
  EXPECT_EQ(activations.exit_code, 0) << activations.err;
  const nlohmann::json a16 = nlohmann::json::parse(activations.out);
  int written = 0;
  for (const auto& tensor : a16["tensors"]) {
    if (tensor["role"] == "activation") {
      EXPECT_EQ(tensor["dtype"], "i16") << tensor["value"];
      EXPECT_TRUE(tensor["written"].get<bool>()) << tensor["value"];
      ++written;
    }
  }
  EXPECT_GT(written, 0);
  bool noted = false;
  for (const auto& note : a16["notes"]) noted = noted || note.get<std::string>().find("com.microsoft") != std::string::npos;
  EXPECT_TRUE(noted);
  int contrib = 0;
  const onnx::ModelProto a16_file = read_proto(path("a16.onnx"));
  for (const auto& node : a16_file.graph().node()) contrib += node.domain() == "com.microsoft";
  EXPECT_EQ(contrib, 2 * written);
  const CommandResult weights = run("quantize '" + model_ + "' --target hailo8 --calibration '" + calibration_ +
                                    "' --weights int16 -o '" + path("q.onnx") + "'");
  EXPECT_EQ(weights.exit_code, 1);
  EXPECT_NE(weights.err.find("weight 'conv1_folded_weights'"), std::string::npos) << weights.err;
  const CommandResult exclude = run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ +
                                    "' --exclude NoSuchNode -o '" + path("q.onnx") + "'");
  EXPECT_EQ(exclude.exit_code, 1);
  EXPECT_NE(exclude.err.find("NoSuchNode"), std::string::npos) << exclude.err;
  const CommandResult method = run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ +
                                   "' --method median -o '" + path("q.onnx") + "'");
  EXPECT_EQ(method.exit_code, 1);
  EXPECT_NE(method.err.find("minmax, percentile, entropy or mse"), std::string::npos) << method.err;
  EXPECT_FALSE(fs::exists(path("q.onnx")));
  EXPECT_FALSE(fs::exists(path("q.quant.json")));
}

TEST_F(QuantizeCommand, HostileCalibrationDataGivesClearErrorsAndWritesNothing) {
  fs::create_directories(path("empty"));
  const CommandResult empty =
      run("quantize '" + model_ + "' --target rk3588 --calibration '" + path("empty") + "' -o '" + path("q.onnx") + "'");
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("empty"), std::string::npos) << empty.err;

  fs::create_directories(path("wrong_shape"));
  write_npy(path("wrong_shape/a.npy"), Tensor(DType::f32, {1, 3, 4, 4}));
  const CommandResult shape = run("quantize '" + model_ + "' --target rk3588 --calibration '" + path("wrong_shape") +
                                  "' -o '" + path("q.onnx") + "'");
  EXPECT_EQ(shape.exit_code, 1);
  EXPECT_NE(shape.err.find("a.npy"), std::string::npos) << shape.err;

  fs::create_directories(path("wrong_dtype"));
  write_npy(path("wrong_dtype/a.npy"), Tensor(DType::i32, {1, 3, 8, 8}));
  const CommandResult dtype = run("quantize '" + model_ + "' --target rk3588 --calibration '" + path("wrong_dtype") +
                                  "' -o '" + path("q.onnx") + "'");
  EXPECT_EQ(dtype.exit_code, 1);
  EXPECT_NE(dtype.err.find("a.npy"), std::string::npos) << dtype.err;

  const std::string nan_folder = write_calibration_folder(path("nan"), 3, 7);
  Tensor poisoned = Tensor::from_vector<float>(DType::f32, {1, 3, 8, 8}, seeded_values(192, 5, -1.0f, 1.0f));
  poisoned.data<float>()[17] = std::nanf("");
  write_npy(path("nan/sample_01.npy"), poisoned);
  const CommandResult nan = run("quantize '" + model_ + "' --target rk3588 --calibration '" + nan_folder + "' -o '" +
                                path("q.onnx") + "'");
  EXPECT_EQ(nan.exit_code, 1);
  EXPECT_NE(nan.err.find("sample_01.npy"), std::string::npos) << nan.err;
  EXPECT_NE(nan.err.find("NaN"), std::string::npos) << nan.err;

  EXPECT_FALSE(fs::exists(path("q.onnx")));
  EXPECT_FALSE(fs::exists(path("q.quant.json")));
  EXPECT_FALSE(fs::exists(path("q.onnx.partial")));
}

// Placement on the IR, without data: the rules of quantization_points.h on the same net.
TEST(QuantizePlacement, FusionGroupAndSharedScaleOnRk3588) {
  TemporaryFolder folder;
  const std::string model_path = write_conv_bn_relu_net(folder.file("net.onnx"));
  ir::Model model = onnx_io::load_model(model_path);
  const targets::TargetProfile& rk3588 = targets::find_builtin_target("rk3588");
  // Before BatchNorm folding the group [Conv, BatchNormalization, Relu] matches: no point on conv1 nor bn1.
  const quantization::QuantizationPlan plan = quantization::plan_quantization_points(*model.graph, rk3588.numerics, {});
  EXPECT_EQ(plan.find("conv1"), nullptr);
  EXPECT_EQ(plan.find("bn1"), nullptr);
  ASSERT_NE(plan.find("relu1"), nullptr);
  ASSERT_NE(plan.find("pool1"), nullptr);
  EXPECT_EQ(plan.find("pool1")->scale_group, plan.find("relu1")->scale_group);
  ASSERT_NE(plan.find("w1"), nullptr);
  EXPECT_EQ(plan.find("w1")->axis, 0);
  EXPECT_FALSE(plan.find("w1")->symmetric);  // rk3588's w8a8 weights are asymmetric
  ASSERT_NE(plan.find("b1"), nullptr);
  EXPECT_EQ(plan.find("b1")->storage, DType::i32);
  EXPECT_EQ(plan.find("b1")->bias_input, "x");
  const std::vector<std::string> calibrated = plan.calibrated_values();
  EXPECT_EQ(calibrated, (std::vector<std::string>{"x", "relu1", "pool1", "y"}));
  // A profile without a numerics section cannot be planned.
  targets::NumericsSpec absent;
  EXPECT_THROW(quantization::plan_quantization_points(*model.graph, absent, {}), Error);
}

}  // namespace
}  // namespace npukit::testing
