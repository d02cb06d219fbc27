// The patch passes, each run before/after on random inputs on the reference backend
// (tests/pass_equivalence.h), plus the YOLO cut on a small built-in YOLOv5.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "check/target_check.h"
#include "pass_equivalence.h"
#include "passes/decompose_hardswish.h"
#include "passes/decompose_layernorm.h"
#include "passes/focus_to_conv.h"
#include "passes/gemm_to_conv.h"
#include "passes/resize_half_pixel.h"
#include "passes/silu_to_relu.h"
#include "passes/split_matmul_k.h"
#include "passes/split_resize_scale.h"
#include "passes/static_shapes.h"
#include "passes/yolo_head_detection.h"
#include "passes/yolo_postprocess_cut.h"
#include "patch/patch_pipeline.h"
#include "target_test_graphs.h"
#include "targets/profile_loader.h"
#include "zoo/yolov5.h"

namespace npukit::passes {
namespace {

using testing::count_ops;

using testing::TestGraph;
using testing::compare_models;
using testing::copy_model;
using testing::float_attr;
using testing::int_attr;
using testing::ints_attr;
using testing::string_attr;

// YOLOv5 v5.0's Focus: x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2] concatenated,
// written as PyTorch exports it (one Slice per axis), then a 3×3 Conv.
ir::Model focus_model() {
  TestGraph graph;
  ir::Value* x = graph.input("images", {1, 3, 16, 12});
  const int64_t end = 1LL << 40;
  std::vector<ir::Value*> parts;
  for (auto [row, column] : std::vector<std::pair<int64_t, int64_t>>{{0, 0}, {1, 0}, {0, 1}, {1, 1}}) {
    ir::Value* rows = graph.node("Slice", {x, graph.ints("s", {row}), graph.ints("e", {end}), graph.ints("a", {2}), graph.ints("t", {2})},
                                 {1, 3, 8, 12});
    parts.push_back(graph.node("Slice", {rows, graph.ints("s", {column}), graph.ints("e", {end}), graph.ints("a", {3}), graph.ints("t", {2})},
                               {1, 3, 8, 6}));
  }
  ir::Value* joined = graph.node("Concat", parts, {1, 12, 8, 6}, {{"axis", int_attr(1)}});
  graph.output(graph.node("Conv", {joined, graph.weights("w", {16, 12, 3, 3})}, {1, 16, 8, 6},
                          {{"kernel_shape", ints_attr({3, 3})}, {"pads", ints_attr({1, 1, 1, 1})}}));
  return std::move(graph.model);
}

TEST(TargetPasses, FocusBecomesOneExactConv) {
  ir::Model before = focus_model();
  auto after = copy_model(before);
  PassResult result = focus_to_conv(*after);
  EXPECT_EQ(result.rewrites, 1);
  EXPECT_FALSE(result.changes_meaning);
  EXPECT_EQ(count_ops(*after, "Slice"), 0u);
  EXPECT_EQ(count_ops(*after, "Concat"), 0u);
  EXPECT_EQ(count_ops(*after, "Conv"), 2u);
  EXPECT_LT(compare_models(before, *after).max_relative_difference, 1e-6);
}

ir::Model resize_model(const std::string& coordinate_mode, const std::string& nearest_mode, float scale) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 3, 5, 7});
  ir::Value* scales = add_float_constant(*graph.model.graph, "scales", {4}, {1, 1, scale, scale});
  const int64_t factor = static_cast<int64_t>(scale);
  graph.output(graph.node("Resize", {x, nullptr, scales}, {1, 3, 5 * factor, 7 * factor},
                          {{"mode", string_attr("nearest")}, {"coordinate_transformation_mode", string_attr(coordinate_mode)},
                           {"nearest_mode", string_attr(nearest_mode)}}));
  return std::move(graph.model);
}

