// `npukit eval --detections FILE`: a COCO-style detections file (vision/detection_results_file.h) read, its
// mistakes refused with the entry named, and scored by the same evaluator as a model's boxes (the round trip
// detect -o → eval --detections gives eval MODEL's numbers).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "npukit/error.h"
#include "vision/detection_results_file.h"
#include "vision/image_encoding.h"

namespace npukit::vision {
namespace {

std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(VisionDetectionResultsFile, ReadsImagesBoxesAndCategories) {
  const DetectionResults results = parse_detection_results(R"({
    "images": [{"id": 3, "file_name": "dir/a.png", "width": 640, "height": 480},
               {"id": 5, "file_name": "b.jpg", "width": 10, "height": 20}],
    "annotations": [{"image_id": 3, "category_id": 1, "bbox": [10, 20, 30, 40], "score": 0.75},
                    {"image_id": 3, "category_id": 0, "bbox": [0.5, 1.5, 2, 0], "score": 0.25}],
    "categories": [{"id": 0, "name": "text"}, {"id": 2, "name": "other"}]})", "d.json");
  ASSERT_EQ(results.pictures.size(), 2u);
  const PictureDetections& a = results.pictures.at("a.png");  // the directory is dropped: matched by file name
  EXPECT_EQ(a.width, 640);
  EXPECT_EQ(a.height, 480);
  ASSERT_EQ(a.detections.size(), 2u);
  EXPECT_FLOAT_EQ(a.detections[0].x1, 10);
  EXPECT_FLOAT_EQ(a.detections[0].y1, 20);
  EXPECT_FLOAT_EQ(a.detections[0].x2, 40);
  EXPECT_FLOAT_EQ(a.detections[0].y2, 60);
  EXPECT_FLOAT_EQ(a.detections[0].score, 0.75f);
  EXPECT_EQ(a.detections[0].class_id, 1);
  EXPECT_TRUE(results.pictures.at("b.jpg").detections.empty());
  EXPECT_EQ(results.category_names.at(2), "other");
  EXPECT_EQ(results.max_category_id, 2);
  EXPECT_EQ(results.detection_count, 2u);
}

TEST(VisionDetectionResultsFile, MistakesNameTheEntryAndTheFile) {
  auto error = [](const std::string& text) { return error_message([&] { parse_detection_results(text, "d.json"); }); };
  const std::string image = R"({"id": 1, "file_name": "a.png", "width": 4, "height": 4})";
  auto with = [&](const std::string& annotation) {
    return R"({"images": [)" + image + R"(], "annotations": [)" + annotation + "]}";
  };
  EXPECT_NE(error("{").find("d.json: not JSON"), std::string::npos) << error("{");
  EXPECT_NE(error("[]").find("the top level must be an object"), std::string::npos);
  EXPECT_NE(error(R"({"annotations": []})").find("the file has no \"images\""), std::string::npos);
  EXPECT_NE(error(R"({"images": {}, "annotations": []})").find("\"images\" must be an array"), std::string::npos);
  EXPECT_NE(error(with(R"({"image_id": 2, "category_id": 0, "bbox": [0, 0, 1, 1], "score": 1})"))
                .find("annotations[0]: image_id 2 is not in \"images\""), std::string::npos);
  EXPECT_NE(error(with(R"({"image_id": 1, "category_id": 0, "bbox": [0, 0, -1, 1], "score": 1})"))
                .find("annotations[0]: \"bbox\" has a negative width or height"), std::string::npos);
  EXPECT_NE(error(with(R"({"image_id": 1, "category_id": 0, "bbox": [0, 0, 1], "score": 1})"))
                .find("\"bbox\" must be [x, y, width, height]"), std::string::npos);
  EXPECT_NE(error(with(R"({"image_id": 1, "category_id": 0, "bbox": [0, 0, 1, 1]})"))
                .find("annotations[0] has no \"score\""), std::string::npos);
  EXPECT_NE(error(with(R"({"image_id": 1, "category_id": -1, "bbox": [0, 0, 1, 1], "score": 1})"))
                .find("category_id -1 out of range"), std::string::npos);
  EXPECT_NE(error(with(R"({"image_id": "1", "category_id": 0, "bbox": [0, 0, 1, 1], "score": 1})"))
                .find("\"image_id\" must be an integer"), std::string::npos);
  EXPECT_NE(error(R"({"images": [)" + image + "," + image + R"(], "annotations": []})").find("image id 1 again"),
            std::string::npos);
  EXPECT_NE(error(R"({"images": [{"id": 1, "file_name": "a.png", "width": 0, "height": 4}], "annotations": []})")
                .find("images[0]: a picture of 0 x 4 pixels"), std::string::npos);
  EXPECT_NE(error_message([] { read_detection_results("/nonexistent/d.json"); }).find("cannot read"), std::string::npos);
}

class VisionEvalDetectionsCli : public npukit::testing::CliRunner {
 protected:
  // Two 40 x 20 grey pictures; p0 holds one object of class 0 (corners 10,5 - 30,15), p1 none.
  std::filesystem::path make_dataset() {
    const std::filesystem::path root = directory_ / "data";
    std::filesystem::create_directories(root / "images");
    std::filesystem::create_directories(root / "labels");
    for (int i = 0; i < 2; ++i) {
      Image image;
      image.width = 40, image.height = 20;
      image.pixels.assign(40 * 20 * 3, 100);
      write_jpeg(image, (root / "images" / ("p" + std::to_string(i) + ".jpg")).string());
    }
    std::ofstream(root / "labels" / "p0.txt") << "0 0.5 0.5 0.5 0.5\n";
    return root;
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path(name)) << text;
    return path(name);
  }
};

