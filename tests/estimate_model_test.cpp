// The latency estimator: its formula on hand-built graphs (exact figures), the facts it assumes, the fit on
// synthetic points (it recovers the parameters that made them), and its embedded data.
#include <gtest/gtest.h>

#include <cmath>

#include "estimate/estimate_json.h"
#include "estimate/estimator_data.h"
#include "estimate/latency_model.h"
#include "estimate/model_estimate.h"
#include "estimate/parameter_fit.h"
#include "npukit/error.h"
#include "target_test_graphs.h"
#include "targets/profile_loader.h"

namespace npukit::testing {
namespace {

// input [1,16,32,32] -> Conv 3x3 pad 1 -> [1,32,32,32] (-> Exp when `with_fallback`) -> output
TestGraph conv_graph(bool with_fallback) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 16, 32, 32});
  ir::Value* w = graph.weights("w", {32, 16, 3, 3});
  ir::Value* y = graph.node("Conv", {x, w}, {1, 32, 32, 32}, {{"kernel_shape", ints_attr({3, 3})}, {"pads", ints_attr({1, 1, 1, 1})}});
  if (with_fallback) y = graph.node("Exp", {y}, {1, 32, 32, 32});
  graph.output(y);
  return graph;
}

estimate::ModelParameters test_parameters() {
  estimate::ModelParameters parameters;
  parameters.efficiency = 0.5;
  parameters.layer_overhead_seconds = 2e-6;
  parameters.depthwise_efficiency = 0.25;
  parameters.other_op_efficiency = 0.5;
  parameters.invoke_overhead_seconds = 100e-6;
  return parameters;
}

estimate::Estimate estimate_on(const ir::Model& model, const std::string& target, const estimate::HostCpuTimes& times) {
  const targets::TargetProfile& profile = targets::find_builtin_target(target);
  const check::CheckResult check = check::check_model(model, profile);
  const estimate::TargetFacts facts = estimate::resolve_target_facts(profile, estimate::builtin_estimator_inputs());
  return estimate::estimate_latency(*model.graph, check, estimate::extract_layer_features(*model.graph), facts, test_parameters(), times);
}

TEST(EstimateModel, OneConvolutionOnTheNpuCostsItsMacsOverPeakPlusOverheadsAndHandOvers) {
  TestGraph graph = conv_graph(false);
  const estimate::Estimate estimate = estimate_on(graph.model, "rk3588", {});
  ASSERT_TRUE(estimate.available) << estimate.unavailable_reason;
  // RK3588: 6 TOPS over 3 cores, one core used: 1e12 MAC/s. MACs 32*32*32 * 16*9; the reduction depth 16*9 = 144
  // and 32 output channels fill 16-lane rows exactly.
  const double macs = 32.0 * 32 * 32 * 16 * 9;
  const double compute = macs / (1e12 * 0.5);
  ASSERT_EQ(estimate.layers.size(), 1u);
  EXPECT_NEAR(estimate.layers[0].compute_seconds, compute, 1e-12);
  EXPECT_EQ(estimate.layers[0].memory_seconds, 0);  // weights and activations fit the 956 KB SRAM
  EXPECT_EQ(estimate.layers[0].bound, "compute");
  // Input and output cross between the CPU and the NPU: 100 us hand-over each plus bytes over 17 GB/s DRAM.
  const double transfers = 2 * 100e-6 + (16.0 * 32 * 32 + 32.0 * 32 * 32) / 17e9;
  EXPECT_NEAR(estimate.link_seconds, transfers, 1e-12);
  EXPECT_NEAR(estimate.seconds, compute + 2e-6 + 100e-6 + transfers, 1e-12);
  EXPECT_EQ(estimate.bottleneck, "link");
  // Facts the profile lacks are stated, with their reason.
  bool dram_stated = false;
  for (const std::string& assumption : estimate.assumptions) dram_stated = dram_stated || assumption.find("DRAM bandwidth") == 0;
  EXPECT_TRUE(dram_stated);
}

