// fuse-layernorm: LayerNorm written out by hand, in the forms PyTorch and TF exports produce, folded into
// one LayerNormalization; before/after on random inputs on the reference backend, and the segments of a
// small wake-word / transformer block on the RK3588 (ReduceMean and Sqrt run on its CPU) before and after.
#include <gtest/gtest.h>

#include "check/target_check.h"
#include "pass_equivalence.h"
#include "passes/fuse_layernorm.h"
#include "passes/layernorm_pattern.h"
#include "patch/patch_pipeline.h"
#include "target_test_graphs.h"
#include "targets/profile_loader.h"

namespace npukit::passes {
namespace {

using testing::count_ops;

using testing::TestGraph;
using testing::compare_models;
using testing::copy_model;
using testing::int_attr;
using testing::ints_attr;

// The written forms this test covers.
struct Form {
  bool pow_square = true;        // Pow(d, 2), else Mul(d, d)
  bool twin_sub = false;         // a second Sub(x, mean) feeds the square (TF's SquaredDifference)
  std::string inverse = "Div";   // "Div": d / std; "Reciprocal": d · Reciprocal(std); "OneOver": d · (1 / std)
  bool gamma = true, beta = true;
  bool constants_first = false;  // Mul(gamma, n), Add(beta, ·), Add(eps, var)
  std::vector<int64_t> gamma_shape;  // default: {C}
  bool gamma_before_division = false;  // w * (x - u) / sqrt(v + eps) + b, as PyTorch exports that line
};

// x [.., C] → LayerNorm over the last axis, written out in `form`.
ir::Value* written_layernorm(TestGraph& graph, ir::Value* x, const std::vector<int64_t>& shape, const Form& form) {
  const int64_t channels = shape.back();
  std::vector<int64_t> reduced = shape;
  reduced.back() = 1;
  ir::Graph& g = *graph.model.graph;
  auto mean_of = [&](ir::Value* input) {
    return graph.node("ReduceMean", {input}, reduced, {{"axes", ints_attr({-1})}, {"keepdims", int_attr(1)}});
  };
  auto ordered = [&](ir::Value* constant, ir::Value* value) {
    return form.constants_first ? std::vector<ir::Value*>{constant, value} : std::vector<ir::Value*>{value, constant};
  };
  ir::Value* mean = mean_of(x);
  ir::Value* centred = graph.node("Sub", {x, mean}, shape);
  ir::Value* for_square = form.twin_sub ? graph.node("Sub", {x, mean}, shape) : centred;
  ir::Value* square = form.pow_square
                          ? graph.node("Pow", {for_square, add_float_constant(g, "two", {}, {2.0f})}, shape)
                          : graph.node("Mul", {for_square, for_square}, shape);
  ir::Value* variance = mean_of(square);
  ir::Value* shifted = graph.node("Add", ordered(add_float_constant(g, "eps", {}, {1e-5f}), variance), reduced);
  ir::Value* deviation = graph.node("Sqrt", {shifted}, reduced);
  auto gamma = [&] {
    return graph.weights("gamma", form.gamma_shape.empty() ? std::vector<int64_t>{channels} : form.gamma_shape, 2.0f);
  };
  if (form.gamma_before_division) centred = graph.node("Mul", ordered(gamma(), centred), shape);
  ir::Value* normalized;
  if (form.inverse == "Div") {
    normalized = graph.node("Div", {centred, deviation}, shape);
  } else {
    ir::Value* inverse = form.inverse == "Reciprocal"
                             ? graph.node("Reciprocal", {deviation}, reduced)
                             : graph.node("Div", {add_float_constant(g, "one", {}, {1.0f}), deviation}, reduced);
    normalized = graph.node("Mul", {centred, inverse}, shape);
  }
  ir::Value* y = normalized;
  if (form.gamma && !form.gamma_before_division) y = graph.node("Mul", ordered(gamma(), y), shape);
  if (form.beta) y = graph.node("Add", ordered(graph.weights("beta", {channels}), y), shape);
  return y;
}

// tf.nn.batch_normalization as Keras' LayerNormalization calls it, after tf2onnx: t = 1 / sqrt(var + eps) · gamma,
// y = x · t + (beta - mean · t).
ir::Value* scaled_shift_layernorm(TestGraph& graph, ir::Value* x, const std::vector<int64_t>& shape, bool with_gamma) {
  std::vector<int64_t> reduced = shape;
  reduced.back() = 1;
  ir::Graph& g = *graph.model.graph;
  auto mean_of = [&](ir::Value* input) {
    return graph.node("ReduceMean", {input}, reduced, {{"axes", ints_attr({-1})}, {"keepdims", int_attr(1)}});
  };
  ir::Value* mean = mean_of(x);
  ir::Value* difference = graph.node("Sub", {x, mean}, shape);
  ir::Value* variance = mean_of(graph.node("Mul", {difference, difference}, shape));
  ir::Value* deviation = graph.node("Sqrt", {graph.node("Add", {variance, add_float_constant(g, "eps", {}, {1e-3f})}, reduced)}, reduced);
  ir::Value* t = graph.node("Reciprocal", {deviation}, reduced);
  if (with_gamma) t = graph.node("Mul", {t, graph.weights("gamma", {shape.back()}, 2.0f)}, shape);
  ir::Value* x_t = graph.node("Mul", {x, t}, shape);
  ir::Value* shift = graph.node("Sub", {graph.weights("beta", {shape.back()}), graph.node("Mul", {mean, t}, with_gamma ? shape : reduced)},
                                shape);
  return graph.node("Add", {x_t, shift}, shape);
}

TEST(FuseLayerNorm, TensorFlowBatchNormalizationFormBecomesOneLayerNormalization) {
  for (bool with_gamma : {true, false}) {
    TestGraph graph;
    ir::Value* x = graph.input("x", {3, 10});
    graph.output(scaled_shift_layernorm(graph, x, {3, 10}, with_gamma));
    ASSERT_EQ(find_written_layernorms(*graph.model.graph).size(), 1u) << "gamma " << with_gamma;
    auto after = copy_model(graph.model);
    EXPECT_EQ(fuse_layernorm(*after).rewrites, 1);
    EXPECT_EQ(after->graph->nodes().size(), 1u);
    EXPECT_LT(compare_models(graph.model, *after).max_relative_difference, 1e-5) << "gamma " << with_gamma;
  }
}

TEST(FuseLayerNorm, EveryWrittenFormBecomesOneLayerNormalization) {
  std::vector<std::pair<std::string, Form>> forms = {
      {"PyTorch: Pow, Div, gamma, beta", Form{}},
      {"TF: twin Sub, Mul square, Reciprocal, constants first",
       Form{false, true, "Reciprocal", true, true, true, {}}},
      {"1 / std, no gamma or beta", Form{true, false, "OneOver", false, false, false, {}}},
      {"gamma [1, 1, C], no beta", Form{false, false, "Div", true, false, false, {1, 1, 24}}},
      {"PyTorch w * (x - u) / sqrt(v + eps) + b", Form{true, false, "Div", true, true, false, {}, true}},
      {"gamma before the reciprocal", Form{false, false, "Reciprocal", true, false, true, {}, true}},
  };
  for (const auto& [label, form] : forms) {
    TestGraph graph;
    ir::Value* x = graph.input("x", {2, 5, 24});
    graph.output(written_layernorm(graph, x, {2, 5, 24}, form));
    ASSERT_EQ(find_written_layernorms(*graph.model.graph).size(), 1u) << label;
    auto after = copy_model(graph.model);
    PassResult result = fuse_layernorm(*after);
    EXPECT_EQ(result.rewrites, 1) << label;
    EXPECT_EQ(after->graph->nodes().size(), 1u) << label;
    EXPECT_EQ(count_ops(*after, "LayerNormalization"), 1u) << label;
    EXPECT_LT(compare_models(graph.model, *after).max_relative_difference, 1e-5) << label;
  }
}

TEST(FuseLayerNorm, LeavesLookAlikesAndOldOpsetsAlone) {
  // The centred value also read outside the pattern: fusing would drop it.
  {
    TestGraph graph;
    ir::Value* x = graph.input("x", {1, 4, 8});
    ir::Value* y = written_layernorm(graph, x, {1, 4, 8}, Form{});
    graph.output(y);
    ir::Value* centred = nullptr;
    for (const auto& node : graph.model.graph->nodes()) {
      if (node->op_type == "Sub") centred = node->output(0);
    }
    graph.output(graph.node("Relu", {centred}, {1, 4, 8}));
    EXPECT_TRUE(find_written_layernorms(*graph.model.graph).empty());
  }
  // Mean over a middle axis is not a LayerNorm over trailing axes.
  {
    TestGraph graph;
    ir::Value* x = graph.input("x", {1, 4, 8});
    ir::Value* mean = graph.node("ReduceMean", {x}, {1, 1, 8}, {{"axes", ints_attr({1})}});
    ir::Value* centred = graph.node("Sub", {x, mean}, {1, 4, 8});
    ir::Value* variance = graph.node("ReduceMean", {graph.node("Mul", {centred, centred}, {1, 4, 8})}, {1, 1, 8},
                                     {{"axes", ints_attr({1})}});
    ir::Value* deviation = graph.node("Sqrt", {graph.node("Add", {variance, add_float_constant(*graph.model.graph, "e", {}, {1e-5f})}, {1, 1, 8})}, {1, 1, 8});
    graph.output(graph.node("Div", {centred, deviation}, {1, 4, 8}));
    EXPECT_TRUE(find_written_layernorms(*graph.model.graph).empty());
  }
  // Opset 13: LayerNormalization does not exist there.
  {
    TestGraph graph;
    graph.model.opset_imports[""] = 13;
    ir::Value* x = graph.input("x", {1, 4, 8});
    graph.output(written_layernorm(graph, x, {1, 4, 8}, Form{}));
    PassResult result = fuse_layernorm(graph.model);
    EXPECT_EQ(result.rewrites, 0);
    ASSERT_EQ(result.notes.size(), 1u);
    EXPECT_NE(result.notes.front().find("opset 17"), std::string::npos) << result.notes.front();
  }
}

// A wake-word / transformer-style block over 16 frames of 32 features: MatMul, LayerNorm as torch.onnx.export
// (opset 17) writes `w * (x - u) / torch.sqrt(v + eps) + b` (checked against an export: ReduceMean, Sub, Pow,
// ReduceMean, Mul, Add, Sqrt, Div, Add), MatMul, LayerNorm written as TF writes it (1 / std), MatMul.
ir::Model wake_word_block() {
  TestGraph graph;
  const std::vector<int64_t> shape = {1, 16, 32};
  ir::Value* x = graph.input("features", shape);
  ir::Value* h = graph.node("MatMul", {x, graph.weights("w1", {32, 32})}, shape);
  h = written_layernorm(graph, h, shape, Form{true, false, "Div", true, true, true, {}, true});
  h = graph.node("MatMul", {h, graph.weights("w2", {32, 32})}, shape);
  h = written_layernorm(graph, h, shape, Form{false, true, "OneOver", true, true, true, {}});
  graph.output(graph.node("MatMul", {h, graph.weights("w3", {32, 4})}, {1, 16, 4}));
  return std::move(graph.model);
}

TEST(FuseLayerNorm, WakeWordBlockGoesFrom13SegmentsTo1OnRk3588) {
  const targets::TargetProfile& rk3588 = targets::find_builtin_target("rk3588");
  ir::Model before = wake_word_block();
  check::CheckResult refused = check::check_model(before, rk3588);
  // Each written LayerNorm puts ReduceMean, ReduceMean and Sqrt on the CPU: 6 CPU segments between 7 NPU ones.
  EXPECT_EQ(refused.segments.size(), 13u);
  size_t named = 0;
  for (const check::NodeVerdict& node : refused.nodes) {
    if (node.op_type == "ReduceMean" || node.op_type == "Sqrt") {
      EXPECT_EQ(node.placement, check::Placement::fallback) << node.name;
      EXPECT_EQ(node.patch, "fuse-layernorm") << node.name;
      ++named;
    }
  }
  EXPECT_EQ(named, 6u);

  auto after = copy_model(before);
  patch::patch_model(*after, rk3588, {});
  EXPECT_EQ(count_ops(*after, "LayerNormalization"), 2u);
  EXPECT_EQ(after->graph->nodes().size(), 5u);
  EXPECT_LT(compare_models(before, *after).max_relative_difference, 1e-5);
  check::CheckResult patched = check::check_model(*after, rk3588);
  EXPECT_EQ(patched.segments.size(), 1u);
  for (const check::NodeVerdict& node : patched.nodes) EXPECT_TRUE(check::on_accelerator(node.placement)) << node.reason;

  // The Edge TPU has no LayerNormalization: nothing named fuse-layernorm, nothing fused.
  const targets::TargetProfile& edgetpu = targets::find_builtin_target("edgetpu");
  for (const check::NodeVerdict& node : check::check_model(before, edgetpu).nodes) EXPECT_NE(node.patch, "fuse-layernorm");
  auto tpu = copy_model(before);
  patch::patch_model(*tpu, edgetpu, {});
  EXPECT_EQ(count_ops(*tpu, "LayerNormalization"), 0u);
}

}  // namespace
}  // namespace npukit::passes
