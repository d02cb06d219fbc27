// Issue 11 §6: 16-bit layers in a mixed precision (`npukit quantize --keep-int16 N`): which targets run them, the
// plan (a layer's activations and their scale groups on the 16-bit grid), the QDQ file (com.microsoft Q / DQ for
// 16-bit points, read back as ONNX's own), the sim running the kept layer in integer arithmetic equal to the
// integer reference computed here by hand, ONNX Runtime on the file, the output SQNR gain, the latency budget
// choosing 16 bits where float does not fit, the vendor hints and the command line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "cli_runner.h"
#include "core/npy.h"
#include "engine/engine.h"
#include "ir/value_info.h"
#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "onnx/onnx_import.h"
#include "quantization/mixed_precision.h"
#include "quantization/quantization_algorithm.h"
#include "quantization/quantize.h"
#include "quantization/quantize_model.h"
#include "quantization/sixteen_bit_layers.h"
#include "quantization/vendor_hints.h"
#include "quantization_fixtures.h"
#include "report_html/quantize_sections.h"
#include "quantization/fixed_point.h"
#include "runtime/kernels/integer/requantizer.h"
#include "sim/lowering.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

std::string repository() { return fs::path(NPUKIT_MODELS_DIR).parent_path().string(); }

const QuantizedTensor& record_of(const QuantizeResult& result, const std::string& value) {
  for (const QuantizedTensor& tensor : result.tensors) {
    if (tensor.value == value) return tensor;
  }
  throw std::runtime_error("no record of " + value);
}

class SixteenBitLayers : public CliRunner {
 protected:
  void SetUp() override {
    CliRunner::SetUp();
    model_ = write_conv_bn_relu_net(path("net.onnx"));
    calibration_ = write_calibration_folder(path("calibration"), 8, 700);
  }
  QuantizeOptions options() const {
    QuantizeOptions chosen;
    chosen.calibration = calibration_;
    chosen.method = RangeMethod::minmax;
    chosen.sensitivity_samples = 3;
    return chosen;
  }
  // conv2 (the last layer, a 1x1 Conv reading pool1) kept 16-bit.
  QuantizeResult conv2_sixteen_bit(const std::string& target) const {
    QuantizeOptions chosen = options();
    chosen.settings.sixteen_bit_nodes = {"conv2"};
    return quantize_model(model_, targets::find_builtin_target(target), chosen);
  }
  std::string model_;
  std::string calibration_;
};

TEST_F(SixteenBitLayers, TargetsWithoutSixteenBitLayersAreRefusedNamingWhatTheyList) {
  std::string why;
  EXPECT_FALSE(sixteen_bit_activation_grid(targets::find_builtin_target("rk3588"), why).has_value());
  EXPECT_NE(why.find("int8, float16"), std::string::npos) << why;
  try {
    require_sixteen_bit_activations(targets::find_builtin_target("rk3588"), "--keep-int16");
    FAIL() << "rk3588 accepted 16-bit layers";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(error.reason().find("--keep-int16: target 'rk3588' runs no 16-bit layers (its profile lists int8, float16)"),
              std::string::npos)
        << error.reason();
    EXPECT_NE(error.reason().find("--keep-float"), std::string::npos) << error.reason();
  }
  // Hailo's activations are unsigned (uint8, uint16 in its a16 modes); Qualcomm's HTP signed by its spec.
  EXPECT_EQ(require_sixteen_bit_activations(targets::find_builtin_target("hailo8"), "x"), targets::StorageGrid::uint16);
  const targets::TargetProfile& htp = targets::find_builtin_target("qualcomm-htp");
  const targets::StorageGrid htp_grid = require_sixteen_bit_activations(htp, "x");
  const bool htp_unsigned = htp.numerics.activations.storage.value == targets::StorageGrid::uint8;
  EXPECT_EQ(htp_grid, htp_unsigned ? targets::StorageGrid::uint16 : targets::StorageGrid::int16);
}