TEST(EstimateModel, FallbackNodesTakeTheirHostTimeTimesTheBoardSlowdown) {
  TestGraph graph = conv_graph(true);
  estimate::HostCpuTimes times;
  times.measured = true;
  times.seconds_by_node["Exp_1"] = 0.001;
  const estimate::Estimate estimate = estimate_on(graph.model, "rk3588", times);
  ASSERT_TRUE(estimate.available);
  ASSERT_EQ(estimate.segments.size(), 2u);
  EXPECT_TRUE(estimate.segments[0].on_accelerator);
  EXPECT_FALSE(estimate.segments[1].on_accelerator);
  EXPECT_DOUBLE_EQ(estimate.cpu_seconds, 0.001 * 2);  // rk3588's stated Cortex-A76 slowdown: 2x
  EXPECT_DOUBLE_EQ(estimate.segments[1].seconds, 0.002);
  EXPECT_EQ(estimate.bottleneck, "cpu");
  // Without a host time the node costs nothing and the estimate says it is a lower bound.
  const estimate::Estimate untimed = estimate_on(graph.model, "rk3588", {});
  EXPECT_EQ(untimed.cpu_seconds, 0);
  bool said = false;
  for (const std::string& note : untimed.notes) said = said || note.find("lower bound") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(EstimateModel, APipelinedTargetTakesTheSlowestStageNotTheSum) {
  TestGraph graph = conv_graph(false);
  const estimate::Estimate estimate = estimate_on(graph.model, "hailo8", {});
  ASSERT_TRUE(estimate.available);
  EXPECT_TRUE(estimate.pipelined);
  EXPECT_EQ(estimate.layers[0].overhead_seconds, 0);  // no per-layer hand-off on a dataflow chip
  // PCIe Gen3 x4: 3.94 GB/s at the stated 80% payload share, no per-transfer latency when frames stream.
  const double link = (16.0 * 32 * 32 + 32.0 * 32 * 32) / (3.94e9 * 0.8);
  EXPECT_NEAR(estimate.link_seconds, link, 1e-12);
  const double compute = estimate.layers[0].compute_seconds;
  EXPECT_NEAR(estimate.seconds, std::max(compute, link) + 100e-6, 1e-12);
}

TEST(EstimateModel, ATargetWithoutTopsHasNoEstimateAndSaysWhy) {
  TestGraph graph = conv_graph(false);
  const estimate::Estimate estimate = estimate_on(graph.model, "esp32s3", {});
  EXPECT_FALSE(estimate.available);
  EXPECT_NE(estimate.unavailable_reason.find("TOPS"), std::string::npos);
  EXPECT_EQ(estimate::estimate_json(estimate)["latency_ms"], nullptr);
}

TEST(EstimateModel, SiluAfterAConvolutionIsFusedIntoIt) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 16, 8, 8});
  ir::Value* conv = graph.node("Conv", {x, graph.weights("w", {16, 16, 1, 1})}, {1, 16, 8, 8}, {{"kernel_shape", ints_attr({1, 1})}});
  ir::Value* gate = graph.node("Sigmoid", {conv}, {1, 16, 8, 8});
  ir::Value* silu = graph.node("Mul", {conv, gate}, {1, 16, 8, 8});
  graph.output(graph.node("Relu", {silu}, {1, 16, 8, 8}));
  const std::vector<estimate::LayerFeatures> layers = estimate::extract_layer_features(*graph.model.graph);
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_FALSE(layers[0].fused_into_producer);
  EXPECT_TRUE(layers[1].fused_into_producer);
  EXPECT_TRUE(layers[2].fused_into_producer);
  EXPECT_FALSE(layers[3].fused_into_producer);  // its input comes from a Mul, not a convolution
  EXPECT_EQ(layers[0].kind, estimate::LayerKind::convolution);
}

