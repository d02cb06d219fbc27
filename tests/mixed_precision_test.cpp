// Issue 11 §6, §8, §9: the sensitivity analysis (layers, "alone" and "all but" through the sim backend), mixed
// precision (--keep-float, --budget-latency), the vendor hints, the full-range rule for the values graph outputs
// are read from, and the HTML report with its sensitivity chart.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "ir/value_info.h"
#include "npukit/error.h"
#include "quantization/algorithms/sensitivity.h"
#include "quantization/full_range_values.h"
#include "quantization/layer_sensitivity.h"
#include "quantization/mixed_precision.h"
#include "quantization/quantize_model.h"
#include "quantization/vendor_hints.h"
#include "quantization_fixtures.h"
#include "report_html/quantize_sections.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

namespace fs = std::filesystem;
using namespace npukit::quantization;

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class MixedPrecision : public CliRunner {
 protected:
  void SetUp() override {
    CliRunner::SetUp();
    model_ = write_conv_bn_relu_net(path("net.onnx"));
    calibration_ = write_calibration_folder(path("calibration"), 8, 700);
  }
  QuantizeOptions options(RangeMethod method = RangeMethod::minmax) const {
    QuantizeOptions chosen;
    chosen.calibration = calibration_;
    chosen.method = method;
    chosen.sensitivity_samples = 3;
    return chosen;
  }
  std::string model_;
  std::string calibration_;
};

TEST_F(MixedPrecision, LayersFollowTheTargetsFusionGroupsAndOwnTheirPoints) {
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  const QuantizeResult result = quantize_model(model_, target, options());
  const QuantizationPlan plan = plan_quantization_points(*result.model.graph, target.numerics, {});
  const std::vector<QuantizedLayer> layers = quantized_layers(*result.model.graph, plan, target.numerics);
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(layers[0].name, "input x");
  EXPECT_TRUE(layers[0].nodes.empty());
  EXPECT_EQ(layers[1].name, "conv1");
  EXPECT_EQ(layers[1].op_types, "Conv+Relu");  // rk3588 fuses Conv → Relu: one layer
  EXPECT_EQ(layers[1].nodes, (std::vector<std::string>{"conv1", "relu1"}));
  EXPECT_EQ(layers[1].inputs, (std::vector<std::string>{"x"}));
  EXPECT_NE(std::find(layers[1].points.begin(), layers[1].points.end(), "relu1"), layers[1].points.end());
  EXPECT_EQ(layers[2].name, "pool1");
  EXPECT_EQ(layers[2].inputs, (std::vector<std::string>{"relu1"}));
  EXPECT_EQ(layers[3].name, "conv2");
  EXPECT_EQ(layers[3].inputs, (std::vector<std::string>{"pool1"}));
  // Every point belongs to exactly one layer.
  size_t owned = 0;
  for (const QuantizedLayer& layer : layers) owned += layer.points.size();
  EXPECT_EQ(owned, plan.points.size());
}

TEST_F(MixedPrecision, AllButTheLastLayerIsExactlyTheModelQuantizedWithItExcluded) {
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  const QuantizeResult result = quantize_model(model_, target, options());
  const QuantizationPlan plan = plan_quantization_points(*result.model.graph, target.numerics, {});
  std::unique_ptr<CalibrationSource> source = open_calibration_source(calibration_, ir::declared_inputs(result.model), {});
  const SensitivityAnalysis analysis = analyze_layer_sensitivity(result.model, plan, {}, target, *source, 3);
  EXPECT_EQ(analysis.samples, 3u);
  ASSERT_EQ(analysis.layers.size(), 4u);
  EXPECT_GT(analysis.all_quantized_db, 25.0);
  for (size_t index = 0; index < analysis.layers.size(); ++index) {
    const LayerSensitivity& row = analysis.layers[index];
    ASSERT_FALSE(std::isnan(row.alone_db)) << row.layer.name;
    // One layer quantized loses no more than all of them (pooled over 3 samples, 0.5 dB of slack for noise
    // that partly cancels).
    EXPECT_GE(row.alone_db, analysis.all_quantized_db - 0.5) << row.layer.name;
    if (index > 0) EXPECT_LE(analysis.layers[index - 1].alone_db, row.alone_db);  // most sensitive first
  }
  // The excluded model's other points have the same float values to calibrate, so the same ranges: "all but
  // conv2" must be that model to the bit.
  QuantizeOptions excluded = options();
  excluded.settings.exclude = {"conv2"};
  const QuantizeResult without = quantize_model(model_, target, excluded);
  std::vector<std::string> outputs{"y"};
  std::unique_ptr<CalibrationSource> again = open_calibration_source(calibration_, ir::declared_inputs(result.model), {});
  const auto reference = capture_float_values(result.model, outputs, *again, 3);
  std::vector<std::map<std::string, Tensor>> inputs;
  for (size_t index = 0; index < 3; ++index) inputs.push_back(again->sample(index).inputs);
  const double expected = output_sqnr_db(without.model, "rk3588", inputs, reference);
  const auto conv2 = std::find_if(analysis.layers.begin(), analysis.layers.end(),
                                  [](const LayerSensitivity& row) { return row.layer.name == "conv2"; });
  ASSERT_NE(conv2, analysis.layers.end());
  EXPECT_NEAR(conv2->all_but_db, expected, 1e-9);
}

