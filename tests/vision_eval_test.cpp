// mAP as COCO defines it (vision/mean_average_precision.h), the YOLO data set reader (vision/dataset.h) and
// `npukit eval`: hand-computed cases, cases whose expected values tools/evaluate_detections.py (an independent
// numpy implementation of the definition) computed, and malformed data sets.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "npukit/error.h"
#include "vision/dataset.h"
#include "vision/evaluation.h"
#include "vision/image_encoding.h"
#include "vision/mean_average_precision.h"

namespace npukit::vision {
namespace {

EvaluationBox box(int class_id, double x1, double y1, double x2, double y2, double score = 1) {
  return {x1, y1, x2, y2, class_id, score};
}

std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(VisionEvalTest, TwoObjectsOneFalsePositiveGivesTheInterpolatedArea) {
  // Ranked: TP (0.9), FP (0.8), TP (0.7) of 2 objects: recall 0.5, 0.5, 1; precision 1, 0.5, 2/3, made monotone
  // 1, 2/3, 2/3. Recall points 0..0.5 (51 of them) read 1, the 50 above read 2/3.
  EvaluatedImage image;
  image.ground_truth = {box(0, 0, 0, 10, 10), box(0, 50, 50, 60, 60)};
  image.detections = {box(0, 0, 0, 10, 10, 0.9), box(0, 100, 100, 110, 110, 0.8), box(0, 50, 50, 60, 60, 0.7)};
  const MeanAveragePrecision result = mean_average_precision({image}, 1);
  const double expected = (51 + 50 * 2.0 / 3.0) / 101;
  EXPECT_NEAR(result.map50, expected, 1e-12);
  EXPECT_NEAR(result.map50_95, expected, 1e-12);  // exact boxes: every threshold alike
  ASSERT_EQ(result.classes.size(), 1u);
  EXPECT_EQ(result.classes[0].ground_truth_count, 2);
  EXPECT_EQ(result.classes[0].detection_count, 3);
  EXPECT_EQ(result.classes[0].true_positives, 2);
  EXPECT_EQ(result.classes[0].false_positives, 1);
  EXPECT_NEAR(result.classes[0].precision, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(result.classes[0].recall, 1.0, 1e-12);
}

TEST(VisionEvalTest, ABoxCountsOnlyAtTheThresholdsItsIouReaches) {
  // IoU 0.62: a true positive at 0.50, 0.55 and 0.60, a false positive at the seven thresholds above.
  EvaluatedImage image;
  image.ground_truth = {box(0, 0, 0, 10, 10)};
  image.detections = {box(0, 0, 0, 10, 6.2, 0.8)};
  const MeanAveragePrecision result = mean_average_precision({image}, 1);
  EXPECT_NEAR(result.map50, 1.0, 1e-12);
  EXPECT_NEAR(result.map50_95, 0.3, 1e-12);
  EXPECT_NEAR(box_iou(image.ground_truth[0], image.detections[0]), 0.62, 1e-12);
}

TEST(VisionEvalTest, GreedyMatchingTakesTheBestUnmatchedObjectInScoreOrder) {
  // Objects A (x 0..10) and B (x 4..14). The best detection sits on A. The second (x 1..11) overlaps A most
  // (IoU 9/11) but A is taken, so it takes B (IoU 7/13 = 0.54): a true positive at 0.50 only. Matching it to
  // A again would make it a duplicate, a false positive at 0.50 too.
  EvaluatedImage image;
  image.ground_truth = {box(0, 0, 0, 10, 10), box(0, 4, 0, 14, 10)};
  image.detections = {box(0, 0, 0, 10, 10, 0.9), box(0, 1, 0, 11, 10, 0.8)};
  const MeanAveragePrecision result = mean_average_precision({image}, 1);
  EXPECT_NEAR(result.map50, 1.0, 1e-12);
  // Above 0.50: TP then FP of two objects, recall 0.5 reached at precision 1: 51 of the 101 points.
  EXPECT_NEAR(result.map50_95, (1.0 + 9 * 51.0 / 101.0) / 10, 1e-12);
}

TEST(VisionEvalTest, ClassesWithoutObjectsAreLeftOutOfTheMeanAndMissedClassesCountZero) {
  EvaluatedImage image;
  image.ground_truth = {box(0, 0, 0, 10, 10), box(2, 20, 20, 30, 30)};
  image.detections = {box(0, 0, 0, 10, 10, 0.9), box(1, 40, 40, 50, 50, 0.9)};
  const MeanAveragePrecision result = mean_average_precision({image}, 3);
  EXPECT_EQ(result.evaluated_class_count, 2);  // classes 0 and 2; class 1 has detections only
  EXPECT_NEAR(result.map50, 0.5, 1e-12);       // class 0: 1, class 2 (no detection): 0
  ASSERT_EQ(result.classes.size(), 3u);
  EXPECT_EQ(result.classes[1].ground_truth_count, 0);
  EXPECT_EQ(result.classes[1].detection_count, 1);
}

TEST(VisionEvalTest, EqualsTheIndependentNumpyImplementationOnRandomCases) {
  std::ifstream file(std::string(NPUKIT_MODELS_DIR) + "/../tests/data/map_reference_cases.json");
  ASSERT_TRUE(file) << "tests/data/map_reference_cases.json is missing (tools/evaluate_detections.py --write-cases)";
  const nlohmann::json reference = nlohmann::json::parse(file);
  ASSERT_GE(reference["cases"].size(), 5u);
  for (const nlohmann::json& test_case : reference["cases"]) {
    std::vector<EvaluatedImage> images;
    for (const nlohmann::json& picture : test_case["pictures"]) {
      EvaluatedImage image;
      for (const nlohmann::json& t : picture["truth"]) image.ground_truth.push_back(box(t[0], t[1], t[2], t[3], t[4]));
      for (const nlohmann::json& d : picture["detections"]) image.detections.push_back(box(d[0], d[1], d[2], d[3], d[4], d[5]));
      images.push_back(std::move(image));
    }
    const MeanAveragePrecision result = mean_average_precision(images, test_case["class_count"]);
    const nlohmann::json& expected = test_case["expected"];
    EXPECT_NEAR(result.map50, expected["map50"].get<double>(), 1e-9);
    EXPECT_NEAR(result.map50_95, expected["map50_95"].get<double>(), 1e-9);
    EXPECT_NEAR(result.precision, expected["precision"].get<double>(), 1e-9);
    EXPECT_NEAR(result.recall, expected["recall"].get<double>(), 1e-9);
    ASSERT_EQ(result.classes.size(), expected["classes"].size());
    for (size_t c = 0; c < result.classes.size(); ++c) {
      EXPECT_EQ(result.classes[c].class_id, expected["classes"][c]["class_id"].get<int>());
      EXPECT_EQ(result.classes[c].detection_count, expected["classes"][c]["detections"].get<int>());
      if (result.classes[c].ground_truth_count == 0) continue;
      for (int t = 0; t < kIouThresholdCount; ++t) {
        EXPECT_NEAR(result.classes[c].average_precision[t], expected["classes"][c]["ap"][t].get<double>(), 1e-9);
      }
    }
  }
}

TEST(VisionEvalTest, LabelLinesAreBoxesOrPolygonsAndAnythingElseNamesTheLine) {
  const std::vector<LabelBox> boxes = parse_label_text("0 0.5 0.5 0.2 0.4\n\n  3 0.1 0.2 0.3 0.2 0.2 0.6\n", "a.txt");
  ASSERT_EQ(boxes.size(), 2u);
  EXPECT_EQ(boxes[0].class_id, 0);
  EXPECT_DOUBLE_EQ(boxes[0].height, 0.4);
  EXPECT_EQ(boxes[1].class_id, 3);  // polygon (0.1,0.2) (0.3,0.2) (0.2,0.6): its bounding box
  EXPECT_NEAR(boxes[1].center_x, 0.2, 1e-12);
  EXPECT_NEAR(boxes[1].center_y, 0.4, 1e-12);
  EXPECT_NEAR(boxes[1].width, 0.2, 1e-12);
  EXPECT_EQ(boxes[1].line, 3);

  EXPECT_NE(error_message([] { parse_label_text("0 0.5 0.5 0.2 0.4\n1 0.5 0.5 0.2\n", "b.txt"); })
                .find("b.txt:2: expected 'class cx cy w h'"), std::string::npos);
  EXPECT_NE(error_message([] { parse_label_text("x 0.5 0.5 0.2 0.4\n", "c.txt"); }).find("c.txt:1: the class 'x'"),
            std::string::npos);
  EXPECT_NE(error_message([] { parse_label_text("-1 0.5 0.5 0.2 0.4\n", "c.txt"); }).find("c.txt:1"), std::string::npos);
  EXPECT_NE(error_message([] { parse_label_text("1.5 0.5 0.5 0.2 0.4\n", "c.txt"); }).find("not a non-negative integer"),
            std::string::npos);
  EXPECT_NE(error_message([] { parse_label_text("0 0.5 nan 0.2 0.4\n", "d.txt"); }).find("d.txt:1: field 3 'nan'"),
            std::string::npos);
  EXPECT_NE(error_message([] { parse_label_text("0 320 240 50 60\n", "e.txt"); }).find("not in pixels"),
            std::string::npos);
  EXPECT_NE(error_message([] { parse_label_text("0 0.5 0.5 0 0.4\n", "f.txt"); }).find("f.txt:1: the box has no area"),
            std::string::npos);
}

TEST(VisionEvalTest, DataYamlNamesInTheirCommonForms) {
  using Names = std::vector<std::string>;
  EXPECT_EQ(parse_data_yaml_names("path: .\nnames: [cat, 'dog', \"big bird\"]  # three\n", "y"),
            (Names{"cat", "dog", "big bird"}));
  EXPECT_EQ(parse_data_yaml_names("names:\n  0: person\n  1: 'traffic light'  # comment\n\nnc: 2\n", "y"),
            (Names{"person", "traffic light"}));
  EXPECT_EQ(parse_data_yaml_names("names:\n  1: b\n  0: a\n", "y"), (Names{"a", "b"}));
  EXPECT_EQ(parse_data_yaml_names("names:\n- a\n- b\ntrain: x\n", "y"), (Names{"a", "b"}));
  EXPECT_EQ(parse_data_yaml_names("names: {0: a, 1: b}\n", "y"), (Names{"a", "b"}));
  EXPECT_EQ(parse_data_yaml_names("names: [a,\n  b]\n", "y"), (Names{"a", "b"}));
  EXPECT_TRUE(parse_data_yaml_names("train: images\n", "y").empty());
  EXPECT_NE(error_message([] { parse_data_yaml_names("names:\n  0: a\n  2: c\n", "data.yaml"); })
                .find("data.yaml:1: data.yaml names: class ids must be 0, 1, 2"), std::string::npos);
  EXPECT_NE(error_message([] { parse_data_yaml_names("names:\n  zero: a\n", "data.yaml"); }).find("data.yaml:2"),
            std::string::npos);
  EXPECT_NE(error_message([] { parse_data_yaml_names("names: [a, b\n", "data.yaml"); }).find("not closed"),
            std::string::npos);
  EXPECT_NE(error_message([] { parse_data_yaml_names("names:\nnc: 3\n", "data.yaml"); }).find("no class names"),
            std::string::npos);
}

class VisionEvalDatasetTest : public npukit::testing::CliRunner {
 protected:
  // A data set of `count` small grey pictures, their label files given as text (empty optional: none).
  std::filesystem::path make_dataset(const std::vector<std::optional<std::string>>& labels, const std::string& yaml = "") {
    const std::filesystem::path root = directory_ / "data";
    std::filesystem::create_directories(root / "images");
    std::filesystem::create_directories(root / "labels");
    for (size_t i = 0; i < labels.size(); ++i) {
      Image image;
      image.width = 48, image.height = 32;
      image.pixels.assign(48 * 32 * 3, 100);
      write_jpeg(image, (root / "images" / ("p" + std::to_string(i) + ".jpg")).string());
      if (labels[i]) std::ofstream(root / "labels" / ("p" + std::to_string(i) + ".txt")) << *labels[i];
    }
    if (!yaml.empty()) std::ofstream(root / "data.yaml") << yaml;
    return root;
  }
};

TEST_F(VisionEvalDatasetTest, PicturesWithoutLabelsAreBackgroundAndBoxesAreInPixels) {
  const std::filesystem::path root = make_dataset({"1 0.5 0.5 0.5 0.25\n", std::nullopt, ""}, "names: [a, b]\n");
  const DetectionDataset dataset = read_detection_dataset(root.string());
  ASSERT_EQ(dataset.images.size(), 3u);
  EXPECT_EQ(dataset.label_file_count, 2);
  EXPECT_EQ(dataset.class_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(dataset.max_class_id, 1);
  EXPECT_TRUE(dataset.images[1].label_path.empty());
  EXPECT_TRUE(dataset.images[1].boxes.empty());
  EXPECT_TRUE(dataset.images[2].boxes.empty());
  const EvaluationBox pixels = label_box_in_pixels(dataset.images[0].boxes[0], 48, 32);
  EXPECT_DOUBLE_EQ(pixels.x1, 12);
  EXPECT_DOUBLE_EQ(pixels.y1, 12);
  EXPECT_DOUBLE_EQ(pixels.x2, 36);
  EXPECT_DOUBLE_EQ(pixels.y2, 20);
}

TEST_F(VisionEvalDatasetTest, MalformedDataSetsAreErrorsNamingFileAndLine) {
  const std::filesystem::path root = make_dataset({"0 0.5 0.5 0.5 0.25\n", "0 0.5 0.5 0.5 0.25\n2 0.5 0.5 0.1 0.1\n"},
                                                  "names: [a, b]\n");
  EXPECT_NE(error_message([&] { read_detection_dataset(root.string()); })
                .find((root / "labels" / "p1.txt").string() + ":2: class 2 is beyond the 2 names of"),
            std::string::npos);
  std::filesystem::create_directories(directory_ / "empty" / "images");
  EXPECT_NE(error_message([&] { read_detection_dataset((directory_ / "empty").string()); }).find("has no pictures"),
            std::string::npos);
  EXPECT_NE(error_message([&] { read_detection_dataset((directory_ / "nowhere").string()); })
                .find("no such data set directory"), std::string::npos);
  std::filesystem::create_directories(directory_ / "flat");
  EXPECT_NE(error_message([&] { read_detection_dataset((directory_ / "flat").string()); }).find("images/ directory"),
            std::string::npos);
}

TEST_F(VisionEvalDatasetTest, EvalCommandRefusesBadDataSetsWithTheFileAndLine) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v8_concat_stride_after.onnx";
  ASSERT_TRUE(std::filesystem::exists(model)) << "run tools/make_models.sh";
  const std::filesystem::path root = make_dataset({"0 0.5 0.5 0.5 0.25\n", "1 0.5 0.5 0.5\n"});
  npukit::testing::CommandResult result = run("eval '" + model + "' --dataset '" + root.string() + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find((root / "labels" / "p1.txt").string() + ":1: expected 'class cx cy w h'"), std::string::npos)
      << result.err;
  EXPECT_TRUE(result.out.empty());

  std::ofstream(root / "labels" / "p1.txt") << "5 0.5 0.5 0.5 0.5\n";  // the model has 2 classes
  result = run("eval '" + model + "' --dataset '" + root.string() + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("p1.txt:1: class 5 is beyond the model's 2 classes"), std::string::npos) << result.err;

  std::filesystem::create_directories(directory_ / "empty" / "images");
  result = run("eval '" + model + "' --dataset '" + (directory_ / "empty").string() + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("has no pictures"), std::string::npos) << result.err;

  result = run("eval '" + model + "' --dataset '" + root.string() + "' --conf 1.5");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--conf must be in [0, 1)"), std::string::npos) << result.err;
}

TEST_F(VisionEvalDatasetTest, EvalCommandPrintsATableAndJson) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v8_concat_stride_after.onnx";
  const std::filesystem::path root = make_dataset({"0 0.5 0.5 0.5 0.25\n", std::nullopt}, "names: [person, car]\n");
  npukit::testing::CommandResult result = run("eval '" + model + "' --dataset '" + root.string() + "' --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["images"], 2);
  EXPECT_EQ(report["background_images"], 1);
  EXPECT_EQ(report["instances"], 1);
  EXPECT_EQ(report["evaluated_classes"], 1);
  EXPECT_DOUBLE_EQ(report["confidence"].get<double>(), 0.001f);
  EXPECT_GE(report["map50_95"].get<double>(), 0.0);
  EXPECT_LE(report["map50_95"].get<double>(), report["map50"].get<double>());
  result = run("eval '" + model + "' --dataset '" + root.string() + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("mAP50-95"), std::string::npos);
  EXPECT_NE(result.out.find("person"), std::string::npos);
  EXPECT_NE(result.out.find("no objects"), std::string::npos);  // car: detections, but nothing to find
}

}  // namespace
}  // namespace npukit::vision
