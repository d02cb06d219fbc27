// npukit check on hand-built graphs: one rule at a time, placements, explanations, the partition, transfers
// and the MAC share, against the facts of the shared reference.
#include <gtest/gtest.h>

#include "check/target_check.h"
#include "targets/profile_loader.h"
#include "target_test_graphs.h"

namespace npukit::check {
namespace {

using testing::TestGraph;
using testing::int_attr;
using testing::ints_attr;
using testing::string_attr;

NodeVerdict verdict_of(const CheckResult& result, const std::string& op) {
  for (const NodeVerdict& node : result.nodes) {
    if (node.op_type == op) return node;
  }
  throw std::runtime_error("no " + op + " node");
}

CheckResult check_on(const ir::Model& model, const std::string& target) {
  return check_model(model, targets::find_builtin_target(target));
}

// x[1,C,H,W] → depthwise Conv k×k → output.
ir::Model depthwise_model(int64_t kernel) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 8, 32, 32});
  ir::Value* w = graph.weights("w", {8, 1, kernel, kernel});
  ir::Value* y = graph.node("Conv", {x, w}, {1, 8, 32, 32},
                            {{"group", int_attr(8)}, {"kernel_shape", ints_attr({kernel, kernel})},
                             {"pads", ints_attr({kernel / 2, kernel / 2, (kernel - 1) / 2, (kernel - 1) / 2})}});
  graph.output(y);
  return std::move(graph.model);
}

TEST(TargetCheck, DepthwiseKernelLimitIsExplainedInWords) {
  ir::Model model = depthwise_model(9);
  CheckResult rk3566 = check_on(model, "rk3566");
  const NodeVerdict conv = verdict_of(rk3566, "Conv");
  EXPECT_EQ(conv.placement, Placement::fallback);
  EXPECT_NE(conv.reason.find("depthwise Conv kernel 9×9: RK3566 allows 1–8"), std::string::npos) << conv.reason;
  EXPECT_FALSE(conv.findings.front().source.empty());
  // The MACs of that Conv are all off the NPU.
  EXPECT_EQ(rk3566.macs_total, 8 * 32 * 32 * 81);
  EXPECT_EQ(rk3566.macs_accelerator, 0);
  // A regular Conv may have a 9×9 kernel (1–31), and a depthwise 7×7 is fine.
  EXPECT_EQ(verdict_of(check_on(depthwise_model(7), "rk3566"), "Conv").placement, Placement::accelerator);
}

ir::Model softmax_model(int64_t axis) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4, 16, 16});
  graph.output(graph.node("Softmax", {x}, {1, 4, 16, 16}, {{"axis", int_attr(axis)}}));
  return std::move(graph.model);
}

TEST(TargetCheck, SoftmaxOnRk3566CpuButOnRk3588Npu) {
  ir::Model model = softmax_model(-1);
  EXPECT_EQ(verdict_of(check_on(model, "rk3588"), "Softmax").placement, Placement::accelerator_with_condition);
  const NodeVerdict rk3566 = verdict_of(check_on(model, "rk3566"), "Softmax");
  EXPECT_EQ(rk3566.placement, Placement::fallback);
  EXPECT_NE(rk3566.reason.find("not in the NPU op list"), std::string::npos);
  // On the RK3588 only along axis 1 or 3.
  const NodeVerdict axis2 = verdict_of(check_on(softmax_model(2), "rk3588"), "Softmax");
  EXPECT_EQ(axis2.placement, Placement::fallback);
  EXPECT_NE(axis2.reason.find("axis 2"), std::string::npos) << axis2.reason;
}

TEST(TargetCheck, NonMaxSuppressionIsNeverOnAnRknnNpu) {
  TestGraph graph;
  ir::Value* boxes = graph.input("boxes", {1, 100, 4});
  ir::Value* scores = graph.input("scores", {1, 80, 100});
  graph.output(graph.node("NonMaxSuppression", {boxes, scores}, {10, 3}, {}, DType::i64));
  for (const char* target : {"rk3588", "rk3566"}) {
    CheckResult result = check_on(graph.model, target);
    EXPECT_EQ(verdict_of(result, "NonMaxSuppression").placement, Placement::rejected) << target;
    EXPECT_FALSE(result.compiles);
    EXPECT_NE(result.nms.find("CPU"), std::string::npos);
  }
  // TensorRT's GPU has NMS, the DLA does not: it goes to the GPU.
  EXPECT_EQ(verdict_of(check_on(graph.model, "jetson-orin-dla"), "NonMaxSuppression").placement, Placement::fallback);
}

// Conv → Erf (not on the Edge TPU) → Conv → Relu: everything after the Erf leaves the Edge TPU.
ir::Model erf_in_the_middle() {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4, 8, 8});
  ir::Value* a = graph.node("Conv", {x, graph.weights("w1", {4, 4, 1, 1})}, {1, 4, 8, 8}, {{"kernel_shape", ints_attr({1, 1})}});
  ir::Value* b = graph.node("Erf", {a}, {1, 4, 8, 8});
  ir::Value* c = graph.node("Conv", {b, graph.weights("w2", {4, 4, 1, 1})}, {1, 4, 8, 8}, {{"kernel_shape", ints_attr({1, 1})}});
  graph.output(graph.node("Relu", {c}, {1, 4, 8, 8}));
  return std::move(graph.model);
}