TEST(TargetPasses, AsymmetricNearestResizeBecomesHalfPixelWithTheSamePixels) {
  for (float scale : {2.0f, 3.0f, 4.0f}) {
    ir::Model before = resize_model("asymmetric", "floor", scale);
    auto after = copy_model(before);
    EXPECT_EQ(resize_nearest_to_half_pixel(*after).rewrites, 1);
    EXPECT_EQ(after->graph->nodes().front()->get_string("coordinate_transformation_mode", ""), "half_pixel");
    EXPECT_EQ(compare_models(before, *after).max_relative_difference, 0.0) << "scale " << scale;
  }
  // round_prefer_floor under asymmetric is not the same mapping for scale 3: left alone.
  ir::Model other = resize_model("asymmetric", "round_prefer_floor", 3.0f);
  EXPECT_EQ(resize_nearest_to_half_pixel(other).rewrites, 0);
}

TEST(TargetPasses, LargeNearestResizeIsSplitIntoTwoExactSteps) {
  for (const char* coordinates : {"asymmetric", "half_pixel"}) {
    ir::Model before = resize_model(coordinates, coordinates == std::string("asymmetric") ? "floor" : "round_prefer_floor", 16.0f);
    const targets::TargetProfile& rk3588 = targets::find_builtin_target("rk3588");
    check::CheckResult refused = check::check_model(before, rk3588);
    EXPECT_EQ(refused.nodes.front().placement, check::Placement::fallback);
    auto after = copy_model(before);
    patch::patch_model(*after, rk3588, {});
    EXPECT_EQ(count_ops(*after, "Resize"), 2u) << coordinates;
    EXPECT_EQ(compare_models(before, *after).max_relative_difference, 0.0) << coordinates;
    check::CheckResult patched = check::check_model(*after, rk3588);
    for (const check::NodeVerdict& node : patched.nodes) {
      EXPECT_TRUE(check::on_accelerator(node.placement)) << coordinates << " " << node.reason;
    }
  }
  // ×9 = ×3 ×3 within 2–8; ×11 has no split: left for the CPU.
  auto nine = copy_model(resize_model("asymmetric", "floor", 9.0f));
  EXPECT_EQ(split_resize_scale(*nine, 2, 8).rewrites, 1);
  auto eleven = copy_model(resize_model("asymmetric", "floor", 11.0f));
  EXPECT_EQ(split_resize_scale(*eleven, 2, 8).rewrites, 0);
}

TEST(TargetPasses, HardSwishDecomposesExactly) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 8, 6, 6});
  graph.output(graph.node("HardSwish", {x}, {1, 8, 6, 6}));
  auto after = copy_model(graph.model);
  EXPECT_EQ(decompose_hardswish(*after).rewrites, 1);
  EXPECT_EQ(count_ops(*after, "HardSwish"), 0u);
  EXPECT_EQ(count_ops(*after, "HardSigmoid"), 1u);
  EXPECT_LT(compare_models(graph.model, *after).max_relative_difference, 1e-6);
}

TEST(TargetPasses, LayerNormDecomposesIntoReductionsAndElementwiseOps) {
  for (int64_t opset : {17}) {  // libonnx 1.12 stops at opset 17: the axes-as-input form (18+) cannot load here
    for (bool with_bias : {true, false}) {
      TestGraph graph;
      graph.model.opset_imports[""] = opset;
      ir::Value* x = graph.input("x", {1, 7, 3, 16});
      std::vector<ir::Value*> inputs = {x, graph.weights("gamma", {3, 16})};
      if (with_bias) inputs.push_back(graph.weights("beta", {3, 16}));
      graph.output(graph.node("LayerNormalization", inputs, {1, 7, 3, 16}, {{"axis", int_attr(-2)}, {"epsilon", float_attr(1e-3)}}));
      auto after = copy_model(graph.model);
      EXPECT_EQ(decompose_layernorm(*after).rewrites, 1);
      EXPECT_EQ(count_ops(*after, "LayerNormalization"), 0u);
      EXPECT_EQ(count_ops(*after, "ReduceMean"), 2u);
      EXPECT_LT(compare_models(graph.model, *after).max_relative_difference, 1e-5) << "opset " << opset;
    }
  }
}

