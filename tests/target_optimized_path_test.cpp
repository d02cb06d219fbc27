// The level between "NPU" and "fallback": on the NPU, off the path its compiler optimizes. Hailo's table of
// optimized 2D convolutions and its Conv3D limits (shared/reference/seed_facts.md), walked cell by cell from a
// copy written here (so a typo in targets/hailo8.json fails), a few "any other" cases with their sentences, the
// MAC split, and conv-stride-to-pool, the rewrite that moves a stride into a subsampling MaxPool.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "check/fix_suggestions.h"
#include "check/target_check.h"
#include "pass_equivalence.h"
#include "passes/conv_stride_to_pool.h"
#include "patch/patch_pipeline.h"
#include "target_test_graphs.h"
#include "npukit/error.h"
#include "targets/embedded_profiles.h"
#include "targets/profile_loader.h"

namespace npukit::check {
namespace {

using testing::TestGraph;
using testing::int_attr;
using testing::ints_attr;
using testing::verdict_of;

using Pair = std::pair<int64_t, int64_t>;

// Pads for a padding name, or nullopt when the kernel cannot have it (symmetric SAME needs an odd dilated kernel).
std::optional<std::vector<int64_t>> pads_for(const std::string& padding, Pair kernel, Pair stride, Pair dilation,
                                             Pair input) {
  std::vector<int64_t> pads(4, 0);
  const int64_t kernels[2] = {kernel.first, kernel.second}, strides[2] = {stride.first, stride.second};
  const int64_t dilations[2] = {dilation.first, dilation.second}, inputs[2] = {input.first, input.second};
  for (int axis = 0; axis < 2; ++axis) {
    const int64_t effective = (kernels[axis] - 1) * dilations[axis] + 1;
    if (padding == "SAME") {
      if (effective % 2 == 0) return std::nullopt;
      pads[axis] = pads[axis + 2] = (effective - 1) / 2;
    } else if (padding == "SAME_TENSORFLOW") {
      const int64_t out = (inputs[axis] + strides[axis] - 1) / strides[axis];
      const int64_t total = std::max<int64_t>((out - 1) * strides[axis] + effective - inputs[axis], 0);
      pads[axis] = total / 2;
      pads[axis + 2] = total - total / 2;
    }
  }
  return pads;
}

// x[1,4,H,W] → Conv → y, with the output shape computed here.
ir::Model conv_model(Pair kernel, Pair stride, Pair dilation, const std::vector<int64_t>& pads, Pair input = {32, 32},
                     int64_t group = 1) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4, input.first, input.second});
  ir::Value* w = graph.weights("w", {4, 4 / group, kernel.first, kernel.second});
  auto out = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t begin, int64_t end) {
    return (in + begin + end - ((k - 1) * d + 1)) / s + 1;
  };
  const int64_t h = out(input.first, kernel.first, stride.first, dilation.first, pads[0], pads[2]);
  const int64_t w_out = out(input.second, kernel.second, stride.second, dilation.second, pads[1], pads[3]);
  ir::Value* y = graph.node("Conv", {x, w}, {1, 4, h, w_out},
                            {{"kernel_shape", ints_attr({kernel.first, kernel.second})},
                             {"strides", ints_attr({stride.first, stride.second})},
                             {"dilations", ints_attr({dilation.first, dilation.second})},
                             {"pads", ints_attr(pads)},
                             {"group", int_attr(group)}});
  graph.output(y);
  return std::move(graph.model);
}

NodeVerdict hailo_verdict(const ir::Model& model, const std::string& target = "hailo8") {
  return verdict_of(check_model(model, targets::find_builtin_target(target)), "Conv");
}

Pair parse_pair(const std::string& text) {
  const size_t x = text.find('x');
  return {std::stoll(text.substr(0, x)), std::stoll(text.substr(x + 1))};
}

struct TableRow {
  std::vector<std::string> kernels, strides, dilations, paddings;
};

