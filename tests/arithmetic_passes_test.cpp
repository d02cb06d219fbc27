// div-to-mul and pow-to-mul: before/after on random inputs on the reference backend, the ulp bound of the
// reciprocal, and check naming the pass on the Edge TPU, which lists Mul but neither Div nor Pow.
#include <gtest/gtest.h>

#include <cstring>

#include "check/target_check.h"
#include "pass_equivalence.h"
#include "passes/div_to_mul.h"
#include "passes/pow_to_mul.h"
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

// HardSwish as MobileNetV3 exports it without the fused op: x · clip(x + 3, 0, 6) / 6.
ir::Model hardswish_by_hand(float divisor) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 8, 5, 5});
  ir::Value* shifted = graph.node("Add", {x, add_float_constant(*graph.model.graph, "three", {}, {3.0f})}, {1, 8, 5, 5});
  ir::Value* clipped = graph.node("Clip", {shifted, add_float_constant(*graph.model.graph, "low", {}, {0.0f}),
                                           add_float_constant(*graph.model.graph, "high", {}, {6.0f})}, {1, 8, 5, 5});
  ir::Value* product = graph.node("Mul", {x, clipped}, {1, 8, 5, 5});
  graph.output(graph.node("Div", {product, add_float_constant(*graph.model.graph, "six", {}, {divisor})}, {1, 8, 5, 5}));
  return std::move(graph.model);
}

TEST(DivToMul, ConstantDivisionBecomesMultiplicationByTheReciprocal) {
  for (float divisor : {6.0f, 4.0f, -0.3f}) {
    ir::Model before = hardswish_by_hand(divisor);
    auto after = copy_model(before);
    PassResult result = div_to_mul(*after);
    EXPECT_EQ(result.rewrites, 1);
    EXPECT_FALSE(result.changes_meaning);
    EXPECT_EQ(count_ops(*after, "Div"), 0u);
    EXPECT_EQ(count_ops(*after, "Mul"), 2u);
    ASSERT_EQ(result.notes.size(), 1u);
    const double difference = compare_models(before, *after).max_relative_difference;
    if (divisor == 4.0f) {
      EXPECT_EQ(difference, 0.0);  // a power of two: the reciprocal and the product are exact
      EXPECT_NE(result.notes.front().find("exact"), std::string::npos) << result.notes.front();
    } else {
      EXPECT_LT(difference, 1e-6) << divisor;
      EXPECT_NE(result.notes.front().find("within 1 ulp"), std::string::npos) << result.notes.front();
    }
  }
}

// The claim of the pass notes, over every normal mantissa (scaling by powers of two keeps the ulp distance).
TEST(DivToMul, ReciprocalProductIsWithinOneUlpOfTheQuotient) {
  for (float divisor : {6.0f, 3.0f, 7.0f, -0.3f}) {
    const volatile float reciprocal = 1.0f / divisor;
    int64_t worst = 0;
    for (uint32_t mantissa = 0; mantissa < (1u << 23); ++mantissa) {
      const uint32_t bits = 0x3f800000u | mantissa;
      float x;
      std::memcpy(&x, &bits, sizeof x);
      const volatile float quotient = x / divisor;
      const volatile float product = x * reciprocal;
      const float q = quotient, p = product;
      int32_t q_bits, p_bits;
      std::memcpy(&q_bits, &q, sizeof q);
      std::memcpy(&p_bits, &p, sizeof p);
      worst = std::max<int64_t>(worst, std::llabs(static_cast<int64_t>(q_bits) - p_bits));
    }
    EXPECT_EQ(worst, 1) << divisor;
  }
}

TEST(DivToMul, RunTimeAndZeroDivisorsAreLeftAlone) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4});
  ir::Value* y = graph.input("y", {1, 4});
  ir::Value* by_input = graph.node("Div", {x, y}, {1, 4});
  graph.output(graph.node("Div", {by_input, add_float_constant(*graph.model.graph, "zero", {}, {0.0f})}, {1, 4}));
  // check names no pass for them on the Edge TPU either.
  for (const check::NodeVerdict& node : check::check_model(graph.model, targets::find_builtin_target("edgetpu")).nodes) {
    EXPECT_EQ(node.patch, "") << node.name;
  }
  EXPECT_EQ(div_to_mul(graph.model).rewrites, 0);
  EXPECT_EQ(count_ops(graph.model, "Div"), 2u);
}

