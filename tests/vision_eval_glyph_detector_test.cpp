// A detector and data set npukit was not written around: tools/train_anchor_detector.py's YOLOv5-style anchor
// model (objectness, the v5 decode path, input 256 high × 320 wide) on tools/make_glyph_scenes.py's glyphs, in
// pictures of eight aspect ratios, none the input's, so every picture is letterboxed with padding.
//
// Two independent checks of `npukit eval`:
//   - its mAP arithmetic: tools/evaluate_detections.py (numpy) on the boxes `npukit detect --conf 0.001` wrote;
//   - the whole path: tools/evaluate_detections.py on the boxes of tools/reference_detections.py, which reads the
//     pictures with OpenCV, letterboxes them with cv2, runs the network in PyTorch and suppresses with
//     torchvision, using no npukit code. A letterbox off by a pixel or a box mapped back wrongly moves mAP50-95.
#include <gtest/gtest.h>

#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace npukit::testing {
namespace {

class VisionEvalGlyphDetectorWholeModelTest : public CliRunner {
 protected:
  const std::string root = std::string(NPUKIT_MODELS_DIR) + "/..";
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/detector/glyphs_yolov5.onnx";
  const std::string dataset = std::string(NPUKIT_MODELS_DIR) + "/detector/glyphs_validation";

  // tools/evaluate_detections.py's result on a COCO detections file.
  nlohmann::json numpy_map(const std::string& detections, const std::string& name) {
    const std::string command = "/usr/bin/python3 '" + root + "/tools/evaluate_detections.py' --dataset '" + dataset +
                                "' --detections '" + detections + "' --json > '" + path(name + ".json") + "' 2> '" +
                                path(name + ".err") + "'";
    EXPECT_EQ(std::system(command.c_str()), 0) << "tools/evaluate_detections.py failed: " << read_text(path(name + ".err"));
    return nlohmann::json::parse(read_text(path(name + ".json")));
  }
};

TEST_F(VisionEvalGlyphDetectorWholeModelTest, EvalAgreesWithNumpyOnItsBoxesAndWithAPipelineWithoutNpukit) {
  ASSERT_TRUE(std::filesystem::exists(model)) << model << " is committed; see tools/train_anchor_detector.py";
  const CommandResult evaluated = run("eval '" + model + "' --dataset '" + dataset + "' --json");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  const nlohmann::json ours = nlohmann::json::parse(evaluated.out);
  EXPECT_EQ(ours["images"], 48);
  EXPECT_EQ(ours["evaluated_classes"], 5);
  EXPECT_EQ(ours["input"], nlohmann::json({256, 320}));
  EXPECT_EQ(ours["head"], "YOLOv5 full export [1, N, 5 + classes]");

  // The same boxes through the numpy mAP.
  const CommandResult detected = run("detect '" + model + "' '" + dataset +
                                     "/images' --conf 0.001 --iou 0.7 --max-det 300 -o '" + path("boxes") + "'");
  ASSERT_EQ(detected.exit_code, 0) << detected.err;
  const nlohmann::json same_boxes = numpy_map(path("boxes") + "/detections.json", "same_boxes");
  EXPECT_NEAR(ours["map50_95"].get<double>(), same_boxes["map50_95"].get<double>(), 0.005);
  EXPECT_NEAR(ours["map50"].get<double>(), same_boxes["map50"].get<double>(), 0.005);
  for (size_t c = 0; c < 5; ++c) {
    EXPECT_EQ(ours["classes"][c]["instances"], same_boxes["classes"][c]["instances"]);
    EXPECT_NEAR(ours["classes"][c]["map50_95"].get<double>(), same_boxes["classes"][c]["map50_95"].get<double>(), 0.005);
  }

  // Boxes made without npukit (OpenCV, PyTorch, torchvision), through the numpy mAP.
  const std::string command = "/usr/bin/python3 '" + root + "/tools/reference_detections.py' --model '" + model +
                              "' --images '" + dataset + "/images' --output '" + path("reference.json") + "' 2> '" +
                              path("reference.err") + "'";
  ASSERT_EQ(std::system(command.c_str()), 0)
      << "tools/reference_detections.py failed (needs python3-torch, python3-torchvision, python3-opencv): "
      << read_text(path("reference.err"));
  const nlohmann::json independent = numpy_map(path("reference.json"), "independent");
  EXPECT_NEAR(ours["map50_95"].get<double>(), independent["map50_95"].get<double>(), 0.005);
  EXPECT_NEAR(ours["map50"].get<double>(), independent["map50"].get<double>(), 0.005);

  // Box by box: nearly every box the reference is fairly sure of (score >= 0.1) has a box of its class among
  // npukit's with IoU >= 0.95. (A letterbox with the picture at the top-left instead of centred keeps 86 of 779, and
  // its mAP50-95 happens to be the same: mAP alone does not show a wrong letterbox.)
  const nlohmann::json ours_boxes = nlohmann::json::parse(read_text(path("boxes") + "/detections.json"));
  const nlohmann::json reference_boxes = nlohmann::json::parse(read_text(path("reference.json")));
  std::map<std::string, std::vector<nlohmann::json>> ours_by_picture;
  std::map<int64_t, std::string> ours_names, reference_names;
  for (const nlohmann::json& image : ours_boxes["images"]) ours_names[image["id"]] = image["file_name"];
  for (const nlohmann::json& image : reference_boxes["images"]) reference_names[image["id"]] = image["file_name"];
  for (const nlohmann::json& box : ours_boxes["annotations"]) ours_by_picture[ours_names[box["image_id"]]].push_back(box);
  auto iou = [](const nlohmann::json& a, const nlohmann::json& b) {
    const double ax = a[0], ay = a[1], aw = a[2], ah = a[3], bx = b[0], by = b[1], bw = b[2], bh = b[3];
    const double w = std::max(0.0, std::min(ax + aw, bx + bw) - std::max(ax, bx));
    const double h = std::max(0.0, std::min(ay + ah, by + bh) - std::max(ay, by));
    return w * h > 0 ? w * h / (aw * ah + bw * bh - w * h) : 0.0;
  };
  size_t compared = 0, matched = 0;
  for (const nlohmann::json& box : reference_boxes["annotations"]) {
    if (box["score"].get<double>() < 0.1) continue;
    ++compared;
    for (const nlohmann::json& ours_box : ours_by_picture[reference_names[box["image_id"]]]) {
      if (ours_box["category_id"] == box["category_id"] && iou(ours_box["bbox"], box["bbox"]) >= 0.95) {
        ++matched;
        break;
      }
    }
  }
  EXPECT_GT(compared, 600u);
  EXPECT_GE(static_cast<double>(matched), 0.97 * static_cast<double>(compared)) << matched << " of " << compared;

  // The figure the README gives (measured, within the noise of another machine's float arithmetic).
  EXPECT_NEAR(ours["map50_95"].get<double>(), 0.102, 0.01);
}

}  // namespace
}  // namespace npukit::testing