// seed_facts.md, "Hailo: 2D convolution — parameters the compiler runs optimized", one entry per row; the rows
// with a "(stride 1×1 only)" note are split in two, as the note says. "1×W" and "M×N stride M×N" are tested apart.
const std::vector<TableRow>& hailo_table() {
  const std::vector<std::string> all = {"SAME", "SAME_TENSORFLOW", "VALID"}, same = {"SAME", "SAME_TENSORFLOW"};
  static const std::vector<TableRow> rows = {
      {{"1x1"}, {"1x1", "2x1", "2x2"}, {"1x1"}, all},
      {{"3x3"}, {"1x1", "1x2", "2x1", "2x2"}, {"1x1"}, all},
      {{"3x3"}, {"1x1"}, {"2x2", "3x3", "4x4", "6x6", "8x8", "16x16"}, all},
      {{"2x2"}, {"2x1"}, {"1x1"}, all},
      {{"2x2", "2x3", "2x5", "2x7", "3x2", "5x2", "7x2"}, {"2x2"}, {"1x1"}, same},
      {{"5x5", "7x7"}, {"1x1", "1x2", "2x1", "2x2"}, {"1x1"}, same},
      {{"5x5", "7x7"}, {"1x1"}, {"1x1"}, {"VALID"}},
      {{"6x6"}, {"2x2"}, {"1x1"}, all},
      {{"1x3", "1x5", "1x7"}, {"1x1", "1x2"}, {"1x1"}, same},
      {{"1x3", "1x5", "1x7"}, {"1x1"}, {"1x1"}, {"VALID"}},
      {{"3x5", "3x7", "5x3", "5x7", "7x3", "7x5"}, {"1x1", "1x2"}, {"1x1"}, same},
      {{"3x5", "3x7", "5x3", "5x7", "7x3", "7x5"}, {"1x1"}, {"1x1"}, {"VALID"}},
      {{"3x1"}, {"1x1", "2x1"}, {"1x1"}, all},
      {{"5x1", "7x1"}, {"1x1"}, {"1x1"}, all},
      {{"1x9", "3x9", "5x9", "7x9"}, {"1x1"}, {"1x1"}, all},
      {{"9x1", "9x3", "9x5", "9x7", "9x9"}, {"1x1"}, {"1x1"}, all},
      {{"3x4", "5x4", "7x4", "9x4"}, {"1x1"}, {"1x1"}, all},
      {{"3x6", "5x6", "7x6", "9x6"}, {"1x1"}, {"1x1"}, all},
      {{"3x8", "5x8", "7x8", "9x8"}, {"1x1"}, {"1x1"}, all},
  };
  return rows;
}