TEST_F(VisionEvalDetectionsCli, ScoresTheBoxesAsGivenAndRefusesAnotherSet) {
  const std::filesystem::path root = make_dataset();
  const std::string images = R"([{"id": 0, "file_name": "p0.jpg", "width": 40, "height": 20},
                                  {"id": 1, "file_name": "p1.jpg", "width": 40, "height": 20}])";
  // One exact box (a true positive at every IoU) above a false positive on the background picture.
  const std::string good = write("good.json", R"({"images": )" + images + R"(, "annotations": [
      {"image_id": 0, "category_id": 0, "bbox": [10, 5, 20, 10], "score": 0.9},
      {"image_id": 1, "category_id": 0, "bbox": [0, 0, 5, 5], "score": 0.5}]})");
  npukit::testing::CommandResult result = run("eval --detections '" + good + "' --dataset '" + root.string() + "' --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json report = nlohmann::json::parse(result.out);
  EXPECT_DOUBLE_EQ(report["map50_95"].get<double>(), 1.0);
  EXPECT_EQ(report["detections"], 2);
  EXPECT_EQ(report["instances"], 1);
  EXPECT_DOUBLE_EQ(report["precision"].get<double>(), 0.5);
  result = run("eval --detections '" + good + "' --dataset '" + root.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("as given: no threshold or NMS applied"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("mAP50-95 1.0000"), std::string::npos) << result.out;

  const std::string missing = write("missing.json", R"({"images": [{"id": 0, "file_name": "p0.jpg", "width": 40,
      "height": 20}], "annotations": []})");
  result = run("eval --detections '" + missing + "' --dataset '" + root.string() + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("picture 'p1.jpg' of the data set has no entry"), std::string::npos) << result.err;
  EXPECT_TRUE(result.out.empty());
  const std::string other = write("other.json", R"({"images": [{"id": 0, "file_name": "q.jpg", "width": 40,
      "height": 20}], "annotations": []})");
  result = run("eval --detections '" + other + "' --dataset '" + root.string() + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("picture 'q.jpg' is not in the data set"), std::string::npos) << result.err;
  result = run("eval --dataset '" + root.string() + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("give a model to evaluate, or --detections"), std::string::npos) << result.err;
  result = run("eval model.onnx --detections '" + good + "' --dataset '" + root.string() + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("not both"), std::string::npos) << result.err;
  result = run("eval --detections '" + good + "' --dataset '" + root.string() + "' --target rk3588");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--target is for a model"), std::string::npos) << result.err;
}

TEST_F(VisionEvalDetectionsCli, DetectThenEvalDetectionsGivesEvalOfTheModel) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v8_concat_stride_after.onnx";
  ASSERT_TRUE(std::filesystem::exists(model)) << "run tools/make_models.sh";
  const std::filesystem::path root = make_dataset();
  npukit::testing::CommandResult result =
      run("detect '" + model + "' '" + (root / "images").string() + "' --conf 0.001 -o '" + path("out") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  result = run("eval --detections '" + path("out") + "/detections.json' --dataset '" + root.string() + "' --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json from_file = nlohmann::json::parse(result.out);
  result = run("eval '" + model + "' --dataset '" + root.string() + "' --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json from_model = nlohmann::json::parse(result.out);
  int detections = 0;
  for (const nlohmann::json& c : from_model["classes"]) detections += c["detections"].get<int>();
  EXPECT_GT(detections, 0);  // the random-weight model finds something, so the comparison means something
  EXPECT_EQ(from_file["detections"], detections);
  EXPECT_NEAR(from_file["map50"].get<double>(), from_model["map50"].get<double>(), 1e-9);
  EXPECT_NEAR(from_file["map50_95"].get<double>(), from_model["map50_95"].get<double>(), 1e-9);
  EXPECT_NEAR(from_file["precision"].get<double>(), from_model["precision"].get<double>(), 1e-9);
}

}  // namespace
}  // namespace npukit::vision
