// split-global-pool: the chain plan, before/after on random inputs on the reference backend, and check
// naming the pass on the RK3588 (GlobalAveragePool / GlobalMaxPool over at most 7×7, pooling windows of at
// most 7), and on PP-OCRv4 det, whose squeeze-excitation blocks pool whole 20×20 … 160×160 maps.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "check/fix_suggestions.h"
#include "preparation/shape_discovery.h"
#include "check/target_check.h"
#include "core/npy.h"
#include "onnx/onnx_import.h"
#include "pass_equivalence.h"
#include "passes/split_global_pool.h"
#include "patch/patch_pipeline.h"
#include "target_test_graphs.h"
#include "targets/profile_loader.h"

namespace npukit::passes {
namespace {

using testing::count_ops;

using testing::TestGraph;
using testing::compare_models;
using testing::copy_model;

ir::Model global_pool_model(const std::string& op, int64_t height, int64_t width) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 3, height, width});
  graph.output(graph.node(op, {x}, {1, 3, 1, 1}));
  return std::move(graph.model);
}

TEST(SplitGlobalPool, PlansExactChainsOrSaysThereIsNone) {
  // 160 = 5 · 4 · 4 · 2: three windows of at most 7, then a 2×2 global pool.
  std::optional<PoolSteps> steps = plan_global_pool_chain(160, 160, 7, 7);
  ASSERT_TRUE(steps);
  EXPECT_EQ(*steps, (PoolSteps{{5, 5, 5, 5}, {4, 4, 4, 4}, {4, 4, 4, 4}}));
  // Unequal sides: the shorter chain is padded with 1.
  steps = plan_global_pool_chain(20, 6, 7, 7);
  ASSERT_TRUE(steps);
  EXPECT_EQ(*steps, (PoolSteps{{5, 1, 5, 1}}));
  EXPECT_EQ(*plan_global_pool_chain(7, 7, 7, 7), PoolSteps{});  // already fits
  EXPECT_FALSE(plan_global_pool_chain(11, 11, 7, 7));          // prime above 7
  EXPECT_FALSE(plan_global_pool_chain(22, 8, 7, 7));           // 2 · 11: 11 stays above 7
  // For the maximum, overlapping windows cover what no tiling does: 13 = windows [0, 7) and [6, 13).
  steps = plan_global_pool_chain(13, 13, 7, 7, true);
  ASSERT_TRUE(steps);
  EXPECT_EQ(*steps, (PoolSteps{{7, 7, 6, 6}}));
  steps = plan_global_pool_chain(22, 8, 7, 7, true);
  ASSERT_TRUE(steps);
  EXPECT_EQ(*steps, (PoolSteps{{7, 4, 5, 4}}));  // 22 → (22 - 7) / 5 + 1 = 4; 8 → 2
}

TEST(SplitGlobalPool, ChainsAverageAndMaximumExactly) {
  const GlobalPoolLimits rknn{7, 7};
  struct Case {
    const char* op;
    int64_t height, width;
    size_t windows;
  };
  for (const Case& c : {Case{"GlobalAveragePool", 20, 20, 1}, Case{"GlobalAveragePool", 160, 160, 3},
                        Case{"GlobalAveragePool", 48, 10, 2}, Case{"GlobalMaxPool", 20, 20, 1},
                        Case{"GlobalMaxPool", 48, 36, 2}, Case{"GlobalMaxPool", 13, 13, 1},
                        Case{"GlobalMaxPool", 22, 8, 1}, Case{"GlobalMaxPool", 97, 11, 2}}) {
    ir::Model before = global_pool_model(c.op, c.height, c.width);
    auto after = copy_model(before);
    PassResult result = split_global_pool(*after, rknn, rknn);
    const std::string label = std::string(c.op) + " " + std::to_string(c.height) + "×" + std::to_string(c.width);
    EXPECT_EQ(result.rewrites, 1) << label;
    const bool average = std::string(c.op) == "GlobalAveragePool";
    EXPECT_EQ(count_ops(*after, average ? "AveragePool" : "MaxPool"), c.windows) << label;
    EXPECT_EQ(count_ops(*after, c.op), 1u) << label;
    const double difference = compare_models(before, *after).max_relative_difference;
    if (average) {
      EXPECT_LT(difference, 1e-5) << label;  // the same mean, summed in another order
    } else {
      EXPECT_EQ(difference, 0.0) << label;
    }
  }
  // 13×13 has no exact chain for the average: kept, and the note says why.
  auto prime = copy_model(global_pool_model("GlobalAveragePool", 13, 13));
  PassResult kept = split_global_pool(*prime, rknn, rknn);
  EXPECT_EQ(kept.rewrites, 0);
  ASSERT_EQ(kept.notes.size(), 1u);
  EXPECT_NE(kept.notes.front().find("no exact chain"), std::string::npos) << kept.notes.front();
}