TEST(TargetPasses, GemmBecomesAOneByOneConv) {
  for (bool trans_b : {false, true}) {
    TestGraph graph;
    ir::Value* x = graph.input("x", {2, 24});
    ir::Value* w = trans_b ? graph.weights("w", {10, 24}) : graph.weights("w", {24, 10});
    graph.output(graph.node("Gemm", {x, w, graph.weights("c", {10})}, {2, 10},
                            {{"transB", int_attr(trans_b)}, {"alpha", float_attr(0.5)}, {"beta", float_attr(2.0)}}));
    auto after = copy_model(graph.model);
    EXPECT_EQ(gemm_to_conv(*after).rewrites, 1);
    EXPECT_EQ(count_ops(*after, "Gemm"), 0u);
    EXPECT_LT(compare_models(graph.model, *after).max_relative_difference, 1e-5) << "transB " << trans_b;
  }
}

TEST(TargetPasses, MatMulWithTooLargeKIsSplitAndSummed) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 3, 9000});
  graph.output(graph.node("MatMul", {x, graph.weights("w", {9000, 5}, 0.02f)}, {1, 3, 5}));
  // RK3588 allows K up to 8192: check names the pass, patch applies it, check is then satisfied.
  const targets::TargetProfile& rk3588 = targets::find_builtin_target("rk3588");
  check::CheckResult before = check::check_model(graph.model, rk3588);
  EXPECT_EQ(before.nodes.front().placement, check::Placement::fallback);
  EXPECT_EQ(before.nodes.front().patch, "split-matmul-k");
  bool names_k = false;
  for (const check::RuleFinding& finding : before.nodes.front().findings) {
    names_k = names_k || finding.explanation.find("K = 9000: RK3588 allows at most 8192") != std::string::npos;
  }
  EXPECT_TRUE(names_k);
  auto after = copy_model(graph.model);
  patch::patch_model(*after, rk3588, {});
  EXPECT_EQ(count_ops(*after, "MatMul"), 2u);
  EXPECT_EQ(count_ops(*after, "Add"), 1u);
  EXPECT_LT(compare_models(graph.model, *after).max_relative_difference, 1e-5);
  // The MatMuls now fit; the Slices of the 9000-wide input still exceed the 8192 dim limit, and check says so.
  check::CheckResult patched = check::check_model(*after, rk3588);
  for (const check::NodeVerdict& node : patched.nodes) {
    if (node.op_type == "MatMul") EXPECT_TRUE(check::on_accelerator(node.placement)) << node.name << ": " << node.reason;
    if (node.op_type == "Slice") EXPECT_NE(node.reason.find("9000"), std::string::npos) << node.reason;
  }
  // Three chunks when the limit is smaller.
  auto three = copy_model(graph.model);
  EXPECT_EQ(split_matmul_k(*three, 4000).rewrites, 1);
  EXPECT_EQ(count_ops(*three, "MatMul"), 3u);
  EXPECT_LT(compare_models(graph.model, *three).max_relative_difference, 1e-5);
}

TEST(TargetPasses, SiluToReluIsOptInAndSaysItChangesTheModel) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4, 5, 5});
  ir::Value* gate = graph.node("Sigmoid", {x}, {1, 4, 5, 5});
  graph.output(graph.node("Mul", {x, gate}, {1, 4, 5, 5}));
  auto after = copy_model(graph.model);
  PassResult result = silu_to_relu(*after);
  EXPECT_EQ(result.rewrites, 1);
  EXPECT_TRUE(result.changes_meaning);
  EXPECT_EQ(count_ops(*after, "Relu"), 1u);
  EXPECT_EQ(count_ops(*after, "Sigmoid"), 0u);
  EXPECT_GT(compare_models(graph.model, *after).max_relative_difference, 1e-3);  // it does change the outputs
  // Not in the default patch list.
  patch::PatchOptions options;
  auto patched = copy_model(graph.model);
  patch::PatchReport report = patch::patch_model(*patched, targets::find_builtin_target("rk3588"), options);
  EXPECT_FALSE(report.needs_retraining);
  EXPECT_EQ(count_ops(*patched, "Sigmoid"), 1u);
  options.allow_retraining = true;
  report = patch::patch_model(*patched, targets::find_builtin_target("rk3588"), options);
  EXPECT_TRUE(report.needs_retraining);
  EXPECT_EQ(count_ops(*patched, "Relu"), 1u);
}

