// fold-batchnorm into Conv, ConvTranspose and Gemm, and batchnorm-to-scale for a BatchNormalization with no
// producer to fold into: before/after on random inputs on the reference backend, and check naming each on
// the Edge TPU (no BatchNormalization) and the AX620A (BatchNormalization only right after a Conv).
#include <gtest/gtest.h>

#include "check/target_check.h"
#include "pass_equivalence.h"
#include "passes/batchnorm_folding.h"
#include "passes/batchnorm_to_scale.h"
#include "patch/patch_pipeline.h"
#include "target_test_graphs.h"
#include "targets/profile_loader.h"

namespace npukit::passes {
namespace {

using testing::count_ops;
using testing::verdict_of;

using testing::TestGraph;
using testing::compare_models;
using testing::copy_model;
using testing::int_attr;
using testing::ints_attr;

// BatchNormalization over `channels` with statistics far from 0 and 1, so a wrong fold shows.
ir::Value* batch_norm(TestGraph& graph, ir::Value* x, int64_t channels, const std::vector<int64_t>& shape) {
  std::vector<float> variance(static_cast<size_t>(channels)), mean(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    variance[static_cast<size_t>(c)] = 0.2f + 0.3f * static_cast<float>(c);
    mean[static_cast<size_t>(c)] = 0.1f * static_cast<float>(c) - 0.4f;
  }
  return graph.node("BatchNormalization",
                    {x, graph.weights("gamma", {channels}, 2.0f), graph.weights("beta", {channels}),
                     add_float_constant(*graph.model.graph, "mean", {channels}, mean),
                     add_float_constant(*graph.model.graph, "variance", {channels}, variance)},
                    shape, {{"epsilon", testing::float_attr(1e-3)}});
}

ir::Model conv_transpose_batchnorm(int64_t group) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4, 5, 5});
  ir::Value* up = graph.node("ConvTranspose", {x, graph.weights("w", {4, 6 / group, 3, 3}), graph.weights("b", {6})},
                             {1, 6, 11, 11},
                             {{"kernel_shape", ints_attr({3, 3})}, {"strides", ints_attr({2, 2})}, {"group", int_attr(group)}});
  graph.output(batch_norm(graph, up, 6, {1, 6, 11, 11}));
  return std::move(graph.model);
}

ir::Model gemm_batchnorm(bool trans_b, bool with_bias) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {3, 10});
  std::vector<ir::Value*> inputs = {x, trans_b ? graph.weights("w", {7, 10}) : graph.weights("w", {10, 7})};
  if (with_bias) inputs.push_back(graph.weights("c", {7}));
  ir::Value* y = graph.node("Gemm", inputs, {3, 7},
                            {{"transB", int_attr(trans_b)}, {"alpha", testing::float_attr(0.5)}, {"beta", testing::float_attr(1.5)}});
  graph.output(batch_norm(graph, y, 7, {3, 7}));
  return std::move(graph.model);
}

ir::Model conv_batchnorm() {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 3, 8, 8});
  ir::Value* y = graph.node("Conv", {x, graph.weights("w", {5, 3, 3, 3})}, {1, 5, 6, 6}, {{"kernel_shape", ints_attr({3, 3})}});
  graph.output(batch_norm(graph, y, 5, {1, 5, 6, 6}));
  return std::move(graph.model);
}

void expect_folds(const ir::Model& before, const std::string& label) {
  auto after = copy_model(before);
  EXPECT_EQ(fold_batchnorm_into_conv(*after).rewrites, 1) << label;
  EXPECT_EQ(count_ops(*after, "BatchNormalization"), 0u) << label;
  EXPECT_EQ(after->graph->nodes().size(), 1u) << label;
  EXPECT_LT(compare_models(before, *after).max_relative_difference, 1e-5) << label;
}

TEST(FoldBatchnorm, FoldsIntoConvConvTransposeAndGemm) {
  expect_folds(conv_batchnorm(), "Conv");
  expect_folds(conv_transpose_batchnorm(1), "ConvTranspose");
  expect_folds(conv_transpose_batchnorm(2), "grouped ConvTranspose");
  for (bool trans_b : {false, true}) {
    for (bool with_bias : {false, true}) {
      expect_folds(gemm_batchnorm(trans_b, with_bias),
                   "Gemm transB " + std::to_string(trans_b) + " bias " + std::to_string(with_bias));
    }
  }
}

TEST(FoldBatchnorm, CheckNamesItOnTheEdgeTpu) {
  const targets::TargetProfile& edgetpu = targets::find_builtin_target("edgetpu");
  std::vector<ir::Model> models;
  models.push_back(conv_batchnorm());
  models.push_back(conv_transpose_batchnorm(1));
  models.push_back(gemm_batchnorm(true, true));
  for (const ir::Model& model_value : models) {
    const ir::Model* model = &model_value;
    const check::NodeVerdict verdict = verdict_of(check::check_model(*model, edgetpu), "BatchNormalization");
    EXPECT_EQ(verdict.placement, check::Placement::fallback);
    EXPECT_EQ(verdict.patch, "fold-batchnorm");
    auto after = copy_model(*model);
    patch::patch_model(*after, edgetpu, {});
    EXPECT_EQ(count_ops(*after, "BatchNormalization"), 0u);
    EXPECT_LT(compare_models(*model, *after).max_relative_difference, 1e-5);
  }
}