TEST_F(SixteenBitLayers, ThePlanPutsWhatTheLayerReadsAndWritesAndItsScaleGroupOnSixteenBits) {
  const targets::TargetProfile& target = targets::find_builtin_target("hailo8");
  const QuantizeResult plain = quantize_model(model_, target, options());
  QuantizationSettings settings;
  settings.sixteen_bit_nodes = {"conv2"};
  const QuantizationPlan plan = plan_quantization_points(*plain.model.graph, target.numerics, settings);
  std::map<std::string, DType> storage;
  for (const PlannedPoint& point : plan.points) storage[point.value] = point.storage;
  EXPECT_EQ(storage.at("y"), DType::u16);      // what conv2 writes
  EXPECT_EQ(storage.at("pool1"), DType::u16);  // what it reads
  EXPECT_EQ(storage.at("relu1"), DType::u16);  // MaxPool shares its input's grid: the same scale group
  EXPECT_EQ(storage.at("x"), DType::u8);       // conv1's input stays 8-bit
  for (const PlannedPoint& point : plan.points) {
    if (point.role == PointRole::weight) EXPECT_EQ(point.storage, DType::i8) << point.value;  // a16w8
    if (point.role == PointRole::bias) EXPECT_EQ(point.storage, DType::i32) << point.value;
  }
  settings.sixteen_bit_nodes = {"no_such_node"};
  try {
    plan_quantization_points(*plain.model.graph, target.numerics, settings);
    FAIL() << "an unknown node was accepted";
  } catch (const Error& error) {
    EXPECT_NE(error.reason().find("'no_such_node' is no node of the model"), std::string::npos) << error.reason();
  }
}

TEST_F(SixteenBitLayers, TheQdqFileWritesSixteenBitPointsAsContribOpsAndReadsThemBack) {
  const QuantizeResult result = conv2_sixteen_bit("hailo8");
  EXPECT_EQ(record_of(result, "y").params.storage, DType::u16);
  EXPECT_TRUE(record_of(result, "y").written);
  const std::string output = path("q16.onnx");
  write_quantized_model(result, output);
  onnx::ModelProto proto;
  {
    std::ifstream file(output, std::ios::binary);
    ASSERT_TRUE(proto.ParseFromIstream(&file));
  }
  bool declares_contrib = false;
  for (const auto& opset : proto.opset_import()) declares_contrib = declares_contrib || (opset.domain() == "com.microsoft" && opset.version() == 1);
  EXPECT_TRUE(declares_contrib);
  int contrib_pairs = 0, default_pairs = 0;
  for (const auto& node : proto.graph().node()) {
    if (node.op_type() != "QuantizeLinear" && node.op_type() != "DequantizeLinear") continue;
    // Every Q / DQ whose zero point is 16-bit is in com.microsoft, every 8-bit one in the default domain.
    const std::string& zero_point = node.input(2);
    int32_t type = 0;
    for (const auto& initializer : proto.graph().initializer()) {
      if (initializer.name() == zero_point) type = initializer.data_type();
    }
    const bool sixteen = type == onnx::TensorProto_DataType_UINT16 || type == onnx::TensorProto_DataType_INT16;
    EXPECT_EQ(node.domain(), sixteen ? "com.microsoft" : "") << node.name();
    (sixteen ? contrib_pairs : default_pairs) += node.op_type() == "QuantizeLinear";
  }
  EXPECT_EQ(contrib_pairs, 3);   // relu1, pool1, y
  EXPECT_EQ(default_pairs, 1);   // x
  // Read back: ONNX's own ops with the 16-bit parameters, and written again the same way.
  const ir::Model read = onnx_io::load_model(output);
  for (const auto& node : read.graph->nodes()) {
    if (node->op_type == "QuantizeLinear" || node->op_type == "DequantizeLinear") EXPECT_EQ(node->domain, "");
  }
  const ir::Value* y = read.graph->find_value("y_quantized");
  ASSERT_NE(y, nullptr);
  ASSERT_TRUE(y->quant.has_value());
  EXPECT_EQ(y->quant->storage, DType::u16);
  EXPECT_EQ(y->quant->scales, record_of(result, "y").params.scales);
  const std::string again = onnx_io::serialize_model(read);
  onnx::ModelProto reproto;
  ASSERT_TRUE(reproto.ParseFromString(again));
  int contrib_again = 0;
  for (const auto& node : reproto.graph().node()) contrib_again += node.domain() == "com.microsoft";
  EXPECT_EQ(contrib_again, 6);
}

