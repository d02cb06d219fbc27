// A real run: npukit's own detector (models/detector, tools/train_detector.py) on its bundled validation set
// (non-square pictures, so the letterbox matters). `npukit eval` must equal tools/evaluate_detections.py, the
// independent numpy mAP, run on the boxes `npukit detect --conf 0.001` wrote; and the model cut by `patch`
// (decode from the sidecar) must score what the full export scores.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace npukit::testing {
namespace {

class VisionEvalDetectorWholeModelTest : public CliRunner {
 protected:
  const std::string root = std::string(NPUKIT_MODELS_DIR) + "/..";
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/detector/shapes_yolov8.onnx";
  const std::string dataset = std::string(NPUKIT_MODELS_DIR) + "/detector/validation";

  nlohmann::json eval_json(const std::string& which) {
    const CommandResult result = run("eval '" + which + "' --dataset '" + dataset + "' --json");
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return nlohmann::json::parse(result.out);
  }
};

TEST_F(VisionEvalDetectorWholeModelTest, EvalEqualsTheIndependentImplementationOnARealRun) {
  ASSERT_TRUE(std::filesystem::exists(model)) << model << " is committed; see tools/train_detector.py";
  const nlohmann::json ours = eval_json(model);
  EXPECT_EQ(ours["images"], 48);
  EXPECT_EQ(ours["evaluated_classes"], 4);

  const CommandResult detected =
      run("detect '" + model + "' '" + dataset + "/images' --conf 0.001 --iou 0.7 --max-det 300 -o '" + path("boxes") + "'");
  ASSERT_EQ(detected.exit_code, 0) << detected.err;
  const std::string command = "/usr/bin/python3 '" + root + "/tools/evaluate_detections.py' --dataset '" + dataset +
                              "' --detections '" + path("boxes") + "/detections.json' --json > '" + path("numpy.json") +
                              "' 2> '" + path("numpy.err") + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << "tools/evaluate_detections.py failed (needs python3-numpy): "
                                              << read_text(path("numpy.err"));
  const nlohmann::json independent = nlohmann::json::parse(read_text(path("numpy.json")));
  EXPECT_NEAR(ours["map50_95"].get<double>(), independent["map50_95"].get<double>(), 0.005);
  EXPECT_NEAR(ours["map50"].get<double>(), independent["map50"].get<double>(), 0.005);
  for (size_t c = 0; c < 4; ++c) {
    EXPECT_NEAR(ours["classes"][c]["map50_95"].get<double>(), independent["classes"][c]["map50_95"].get<double>(), 0.005);
    EXPECT_EQ(ours["classes"][c]["instances"], independent["classes"][c]["instances"]);
  }
  // The detector is trained: far above chance, and what the README says (within noise of a rebuild).
  EXPECT_GT(ours["map50"].get<double>(), 0.3);
  EXPECT_GT(ours["map50_95"].get<double>(), 0.2);
}

TEST_F(VisionEvalDetectorWholeModelTest, ThePatchedModelWithItsSidecarScoresTheSame) {
  const CommandResult patched = run("patch '" + model + "' --target rk3588 -o '" + path("patched.onnx") + "'");
  ASSERT_EQ(patched.exit_code, 0) << patched.err;
  ASSERT_TRUE(std::filesystem::exists(path("patched.postprocess.json")));
  const nlohmann::json full = eval_json(model);
  const nlohmann::json cut = eval_json(path("patched.onnx"));
  EXPECT_NE(cut["sidecar"], nullptr);
  EXPECT_NEAR(cut["map50_95"].get<double>(), full["map50_95"].get<double>(), 0.005);
  EXPECT_NEAR(cut["map50"].get<double>(), full["map50"].get<double>(), 0.005);
}

}  // namespace
}  // namespace npukit::testing