TEST(SplitGlobalPool, CheckNamesItOnRk3588WhereAChainExists) {
  const targets::TargetProfile& rk3588 = targets::find_builtin_target("rk3588");
  const GlobalPoolLimits limits = check::global_pool_limits(rk3588, "GlobalAveragePool");
  EXPECT_EQ(limits.max_global, 7);
  EXPECT_EQ(limits.max_window, 7);  // AveragePool kernel at most 7 (stride 8)
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
    ir::Model before = global_pool_model(op, 40, 40);
    check::CheckResult refused = check::check_model(before, rk3588);
    ASSERT_EQ(refused.nodes.size(), 1u);
    EXPECT_EQ(refused.nodes.front().placement, check::Placement::fallback) << op;
    EXPECT_EQ(refused.nodes.front().patch, "split-global-pool") << op;
    auto after = copy_model(before);
    patch::patch_model(*after, rk3588, {});
    EXPECT_EQ(after->graph->nodes().size(), 3u) << op;  // 40 = 5 · 4 · 2: two windows, then 2×2 globally
    EXPECT_LT(compare_models(before, *after).max_relative_difference, 1e-5) << op;
    check::CheckResult patched = check::check_model(*after, rk3588);
    EXPECT_EQ(patched.segments.size(), 1u) << op;
    for (const check::NodeVerdict& node : patched.nodes) {
      EXPECT_TRUE(check::on_accelerator(node.placement)) << op << " " << node.op_type << ": " << node.reason;
    }
  }
  // 13×13: the average is refused with no pass named (the fix text still says what to do); the maximum has
  // its overlapping chain.
  const check::NodeVerdict prime = check::check_model(global_pool_model("GlobalAveragePool", 13, 13), rk3588).nodes.front();
  EXPECT_EQ(prime.placement, check::Placement::fallback);
  EXPECT_EQ(prime.patch, "");
  EXPECT_FALSE(prime.fix.empty());
  EXPECT_EQ(check::check_model(global_pool_model("GlobalMaxPool", 13, 13), rk3588).nodes.front().patch, "split-global-pool");
}

// PP-OCRv4 det at 640×640: ten global pools over 20×20 to 160×160 cut the RK3588 graph into 29 segments.
// After patch it is one NPU segment, and the output still equals ONNX Runtime's for the original model.
TEST(SplitGlobalPool, PpOcrDetOnRk3588IsOneSegmentAndEqualsOnnxRuntime) {
  const std::filesystem::path models = NPUKIT_MODELS_DIR;
  const std::filesystem::path path = models / "ocr" / "ch_PP-OCRv4_det_infer.onnx";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run tools/make_models.sh";
  onnx_io::ImportOptions options;
  options.input_shapes = {{"x", {1, 3, 640, 640}}};
  options.propagate_shape_data = true;
  ir::Model model = onnx_io::load_model(path.string(), options);
  preparation::discover_missing_shapes(model);
  const targets::TargetProfile& rk3588 = targets::find_builtin_target("rk3588");
  EXPECT_EQ(check::check_model(model, rk3588).segments.size(), 29u);
  patch::PatchReport report = patch::patch_model(model, rk3588, {});
  int pools_split = -1;
  for (const PassResult& result : report.passes) {
    if (result.pass == "split-global-pool") pools_split = result.rewrites;
  }
  EXPECT_EQ(pools_split, 10);
  check::CheckResult patched = check::check_model(model, rk3588);
  EXPECT_EQ(patched.segments.size(), 1u);
  EXPECT_EQ(patched.count(check::Placement::fallback), 0u);

  const std::filesystem::path reference = models / "reference" / "ocr_det";
  std::map<std::string, Tensor> feeds{{"x", read_npy((reference / "input_x.npy").string())}};
  auto outputs = engine::Engine::from_model(std::make_shared<ir::Model>(std::move(model)), {.backend = "ref"})->run(feeds);
  const Tensor expected = read_npy((reference / "output_sigmoid_0.tmp_0.npy").string());
  const Tensor& actual = outputs.at("sigmoid_0.tmp_0");
  ASSERT_EQ(actual.shape(), expected.shape());
  double magnitude = 0, difference = 0;
  for (int64_t i = 0; i < expected.element_count(); ++i) {
    magnitude = std::max(magnitude, std::fabs(expected.value_as_double(i)));
    difference = std::max(difference, std::fabs(expected.value_as_double(i) - actual.value_as_double(i)));
  }
  EXPECT_LT(difference / magnitude, 1e-4);
}

}  // namespace
}  // namespace npukit::passes