// The sim runs the 16-bit layer (conv2: 1x1, 4 → 2 channels) as the integer reference computed here by hand:
// acc[m] = sum_c (q_x[c] - z_x)(q_w[m, c] - z_w[m]) + q_b[m] in integers, the target's requantization of
// s_x s_w[m] / s_y (its multiplier width and rounding, fixed_point.h through Requantizer), + z_y, clamped to
// uint16. Equal to the bit.
TEST_F(SixteenBitLayers, TheSimRunsTheSixteenBitLayerAsTheIntegerReferenceToTheBit) {
  const targets::TargetProfile& target = targets::find_builtin_target("hailo8");
  const QuantizeResult result = conv2_sixteen_bit("hailo8");
  const ir::QuantParams x = record_of(result, "pool1").params;
  const ir::QuantParams w = record_of(result, "w2").params;
  const ir::QuantParams b = record_of(result, "b2").params;
  const ir::QuantParams y = record_of(result, "y").params;
  ASSERT_EQ(x.storage, DType::u16);
  ASSERT_EQ(y.storage, DType::u16);
  ASSERT_EQ(w.storage, DType::i8);
  const Tensor weights = quantize_tensor(*result.model.graph->find_value("w2")->initializer, w);
  const Tensor bias = quantize_tensor(*result.model.graph->find_value("b2")->initializer, b);
  std::vector<double> multipliers;
  for (size_t m = 0; m < 2; ++m) {
    multipliers.push_back(static_cast<double>(x.scales[0]) * w.scales[w.scales.size() == 1 ? 0 : m] / y.scales[0]);
  }
  const runtime::integer::Requantizer requantizer(multipliers, target.numerics.requantization.value,
                                                  static_cast<int>(target.numerics.multiplier_bits.value));
  std::unique_ptr<engine::Engine> sim = simulate_quantized_model(result.model, "hailo8", {"pool1_quantized"});
  std::unique_ptr<CalibrationSource> source =
      open_calibration_source(calibration_, ir::declared_inputs(result.model), {});
  int64_t compared = 0, distinct_inputs = 0;
  for (size_t sample = 0; sample < 3; ++sample) {
    sim->run(source->sample(sample).inputs);
    const Tensor& input = sim->output("pool1_quantized");
    ASSERT_EQ(input.dtype(), DType::u16);
    const Tensor& output = sim->output("y");
    ASSERT_EQ(output.element_count(), 2 * 16);
    const std::vector<int64_t> q_x = input.to_int64_vector();
    const std::vector<int64_t> q_w = weights.to_int64_vector();
    const std::vector<int64_t> q_b = bias.to_int64_vector();
    std::set<int64_t> seen(q_x.begin(), q_x.end());
    distinct_inputs += static_cast<int64_t>(seen.size());
    for (int64_t m = 0; m < 2; ++m) {
      for (int64_t pixel = 0; pixel < 16; ++pixel) {
        int64_t accumulator = q_b[static_cast<size_t>(m)];
        for (int64_t c = 0; c < 4; ++c) {
          accumulator += (q_x[static_cast<size_t>(c * 16 + pixel)] - x.zero_point(0)) *
                         (q_w[static_cast<size_t>(m * 4 + c)] - w.zero_point(w.scales.size() == 1 ? 0 : m));
        }
        ASSERT_LE(std::llabs(accumulator), int64_t{INT32_MAX});
        const int32_t q_y = add_zero_point_and_clamp(requantizer.apply(static_cast<int32_t>(accumulator), m),
                                                     static_cast<int32_t>(y.zero_point(0)), 0, 65535);
        const float expected = static_cast<float>(q_y - y.zero_point(0)) * y.scales[0];
        EXPECT_EQ(output.data<float>()[m * 16 + pixel], expected) << "sample " << sample << " channel " << m;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 96);
  // The input really uses the 16-bit grid (far more than 256 levels over three samples).
  EXPECT_GT(distinct_inputs, 100);
  // And the lowering ran conv2 in integer (not its float op between DQ and Q).
  bool integer = false;
  for (const auto& entry : sim->simulation_report()->integer_nodes) integer = integer || entry.node == "conv2";
  EXPECT_TRUE(integer);
}

// ONNX Runtime 1.30 loads the file (com.microsoft Q / DQ with uint16 / int16) and runs it. It computes each layer in
// float between DQ and Q (float accumulation of dequantized values, one rounding half to even), where the sim uses
// the target's integer accumulation and requantization (hailo8: float_scale, assumed; esp32s3: power-of-two scales,
// a rounding shift, ties up): by definition they may differ by one step of the 16-bit grid where a value falls near
// a rounding tie. Asserted: within 1 LSB of y's 16-bit grid everywhere (measured: 0 LSB on all 32 elements, both
// targets, this input).
TEST_F(SixteenBitLayers, OnnxRuntimeRunsTheFileAndAgreesWithTheSimWithinTheSixteenBitGrid) {
  const Tensor input = Tensor::from_vector<float>(DType::f32, {1, 3, 8, 8}, seeded_values(192, 9999, -1.0f, 1.0f));
  write_npy(path("input.npy"), input);
  // hailo8: uint16, requantization assumed float_scale; esp32s3: int16, power-of-two scales (a rounding shift).
  for (const std::string target : {"hailo8", "esp32s3"}) {
    const QuantizeResult result = conv2_sixteen_bit(target);
    write_quantized_model(result, path(target + ".onnx"));
    const std::string command = "node '" + repository() + "/tools/ort_run.js' '" + path(target + ".onnx") + "' '" +
                                path(target + "_ort") + "' x='" + path("input.npy") + "' > '" + path("ort.log") + "' 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << read_text(path("ort.log"));
    const Tensor ort = read_npy(path(target + "_ort/output_0.npy"));
    std::unique_ptr<engine::Engine> sim = simulate_quantized_model(result.model, target, {});
    sim->run({{"x", input}});
    const Tensor& simulated = sim->output("y");
    ASSERT_EQ(ort.element_count(), simulated.element_count());
    const float step = record_of(result, "y").params.scales[0];
    int64_t within_one = 0;
    double largest = 0;
    for (int64_t i = 0; i < ort.element_count(); ++i) {
      const double steps = std::fabs(ort.data<float>()[i] - simulated.data<float>()[i]) / step;
      largest = std::max(largest, steps);
      within_one += steps <= 1.0 + 1e-3;
    }
    EXPECT_LE(largest, 1.0 + 1e-3) << target;
    EXPECT_EQ(within_one, ort.element_count()) << target << ": largest " << largest << " steps";
    // 16 bits on conv2 beat all int8 against the float model, on ORT as on the sim.
    const QuantizeResult eight = quantize_model(model_, targets::find_builtin_target(target), options());
    std::unique_ptr<engine::Engine> sim8 = simulate_quantized_model(eight.model, target, {});
    sim8->run({{"x", input}});
    std::unique_ptr<CalibrationSource> one = open_calibration_source(path("input.npy"), ir::declared_inputs(result.model), {});
    const auto reference = capture_float_values(result.model, {"y"}, *one, 1);
    EXPECT_GT(sqnr_db(reference[0].at("y"), ort), sqnr_db(reference[0].at("y"), sim8->output("y"))) << target;
  }
}

TEST_F(SixteenBitLayers, KeepInt16RaisesTheOutputSqnrAndListsTheLayerWithItsReason) {
  const targets::TargetProfile& target = targets::find_builtin_target("hailo8");
  MixedPrecisionOptions mixed;
  mixed.keep_int16 = 1;
  const MixedPrecisionResult result = quantize_with_mixed_precision(model_, target, options(), mixed);
  EXPECT_TRUE(result.float_layers.empty());
  ASSERT_EQ(result.sixteen_bit_layers.size(), 1u);
  ASSERT_EQ(result.quantized.algorithms.size(), 2u);
  const AlgorithmOutcome& ranking = result.quantized.algorithms[0];
  const AlgorithmOutcome& chosen = result.quantized.algorithms[1];
  // The first candidate of the ranking runs 16-bit.
  std::string first_candidate;
  for (const LayerOutcome& row : ranking.layers) {
    if (row.node.rfind("input ", 0) != 0) {
      first_candidate = row.node;
      break;
    }
  }
  EXPECT_EQ(result.sixteen_bit_layers[0].name, first_candidate);
  ASSERT_TRUE(chosen.before && chosen.after);
  // Measured 37.6 → 39.7 dB with conv2 on 16 bits: the input x (uint8) and conv1's int8 weights still limit it.
  EXPECT_GT(*chosen.after, *chosen.before + 1.0) << "all int8 " << *chosen.before << " dB, as chosen " << *chosen.after;
  size_t sixteen = 0;
  for (const LayerOutcome& row : chosen.layers) {
    if (row.detail.rfind("int16 (sensitivity rank 1)", 0) == 0) {
      ++sixteen;
      EXPECT_EQ(row.node, first_candidate);
    }
  }
  EXPECT_EQ(sixteen, 1u);
  // Nothing excluded: the layer is quantized, on 16 bits.
  EXPECT_TRUE(std::none_of(result.quantized.float_nodes.begin(), result.quantized.float_nodes.end(),
                           [](const FloatNode& node) { return node.reason == "excluded by --exclude"; }));
  bool noted = false;
  for (const std::string& note : chosen.notes) noted = noted || note.find("1 layer(s) run with 16-bit activations") == 0;
  EXPECT_TRUE(noted);
}

TEST_F(SixteenBitLayers, ABudgetChoosesSixteenBitsWhereFloatWouldNotFit) {
  const targets::TargetProfile& target = targets::find_builtin_target("hailo8");
  MixedPrecisionOptions mixed;
  // A stated estimator: 1 ms all int8, each float node 0.5 ms more, each 16-bit node 0.2 ms more.
  mixed.estimate_milliseconds = [](const ir::Model&, const std::set<std::string>& floats,
                                   const std::set<std::string>& sixteen) {
    return 1.0 + 0.5 * static_cast<double>(floats.size()) + 0.2 * static_cast<double>(sixteen.size());
  };
  mixed.estimate_basis = "test estimator";
  mixed.keep_float = 4;
  mixed.keep_int16 = 4;
  // 1.45 ms: no float layer fits (0.5 ms a node); 16-bit layers of one node fit twice (0.4 ms), conv1+relu1 never.
  mixed.budget_latency_ms = 1.45;
  const MixedPrecisionResult result = quantize_with_mixed_precision(model_, target, options(), mixed);
  EXPECT_TRUE(result.float_layers.empty());
  ASSERT_EQ(result.sixteen_bit_layers.size(), 2u);
  for (const QuantizedLayer& layer : result.sixteen_bit_layers) EXPECT_EQ(layer.nodes.size(), 1u) << layer.name;
  const AlgorithmOutcome& chosen = result.quantized.algorithms[1];
  size_t with_reason = 0;
  for (const LayerOutcome& row : chosen.layers) {
    with_reason += row.detail.find("float would exceed the latency budget: 16 bits fit") != std::string::npos;
  }
  EXPECT_EQ(with_reason, 2u);
  bool noted = false;
  for (const std::string& note : chosen.notes) noted = noted || note.find("as chosen 1.4 ms, budget 1.45 ms") != std::string::npos;
  EXPECT_TRUE(noted);
  // On rk3588 the same options are refused before any work, naming what its profile lists.
  try {
    quantize_with_mixed_precision(model_, targets::find_builtin_target("rk3588"), options(), mixed);
    FAIL() << "rk3588 accepted --keep-int16";
  } catch (const Error& error) {
    EXPECT_NE(error.reason().find("int8, float16"), std::string::npos) << error.reason();
  }
}

TEST_F(SixteenBitLayers, VendorHintsNameSixteenBitLayersInEachFormat) {
  const targets::TargetProfile& target = targets::find_builtin_target("hailo8");
  const QuantizeResult result = quantize_model(model_, target, options());
  const QuantizationPlan plan = plan_quantization_points(*result.model.graph, target.numerics, {});
  const std::vector<QuantizedLayer> layers = quantized_layers(*result.model.graph, plan, target.numerics);
  ASSERT_GE(layers.size(), 4u);
  const QuantizedLayer& conv2 = layers.back();
  ASSERT_EQ(conv2.name, "conv2");
  const std::vector<VendorHintFile> files = vendor_hint_files(result.model, {layers[2]}, {conv2}, "net.onnx", "hailo8");
  EXPECT_NE(files[0].text.find("\ncustom_quantize_layers:\n    pool1: float16\n    y: int16\n"), std::string::npos)
      << files[0].text;
  EXPECT_NE(files[1].text.find("\nquantization_param(pool1, precision_mode=a16_w16)\n"), std::string::npos) << files[1].text;
  EXPECT_NE(files[1].text.find("\nquantization_param(conv2, precision_mode=a16_w8)\n"), std::string::npos) << files[1].text;
}

TEST_F(SixteenBitLayers, CommandLineKeepInt16WritesTheFileHintsReportAndManifest) {
  const CommandResult result =
      run("quantize '" + model_ + "' --target hailo8 --calibration '" + calibration_ + "' --method minmax "
          "--keep-int16 1 --sensitivity-samples 2 --vendor-hints '" + path("hints") + "' --report '" +
          path("report.md") + "' --json -o '" + path("q.onnx") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json manifest = nlohmann::json::parse(result.out);
  ASSERT_EQ(manifest["algorithms"].size(), 2u);
  const nlohmann::json& mixed = manifest["algorithms"][1];
  EXPECT_EQ(mixed["algorithm"], "mixed-precision");
  std::string sixteen_bit_layer;
  for (const auto& layer : mixed["layers"]) {
    if (layer["detail"].get<std::string>().rfind("int16 (sensitivity rank 1)", 0) == 0) sixteen_bit_layer = layer["node"];
  }
  ASSERT_FALSE(sixteen_bit_layer.empty()) << mixed.dump();
  size_t sixteen_bit_tensors = 0;
  for (const auto& tensor : manifest["tensors"]) {
    if (tensor["role"] == "activation" && tensor["dtype"] == "u16") {
      ++sixteen_bit_tensors;
      EXPECT_TRUE(tensor["written"].get<bool>());
    }
  }
  EXPECT_GT(sixteen_bit_tensors, 0u);
  EXPECT_NE(read_text(path("hints/hailo_a16_w16.alls")).find("precision_mode=a16_w8)"), std::string::npos);
  EXPECT_NE(read_text(path("hints/rknn_custom_quantize_layers.cfg")).find(": int16\n"), std::string::npos);
  const std::string report = read_text(path("report.md"));
  EXPECT_NE(report.find("int16 (sensitivity rank 1)"), std::string::npos) << report;
  // The HTML report colours the 16-bit layer's bar and names its precision.
  const CommandResult html =
      run("quantize '" + model_ + "' --target hailo8 --calibration '" + calibration_ + "' --keep-int16 1 "
          "--sensitivity-samples 2 --report '" + path("report.html") + "' -o '" + path("q3.onnx") + "'");
  ASSERT_EQ(html.exit_code, 0) << html.err;
  const std::string page = read_text(path("report.html"));
  EXPECT_NE(page.find(report_html::sensitivity_sixteen_bit_bar_color), std::string::npos);
  EXPECT_NE(page.find("int16 (sensitivity rank 1)"), std::string::npos);
  // The table (no --json) lists it too.
  const CommandResult table =
      run("quantize '" + model_ + "' --target hailo8 --calibration '" + calibration_ + "' --keep-int16 1 "
          "--sensitivity-samples 2 -o '" + path("q2.onnx") + "'");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("layers out of int8: "), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(" → int16 (sensitivity rank 1)"), std::string::npos) << table.out;
}

TEST_F(SixteenBitLayers, CommandLineRefusesATargetWithoutSixteenBitLayersAndWritesNothing) {
  const CommandResult result = run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ +
                                   "' --keep-int16 1 --vendor-hints '" + path("hints") + "' -o '" + path("q.onnx") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("target 'rk3588' runs no 16-bit layers (its profile lists int8, float16)"), std::string::npos)
      << result.err;
  EXPECT_FALSE(fs::exists(path("q.onnx")));
  EXPECT_FALSE(fs::exists(path("q.quant.json")));
  EXPECT_FALSE(fs::exists(path("hints")));
  const CommandResult negative = run("quantize '" + model_ + "' --target hailo8 --calibration '" + calibration_ +
                                     "' --keep-int16 -1 -o '" + path("q.onnx") + "'");
  EXPECT_NE(negative.exit_code, 0);
  EXPECT_FALSE(fs::exists(path("q.onnx")));
}

}  // namespace
}  // namespace npukit::testing