TEST(EstimateModel, DepthwiseConvolutionIsRecognised) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 8, 8, 8});
  graph.output(graph.node("Conv", {x, graph.weights("w", {8, 1, 3, 3})}, {1, 8, 8, 8},
                          {{"kernel_shape", ints_attr({3, 3})}, {"pads", ints_attr({1, 1, 1, 1})}, {"group", int_attr(8)}}));
  const std::vector<estimate::LayerFeatures> layers = estimate::extract_layer_features(*graph.model.graph);
  EXPECT_EQ(layers[0].kind, estimate::LayerKind::depthwise_convolution);
  EXPECT_DOUBLE_EQ(layers[0].alignment_share(16), 0.5);  // 8 channels in 16 lanes
}

// Points made by the model itself with known parameters: the fit must find parameters that reproduce them,
// and predict each one from the others.
TEST(EstimateFit, RecoversThePointsThatKnownParametersMade) {
  estimate::ModelParameters truth;
  truth.efficiency = 0.3;
  truth.layer_overhead_seconds = 30e-6;
  truth.depthwise_efficiency = 0.4;
  truth.other_op_efficiency = 0.2;
  truth.invoke_overhead_seconds = 200e-6;
  std::vector<estimate::PreparedPoint> points;
  for (const std::string& target : {"a", "b"}) {
    for (int model = 0; model < 4; ++model) {
      estimate::PreparedPoint point;
      point.point.target = target;
      point.point.model = "m" + std::to_string(model);
      point.point.basis = "latency";
      point.point.source = "made by the model";
      point.compact.peak_macs_per_second = target == std::string("a") ? 1e12 : 4e12;
      point.compact.accelerator_segments = 1;
      for (int layer = 0; layer < 10 + 20 * model; ++layer) {
        point.compact.layers.push_back({1e7 * (1 + layer % 3) * (model + 1), model == 1 ? 3e6 : 0.0, 1e5 * layer, 0, false});
      }
      point.point.milliseconds = estimate::predict_seconds(point.compact, truth) * 1e3;
      points.push_back(point);
    }
  }
  const estimate::FittedParameters fitted = estimate::fit_prepared_points(points, 0.1);
  EXPECT_LT(fitted.fit_error.median_error, 1e-3);
  EXPECT_LT(fitted.fit_error.max_ratio, 1.01);
  EXPECT_LT(fitted.leave_one_out_error.max_ratio, 1.05);
  ASSERT_EQ(fitted.points.size(), 8u);
  // A held-out point is predicted and reported, never fitted.
  points[0].point.held_out = true;
  points[0].point.milliseconds *= 3;  // a figure the model cannot explain must not pull the fit
  const estimate::FittedParameters with_held_out = estimate::fit_prepared_points(points, 0.1);
  EXPECT_EQ(with_held_out.points.size(), 7u);
  ASSERT_EQ(with_held_out.held_out_points.size(), 1u);
  EXPECT_LT(with_held_out.fit_error.max_ratio, 1.01);
  // Round trip through the JSON the fit writes.
  const estimate::FittedParameters read = estimate::parse_fitted_parameters(estimate::fitted_parameters_json(with_held_out), "test");
  EXPECT_EQ(read.points.size(), 7u);
  EXPECT_EQ(read.held_out_points.size(), 1u);
  EXPECT_NEAR(read.for_target("a").efficiency, with_held_out.for_target("a").efficiency, 1e-9);
  EXPECT_NEAR(read.leave_one_out_error.max_ratio, with_held_out.leave_one_out_error.max_ratio, 1e-9);
  EXPECT_EQ(read.nested_leave_one_out_error.count, 0u);  // not computed: absent, not zero errors

  // Nested leave-one-out: one shrinkage choice per fitted point (the held-out one takes no part), the choice made
  // on the other points only; on points the model made itself every fold predicts its point.
  estimate::FittedParameters nested = with_held_out;
  estimate::add_nested_leave_one_out(nested, points, {1, 0.1});
  EXPECT_EQ(nested.nested_leave_one_out_error.count, 7u);
  size_t choices = 0;
  for (const auto& [shrinkage, count] : nested.nested_choices) {
    EXPECT_TRUE(shrinkage == "1" || shrinkage == "0.1") << shrinkage;
    choices += count;
  }
  EXPECT_EQ(choices, 7u);
  EXPECT_LT(nested.nested_leave_one_out_error.max_ratio, 1.05);
  const double chosen = estimate::choose_shrinkage(points, {1, 0.1});
  EXPECT_TRUE(chosen == 1 || chosen == 0.1);
  const estimate::FittedParameters reread = estimate::parse_fitted_parameters(estimate::fitted_parameters_json(nested), "test");
  EXPECT_EQ(reread.nested_leave_one_out_error.count, 7u);
  EXPECT_NEAR(reread.nested_leave_one_out_error.median_error, nested.nested_leave_one_out_error.median_error, 1e-12);
  EXPECT_EQ(reread.nested_choices, nested.nested_choices);
  EXPECT_EQ(reread.shrinkage_candidates, (std::vector<double>{1, 0.1}));
  std::vector<std::pair<double, double>> nested_pairs;
  for (const estimate::PointResult& point : reread.points) {
    EXPECT_GT(point.nested_leave_one_out_milliseconds, 0) << point.point.model;
    nested_pairs.push_back({point.nested_leave_one_out_milliseconds, point.point.milliseconds});
  }
  EXPECT_NEAR(estimate::summarize_errors(nested_pairs).max_ratio, reread.nested_leave_one_out_error.max_ratio, 1e-9);
}