TEST(HailoOptimizedConvolutions, EveryCellOfTheTableIsOnTheOptimizedPath) {
  int checked = 0;
  for (const TableRow& row : hailo_table()) {
    for (const std::string& kernel_text : row.kernels) {
      for (const std::string& stride_text : row.strides) {
        for (const std::string& dilation_text : row.dilations) {
          for (const std::string& padding : row.paddings) {
            const Pair kernel = parse_pair(kernel_text), stride = parse_pair(stride_text);
            const Pair dilation = parse_pair(dilation_text);
            // A large dilation needs a large map to have an output at all.
            const Pair input = dilation.first >= 8 ? Pair{64, 64} : Pair{32, 32};
            auto pads = pads_for(padding, kernel, stride, dilation, input);
            if (!pads) continue;  // an even kernel has no symmetric SAME
            for (const char* target : {"hailo8", "hailo8l"}) {
              const NodeVerdict verdict = hailo_verdict(conv_model(kernel, stride, dilation, *pads, input), target);
              EXPECT_EQ(verdict.placement, Placement::accelerator)
                  << target << " kernel " << kernel_text << " stride " << stride_text << " dilation " << dilation_text
                  << " " << padding << ": " << verdict.reason;
            }
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 150);
}

TEST(HailoOptimizedConvolutions, FullWidthKernelAndStrideEqualToKernel) {
  // 1×W: the kernel spans the whole input width, stride 1×1.
  EXPECT_EQ(hailo_verdict(conv_model({1, 20}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {16, 20})).placement, Placement::accelerator);
  // The same 1×20 kernel on a wider map is not full width: off the optimized path.
  EXPECT_EQ(hailo_verdict(conv_model({1, 20}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {16, 24})).placement,
            Placement::accelerator_slow);
  // M×N at stride M×N (a patch embedding): optimized, with any padding name.
  EXPECT_EQ(hailo_verdict(conv_model({16, 16}, {16, 16}, {1, 1}, {0, 0, 0, 0}, {64, 64})).placement, Placement::accelerator);
  EXPECT_EQ(hailo_verdict(conv_model({4, 8}, {4, 8}, {1, 1}, {0, 0, 0, 0}, {32, 32})).placement, Placement::accelerator);
}

struct OffPathCase {
  Pair kernel, stride, dilation;
  std::vector<int64_t> pads;
  std::string sentence;
};

TEST(HailoOptimizedConvolutions, AnyOtherCombinationIsSupportedButSlowWithTheRuleInWords) {
  const std::vector<OffPathCase> cases = {
      {{3, 5}, {2, 2}, {1, 1}, {1, 2, 1, 2}, "Conv 3×5 stride 2×2: Hailo-8 optimizes 3×5 only at stride 1×1, 1×2 or 3×5"},
      {{1, 1}, {1, 2}, {1, 1}, {0, 0, 0, 0}, "Conv 1×1 stride 1×2: Hailo-8 optimizes 1×1 only at stride 1×1, 2×1 or 2×2"},
      {{4, 4}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "Conv 4×4 stride 1×1: Hailo-8 optimizes 4×4 only at stride 4×4"},
      {{11, 11}, {1, 1}, {1, 1}, {5, 5, 5, 5}, "Hailo-8 optimizes 11×11 only at stride 11×11"},
      {{3, 3}, {2, 2}, {2, 2}, {2, 2, 2, 2}, "Conv 3×3 stride 2×2 dilation 2×2: Hailo-8 optimizes 3×3 at stride 2×2 only with dilation 1×1"},
      {{3, 3}, {1, 1}, {5, 5}, {5, 5, 5, 5}, "only with dilation 1×1, 2×2, 3×3, 4×4, 6×6, 8×8 or 16×16"},
      {{5, 5}, {2, 2}, {1, 1}, {0, 0, 0, 0}, "Hailo-8 optimizes 5×5 at stride 2×2 only with padding SAME or SAME_TENSORFLOW"},
      {{2, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}, "only with padding SAME or SAME_TENSORFLOW"},
      {{3, 3}, {1, 1}, {1, 1}, {2, 0, 0, 1}, "(neither VALID, SAME nor SAME_TENSORFLOW)"},
  };
  for (const OffPathCase& c : cases) {
    const NodeVerdict verdict = hailo_verdict(conv_model(c.kernel, c.stride, c.dilation, c.pads));
    EXPECT_EQ(verdict.placement, Placement::accelerator_slow) << c.sentence;
    EXPECT_NE(verdict.reason.find(c.sentence), std::string::npos) << verdict.reason;
    EXPECT_NE(verdict.reason.find("off the optimized path"), std::string::npos) << verdict.reason;
    ASSERT_FALSE(verdict.findings.empty());
    EXPECT_TRUE(verdict.findings.front().off_optimized_path);
    EXPECT_FALSE(verdict.findings.front().refuses);
    EXPECT_NE(verdict.findings.front().source.find("seed_facts.md"), std::string::npos);
  }
  // The same 3×5 stride 2×2 Conv on a target without such a table is plainly on its NPU.
  EXPECT_EQ(hailo_verdict(conv_model({3, 5}, {2, 2}, {1, 1}, {1, 2, 1, 2}), "rk3588").placement, Placement::accelerator);
}

// x[1,4,D,H,W] → Conv3D.
ir::Model conv3d_model(std::vector<int64_t> kernel, std::vector<int64_t> stride) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4, 8, 16, 16});
  ir::Value* w = graph.weights("w", {4, 4, kernel[0], kernel[1], kernel[2]});
  std::vector<int64_t> out = {1, 4};
  const int64_t in[3] = {8, 16, 16};
  for (int axis = 0; axis < 3; ++axis) out.push_back((in[axis] - kernel[axis]) / stride[axis] + 1);
  graph.output(graph.node("Conv", {x, w}, out, {{"kernel_shape", ints_attr(kernel)}, {"strides", ints_attr(stride)}}));
  return std::move(graph.model);
}

TEST(HailoOptimizedConvolutions, Conv3DOnlyAsTheTableSaysAndAsAPreview) {
  // 3×3×3 stride 1 (ONNX order D×H×W): supported, as a preview.
  NodeVerdict cube = hailo_verdict(conv3d_model({3, 3, 3}, {1, 1, 1}));
  EXPECT_EQ(cube.placement, Placement::accelerator_with_condition) << cube.reason;
  EXPECT_NE(cube.reason.find("preview"), std::string::npos) << cube.reason;
  // 3×3×any with stride 1×1×any (H×W×D): any depth, any depth stride.
  EXPECT_EQ(hailo_verdict(conv3d_model({5, 3, 3}, {2, 1, 1})).placement, Placement::accelerator_with_condition);
  // A 5×5 spatial kernel, or a spatial stride of 2: not supported at all.
  NodeVerdict wide = hailo_verdict(conv3d_model({3, 5, 5}, {1, 1, 1}));
  EXPECT_EQ(wide.placement, Placement::fallback);
  EXPECT_NE(wide.reason.find("Hailo-8 supports"), std::string::npos) << wide.reason;
  NodeVerdict strided = hailo_verdict(conv3d_model({3, 3, 3}, {1, 2, 2}));
  EXPECT_EQ(strided.placement, Placement::fallback);
  EXPECT_NE(strided.reason.find("only at stride 1×1×1 or any×1×1"), std::string::npos) << strided.reason;
}

TEST(HailoOptimizedConvolutions, MacsAreSplitBetweenTheOptimizedPathAndOffIt) {
  // x → Conv 3×3 s1 (optimized) → Conv 3×5 s2 (off the path).
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4, 32, 32});
  ir::Value* a = graph.node("Conv", {x, graph.weights("w1", {4, 4, 3, 3})}, {1, 4, 32, 32},
                            {{"kernel_shape", ints_attr({3, 3})}, {"pads", ints_attr({1, 1, 1, 1})}});
  ir::Value* b = graph.node("Conv", {a, graph.weights("w2", {4, 4, 3, 5})}, {1, 4, 16, 16},
                            {{"kernel_shape", ints_attr({3, 5})}, {"strides", ints_attr({2, 2})},
                             {"pads", ints_attr({1, 2, 1, 2})}});
  graph.output(b);
  const CheckResult result = check_model(graph.model, targets::find_builtin_target("hailo8"));
  const int64_t fast = 4 * 32 * 32 * 4 * 9, slow = 4 * 16 * 16 * 4 * 15;
  EXPECT_EQ(result.macs_total, fast + slow);
  EXPECT_EQ(result.macs_accelerator, fast + slow);
  EXPECT_EQ(result.macs_off_optimized_path, slow);
  EXPECT_DOUBLE_EQ(result.optimized_mac_share(), static_cast<double>(fast) / static_cast<double>(fast + slow));
  EXPECT_EQ(result.count(Placement::accelerator_slow), 1u);
  EXPECT_EQ(placement_name(Placement::accelerator_slow), "npu-slow");
  EXPECT_TRUE(on_accelerator(Placement::accelerator_slow));
  EXPECT_EQ(result.segments.size(), 1u);  // both on the NPU: one segment, no transfer between them
}