// A BatchNormalization after a Concat: nothing to fold into.
ir::Model standalone_batchnorm() {
  TestGraph graph;
  ir::Value* a = graph.input("a", {1, 2, 4, 4});
  ir::Value* b = graph.input("b", {1, 3, 4, 4});
  ir::Value* joined = graph.node("Concat", {a, b}, {1, 5, 4, 4}, {{"axis", int_attr(1)}});
  graph.output(batch_norm(graph, joined, 5, {1, 5, 4, 4}));
  return std::move(graph.model);
}

TEST(BatchnormToScale, StandaloneBatchnormBecomesMulAndAdd) {
  ir::Model before = standalone_batchnorm();
  auto after = copy_model(before);
  EXPECT_EQ(fold_batchnorm_into_conv(*after).rewrites, 0);
  EXPECT_EQ(batchnorm_to_scale(*after).rewrites, 1);
  EXPECT_EQ(count_ops(*after, "BatchNormalization"), 0u);
  EXPECT_EQ(count_ops(*after, "Mul"), 1u);
  EXPECT_EQ(count_ops(*after, "Add"), 1u);
  EXPECT_LT(compare_models(before, *after).max_relative_difference, 1e-5);
  // Rank 2 ([N, C]) too: the constants are [C].
  TestGraph flat;
  ir::Value* x = flat.input("x", {4, 6});
  flat.output(batch_norm(flat, x, 6, {4, 6}));
  auto flat_after = copy_model(flat.model);
  EXPECT_EQ(batchnorm_to_scale(*flat_after).rewrites, 1);
  EXPECT_LT(compare_models(flat.model, *flat_after).max_relative_difference, 1e-5);
}

TEST(BatchnormToScale, CheckNamesItOnTheEdgeTpuAndTheAx620a) {
  ir::Model before = standalone_batchnorm();
  for (const char* target : {"edgetpu", "ax620a"}) {
    const targets::TargetProfile& profile = targets::find_builtin_target(target);
    const check::NodeVerdict verdict = verdict_of(check::check_model(before, profile), "BatchNormalization");
    EXPECT_FALSE(check::on_accelerator(verdict.placement)) << target;
    EXPECT_EQ(verdict.patch, "batchnorm-to-scale") << target;
    auto after = copy_model(before);
    patch::patch_model(*after, profile, {});
    EXPECT_EQ(count_ops(*after, "BatchNormalization"), 0u) << target;
    EXPECT_LT(compare_models(before, *after).max_relative_difference, 1e-5) << target;
    for (const check::NodeVerdict& node : check::check_model(*after, profile).nodes) {
      EXPECT_TRUE(check::on_accelerator(node.placement)) << target << ": " << node.reason;
    }
  }
  // The AX620A runs a BatchNormalization that follows a Conv: nothing named, nothing rewritten.
  const check::NodeVerdict after_conv =
      verdict_of(check::check_model(conv_batchnorm(), targets::find_builtin_target("ax620a")), "BatchNormalization");
  EXPECT_TRUE(check::on_accelerator(after_conv.placement));
  EXPECT_EQ(after_conv.patch, "");
}

// Statistics that arrive at run time, and a Conv output read twice: neither pass may touch them, and check
// names neither.
TEST(BatchnormToScale, RunTimeStatisticsAndSharedProducersAreLeftAlone) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 3, 6, 6});
  ir::Value* mean = graph.input("mean", {3});
  ir::Value* with_input_mean = graph.node("BatchNormalization",
                                          {x, graph.weights("g", {3}), graph.weights("b", {3}), mean, graph.weights("v", {3}, 0.1f)},
                                          {1, 3, 6, 6});
  graph.output(with_input_mean);
  auto after = copy_model(graph.model);
  EXPECT_EQ(fold_batchnorm_into_conv(*after).rewrites, 0);
  EXPECT_EQ(batchnorm_to_scale(*after).rewrites, 0);
  EXPECT_EQ(verdict_of(check::check_model(graph.model, targets::find_builtin_target("edgetpu")), "BatchNormalization").patch, "");

  TestGraph shared;
  ir::Value* input = shared.input("x", {1, 3, 8, 8});
  ir::Value* conv = shared.node("Conv", {input, shared.weights("w", {5, 3, 3, 3})}, {1, 5, 6, 6}, {{"kernel_shape", ints_attr({3, 3})}});
  shared.output(batch_norm(shared, conv, 5, {1, 5, 6, 6}));
  shared.output(shared.node("Relu", {conv}, {1, 5, 6, 6}));
  auto shared_after = copy_model(shared.model);
  EXPECT_EQ(fold_batchnorm_into_conv(*shared_after).rewrites, 0);  // folding would change what Relu reads
  // Then it is a standalone BatchNormalization: batchnorm-to-scale is named, and is exact.
  EXPECT_EQ(verdict_of(check::check_model(shared.model, targets::find_builtin_target("edgetpu")), "BatchNormalization").patch,
            "batchnorm-to-scale");
  EXPECT_EQ(batchnorm_to_scale(*shared_after).rewrites, 1);
  EXPECT_LT(compare_models(shared.model, *shared_after).max_relative_difference, 1e-5);
}

}  // namespace
}  // namespace npukit::passes