TEST(EstimateData, EveryCalibrationPointNamesABuiltinTargetAndTheFitIsEmbedded) {
  const estimate::EstimatorInputs& inputs = estimate::builtin_estimator_inputs();
  EXPECT_GE(inputs.points.size(), 20u);
  for (const estimate::CalibrationPoint& point : inputs.points) {
    EXPECT_NO_THROW(targets::find_builtin_target(point.target)) << point.target;
    EXPECT_GT(point.milliseconds, 0);
    EXPECT_FALSE(point.source.empty());
  }
  const estimate::FittedParameters& fitted = estimate::builtin_fitted_parameters();
  ASSERT_TRUE(fitted.present);
  EXPECT_FALSE(fitted.provenance.empty());
  EXPECT_EQ(fitted.points.size() + fitted.held_out_points.size(), inputs.points.size());
  // The stored errors are what the stored predictions give (nobody edited one without the other).
  std::vector<std::pair<double, double>> pairs;
  for (const estimate::PointResult& point : fitted.points) pairs.push_back({point.leave_one_out_milliseconds, point.point.milliseconds});
  const estimate::ErrorSummary recomputed = estimate::summarize_errors(pairs);
  EXPECT_NEAR(recomputed.median_error, fitted.leave_one_out_error.median_error, 1e-9);
  EXPECT_NEAR(recomputed.max_ratio, fitted.leave_one_out_error.max_ratio, 1e-9);
  // The band of a target with its own points comes from them.
  const estimate::ErrorBand band = estimate::error_band(fitted, "rk3588", 0.010);
  EXPECT_NE(band.basis.find("rk3588"), std::string::npos);
  EXPECT_LE(band.low_seconds, 0.010);
  EXPECT_GE(band.high_seconds, 0.010);
}

TEST(EstimateData, AMisspelledAssumptionOrBadJsonIsRefusedNamingTheField) {
  const std::string bad = R"({"assumptions": {"default": {"dram_bandwith": {"value": 1, "reason": "typo"}}}, "calibration_points": []})";
  try {
    estimate::parse_estimator_inputs(bad, "inputs.json");
    FAIL() << "accepted a misspelled fact";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("dram_bandwith"), std::string::npos);
  }
  EXPECT_THROW(estimate::parse_estimator_inputs("{not json", "inputs.json"), Error);
  EXPECT_THROW(estimate::parse_fitted_parameters(R"({"provenance": "x"})", "fit.json"), Error);
}

