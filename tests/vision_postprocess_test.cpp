// YOLO decoding and NMS (src/vision/yolo_decoding.cpp, non_maximum_suppression.cpp, yolo_postprocessor.cpp) on
// tensors written by hand, with the boxes worked out on paper.
#include <gtest/gtest.h>

#include <cmath>

#include "npukit/error.h"
#include "vision/non_maximum_suppression.h"
#include "vision/yolo_decoding.h"
#include "vision/yolo_postprocessor.h"

namespace npukit::vision {
namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void expect_box(const Detection& d, float x1, float y1, float x2, float y2, float score, int class_id) {
  EXPECT_NEAR(d.x1, x1, 1e-4);
  EXPECT_NEAR(d.y1, y1, 1e-4);
  EXPECT_NEAR(d.x2, x2, 1e-4);
  EXPECT_NEAR(d.y2, y2, 1e-4);
  EXPECT_NEAR(d.score, score, 1e-6);
  EXPECT_EQ(d.class_id, class_id);
}

TEST(VisionDecode, DflLevelIsSoftmaxExpectationAroundTheCellCentreTimesTheStride) {
  // Stride 8, a 2×2 map, reg_max 4, 2 classes. Cell (x 1, y 0): one bin per side dominates (left 1, top 2,
  // right 3, bottom 0) → centre (1.5, 0.5) → (4, −12, 36, 4). Cell (x 0, y 1): all bins equal → every distance
  // is the mean bin 1.5 → centre (0.5, 1.5) ± 1.5 → (−8, 0, 16, 24).
  const int reg_max = 4, plane = 4;
  Tensor boxes(DType::f32, {1, 4 * reg_max, 2, 2});
  Tensor scores(DType::f32, {1, 2, 2, 2});
  for (float& v : scores.values<float>()) v = -10;
  const int cell = 1, flat_cell = 2;
  const int bins[4] = {1, 2, 3, 0};
  for (int side = 0; side < 4; ++side) boxes.data<float>()[(side * reg_max + bins[side]) * plane + cell] = 100;
  scores.data<float>()[1 * plane + cell] = 2.0f;       // class 1
  scores.data<float>()[0 * plane + flat_cell] = 0.5f;  // class 0
  std::vector<Detection> found;
  decode_dfl_level(boxes, scores, 8, reg_max, 0.25f, found);
  ASSERT_EQ(found.size(), 2u);
  expect_box(found[0], 4, -12, 36, 4, sigmoid(2.0f), 1);
  expect_box(found[1], -8, 0, 16, 24, sigmoid(0.5f), 0);
  // Above the threshold only: sigmoid(0.5) = 0.62.
  found.clear();
  decode_dfl_level(boxes, scores, 8, reg_max, 0.7f, found);
  EXPECT_EQ(found.size(), 1u);
}

TEST(VisionDecode, AnchorLevelIsYolov5Formula) {
  // Stride 16, a 1×2 map, anchors (10, 13) and (16, 30), one class. Anchor 1 at cell x 1 with all box logits 0:
  // xy = (0.5·2 − 0.5 + (1, 0))·16 = (24, 8), wh = (0.5·2)²·(16, 30) → (16, −7, 32, 23).
  Tensor boxes(DType::f32, {1, 8, 1, 2});
  Tensor scores(DType::f32, {1, 4, 1, 2});
  for (float& v : scores.values<float>()) v = -10;
  scores.data<float>()[2 * 2 + 1] = 3;  // anchor 1 objectness at x 1
  scores.data<float>()[3 * 2 + 1] = 3;  // anchor 1 class 0
  std::vector<Detection> found;
  decode_anchor_level(boxes, scores, 16, {10, 13, 16, 30}, 0.25f, found);
  ASSERT_EQ(found.size(), 1u);
  expect_box(found[0], 16, -7, 32, 23, sigmoid(3) * sigmoid(3), 0);
}

TEST(VisionDecode, FullExportsDecodeCentreSizeAndTheBestClass) {
  // YOLOv8 [1, 4 + 2, 3]: anchor 1 is (100, 50, 20, 10) with class scores 0.1, 0.9; the others score below 0.25.
  Tensor v8 = Tensor::from_vector<float>(DType::f32, {1, 6, 3},
                                         {0, 100, 0, /*cy*/ 0, 50, 0, /*w*/ 0, 20, 0, /*h*/ 0, 10, 0,
                                          /*class 0*/ 0.2f, 0.1f, 0.0f, /*class 1*/ 0.1f, 0.9f, 0.25f});
  std::vector<Detection> found;
  decode_yolov8_output(v8, 0.25f, found);
  ASSERT_EQ(found.size(), 1u);  // 0.25 is not above 0.25
  expect_box(found[0], 90, 45, 110, 55, 0.9f, 1);
  // YOLOv5 [1, 2, 5 + 2]: score = objectness · class probability.
  Tensor v5 = Tensor::from_vector<float>(DType::f32, {1, 2, 7},
                                         {10, 20, 4, 8, 0.8f, 0.5f, 0.75f, /*objectness below*/ 0, 0, 1, 1, 0.2f, 1, 1});
  found.clear();
  decode_yolov5_output(v5, 0.25f, found);
  ASSERT_EQ(found.size(), 1u);
  expect_box(found[0], 8, 16, 12, 24, 0.8f * 0.75f, 1);
  EXPECT_THROW(decode_yolov8_output(Tensor(DType::f32, {1, 3}), 0.25f, found), Error);
}

TEST(VisionNms, SuppressesAboveTheIouThresholdPerClassOrAgnostic) {
  const std::vector<Detection> boxes = {
      {0, 0, 10, 10, 0.9f, 0},
      {1, 1, 11, 11, 0.8f, 0},    // IoU with the first 81 / 119 = 0.68: kept at 0.7
      {0, 0, 10, 9.5f, 0.85f, 0}, // IoU 0.95: suppressed
      {0, 0, 10, 10, 0.7f, 1},    // same place, other class: kept unless agnostic
  };
  EXPECT_NEAR(intersection_over_union(boxes[0], boxes[1]), 81.0f / 119, 1e-6);
  std::vector<Detection> kept = non_maximum_suppression(boxes, {});
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_FLOAT_EQ(kept[1].score, 0.8f);
  EXPECT_FLOAT_EQ(kept[2].score, 0.7f);
  NmsOptions agnostic;
  agnostic.agnostic = true;
  EXPECT_EQ(non_maximum_suppression(boxes, agnostic).size(), 2u);
  NmsOptions strict;
  strict.iou_threshold = 0.5f;
  EXPECT_EQ(non_maximum_suppression(boxes, strict).size(), 2u);
  NmsOptions one;
  one.max_detections = 1;
  ASSERT_EQ(non_maximum_suppression(boxes, one).size(), 1u);
}

TEST(VisionDecode, BoxesMapBackThroughTheLetterboxAndAreClipped) {
  const LetterboxGeometry geometry = compute_letterbox(1920, 1080, {});  // r = 1/3, 140 rows on top
  std::vector<Detection> boxes = {{100, 170, 400, 470, 0.5f, 0}, {600, 130, 650, 600, 0.5f, 0}};
  map_boxes_to_original(boxes, geometry);
  expect_box(boxes[0], 300, 90, 1200, 990, 0.5f, 0);
  expect_box(boxes[1], 1800, 0, 1920, 1080, 0.5f, 0);
}

TEST(VisionDecode, ASidecarThatDoesNotMatchTheModelIsAnErrorNamingIt) {
  const std::vector<ValueInfo> outputs = {{"boxes_stride8", DType::f32, {1, 64, 80, 80}, {}, true},
                                          {"scores_stride8", DType::f32, {1, 80, 80, 80}, {}, true}};
  nlohmann::json sidecar = {{"format", "npukit-yolo-postprocess/2"}, {"family", "anchor-free (YOLOv8 / YOLO11, DFL)"},
                            {"classes", 80}, {"reg_max", 16}, {"class_names", nullptr},
                            {"outputs", {{{"name", "boxes_stride8"}, {"kind", "boxes"}, {"stride", 8}},
                                         {{"name", "scores_stride8"}, {"kind", "scores"}, {"stride", 8}}}}};
  EXPECT_NO_THROW(YoloPostprocessor::create(outputs, {}, &sidecar, "a.json", "m.onnx"));
  nlohmann::json other_classes = sidecar;
  other_classes["classes"] = 3;
  try {
    YoloPostprocessor::create(outputs, {}, &other_classes, "a.json", "m.onnx");
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("a.json"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("not the sidecar's 3 classes"), std::string::npos) << error.what();
  }
  nlohmann::json other_names = sidecar;
  other_names["outputs"][0]["name"] = "output0";
  EXPECT_THROW(YoloPostprocessor::create(outputs, {}, &other_names, "a.json", "m.onnx"), Error);
  // Without a sidecar, four outputs are no full export.
  EXPECT_THROW(YoloPostprocessor::create(outputs, {}, nullptr, "", "m.onnx"), Error);
}

}  // namespace
}  // namespace npukit::vision