TEST_F(MixedPrecision, TheSensitivityAlgorithmReportsEveryLayerAndChangesNothing) {
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  const QuantizeResult plain = quantize_model(model_, target, options());
  QuantizeOptions with = options();
  with.algorithms = parse_algorithm_list("sensitivity");
  size_t progress_calls = 0;
  with.algorithm_progress = [&](size_t, size_t total, const std::string& what) {
    ++progress_calls;
    EXPECT_EQ(what, "sensitivity");
    EXPECT_EQ(total, 9u);  // all quantized, then alone and all-but for 4 layers
  };
  const QuantizeResult analyzed = quantize_model(model_, target, with);
  EXPECT_EQ(progress_calls, 9u);
  ASSERT_EQ(analyzed.algorithms.size(), 1u);
  const AlgorithmOutcome& outcome = analyzed.algorithms[0];
  EXPECT_EQ(outcome.algorithm, "sensitivity");
  ASSERT_TRUE(outcome.before.has_value());
  EXPECT_EQ(outcome.before, outcome.after);
  EXPECT_EQ(outcome.layers.size(), 4u);
  EXPECT_NE(outcome.layers[0].detail.find("rank 1"), std::string::npos);
  const bool proposed = std::any_of(outcome.notes.begin(), outcome.notes.end(), [](const std::string& note) {
    return note.rfind("proposed exclusions: ", 0) == 0;
  });
  EXPECT_TRUE(proposed);
  ASSERT_EQ(plain.tensors.size(), analyzed.tensors.size());
  for (size_t index = 0; index < plain.tensors.size(); ++index) {
    EXPECT_EQ(plain.tensors[index].params.scales, analyzed.tensors[index].params.scales) << plain.tensors[index].value;
  }
}

TEST_F(MixedPrecision, KeepFloatExcludesTheMostSensitiveLayerAndRaisesTheOutputSqnr) {
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  MixedPrecisionOptions mixed;
  mixed.keep_float = 1;
  const MixedPrecisionResult result = quantize_with_mixed_precision(model_, target, options(), mixed);
  ASSERT_EQ(result.float_layers.size(), 1u);
  ASSERT_EQ(result.quantized.algorithms.size(), 2u);
  const AlgorithmOutcome& ranking = result.quantized.algorithms[0];
  const AlgorithmOutcome& chosen = result.quantized.algorithms[1];
  EXPECT_EQ(ranking.algorithm, "sensitivity");
  EXPECT_EQ(chosen.algorithm, "mixed-precision");
  // The first candidate of the ranking (graph inputs cannot be excluded) is the one kept float.
  std::string first_candidate;
  for (const LayerOutcome& row : ranking.layers) {
    if (row.node.rfind("input ", 0) != 0) {
      first_candidate = row.node;
      break;
    }
  }
  EXPECT_EQ(result.float_layers[0].name, first_candidate);
  for (const std::string& node : result.float_layers[0].nodes) {
    const bool listed = std::any_of(result.quantized.float_nodes.begin(), result.quantized.float_nodes.end(),
                                    [&](const FloatNode& entry) { return entry.node == node && entry.reason == "excluded by --exclude"; });
    EXPECT_TRUE(listed) << node;
  }
  ASSERT_TRUE(chosen.before && chosen.after);
  EXPECT_GT(*chosen.after, *chosen.before);
  size_t floats = 0;
  for (const LayerOutcome& row : chosen.layers) floats += row.detail.rfind("float", 0) == 0;
  EXPECT_EQ(floats, 1u);
  EXPECT_EQ(chosen.layers.size(), 4u);
}