// A published figure at batch 2 shares the per-call costs (invoke, per-layer overhead, each transfer's fixed latency)
// between its two images; the per-image work does not shrink.
TEST(EstimateModel, AtBatchTwoThePerCallCostsAreSharedByTheImages) {
  TestGraph graph = conv_graph(false);
  const ir::Model& model = graph.model;
  const targets::TargetProfile& profile = targets::find_builtin_target("rk3588");
  const check::CheckResult check = check::check_model(model, profile);
  const std::vector<estimate::LayerFeatures> layers = estimate::extract_layer_features(*model.graph);
  const estimate::TargetFacts facts = estimate::resolve_target_facts(profile, estimate::builtin_estimator_inputs());
  const estimate::Estimate estimate = estimate::estimate_latency(*model.graph, check, layers, facts, test_parameters(), {});
  EXPECT_NEAR(estimate.link_fixed_seconds, 2 * 100e-6, 1e-15);  // two hand-overs of 100 us on the SoC
  const estimate::CompactEstimate compact = estimate::compact_estimate(estimate, layers, check);
  EXPECT_NEAR(estimate::predict_seconds(compact, test_parameters()), estimate.seconds, 1e-12);
  const double compute = 32.0 * 32 * 32 * 16 * 9 / (1e12 * 0.5);
  const double bytes = (16.0 * 32 * 32 + 32.0 * 32 * 32) / 17e9;
  EXPECT_NEAR(estimate::predict_seconds(compact, test_parameters(), 2), compute + bytes + (2e-6 + 100e-6 + 2 * 100e-6) / 2, 1e-12);
}

// Targets of one architecture family share the depthwise efficiency; a target of that family without points of its
// own gets the family's value, an unlisted one the global value.
TEST(EstimateFit, TargetsOfOneFamilyShareTheirDepthwiseEfficiency) {
  estimate::ModelParameters truth;
  truth.efficiency = 0.3;
  truth.layer_overhead_seconds = 30e-6;
  truth.other_op_efficiency = 0.2;
  truth.invoke_overhead_seconds = 200e-6;
  std::vector<estimate::PreparedPoint> points;
  for (const std::string& target : {"a", "b", "c"}) {
    estimate::ModelParameters made = truth;
    made.depthwise_efficiency = target == std::string("c") ? 0.5 : 0.05;  // a and b: a slow-depthwise family
    for (int model = 0; model < 4; ++model) {
      estimate::PreparedPoint point;
      point.point.target = target;
      point.point.model = "m" + std::to_string(model);
      point.point.basis = "latency";
      point.point.source = "made by the model";
      point.compact.family = target == std::string("c") ? "fast" : "slow";
      point.compact.peak_macs_per_second = 1e12;
      point.compact.accelerator_segments = 1;
      for (int layer = 0; layer < 10 + 10 * model; ++layer) {
        // Dense work grows faster than the layer count (else it and the per-layer overhead cannot be told apart).
        point.compact.layers.push_back({1e7 * (1 + layer % 3) * (model + 1), model % 2 == 1 ? 5e6 * (1 + layer % 2) : 0.0, 1e5 * layer, 0, false});
      }
      point.point.milliseconds = estimate::predict_seconds(point.compact, made) * 1e3;
      points.push_back(point);
    }
  }
  const estimate::FittedParameters fitted = estimate::fit_prepared_points(points, 1e-4);
  EXPECT_LT(fitted.fit_error.max_ratio, 1.02);
  ASSERT_EQ(fitted.family_depthwise_efficiency.size(), 2u);
  // The synthetic points do not pin each parameter down alone (dense work, per-layer overhead and the depthwise
  // share trade off), but the families come out apart, in the made order, each shared by its targets.
  EXPECT_GT(fitted.family_depthwise_efficiency.at("fast"), 3 * fitted.family_depthwise_efficiency.at("slow"));
  EXPECT_DOUBLE_EQ(fitted.for_target("b").depthwise_efficiency, fitted.family_depthwise_efficiency.at("slow"));
  EXPECT_DOUBLE_EQ(fitted.for_target("c").depthwise_efficiency, fitted.family_depthwise_efficiency.at("fast"));
  EXPECT_DOUBLE_EQ(fitted.for_target("a").depthwise_efficiency, fitted.family_depthwise_efficiency.at("slow"));
  // A target without points: its family's value, or the global one when its family had none.
  EXPECT_DOUBLE_EQ(fitted.for_target("d", "slow").depthwise_efficiency, fitted.family_depthwise_efficiency.at("slow"));
  EXPECT_DOUBLE_EQ(fitted.for_target("d", "unlisted").depthwise_efficiency, fitted.shared.depthwise_efficiency);
  const estimate::FittedParameters read = estimate::parse_fitted_parameters(estimate::fitted_parameters_json(fitted), "test");
  EXPECT_EQ(read.family_depthwise_efficiency, fitted.family_depthwise_efficiency);
}