TEST(TargetPasses, DynamicBatchBecomesOne) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 3, 4, 4});
  x->type.shape->at(0) = ir::Dim::symbolic("batch");
  ir::Value* y = graph.node("Relu", {x}, {1, 3, 4, 4});
  y->type.shape->at(0) = ir::Dim::symbolic("batch");
  graph.output(y);
  auto model = copy_model(graph.model);
  PassResult result = make_shapes_static(*model, {});
  EXPECT_EQ(result.rewrites, 1);
  EXPECT_TRUE(model->graph->inputs.front()->type.has_static_shape());
  EXPECT_TRUE(model->graph->outputs.front()->type.has_static_shape());
}

// Builds a small YOLOv5n (64×64) and reads the raw head Conv outputs of the original with extra outputs.
TEST(TargetPasses, YoloV5CutKeepsTheHeadValuesSplitIntoBoxesAndScores) {
  zoo::Yolov5Config config = zoo::Yolov5Config::for_variant("n");
  config.image_height = config.image_width = 64;
  ir::Model original = zoo::build_yolov5(config);
  std::optional<YoloHead> head = find_yolo_head(*original.graph);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->family, YoloFamily::anchor_based);
  EXPECT_EQ(head->class_count, 80);
  ASSERT_EQ(head->levels.size(), 3u);
  EXPECT_EQ(head->levels[0].stride, 8);
  EXPECT_EQ(head->levels[2].stride, 32);
  EXPECT_EQ(head->levels[0].anchors, (std::vector<float>{10, 13, 16, 30, 33, 23}));

  // The reference: the original with the three head Conv outputs as extra graph outputs.
  auto reference = copy_model(original);
  std::optional<YoloHead> reference_head = find_yolo_head(*reference->graph);
  std::vector<std::string> head_names;
  for (const YoloLevel& level : reference_head->levels) {
    ir::Value* raw = level.box_conv->output(0);
    raw->is_graph_output = true;
    reference->graph->outputs.push_back(raw);
    head_names.push_back(raw->name);
  }
  auto patched = copy_model(original);
  YoloCutResult cut = cut_yolo_postprocess(*patched);
  EXPECT_EQ(cut.pass.rewrites, 3);
  ASSERT_EQ(patched->graph->outputs.size(), 6u);
  EXPECT_EQ(patched->graph->outputs[0]->name, "boxes_stride8");
  EXPECT_EQ(patched->graph->outputs[1]->name, "scores_stride8");
  for (const auto& node : patched->graph->nodes()) {
    EXPECT_NE(node->op_type, "Transpose");  // the decode is gone
    EXPECT_NE(node->op_type, "Pow");
  }

  auto feeds = testing::random_feeds(original, 3);
  auto expected = engine::Engine::from_model(reference, {.backend = "ref"})->run(feeds);
  auto actual = engine::Engine::from_model(patched, {.backend = "ref"})->run(feeds);
  const int64_t per_anchor = 85;
  for (size_t level = 0; level < 3; ++level) {
    const Tensor& raw = expected.at(head_names[level]);
    const Tensor& boxes = actual.at(patched->graph->outputs[level * 2]->name);
    const Tensor& scores = actual.at(patched->graph->outputs[level * 2 + 1]->name);
    const int64_t cells = raw.shape()[2] * raw.shape()[3];
    ASSERT_EQ(boxes.shape()[1], 12);
    ASSERT_EQ(scores.shape()[1], 3 * 81);
    double worst = 0;
    for (int64_t anchor = 0; anchor < 3; ++anchor) {
      for (int64_t channel = 0; channel < per_anchor; ++channel) {
        for (int64_t cell = 0; cell < cells; ++cell) {
          double want = raw.value_as_double((anchor * per_anchor + channel) * cells + cell);
          double got = channel < 4 ? boxes.value_as_double((anchor * 4 + channel) * cells + cell)
                                   : scores.value_as_double((anchor * 81 + channel - 4) * cells + cell);
          worst = std::max(worst, std::fabs(want - got));
        }
      }
    }
    EXPECT_EQ(worst, 0.0) << "level " << level;
  }
  nlohmann::json sidecar = nlohmann::json::parse(cut.sidecar_json);
  EXPECT_EQ(sidecar["strides"], nlohmann::json({8, 16, 32}));
  EXPECT_EQ(sidecar["classes"], 80);
  EXPECT_EQ(sidecar["anchors"][2], nlohmann::json({116, 90, 156, 198, 373, 326}));
  EXPECT_EQ(sidecar["outputs"].size(), 6u);

  // And after the cut every node is on the RK3588 NPU (the Resizes need the half-pixel rewrite too).
  auto full = copy_model(original);
  patch::patch_model(*full, targets::find_builtin_target("rk3588"), {});
  check::CheckResult result = check::check_model(*full, targets::find_builtin_target("rk3588"));
  EXPECT_DOUBLE_EQ(result.accelerator_mac_share(), 1.0);
  EXPECT_EQ(result.segments.size(), 1u);
}