TEST_F(MixedPrecision, ABudgetBelowTheAllInt8EstimateIsRefusedNamingTheMinimum) {
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  MixedPrecisionOptions mixed;
  // A stated estimator: 1 ms all int8, each float node 0.5 ms more.
  mixed.estimate_milliseconds = [](const ir::Model&, const std::set<std::string>& nodes, const std::set<std::string>&) {
    return 1.0 + 0.5 * static_cast<double>(nodes.size());
  };
  mixed.estimate_basis = "test estimator";
  mixed.budget_latency_ms = 0.75;
  try {
    quantize_with_mixed_precision(model_, target, options(), mixed);
    FAIL() << "a budget below the minimum was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(error.reason().find("cannot be met"), std::string::npos) << error.reason();
    EXPECT_NE(error.reason().find("already 1 ms"), std::string::npos) << error.reason();
  }
  // 1.6 ms: room for one single-node layer (pool1 or conv2), never for conv1+relu1 (two nodes: 2 ms).
  mixed.budget_latency_ms = 1.6;
  const MixedPrecisionResult result = quantize_with_mixed_precision(model_, target, options(), mixed);
  ASSERT_EQ(result.float_layers.size(), 1u);
  EXPECT_EQ(result.float_layers[0].nodes.size(), 1u);
  bool noted = false;
  for (const std::string& note : result.quantized.algorithms[1].notes) {
    noted = noted || note.find("as chosen 1.5 ms, budget 1.6 ms") != std::string::npos;
  }
  EXPECT_TRUE(noted);
}

TEST_F(MixedPrecision, VendorHintsListTheOutputTensorForRknnAndTheNodeForHailo) {
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  const QuantizeResult result = quantize_model(model_, target, options());
  const QuantizationPlan plan = plan_quantization_points(*result.model.graph, target.numerics, {});
  const std::vector<QuantizedLayer> layers = quantized_layers(*result.model.graph, plan, target.numerics);
  const std::vector<VendorHintFile> files = vendor_hint_files(result.model, {layers[1], layers[0]}, {}, "net.onnx", "rk3588");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].file_name, "rknn_custom_quantize_layers.cfg");
  // conv1+relu1 hands on relu1; the graph input has no node and is left out.
  EXPECT_NE(files[0].text.find("\ncustom_quantize_layers:\n    relu1: float16\n"), std::string::npos) << files[0].text;
  EXPECT_EQ(files[0].text.find(": float16\n    "), std::string::npos) << files[0].text;
  EXPECT_EQ(files[1].file_name, "hailo_a16_w16.alls");
  EXPECT_NE(files[1].text.find("\nquantization_param(conv1, precision_mode=a16_w16)\n"), std::string::npos) << files[1].text;
  const std::vector<VendorHintFile> none = vendor_hint_files(result.model, {}, {}, "net.onnx", "rk3588");
  EXPECT_NE(none[0].text.find("custom_quantize_layers: {}"), std::string::npos);
  const std::vector<std::string> written = write_vendor_hints(path("hints/deeper"), files);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(read_text(written[0]), files[0].text);
  std::ofstream(path("a_file")) << "x";
  EXPECT_THROW(write_vendor_hints(path("a_file"), files), Error);
}

TEST_F(MixedPrecision, ValuesAGraphOutputIsReadFromKeepTheirFullRangeUnderPercentile) {
  const targets::TargetProfile& target = targets::find_builtin_target("rk3588");
  const QuantizeResult result = quantize_model(model_, target, options(RangeMethod::percentile));
  const QuantizationPlan plan = plan_quantization_points(*result.model.graph, target.numerics, {});
  EXPECT_EQ(values_kept_at_full_range(*result.model.graph, plan), (std::set<std::string>{"y"}));
  for (const QuantizedTensor& tensor : result.tensors) {
    if (tensor.value == "y") {
      EXPECT_EQ(tensor.range_maximum, tensor.observed_maximum);
      EXPECT_EQ(tensor.range_minimum, std::min(tensor.observed_minimum, 0.0));
    }
  }
  const bool noted = std::any_of(result.notes.begin(), result.notes.end(), [](const std::string& note) {
    return note.find("kept at their full calibrated range (minmax), not percentile: y") != std::string::npos;
  });
  EXPECT_TRUE(noted);
}