TEST(DivToMul, CheckNamesItOnTheEdgeTpuAndPatchMovesTheDivisionToTheTpu) {
  ir::Model before = hardswish_by_hand(6.0f);
  const targets::TargetProfile& edgetpu = targets::find_builtin_target("edgetpu");
  check::CheckResult refused = check::check_model(before, edgetpu);
  EXPECT_EQ(verdict_of(refused, "Div").placement, check::Placement::fallback);
  EXPECT_EQ(verdict_of(refused, "Div").patch, "div-to-mul");
  auto after = copy_model(before);
  patch::patch_model(*after, edgetpu, {});
  EXPECT_EQ(count_ops(*after, "Div"), 0u);
  EXPECT_LT(compare_models(before, *after).max_relative_difference, 1e-6);
  check::CheckResult patched = check::check_model(*after, edgetpu);
  for (const check::NodeVerdict& node : patched.nodes) EXPECT_TRUE(check::on_accelerator(node.placement)) << node.reason;
  // RK3588 runs Div: patch leaves it.
  auto rk3588 = copy_model(before);
  patch::patch_model(*rk3588, targets::find_builtin_target("rk3588"), {});
  EXPECT_EQ(count_ops(*rk3588, "Div"), 1u);
}

ir::Model power_model(float exponent) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 6, 7});
  ir::Value* centred = graph.node("Sub", {x, add_float_constant(*graph.model.graph, "half", {}, {0.5f})}, {1, 6, 7});
  // x^0.5 needs a non-negative base; the others see negative values too.
  ir::Value* base = exponent == 0.5f ? x : centred;
  graph.output(graph.node("Pow", {base, add_float_constant(*graph.model.graph, "exponent", {1}, {exponent})}, {1, 6, 7}));
  return std::move(graph.model);
}

TEST(PowToMul, ConstantPowersBecomeMulChains) {
  struct Case {
    float exponent;
    const char* written;
    size_t muls;
    double tolerance;
  };
  for (const Case& c : {Case{2.0f, "", 1, 0.0}, Case{3.0f, "", 2, 1e-6}, Case{1.0f, "Identity", 0, 0.0},
                        Case{0.5f, "Sqrt", 0, 1e-6}}) {
    ir::Model before = power_model(c.exponent);
    auto after = copy_model(before);
    PassResult result = pow_to_mul(*after, true);
    EXPECT_EQ(result.rewrites, 1) << c.exponent;
    EXPECT_EQ(count_ops(*after, "Pow"), 0u);
    EXPECT_EQ(count_ops(*after, "Mul"), c.muls) << c.exponent;
    if (*c.written) EXPECT_EQ(count_ops(*after, c.written), 1u) << c.exponent;
    const double difference = compare_models(before, *after).max_relative_difference;
    if (c.tolerance == 0.0) {
      EXPECT_EQ(difference, 0.0) << c.exponent;
    } else {
      EXPECT_LT(difference, c.tolerance) << c.exponent;
    }
  }
  // Without Sqrt on the target, x^0.5 stays and the pass says why; other exponents are not its business.
  auto root = copy_model(power_model(0.5f));
  PassResult kept = pow_to_mul(*root, false);
  EXPECT_EQ(kept.rewrites, 0);
  ASSERT_EQ(kept.notes.size(), 1u);
  EXPECT_NE(kept.notes.front().find("Sqrt"), std::string::npos);
  auto other = copy_model(power_model(2.5f));
  EXPECT_EQ(pow_to_mul(*other, true).rewrites, 0);
}

TEST(PowToMul, CheckNamesItOnTheEdgeTpuAndPatchApplies) {
  ir::Model before = power_model(2.0f);
  const targets::TargetProfile& edgetpu = targets::find_builtin_target("edgetpu");
  const check::NodeVerdict pow = verdict_of(check::check_model(before, edgetpu), "Pow");
  EXPECT_EQ(pow.placement, check::Placement::fallback);
  EXPECT_EQ(pow.patch, "pow-to-mul");
  // 2.5 has no rewrite: nothing named.
  EXPECT_EQ(verdict_of(check::check_model(power_model(2.5f), edgetpu), "Pow").patch, "");
  auto after = copy_model(before);
  patch::PatchReport report = patch::patch_model(*after, edgetpu, {});
  EXPECT_EQ(count_ops(*after, "Pow"), 0u);
  EXPECT_EQ(compare_models(before, *after).max_relative_difference, 0.0);
  bool reported = false;
  for (const PassResult& result : report.passes) reported = reported || (result.pass == "pow-to-mul" && result.rewrites == 1);
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace npukit::passes