// An anchor-free head as YOLOv8/YOLO11 export it, on two small levels: box Conv (4·16 channels) and class
// Conv per level, concat, flatten, split, DFL (reshape, transpose, softmax, arange Conv), sigmoid, concat.
TEST(TargetPasses, AnchorFreeHeadIsFoundByPatternAndCutToItsConvOutputs) {
  TestGraph graph;
  const int64_t classes = 3, bins = 16;
  ir::Value* image = graph.input("image", {1, 3, 32, 32});
  std::vector<ir::Value*> flattened;
  std::vector<std::pair<std::string, std::string>> heads;  // box, class conv outputs
  int64_t anchors = 0;
  for (int64_t stride : {8, 16}) {
    const int64_t side = 32 / stride;
    ir::Value* feature = graph.node("Conv", {image, graph.weights("stem", {8, 3, stride, stride})}, {1, 8, side, side},
                                    {{"kernel_shape", ints_attr({stride, stride})}, {"strides", ints_attr({stride, stride})}});
    ir::Value* box = graph.node("Conv", {feature, graph.weights("box", {4 * bins, 8, 1, 1})}, {1, 4 * bins, side, side},
                                {{"kernel_shape", ints_attr({1, 1})}});
    ir::Value* cls = graph.node("Conv", {feature, graph.weights("cls", {classes, 8, 1, 1})}, {1, classes, side, side},
                                {{"kernel_shape", ints_attr({1, 1})}});
    heads.push_back({box->name, cls->name});
    ir::Value* joined = graph.node("Concat", {box, cls}, {1, 4 * bins + classes, side, side}, {{"axis", int_attr(1)}});
    flattened.push_back(graph.node("Reshape", {joined, graph.ints("flat", {1, 4 * bins + classes, side * side})},
                                   {1, 4 * bins + classes, side * side}));
    anchors += side * side;
  }
  ir::Value* all = graph.node("Concat", flattened, {1, 4 * bins + classes, anchors}, {{"axis", int_attr(2)}});
  ir::Value* split_sizes = graph.ints("sizes", {4 * bins, classes});
  ir::Value* box_part = add_typed_value(*graph.model.graph, "box_part", DType::f32, {1, 4 * bins, anchors});
  ir::Value* cls_part = add_typed_value(*graph.model.graph, "cls_part", DType::f32, {1, classes, anchors});
  ir::Node* split = graph.model.graph->add_node("Split", {all, split_sizes}, {box_part, cls_part}, "split");
  split->attributes["axis"] = int_attr(1);
  ir::Value* sides = graph.node("Reshape", {box_part, graph.ints("dfl_shape", {1, 4, bins, anchors})}, {1, 4, bins, anchors});
  ir::Value* bins_first = graph.node("Transpose", {sides}, {1, bins, 4, anchors}, {{"perm", ints_attr({0, 2, 1, 3})}});
  ir::Value* soft = graph.node("Softmax", {bins_first}, {1, bins, 4, anchors}, {{"axis", int_attr(1)}});
  std::vector<float> arange;
  for (int64_t i = 0; i < bins; ++i) arange.push_back(static_cast<float>(i));
  ir::Value* expectation = graph.node("Conv", {soft, add_float_constant(*graph.model.graph, "dfl", {1, bins, 1, 1}, arange)},
                                      {1, 1, 4, anchors}, {{"kernel_shape", ints_attr({1, 1})}});
  ir::Value* distances = graph.node("Reshape", {expectation, graph.ints("d", {1, 4, anchors})}, {1, 4, anchors});
  ir::Value* scores = graph.node("Sigmoid", {cls_part}, {1, classes, anchors});
  graph.output(graph.node("Concat", {distances, scores}, {1, 4 + classes, anchors}, {{"axis", int_attr(1)}}));

  std::optional<YoloHead> head = find_yolo_head(*graph.model.graph);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->family, YoloFamily::anchor_free);
  EXPECT_EQ(head->reg_max, bins);
  EXPECT_EQ(head->class_count, classes);
  ASSERT_EQ(head->levels.size(), 2u);
  EXPECT_EQ(head->levels[0].stride, 8);
  EXPECT_EQ(head->levels[1].stride, 16);

  auto reference = copy_model(graph.model);
  for (const auto& [box, cls] : heads) {
    for (const std::string& name : {box, cls}) {
      ir::Value* value = reference->graph->find_value(name);
      value->is_graph_output = true;
      reference->graph->outputs.push_back(value);
    }
  }
  auto patched = copy_model(graph.model);
  YoloCutResult cut = cut_yolo_postprocess(*patched);
  ASSERT_EQ(patched->graph->outputs.size(), 4u);
  EXPECT_EQ(count_ops(*patched, "Softmax"), 0u);
  EXPECT_EQ(count_ops(*patched, "Sigmoid"), 0u);
  auto feeds = testing::random_feeds(graph.model, 5);
  auto expected = engine::Engine::from_model(reference, {.backend = "ref"})->run(feeds);
  auto actual = engine::Engine::from_model(patched, {.backend = "ref"})->run(feeds);
  const std::vector<std::string> names = {"boxes_stride8", "scores_stride8", "boxes_stride16", "scores_stride16"};
  for (size_t i = 0; i < names.size(); ++i) {
    const Tensor& want = expected.at(i % 2 == 0 ? heads[i / 2].first : heads[i / 2].second);
    const Tensor& got = actual.at(names[i]);
    ASSERT_EQ(want.shape(), got.shape()) << names[i];
    for (int64_t j = 0; j < want.element_count(); ++j) ASSERT_EQ(want.value_as_double(j), got.value_as_double(j)) << names[i];
  }
  nlohmann::json sidecar = nlohmann::json::parse(cut.sidecar_json);
  EXPECT_EQ(sidecar["reg_max"], bins);
  EXPECT_EQ(sidecar["classes"], classes);
  EXPECT_EQ(sidecar["strides"], nlohmann::json({8, 16}));
}

}  // namespace
}  // namespace npukit::passes