TEST(TargetCheck, EdgeTpuSendsEverythingAfterTheFirstUnsupportedOpToTheCpu) {
  ir::Model model = erf_in_the_middle();
  CheckResult tpu = check_on(model, "edgetpu");
  ASSERT_EQ(tpu.nodes.size(), 4u);
  EXPECT_EQ(tpu.nodes[0].placement, Placement::accelerator);
  EXPECT_EQ(tpu.nodes[1].placement, Placement::fallback);
  EXPECT_EQ(tpu.nodes[2].placement, Placement::fallback_after_first);
  EXPECT_EQ(tpu.nodes[3].placement, Placement::fallback_after_first);
  EXPECT_EQ(tpu.segments.size(), 2u);
  EXPECT_DOUBLE_EQ(tpu.accelerator_mac_share(), 0.5);
  // A per-segment target brings the second Conv back: NPU, CPU, NPU.
  CheckResult rk = check_on(model, "rk3588");
  EXPECT_EQ(rk.nodes[1].placement, Placement::fallback);
  EXPECT_EQ(rk.nodes[2].placement, Placement::accelerator);
  ASSERT_EQ(rk.segments.size(), 3u);
  EXPECT_DOUBLE_EQ(rk.accelerator_mac_share(), 1.0);
  // Transfers: x in (host → NPU), a out, b back in, the Relu's output out: 4 tensors of 1×4×8×8 floats.
  EXPECT_EQ(rk.transfers.size(), 4u);
  EXPECT_EQ(rk.transfer_bytes, 4 * 4 * 8 * 8 * 4);
}

TEST(TargetCheck, NoFallbackMeansTheToolkitRefusesTheModel) {
  CheckResult esp = check_on(erf_in_the_middle(), "esp32s3");
  EXPECT_EQ(esp.nodes[1].placement, Placement::rejected);
  EXPECT_FALSE(esp.compiles);
}

TEST(TargetCheck, ResizeModesAndScalesAndThePatchThatFixesThem) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4, 8, 8});
  ir::Value* scales = passes::add_float_constant(*graph.model.graph, "scales", {4}, {1, 1, 2, 2});
  ir::Value* up = graph.node("Resize", {x, nullptr, scales}, {1, 4, 16, 16},
                             {{"mode", string_attr("nearest")},
                              {"coordinate_transformation_mode", string_attr("asymmetric")},
                              {"nearest_mode", string_attr("floor")}});
  ir::Value* scales16 = passes::add_float_constant(*graph.model.graph, "scales16", {4}, {1, 1, 16, 16});
  graph.output(graph.node("Resize", {up, nullptr, scales16}, {1, 4, 256, 256}, {{"mode", string_attr("nearest")}}));
  CheckResult rk = check_on(graph.model, "rk3588");
  EXPECT_EQ(rk.nodes[0].placement, Placement::fallback);
  EXPECT_EQ(rk.nodes[0].patch, "resize-half-pixel");
  EXPECT_NE(rk.nodes[0].reason.find("asymmetric"), std::string::npos);
  EXPECT_EQ(rk.nodes[1].placement, Placement::fallback);
  EXPECT_NE(rk.nodes[1].reason.find("scale 16"), std::string::npos) << rk.nodes[1].reason;
}

TEST(TargetCheck, ConditionsKeepTheNodeOnTheNpuAndSaySo) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 197, 64});
  ir::Value* y = graph.node("LayerNormalization", {x, graph.weights("g", {64}), graph.weights("b", {64})}, {1, 197, 64},
                            {{"axis", int_attr(-1)}});
  graph.output(y);
  const NodeVerdict rk = verdict_of(check_on(graph.model, "rk3588"), "LayerNormalization");
  EXPECT_EQ(rk.placement, Placement::accelerator_with_condition);
  EXPECT_NE(rk.reason.find("float16"), std::string::npos);
  // The Edge TPU has no LayerNorm.
  EXPECT_EQ(verdict_of(check_on(graph.model, "edgetpu"), "LayerNormalization").placement, Placement::fallback);
  // Hailo's public list is a third-party sample: unlisted ops are unverified, not refused.
  TestGraph other;
  ir::Value* input = other.input("x", {1, 4, 8, 8});
  other.output(other.node("Split", {input, other.ints("split", {2, 2})}, {1, 2, 8, 8}, {{"axis", int_attr(1)}}));
  EXPECT_EQ(verdict_of(check_on(other.model, "hailo8"), "Split").placement, Placement::unverified);
}

TEST(TargetCheck, ConstantSubgraphsAreFoldedNotPlaced) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 4, 8, 8});
  ir::Value* shape = graph.node("Shape", {x}, {4}, {}, DType::i64);
  ir::Value* flat = graph.node("Reshape", {x, graph.ints("target", {1, 256})}, {1, 256});
  graph.output(flat);
  graph.output(shape);
  CheckResult rk = check_on(graph.model, "rk3566");
  EXPECT_EQ(verdict_of(rk, "Shape").placement, Placement::folded);
  EXPECT_EQ(verdict_of(rk, "Reshape").placement, Placement::accelerator);
}

}  // namespace
}  // namespace npukit::check