TEST(EstimateData, FamiliesBatchAndDerivedFiguresAreReadAndCheckedAndTheBuiltinOnesResolve) {
  const std::string two_families = R"({"assumptions": {}, "calibration_points": [],
    "architecture_families": {"x": {"targets": ["rk3588"], "reason": "r"}, "y": {"targets": ["rk3588"], "reason": "r"}}})";
  try {
    estimate::parse_estimator_inputs(two_families, "inputs.json");
    FAIL() << "accepted a target in two families";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("two architecture families"), std::string::npos) << error.what();
  }
  const std::string bad_batch = R"({"assumptions": {}, "calibration_points": [{"target": "rk3588", "model": "m.onnx",
    "published_model": "m", "ms": 1, "basis": "throughput", "source": "s", "batch": 1.5}]})";
  EXPECT_THROW(estimate::parse_estimator_inputs(bad_batch, "inputs.json"), Error);
  const estimate::EstimatorInputs& inputs = estimate::builtin_estimator_inputs();
  EXPECT_EQ(inputs.families.at("hailo8").first, "dataflow");
  EXPECT_EQ(inputs.families.at("edgetpu").first, "systolic");
  EXPECT_EQ(estimate::resolve_target_facts(targets::find_builtin_target("hailo8l"), inputs).family, "dataflow");
  size_t derived = 0, batched = 0;
  for (const estimate::CalibrationPoint& point : inputs.points) {
    derived += point.derived.empty() ? 0 : 1;
    batched += point.batch > 1 ? 1 : 0;
  }
  EXPECT_EQ(derived, 3u);  // Hailo-8L's one-context frame times
  EXPECT_EQ(batched, 1u);  // Jetson DLA ResNet-50 at batch 2
  // The fitted parameters know the families, and every point's derivation survives the round trip.
  const estimate::FittedParameters& fitted = estimate::builtin_fitted_parameters();
  EXPECT_TRUE(fitted.family_depthwise_efficiency.count("dataflow"));
  size_t derived_fitted = 0;
  for (const estimate::PointResult& point : fitted.points) derived_fitted += point.point.derived.empty() ? 0 : 1;
  EXPECT_EQ(derived_fitted, 3u);
}

TEST(EstimateData, SummarizeErrorsGivesMedianAndWorstRatio) {
  const estimate::ErrorSummary summary = estimate::summarize_errors({{1.0, 1.0}, {2.0, 1.0}, {1.0, 4.0}});
  // |predicted - published| / published: 0, 1 and 0.75; the worst ratio is 4 (1 predicted for 4 published).
  EXPECT_DOUBLE_EQ(summary.median_error, 0.75);
  EXPECT_DOUBLE_EQ(summary.max_ratio, 4.0);
  EXPECT_NEAR(std::exp(summary.max_signed_log), 4.0, 1e-12);
  EXPECT_NEAR(std::exp(summary.min_signed_log), 0.5, 1e-12);
}

}  // namespace
}  // namespace npukit::testing
