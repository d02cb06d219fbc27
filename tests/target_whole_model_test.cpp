// check and patch on the whole models of models/ (tools/make_models.sh): per target, the verdicts the shared
// reference predicts; after `patch --target rk3588`, YOLOv5s and YOLOv8n run entirely on the NPU and their
// outputs equal the raw head maps ONNX Runtime computes for the raw exports (same weights, same input).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "check/target_check.h"
#include "core/npy.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "onnx/onnx_import.h"
#include "patch/patch_pipeline.h"
#include "preparation/model_preparation.h"
#include "targets/profile_loader.h"

namespace npukit::check {
namespace {

const std::filesystem::path models_directory = NPUKIT_MODELS_DIR;

// Loads as `npukit check` does: the one preparation path of every command.
ir::Model load_for_check(const std::string& relative, std::map<std::string, std::vector<int64_t>> shapes = {}) {
  const std::filesystem::path path = models_directory / relative;
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(path.string() + " is missing: run tools/make_models.sh (make models)");
  }
  preparation::PreparationOptions options;
  options.input_shapes = std::move(shapes);
  return preparation::load_prepared_model(path.string(), options).model;
}

CheckResult check_on(const ir::Model& model, const std::string& target) {
  return check_model(model, targets::find_builtin_target(target));
}

size_t count(const CheckResult& result, const std::string& op, Placement placement) {
  return static_cast<size_t>(std::count_if(result.nodes.begin(), result.nodes.end(), [&](const NodeVerdict& node) {
    return node.op_type == op && node.placement == placement;
  }));
}

size_t count_op(const CheckResult& result, const std::string& op) {
  return static_cast<size_t>(std::count_if(result.nodes.begin(), result.nodes.end(),
                                           [&](const NodeVerdict& node) { return node.op_type == op; }));
}

// What holds for any model on any target.
void expect_consistent(const CheckResult& result, const std::string& model) {
  SCOPED_TRACE(model + " on " + result.target_id);
  EXPECT_TRUE(result.macs_known);
  EXPECT_GT(result.macs_total, 0);
  EXPECT_GE(result.accelerator_mac_share(), 0.0);
  EXPECT_LE(result.accelerator_mac_share(), 1.0);
  EXPECT_TRUE(result.transfer_bytes_known);
  size_t placed = 0;
  for (const Segment& segment : result.segments) placed += segment.node_count;
  EXPECT_EQ(placed, result.nodes.size() - result.count(Placement::folded));
  // No fallback device: an unsupported node makes the model fail to convert, never "runs on the CPU".
  if (result.fallback_policy == "none") {
    EXPECT_EQ(result.count(Placement::fallback), 0u);
  }
  // Only the all-after-first policy has nodes placed by that policy, and then every node after the first
  // refusal is off the accelerator.
  if (result.fallback_policy != "after_first_unsupported") {
    EXPECT_EQ(result.count(Placement::fallback_after_first), 0u);
  } else {
    bool refused = false;
    for (const NodeVerdict& node : result.nodes) {
      if (node.placement == Placement::folded) continue;
      if (refused) EXPECT_FALSE(on_accelerator(node.placement)) << node.name;
      refused = refused || !on_accelerator(node.placement);
    }
    EXPECT_LE(result.segments.size(), 2u);
  }
  // Every refusal says why.
  for (const NodeVerdict& node : result.nodes) {
    if (!on_accelerator(node.placement)) EXPECT_FALSE(node.reason.empty()) << node.name;
  }
}

struct WholeModel {
  const char* name;
  const char* file;
  std::map<std::string, std::vector<int64_t>> shapes;
};

const std::vector<WholeModel> whole_models = {
    {"mobilenetv2", "generated/mobilenetv2.onnx", {}},
    {"resnet50", "generated/resnet50.onnx", {}},
    {"vit", "generated/vit.onnx", {}},
    {"yolov5s", "generated/yolov5s.onnx", {}},
    {"yolov8n", "generated/yolov8n.onnx", {}},
    {"ocr_det", "ocr/ch_PP-OCRv4_det_infer.onnx", {{"x", {1, 3, 640, 640}}}},
    {"ocr_rec", "ocr/ch_PP-OCRv4_rec_infer.onnx", {{"x", {1, 3, 48, 320}}}},
    {"ocr_cls", "ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", {{"x", {1, 3, 48, 192}}}},
};

TEST(CheckWholeModel, EveryModelOnEveryTargetIsPlacedConsistently) {
  for (const WholeModel& entry : whole_models) {
    ir::Model model = load_for_check(entry.file, entry.shapes);
    for (const targets::TargetProfile& profile : targets::builtin_target_profiles()) {
      expect_consistent(check_model(model, profile), entry.name);
    }
  }
}

TEST(CheckWholeModel, ClassifiersOnRockchipNeedOnlyTheGemmRewrite) {
  for (const char* file : {"generated/mobilenetv2.onnx", "generated/resnet50.onnx"}) {
    ir::Model model = load_for_check(file);
    for (const char* target : {"rk3588", "rk3566"}) {
      CheckResult result = check_on(model, target);
      // Gemm is not in the RKNN NPU list; GlobalAveragePool at 7×7 is within its 1–7 limit.
      EXPECT_EQ(count(result, "Gemm", Placement::fallback), 1u) << file << " " << target;
      EXPECT_EQ(count(result, "GlobalAveragePool", Placement::accelerator), 1u) << file;
      EXPECT_EQ(result.count(Placement::fallback), 1u) << file;
      EXPECT_LT(result.accelerator_mac_share(), 1.0);
      EXPECT_GT(result.accelerator_mac_share(), 0.99);
      patch::patch_model(model, targets::find_builtin_target(target), {});
      CheckResult patched = check_on(model, target);
      EXPECT_DOUBLE_EQ(patched.accelerator_mac_share(), 1.0) << file;
      EXPECT_EQ(patched.segments.size(), 1u) << file;
      model = load_for_check(file);
    }
    // The Edge TPU runs all of it (FullyConnected, Mean, ReLU6 as Clip): one subgraph.
    CheckResult tpu = check_on(model, "edgetpu");
    EXPECT_EQ(tpu.segments.size(), 1u) << file;
    EXPECT_DOUBLE_EQ(tpu.accelerator_mac_share(), 1.0);
  }
}

TEST(CheckWholeModel, VitSoftmaxAndLayerNormFollowTheReference) {
  ir::Model model = load_for_check("generated/vit.onnx");
  const size_t softmax = count_op(check_on(model, "rk3588"), "Softmax");
  ASSERT_GT(softmax, 0u);
  // RK3566: Softmax is not an NPU op. RK3588: it is, along axis 3 of the 4-D attention scores.
  EXPECT_EQ(count(check_on(model, "rk3566"), "Softmax", Placement::fallback), softmax);
  EXPECT_EQ(count(check_on(model, "rk3588"), "Softmax", Placement::fallback), 0u);
  // LayerNorm runs on the RK NPU in float16 only: a condition, not a refusal.
  CheckResult rk3588 = check_on(model, "rk3588");
  EXPECT_EQ(count(rk3588, "LayerNormalization", Placement::accelerator_with_condition), count_op(rk3588, "LayerNormalization"));
  // The 16×16 stride-16 patch embedding exceeds the RKNN stride limit of 7.
  EXPECT_EQ(count(rk3588, "Conv", Placement::fallback), 1u);
  // Edge TPU: no LayerNorm; everything after the first one runs on the CPU.
  CheckResult tpu = check_on(model, "edgetpu");
  EXPECT_GT(tpu.count(Placement::fallback_after_first), 50u);
  EXPECT_LT(tpu.accelerator_mac_share(), 0.1);
  // Hailo compiles LayerNorm (third-party test): not a refusal there.
  EXPECT_EQ(count(check_on(model, "hailo8"), "LayerNormalization", Placement::fallback), 0u);
}

TEST(CheckWholeModel, YoloPostProcessingIsFoundAndLeavesRockchipNpus) {
  for (const char* file : {"generated/yolov5s.onnx", "generated/yolov8n.onnx"}) {
    ir::Model model = load_for_check(file);
    for (const char* target : {"rk3588", "rk3566"}) {
      CheckResult result = check_on(model, target);
      EXPECT_TRUE(result.has_yolo_postprocess) << file;
      EXPECT_TRUE(result.compiles);
      size_t postprocess_off_npu = 0;
      for (const NodeVerdict& node : result.nodes) {
        if (node.in_yolo_postprocess && !on_accelerator(node.placement) && node.placement != Placement::folded) {
          ++postprocess_off_npu;
          EXPECT_EQ(node.patch, "cut-yolo-postprocess") << node.name;
        }
      }
      EXPECT_GT(postprocess_off_npu, 0u) << file << " " << target;
      EXPECT_NE(result.nms.find("CPU"), std::string::npos);
    }
  }
  // YOLOv8's DFL softmax over 8400 anchors: not an NPU op on the RK3566; on the RK3588 the op is, along
  // axis 1, but its 8400-wide tensor is beyond the 8192 limit. Both go to the CPU, for different reasons.
  ir::Model yolov8 = load_for_check("generated/yolov8n.onnx");
  for (const NodeVerdict& node : check_on(yolov8, "rk3566").nodes) {
    if (node.op_type != "Softmax") continue;
    EXPECT_EQ(node.placement, Placement::fallback);
    EXPECT_NE(node.reason.find("not in the NPU op list"), std::string::npos) << node.reason;
  }
  for (const NodeVerdict& node : check_on(yolov8, "rk3588").nodes) {
    if (node.op_type != "Softmax") continue;
    EXPECT_EQ(node.placement, Placement::fallback);
    EXPECT_NE(node.reason.find("8400: RK3588 allows at most 8192"), std::string::npos) << node.reason;
  }
  // Jetson DLA sends what it cannot run to the GPU, not the CPU.
  CheckResult dla = check_on(yolov8, "jetson-orin-dla");
  for (const Segment& segment : dla.segments) {
    EXPECT_EQ(segment.device, segment.on_accelerator ? "DLA" : "GPU");
  }
}

TEST(CheckWholeModel, OcrModelsFollowTheReference) {
  // PP-OCRv4 det's squeeze-excitation pools whole 160×160 maps: beyond RKNN's 7×7 global-pool limit.
  ir::Model det = load_for_check("ocr/ch_PP-OCRv4_det_infer.onnx", {{"x", {1, 3, 640, 640}}});
  CheckResult rk = check_on(det, "rk3588");
  EXPECT_GT(count(rk, "GlobalAveragePool", Placement::fallback), 0u);
  for (const NodeVerdict& node : rk.nodes) {
    if (node.op_type == "GlobalAveragePool" && node.placement == Placement::fallback) {
      EXPECT_NE(node.reason.find("RK3588 allows 1–7"), std::string::npos) << node.reason;
    }
  }
  // Edge TPU: BatchNormalization is not a TFLite op the compiler maps (fold it first): all after it on the CPU.
  CheckResult tpu = check_on(det, "edgetpu");
  EXPECT_EQ(tpu.nodes[0].op_type, "Conv");
  EXPECT_GT(tpu.count(Placement::fallback_after_first), 250u);
  // Recognition: Softmax on the CPU on the RK3566.
  ir::Model rec = load_for_check("ocr/ch_PP-OCRv4_rec_infer.onnx", {{"x", {1, 3, 48, 320}}});
  CheckResult rk3566 = check_on(rec, "rk3566");
  EXPECT_EQ(count(rk3566, "Softmax", Placement::fallback), count_op(rk3566, "Softmax"));
  EXPECT_GT(count_op(rk3566, "Softmax"), 0u);
  // Direction classifier: HardSigmoid is on the Qualcomm HTP; everything is.
  ir::Model cls = load_for_check("ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", {{"x", {1, 3, 48, 192}}});
  CheckResult htp = check_on(cls, "qualcomm-htp");
  EXPECT_EQ(htp.segments.size(), 1u);
}

// The patched model's outputs against ONNX Runtime's outputs of the raw export (shared weights).
void expect_patched_outputs_equal_raw(const std::string& model_name, const std::map<std::string, std::string>& patched_to_raw) {
  ir::Model model = load_for_check("generated/" + model_name + ".onnx");
  const targets::TargetProfile& rk3588 = targets::find_builtin_target("rk3588");
  patch::PatchReport report = patch::patch_model(model, rk3588, {});
  EXPECT_FALSE(report.needs_retraining);
  ASSERT_FALSE(report.yolo_sidecar_json.empty());
  nlohmann::json sidecar = nlohmann::json::parse(report.yolo_sidecar_json);
  EXPECT_EQ(sidecar["reg_max"], 16);
  EXPECT_EQ(sidecar["classes"], 80);
  EXPECT_EQ(sidecar["strides"], nlohmann::json({8, 16, 32}));
  CheckResult result = check_model(model, rk3588);
  EXPECT_DOUBLE_EQ(result.accelerator_mac_share(), 1.0) << model_name;
  EXPECT_EQ(result.segments.size(), 1u) << model_name;
  EXPECT_EQ(result.count(Placement::fallback) + result.count(Placement::rejected), 0u) << model_name;

  const std::filesystem::path reference = models_directory / "reference" / (model_name + "_raw");
  std::map<std::string, Tensor> feeds{{"images", read_npy((reference / "input_images.npy").string())}};
  auto outputs = engine::Engine::from_model(std::make_shared<ir::Model>(std::move(model)), {.backend = "ref"})->run(feeds);
  ASSERT_EQ(outputs.size(), patched_to_raw.size());
  for (const auto& [patched_name, raw_name] : patched_to_raw) {
    Tensor expected = read_npy((reference / ("output_" + raw_name + ".npy")).string());
    const Tensor& actual = outputs.at(patched_name);
    ASSERT_EQ(actual.shape(), expected.shape()) << patched_name;
    double magnitude = 0, difference = 0;
    for (int64_t i = 0; i < expected.element_count(); ++i) {
      magnitude = std::max(magnitude, std::fabs(expected.value_as_double(i)));
      difference = std::max(difference, std::fabs(expected.value_as_double(i) - actual.value_as_double(i)));
    }
    EXPECT_LT(difference / magnitude, 1e-4) << patched_name << " vs " << raw_name;
  }
}

TEST(PatchWholeModel, Yolov8nOnRk3588IsAllNpuAndEqualsTheRawHeads) {
  expect_patched_outputs_equal_raw("yolov8n", {{"boxes_stride8", "box_stride8"}, {"scores_stride8", "class_stride8"},
                                               {"boxes_stride16", "box_stride16"}, {"scores_stride16", "class_stride16"},
                                               {"boxes_stride32", "box_stride32"}, {"scores_stride32", "class_stride32"}});
}

TEST(PatchWholeModel, Yolov5sOnRk3588IsAllNpuAndEqualsTheRawHeads) {
  // YOLOv5's one head map per level is split into boxes and scores: compare channel by channel.
  ir::Model model = load_for_check("generated/yolov5s.onnx");
  const targets::TargetProfile& rk3588 = targets::find_builtin_target("rk3588");
  patch::patch_model(model, rk3588, {});
  CheckResult result = check_model(model, rk3588);
  EXPECT_DOUBLE_EQ(result.accelerator_mac_share(), 1.0);
  EXPECT_EQ(result.segments.size(), 1u);
  EXPECT_EQ(result.count(Placement::fallback) + result.count(Placement::rejected), 0u);

  const std::filesystem::path reference = models_directory / "reference" / "yolov5s_raw";
  std::map<std::string, Tensor> feeds{{"images", read_npy((reference / "input_images.npy").string())}};
  auto outputs = engine::Engine::from_model(std::make_shared<ir::Model>(std::move(model)), {.backend = "ref"})->run(feeds);
  const std::vector<std::pair<int, std::string>> levels = {{8, "p3_stride8"}, {16, "p4_stride16"}, {32, "p5_stride32"}};
  for (const auto& [stride, raw_name] : levels) {
    Tensor raw = read_npy((reference / ("output_" + raw_name + ".npy")).string());
    const Tensor& boxes = outputs.at("boxes_stride" + std::to_string(stride));
    const Tensor& scores = outputs.at("scores_stride" + std::to_string(stride));
    const int64_t cells = raw.shape()[2] * raw.shape()[3];
    double magnitude = 0, difference = 0;
    for (int64_t anchor = 0; anchor < 3; ++anchor) {
      for (int64_t channel = 0; channel < 85; ++channel) {
        for (int64_t cell = 0; cell < cells; ++cell) {
          double want = raw.value_as_double((anchor * 85 + channel) * cells + cell);
          double got = channel < 4 ? boxes.value_as_double((anchor * 4 + channel) * cells + cell)
                                   : scores.value_as_double((anchor * 81 + channel - 4) * cells + cell);
          magnitude = std::max(magnitude, std::fabs(want));
          difference = std::max(difference, std::fabs(want - got));
        }
      }
    }
    EXPECT_LT(difference / magnitude, 1e-4) << raw_name;
  }
}

}  // namespace
}  // namespace npukit::check
