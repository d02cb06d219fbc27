// detect end to end (src/cli/detect_command.cpp over src/vision/): the project's YOLOv8n and YOLOv5s exports
// (decode in the graph) and their `npukit patch` cut forms (decode on the CPU from the sidecar) give the same
// boxes; the command writes annotated pictures and COCO JSON; bad input is an error naming the file, with
// nothing written half.
#include <gtest/gtest.h>

#include "cli_runner.h"

#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "npukit/session.h"
#include "vision/image_decoding.h"
#include "vision/letterbox.h"
#include "vision/non_maximum_suppression.h"
#include "vision/yolo_decoding.h"
#include "vision/yolo_postprocessor.h"
#include "vision_fixtures.h"

namespace npukit::vision {
namespace {

using npukit::testing::CommandResult;
using npukit::testing::read_text;

using testing::fixture;
using testing::vision_fixture_directory;

class VisionDetect : public npukit::testing::CliRunner {
 protected:
  // MODEL patched for rk3588 into the test folder: the cut model and its sidecar.
  std::string cut_model(const std::string& model) {
    const std::string output = path("cut.onnx");
    const CommandResult result = run("patch '" + model + "' --target rk3588 -o '" + output + "'");
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(std::filesystem::exists(path("cut.postprocess.json")));
    return output;
  }
};

const std::string models_directory = NPUKIT_MODELS_DIR;

// Candidates of the full export and of the cut head, on the same letterboxed picture, before NMS.
void expect_same_candidates(const std::string& full_path, const std::string& cut_path, const std::string& sidecar_path) {
  const Image image = read_image(fixture("rgb.jpg"));
  const Tensor input = letterbox_to_tensor(image, {}, {});
  auto full = Session::load(full_path, {"cpu", 1});
  auto cut = Session::load(cut_path, {"cpu", 1});
  full->set_input(full->inputs()[0].name, input);
  cut->set_input(cut->inputs()[0].name, input);
  full->run();
  cut->run();
  const nlohmann::json sidecar = read_sidecar(sidecar_path);
  const YoloPostprocessor full_post = YoloPostprocessor::create(full->outputs(), {}, nullptr, "", full_path);
  const YoloPostprocessor cut_post = YoloPostprocessor::create(cut->outputs(), {}, &sidecar, sidecar_path, cut_path);
  EXPECT_EQ(full_post.class_count(), cut_post.class_count());
  // Before NMS, with a low threshold: thousands of boxes compared one by one, in anchor order.
  const std::vector<Detection> a = full_post.candidates(*full, 0.05f), b = cut_post.candidates(*cut, 0.05f);
  ASSERT_GT(a.size(), 1000u);
  ASSERT_EQ(a.size(), b.size());
  // The random-weight exports saturate many class probabilities to exactly 1.0 in float: the graph's argmax
  // takes the first of the tied classes, the cut decoder compares logits, which still tell them apart. So the
  // class is checked in the full export's own output: the cut's class must score as high there as its choice.
  const Tensor& full_output = full->output(full->outputs()[0].name);
  const bool channels_first = full_output.dim(1) < full_output.dim(2);  // YOLOv8 [1, 4 + classes, N]
  auto full_probability = [&](int64_t anchor, int class_id) {
    return channels_first ? full_output.data<float>()[(4 + class_id) * full_output.dim(2) + anchor]
                          : full_output.data<float>()[anchor * full_output.dim(2) + 5 + class_id];
  };
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].anchor, b[i].anchor) << i;
    ASSERT_NEAR(a[i].x1, b[i].x1, 0.02) << i;
    ASSERT_NEAR(a[i].y1, b[i].y1, 0.02) << i;
    ASSERT_NEAR(a[i].x2, b[i].x2, 0.02) << i;
    ASSERT_NEAR(a[i].y2, b[i].y2, 0.02) << i;
    ASSERT_NEAR(a[i].score, b[i].score, 1e-4) << i;
    ASSERT_NEAR(full_probability(a[i].anchor, b[i].class_id), full_probability(a[i].anchor, a[i].class_id), 1e-5) << i;
  }
  // After NMS (Ultralytics' defaults) the same number of boxes.
  EXPECT_EQ(full_post.detect(*full, {}).size(), cut_post.detect(*cut, {}).size());
}

TEST_F(VisionDetect, Yolov8nFullExportAndCutHeadDecodeTheSameBoxes) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const std::string full = models_directory + "/generated/yolov8n.onnx";
  const std::string cut = cut_model(full);
  expect_same_candidates(full, cut, path("cut.postprocess.json"));
}

TEST_F(VisionDetect, Yolov5sFullExportAndCutHeadDecodeTheSameBoxes) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const std::string full = models_directory + "/generated/yolov5s.onnx";
  const std::string cut = cut_model(full);
  expect_same_candidates(full, cut, path("cut.postprocess.json"));
}

// The raw exports (no decode in the graph; same seed, so the same weights as the full ones): their cut heads,
// decoded from the sidecar (YOLOv5's default anchors for the raw v5, which the full export's grid holds too),
// give the full exports' boxes.
TEST_F(VisionDetect, RawExportsCutAndDecodedOnTheCpuGiveTheFullExportsBoxes) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  expect_same_candidates(models_directory + "/generated/yolov8n.onnx",
                         cut_model(models_directory + "/generated/yolov8n_raw.onnx"), path("cut.postprocess.json"));
  expect_same_candidates(models_directory + "/generated/yolov5s.onnx",
                         cut_model(models_directory + "/generated/yolov5s_raw.onnx"), path("cut.postprocess.json"));
}

