// `npukit ocr` end to end with the PP-OCRv4 models (models/ocr, tools/make_models.sh) on pages rendered by
// tools/render_text_pages.py: character accuracy at least 0.97 and the lines top to bottom; the detector's real
// probability map through our DB post-processing and PaddleOCR's (tools/ppocr_reference.py) gives the same
// boxes; the command's table, JSON, annotated picture and its errors.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/npy.h"
#include "npukit/error.h"
#include "vision/image_decoding.h"
#include "vision/ocr_pipeline.h"
#include "vision/text_line_crop.h"
#include "vision/text_detection_postprocessing.h"
#include "vision/text_detection_preprocessing.h"

namespace npukit::vision {
namespace {

const std::string models = std::string(NPUKIT_MODELS_DIR) + "/ocr/";
const std::string detector = models + "ch_PP-OCRv4_det_infer.onnx";
const std::string recognizer = models + "ch_PP-OCRv4_rec_infer.onnx";
const std::string classifier = models + "ch_ppocr_mobile_v2.0_cls_infer.onnx";
const std::string keys = models + "ppocr_keys_v1.txt";

struct PageFolder {
  std::string path;
  ~PageFolder() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

// Three rendered pages (fixed seeds) in a temporary folder, made once per test run.
const std::string& page_directory() {
  static const PageFolder folder{[] {
    const std::filesystem::path directory = std::filesystem::temp_directory_path() / ("npukit_ocr_pages_" + std::to_string(::getpid()));
    const std::string command = std::string("/usr/bin/python3 '") + NPUKIT_MODELS_DIR + "/../tools/render_text_pages.py' --output '" +
                                directory.string() + "' --pages 3 > /dev/null 2>&1";
    return std::system(command.c_str()) == 0 ? directory.string() : std::string();
  }()};
  return folder.path;
}

#define NPUKIT_REQUIRE_PAGES()                                                                         \
  if (page_directory().empty())                                                                        \
  GTEST_FAIL() << "tools/render_text_pages.py failed: install python3-pil and fonts-dejavu-core "      \
                  "(tools/install_dependencies.sh test)"

std::u32string code_points(const std::string& text) {
  std::u32string result;
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const int length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : 4;
    char32_t value = length == 1 ? lead : length == 2 ? lead & 0x1F : length == 3 ? lead & 0x0F : lead & 0x07;
    for (int k = 1; k < length && i + k < text.size(); ++k) value = (value << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    result.push_back(value);
    i += length;
  }
  return result;
}

size_t edit_distance(const std::u32string& a, const std::u32string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string without_spaces(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
  return text;
}

nlohmann::json ground_truth() {
  std::ifstream file(page_directory() + "/ground_truth.json");
  return nlohmann::json::parse(file);
}

TEST(VisionOcrWholeModel, ReadsRenderedPagesTopToBottomWithCharacterAccuracyAbove97Percent) {
  NPUKIT_REQUIRE_PAGES();
  OcrOptions options;  // one thread: the figures printed are per core
  OcrPipeline pipeline = OcrPipeline::create(detector, recognizer, classifier, keys, options);
  const nlohmann::json truth = ground_truth();
  size_t errors = 0, characters = 0, errors_with_spaces = 0, characters_with_spaces = 0, lines = 0;
  double detection_seconds = 0, recognition_seconds = 0, processor_seconds = 0;
  for (const nlohmann::json& page : truth.at("pages")) {
    SCOPED_TRACE(page.at("file").get<std::string>());
    const Image picture = read_image(page_directory() + "/" + page.at("file").get<std::string>());
    const std::clock_t started = std::clock();  // processor time: what the page costs on a shared machine
    const OcrResult result = pipeline.read(picture);
    processor_seconds += static_cast<double>(std::clock() - started) / CLOCKS_PER_SEC;
    detection_seconds += result.times.detection_pre + result.times.detection_infer + result.times.detection_post;
    recognition_seconds += result.times.crop + result.times.classify + result.times.recognize;
    const nlohmann::json& expected = page.at("lines");
    ASSERT_EQ(result.lines.size(), expected.size()) << "one box per rendered line";
    for (size_t i = 0; i < expected.size(); ++i) {
      const OcrLine& line = result.lines[i];
      const std::string text = expected[i].at("text");
      // Top to bottom: the i-th line read is the i-th line drawn, its box around the drawn text.
      const double centre_y = (line.box[0].y + line.box[2].y) / 2;
      EXPECT_GT(centre_y, expected[i].at("box")[1].get<double>()) << "line " << i + 1;
      EXPECT_LT(centre_y, expected[i].at("box")[3].get<double>()) << "line " << i + 1;
      EXPECT_FALSE(line.turned) << "line " << i + 1 << " was turned upside down";
      // PaddleOCR's recognition metric leaves spaces out (RecMetric ignore_space); both are counted.
      const std::u32string ours = code_points(without_spaces(line.text)), theirs = code_points(without_spaces(text));
      errors += edit_distance(ours, theirs);
      characters += theirs.size();
      errors_with_spaces += edit_distance(code_points(line.text), code_points(text));
      characters_with_spaces += code_points(text).size();
      ++lines;
      if (ours != theirs) std::cout << "  read '" << line.text << "' for '" << text << "'\n";
    }
  }
  const double accuracy = 1.0 - static_cast<double>(errors) / characters;
  const double accuracy_with_spaces = 1.0 - static_cast<double>(errors_with_spaces) / characters_with_spaces;
  std::cout << "  " << lines << " lines, " << characters << " characters: accuracy " << accuracy << " (with spaces "
            << accuracy_with_spaces << "); per page: det " << detection_seconds / 3 << " s, cls+rec "
            << recognition_seconds / 3 << " s wall, " << processor_seconds / 3 << " s processor time\n";
  EXPECT_GE(lines, 18u);
  EXPECT_GE(accuracy, 0.97);
}

TEST(VisionOcrWholeModel, TheDirectionClassifierTurnsAnUpsideDownPageBack) {
  NPUKIT_REQUIRE_PAGES();
  OcrPipeline pipeline = OcrPipeline::create(detector, recognizer, classifier, keys, {});
  const nlohmann::json page = ground_truth().at("pages")[0];
  const Image upside_down = rotate_half_turn(read_image(page_directory() + "/" + page.at("file").get<std::string>()));
  const OcrResult result = pipeline.read(upside_down);
  const nlohmann::json& expected = page.at("lines");
  ASSERT_EQ(result.lines.size(), expected.size());
  size_t errors = 0, characters = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    // The last line drawn is now the first from the top.
    const OcrLine& line = result.lines[expected.size() - 1 - i];
    EXPECT_TRUE(line.turned) << "line " << i + 1 << " '" << line.text << "' was not turned";
    EXPECT_GT(line.turn_score, 0.9f);
    const std::u32string theirs = code_points(without_spaces(expected[i].at("text")));
    errors += edit_distance(code_points(without_spaces(line.text)), theirs);
    characters += theirs.size();
  }
  EXPECT_GE(1.0 - static_cast<double>(errors) / characters, 0.97);
}

TEST(VisionOcrWholeModel, RealDetectorMapGivesPaddleOcrsBoxes) {
  NPUKIT_REQUIRE_PAGES();
  const Image page = read_image(page_directory() + "/page_01.png");
  SessionOptions options;
  options.backend = "cpu";
  auto session = Session::load(detector, options);
  const TextDetectionResize size = text_detection_resize(page.width, page.height, 960, DetectionLimitType::max);
  session->set_input("x", text_detection_tensor(page, size));
  const std::clock_t started = std::clock();
  session->run();
  std::cout << "  detector " << size.width << "x" << size.height << ": "
            << static_cast<double>(std::clock() - started) / CLOCKS_PER_SEC << " s processor time\n";
  const Tensor& map = session->output(session->outputs()[0].name);
  const std::string map_path = page_directory() + "/page_01_map.npy", boxes_path = page_directory() + "/page_01_boxes.json";
  write_npy(map_path, map);
  const std::string command = std::string("/usr/bin/python3 '") + NPUKIT_MODELS_DIR + "/../tools/ppocr_reference.py' db '" +
                              map_path + "' " + std::to_string(page.width) + " " + std::to_string(page.height) + " '" + boxes_path + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream file(boxes_path);
  const nlohmann::json reference = nlohmann::json::parse(file).at("boxes");
  std::vector<TextBox> boxes = text_boxes_from_probability_map(map.data<float>(), size.width, size.height, page.width, page.height);
  std::vector<Quad> corners;
  for (const TextBox& box : boxes) corners.push_back(box.corners);
  const std::vector<size_t> order = reading_order(corners);
  ASSERT_EQ(boxes.size(), reference.size());
  ASSERT_GE(boxes.size(), 5u);
  for (size_t i = 0; i < order.size(); ++i) {
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(boxes[order[i]].corners[k].x, reference[i].at("box")[k][0].get<double>()) << "box " << i << " corner " << k;
      EXPECT_EQ(boxes[order[i]].corners[k].y, reference[i].at("box")[k][1].get<double>()) << "box " << i << " corner " << k;
    }
    EXPECT_NEAR(boxes[order[i]].score, reference[i].at("score").get<double>(), 0.005) << "box " << i;
  }
}

TEST(VisionOcrWholeModel, KeysThatDoNotFitTheRecognizerAreRefusedBeforeAnyPicture) {
  const std::string path = (std::filesystem::temp_directory_path() / ("npukit_short_keys_" + std::to_string(::getpid()) + ".txt")).string();
  std::ofstream(path) << "a\nb\nc\n";
  try {
    OcrPipeline::create(detector, recognizer, "", path, {});
    ADD_FAILURE() << "3 keys were accepted for a 6625-class recognizer";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("6625"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
  std::filesystem::remove(path);
  // Models swapped: the recognizer given as the detector is named and refused.
  EXPECT_THROW(OcrPipeline::create(recognizer, recognizer, "", keys, {}), Error);
}

class VisionOcrCliWholeModel : public npukit::testing::CliRunner {
 protected:
  std::string models_arguments() const { return " --det '" + detector + "' --rec '" + recognizer + "' --keys '" + keys + "'"; }
};

TEST_F(VisionOcrCliWholeModel, TableJsonAndAnnotatedPicture) {
  NPUKIT_REQUIRE_PAGES();
  const std::string page = page_directory() + "/page_00.png";
  const npukit::testing::CommandResult table = run("ocr '" + page + "'" + models_arguments() + " -o '" + path("out") + "'");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("page_00.png"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("decode"), std::string::npos) << table.out;
  EXPECT_TRUE(std::filesystem::is_regular_file(path("out/page_00.jpg")));
  EXPECT_TRUE(std::filesystem::is_regular_file(path("out/ocr.json")));
  EXPECT_FALSE(std::filesystem::exists(path("out/page_00.jpg.tmp")));
  const npukit::testing::CommandResult json = run("ocr '" + page + "'" + models_arguments() + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json report = nlohmann::json::parse(json.out);
  const nlohmann::json& lines = report.at("images")[0].at("lines");
  const size_t expected_lines = ground_truth().at("pages")[0].at("lines").size();
  ASSERT_EQ(lines.size(), expected_lines);
  EXPECT_EQ(lines[0].at("line"), 1);
  EXPECT_EQ(lines[0].at("box").size(), 4u);
  for (size_t i = 1; i < lines.size(); ++i) EXPECT_GT(lines[i].at("box")[0][1].get<double>(), lines[i - 1].at("box")[0][1].get<double>());
  EXPECT_TRUE(report.at("images")[0].at("seconds").contains("det_infer"));
}

TEST_F(VisionOcrCliWholeModel, BadInputIsAClearErrorAndWritesNothing) {
  // A keys file that does not fit the recognizer.
  std::ofstream(path("keys.txt")) << "a\nb\n";
  std::ofstream(path("page.png")) << "not a picture";
  npukit::testing::CommandResult result = run("ocr '" + path("page.png") + "' --det '" + detector + "' --rec '" + recognizer +
                                              "' --keys '" + path("keys.txt") + "' -o '" + path("out") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("6625"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(path("out")));
  // An unreadable picture.
  result = run("ocr '" + path("page.png") + "'" + models_arguments() + " -o '" + path("out") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("page.png"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(path("out/page.jpg")));
  EXPECT_FALSE(std::filesystem::exists(path("out/ocr.json")));
}

}  // namespace
}  // namespace npukit::vision