TEST_F(MixedPrecision, CommandLineKeepFloatWritesHintsAnHtmlReportAndTheManifest) {
  const CommandResult result =
      run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ + "' --keep-float 1 "
          "--sensitivity-samples 2 --vendor-hints '" + path("hints") + "' --report '" + path("report.html") +
          "' --json -o '" + path("q.onnx") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json manifest = nlohmann::json::parse(result.out);
  ASSERT_EQ(manifest["algorithms"].size(), 2u);
  EXPECT_EQ(manifest["algorithms"][0]["algorithm"], "sensitivity");
  EXPECT_EQ(manifest["algorithms"][0]["layers"].size(), 4u);
  EXPECT_EQ(manifest["algorithms"][1]["algorithm"], "mixed-precision");
  EXPECT_TRUE(fs::exists(path("hints/rknn_custom_quantize_layers.cfg")));
  EXPECT_TRUE(fs::exists(path("hints/hailo_a16_w16.alls")));
  const std::string html = read_text(path("report.html"));
  EXPECT_NE(html.find("Per-layer sensitivity"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find(report_html::sensitivity_float_bar_color), std::string::npos);  // the layer kept float, in red
  EXPECT_NE(html.find("mixed-precision"), std::string::npos);
}

TEST_F(MixedPrecision, CommandLineBudgetUsesTheRk3588EstimateAndStaysWithinIt) {
  const CommandResult result =
      run("quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ + "' --budget-latency 1000 "
          "--keep-float 2 --sensitivity-samples 2 --json -o '" + path("q.onnx") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json manifest = nlohmann::json::parse(result.out);
  ASSERT_EQ(manifest["algorithms"].size(), 2u);
  const nlohmann::json& mixed = manifest["algorithms"][1];
  size_t floats = 0;
  for (const auto& layer : mixed["layers"]) floats += layer["detail"].get<std::string>().rfind("float", 0) == 0;
  EXPECT_EQ(floats, 2u);  // a generous budget: --keep-float 2 is the limit
  bool estimated = false;
  for (const auto& note : mixed["notes"]) {
    const std::string text = note.get<std::string>();
    estimated = estimated || (text.find("estimated latency: all int8 ") != std::string::npos &&
                              text.find("budget 1000 ms") != std::string::npos &&
                              text.find("assumed: a float16 layer takes 2x its int8 time") != std::string::npos);
  }
  EXPECT_TRUE(estimated) << mixed["notes"].dump();
}

TEST_F(MixedPrecision, CommandLineRefusesHintsWithoutAChoiceAndAnImpossibleBudget) {
  const std::string base = "quantize '" + model_ + "' --target rk3588 --calibration '" + calibration_ + "' -o '" +
                           path("q.onnx") + "' ";
  const CommandResult hints = run(base + "--vendor-hints '" + path("hints") + "'");
  EXPECT_EQ(hints.exit_code, 1);
  EXPECT_NE(hints.err.find("--keep-float N or --budget-latency MS"), std::string::npos) << hints.err;
  const CommandResult budget = run(base + "--budget-latency 0.000001");
  EXPECT_EQ(budget.exit_code, 1);
  EXPECT_NE(budget.err.find("cannot be met on rk3588"), std::string::npos) << budget.err;
  EXPECT_NE(budget.err.find("the minimum achievable"), std::string::npos) << budget.err;
  const CommandResult negative = run(base + "--budget-latency -3");
  EXPECT_EQ(negative.exit_code, 1);
  EXPECT_NE(negative.err.find("positive number of milliseconds"), std::string::npos) << negative.err;
  const CommandResult samples = run(base + "--keep-float 1 --sensitivity-samples 0");
  EXPECT_EQ(samples.exit_code, 1);
  EXPECT_NE(samples.err.find("--sensitivity-samples 0"), std::string::npos) << samples.err;
  const CommandResult report = run(base + "--report '" + path("report.txt") + "'");
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_FALSE(fs::exists(path("q.onnx")));
  EXPECT_FALSE(fs::exists(path("hints")));
}

}  // namespace
}  // namespace npukit::testing