TEST(ConvStrideToPool, PlansTheLargestOptimizedStrideOrSaysThereIsNone) {
  const targets::TargetProfile& hailo = targets::find_builtin_target("hailo8");
  // 3×5 at stride 2×2 → 3×5 at 1×2 (optimized) + subsample 2×1.
  ir::Model model = conv_model({3, 5}, {2, 2}, {1, 1}, {1, 2, 1, 2});
  const NodeVerdict verdict = hailo_verdict(model);
  EXPECT_EQ(verdict.patch, "conv-stride-to-pool");
  auto kept = plan_kept_stride(*model.graph->nodes().front(), hailo);
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, (std::vector<int64_t>{1, 2}));
  // 4×4 at stride 2×2: 4×4 is optimized only at stride 4×4, which does not divide 2×2. No rewrite, said so.
  const NodeVerdict none = hailo_verdict(conv_model({4, 4}, {2, 2}, {1, 1}, {1, 1, 1, 1}));
  EXPECT_EQ(none.placement, Placement::accelerator_slow);
  EXPECT_TRUE(none.patch.empty());
  EXPECT_NE(none.fix.find("no meaning-keeping rewrite"), std::string::npos) << none.fix;
}

TEST(ConvStrideToPool, KeepsTheOutputsExactlyAndPutsTheConvOnTheOptimizedPath) {
  struct Case {
    Pair kernel, stride;
    std::vector<int64_t> pads;
    Pair input;
  };
  const std::vector<Case> cases = {
      {{3, 5}, {2, 2}, {1, 2, 1, 2}, {32, 32}},
      {{5, 5}, {2, 2}, {0, 0, 0, 0}, {31, 33}},  // VALID is optimized at stride 1×1 only
      {{7, 3}, {2, 2}, {3, 1, 3, 1}, {29, 30}},
  };
  const targets::TargetProfile& hailo = targets::find_builtin_target("hailo8");
  for (const Case& c : cases) {
    ir::Model original = conv_model(c.kernel, c.stride, {1, 1}, c.pads, c.input);
    ASSERT_EQ(hailo_verdict(original).placement, Placement::accelerator_slow);
    auto rewritten = npukit::testing::copy_model(original);
    patch::PatchOptions options;
    options.optimized_path = true;
    patch::PatchReport report = patch::patch_model(*rewritten, hailo, options);
    EXPECT_TRUE(report.converged);
    EXPECT_EQ(npukit::testing::count_ops(*rewritten, "MaxPool"), 1u);
    const CheckResult after = check_model(*rewritten, hailo);
    EXPECT_EQ(after.macs_off_optimized_path, 0);
    EXPECT_EQ(after.count(Placement::accelerator_slow), 0u);
    const auto comparison = npukit::testing::compare_models(original, *rewritten);
    EXPECT_LT(comparison.max_relative_difference, 1e-6) << comparison.worst_output;
    // Without --optimized-path patch leaves it alone.
    auto untouched = npukit::testing::copy_model(original);
    patch::patch_model(*untouched, hailo, patch::PatchOptions{});
    EXPECT_EQ(npukit::testing::count_ops(*untouched, "MaxPool"), 0u);
  }
}