TEST_F(VisionDetect, CommandWritesAnnotatedPicturesCocoJsonAndStageTimes) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const std::string full = models_directory + "/generated/yolov8n.onnx";
  const std::string cut = cut_model(full);
  CommandResult result = run("detect '" + cut + "' '" + fixture("rgb.jpg") + "' -o '" + path("out") + "' --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["sidecar"], path("cut.postprocess.json"));  // found beside the model
  const nlohmann::json& image = report["images"][0];
  EXPECT_EQ(image["width"], 64);
  EXPECT_EQ(image["height"], 48);
  EXPECT_LE(image["detections"].size(), 300u);
  for (const char* stage : {"decode", "pre", "infer", "post_nms"}) EXPECT_GT(image["seconds"][stage].get<double>(), 0) << stage;
  for (const nlohmann::json& d : image["detections"]) {
    const std::vector<float> box = d["box_xyxy"];
    EXPECT_GE(box[0], 0);
    EXPECT_LE(box[2], 64);
    EXPECT_LE(box[3], 48);
    EXPECT_GT(d["score"].get<float>(), 0.25f);
  }
  // The boxes are the library's, mapped back to the 64 × 48 picture.
  auto session = Session::load(cut, {"cpu", 1});
  LetterboxGeometry geometry;
  session->set_input(session->inputs()[0].name,
                     letterbox_to_tensor(read_image(fixture("rgb.jpg")), {}, {}, &geometry));
  session->run();
  const nlohmann::json sidecar = read_sidecar(path("cut.postprocess.json"));
  std::vector<Detection> expected = YoloPostprocessor::create(session->outputs(), {}, &sidecar, "", cut).detect(*session, {});
  map_boxes_to_original(expected, geometry);
  ASSERT_EQ(image["detections"].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::vector<float> box = image["detections"][i]["box_xyxy"];
    EXPECT_NEAR(box[0], expected[i].x1, 1e-3);
    EXPECT_NEAR(box[1], expected[i].y1, 1e-3);
    EXPECT_NEAR(box[2], expected[i].x2, 1e-3);
    EXPECT_NEAR(box[3], expected[i].y2, 1e-3);
    EXPECT_EQ(image["detections"][i]["class_id"], expected[i].class_id);
  }
  const Image annotated = read_image(path("out/rgb.jpg"));
  EXPECT_EQ(annotated.width, 64);
  const nlohmann::json coco = nlohmann::json::parse(read_text(path("out/detections.json")));
  EXPECT_EQ(coco["annotations"].size(), image["detections"].size());
  EXPECT_EQ(coco["categories"].size(), 80u);
  EXPECT_EQ(coco["images"][0]["file_name"], "rgb.jpg");
  // --max-det and the table.
  result = run("detect '" + cut + "' '" + fixture("rgb.jpg") + "' -o '" + path("out") + "' --max-det 2 --conf 0.01");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("post+NMS"), std::string::npos) << result.out;
  EXPECT_EQ(nlohmann::json::parse(read_text(path("out/detections.json")))["annotations"].size(), 2u);
}

TEST_F(VisionDetect, BadInputIsAnErrorNamingTheFileWithNothingWrittenHalf) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const std::string full = models_directory + "/generated/yolov8n.onnx";
  const std::string out = path("out");
  auto expect_error = [&](const std::string& arguments, const std::string& named) {
    const CommandResult result = run(arguments);
    EXPECT_EQ(result.exit_code, 1) << arguments << "\n" << result.err;
    EXPECT_NE(result.err.find(named), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(out + "/detections.json")) << arguments;
  };
  expect_error("detect '" + full + "' '" + fixture("rgb_truncated.jpg") + "' -o '" + out + "'", "rgb_truncated.jpg: corrupt or truncated JPEG");
  expect_error("detect '" + full + "' '" + path("missing.jpg") + "' -o '" + out + "'", "missing.jpg: no such picture");
  std::filesystem::create_directories(path("empty"));
  expect_error("detect '" + full + "' '" + path("empty") + "' -o '" + out + "'", "no .jpg, .jpeg, .png or .bmp picture");
  // An enormous picture (100000 × 100000 declared): its header alone is refused.
  expect_error("detect '" + full + "' '" + fixture("bomb.png") + "' -o '" + out + "'", "bomb.png: the picture declares 100000x100000 pixels, beyond the memory limit");
  // A sidecar of another model: the YOLOv5s cut's sidecar given to the YOLOv8n cut.
  const std::string v8_cut = cut_model(full);
  std::filesystem::rename(path("cut.postprocess.json"), path("v8.postprocess.json"));
  std::filesystem::rename(v8_cut, path("v8.onnx"));
  cut_model(models_directory + "/generated/yolov5s.onnx");
  expect_error("detect '" + path("v8.onnx") + "' '" + fixture("rgb.jpg") + "' -o '" + out + "' --sidecar '" +
                   path("cut.postprocess.json") + "'",
               "cut.postprocess.json: the sidecar does not match the model");
  // A folder with a good picture and a truncated one after it: the run stops at the bad one, naming it. What it
  // wrote is whole: at most the good picture's annotated copy (a JPEG that decodes), no temporary file and no
  // detections.json.
  std::filesystem::create_directories(path("mixed"));
  std::filesystem::copy_file(fixture("rgb.jpg"), path("mixed/a_good.jpg"));
  std::filesystem::copy_file(fixture("rgb_truncated.jpg"), path("mixed/b_truncated.jpg"));
  expect_error("detect '" + full + "' '" + path("mixed") + "' -o '" + out + "'", "b_truncated.jpg: corrupt or truncated JPEG");
  size_t written = 0;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(out, ignored)) {
    ++written;
    EXPECT_EQ(entry.path().filename(), "a_good.jpg") << entry.path();
    EXPECT_NO_THROW(read_image(entry.path().string())) << entry.path();
  }
  EXPECT_LE(written, 1u);
}

}  // namespace
}  // namespace npukit::vision