TEST(ConvStrideToPool, GenericPassOnADepthwiseConvWithOddSizes) {
  ir::Model original = conv_model({3, 3}, {3, 2}, {1, 1}, {1, 1, 0, 1}, {17, 19}, 4);
  auto rewritten = npukit::testing::copy_model(original);
  passes::PassResult result = passes::conv_stride_to_pool(
      *rewritten, [](const ir::Node&) { return std::optional<std::vector<int64_t>>({1, 1}); }, passes::every_node);
  EXPECT_EQ(result.rewrites, 1);
  EXPECT_LT(npukit::testing::compare_models(original, *rewritten).max_relative_difference, 1e-6);
}

std::string hailo_profile_text() {
  for (const auto& [file, text] : targets::embedded_profile_sources()) {
    if (file == "hailo8.json") return std::string(text);
  }
  throw std::runtime_error("no embedded hailo8.json");
}

TEST(HailoOptimizedConvolutions, BrokenTablesAreRefusedNamingTheField) {
  nlohmann::json document = nlohmann::json::parse(hailo_profile_text());
  document["ops"]["Conv"]["rules"][0]["combinations"][0]["kernel"][0] = "3by3";
  try {
    targets::parse_target_profile(document.dump(), "broken.json");
    FAIL() << "accepted a kernel '3by3'";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("ops.Conv.rules[0].combinations[0].kernel"), std::string::npos) << error.what();
  }
  document = nlohmann::json::parse(hailo_profile_text());
  document["ops"]["Conv"]["rules"][0]["effect"] = "sluggish";
  EXPECT_THROW(targets::parse_target_profile(document.dump(), "broken.json"), Error);
  document = nlohmann::json::parse(hailo_profile_text());
  document["ops"]["Conv"]["rules"][0]["combinations"][0]["padding"][0] = "SAME_LOWER";
  EXPECT_THROW(targets::parse_target_profile(document.dump(), "broken.json"), Error);
}

}  // namespace
}  // namespace npukit::check
