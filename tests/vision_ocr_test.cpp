// The PP-OCR steps of src/vision (text_*.cpp), each with values worked out by hand, then against PaddleOCR's
// own Python (tools/ppocr_reference.py: its DB post-processing, box score, perspective crop and detector input
// on OpenCV and pyclipper) on synthetic maps and pictures.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "npukit/error.h"
#include "vision/image_decoding.h"
#include "vision/text_box_geometry.h"
#include "vision/text_box_unclip.h"
#include "vision/text_ctc_decoding.h"
#include "vision/text_detection_postprocessing.h"
#include "vision/text_detection_preprocessing.h"
#include "vision/text_line_crop.h"
#include "vision/text_line_tensor.h"

namespace npukit::vision {
namespace {

// --- CTC decoding ------------------------------------------------------------------------------------------

TEST(VisionOcrCtc, CollapsesRepeatsDropsBlanksAndAveragesTheKeptSteps) {
  const TextDictionary dictionary = TextDictionary::from_characters({"a", "b", "c"});  // + space: 5 classes
  ASSERT_EQ(dictionary.class_count(), 5);
  // Best class per step: a a _ a b b ' ' c, with these winning probabilities.
  const int best[8] = {1, 1, 0, 1, 2, 2, 4, 3};
  const float winning[8] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.45f, 0.3f, 0.25f};
  std::vector<float> probabilities(8 * 5, 0.0f);
  for (int t = 0; t < 8; ++t) {
    for (int c = 0; c < 5; ++c) probabilities[t * 5 + c] = (1 - winning[t]) / 8;
    probabilities[t * 5 + best[t]] = winning[t];
  }
  const RecognizedText text = ctc_greedy_decode(probabilities.data(), 8, 5, dictionary);
  // The repeat at step 1 and step 5 collapses; the blank at step 2 separates the two a's.
  EXPECT_EQ(text.text, "aab c");
  EXPECT_FLOAT_EQ(text.score, (0.9f + 0.6f + 0.5f + 0.3f + 0.25f) / 5);
}

TEST(VisionOcrCtc, TiesGoToTheFirstClassAndAllBlankIsEmptyWithScoreZero) {
  const TextDictionary dictionary = TextDictionary::from_characters({"x", "y"});
  const float tie[4] = {0.1f, 0.4f, 0.4f, 0.1f};  // x and y tie: numpy's argmax takes x
  EXPECT_EQ(ctc_greedy_decode(tie, 1, 4, dictionary).text, "x");
  const float blanks[8] = {0.9f, 0.05f, 0.03f, 0.02f, 0.8f, 0.1f, 0.05f, 0.05f};
  const RecognizedText empty = ctc_greedy_decode(blanks, 2, 4, dictionary);
  EXPECT_EQ(empty.text, "");
  EXPECT_EQ(empty.score, 0.0f);
  EXPECT_THROW(ctc_greedy_decode(tie, 1, 3, dictionary), Error);  // 3 classes, the dictionary makes 4
}

TEST(VisionOcrCtc, KeysFileIsReadAsPaddleOcrReadsIt) {
  const std::string path = (std::filesystem::temp_directory_path() / ("npukit_keys_" + std::to_string(::getpid()) + ".txt")).string();
  std::ofstream(path, std::ios::binary) << "a\r\n\xe4\xb8\xad\nb\n";  // CRLF, a Chinese character, a final newline
  const TextDictionary dictionary = TextDictionary::read(path);
  EXPECT_EQ(dictionary.key_count(), 3);
  EXPECT_EQ(dictionary.class_count(), 5);
  EXPECT_EQ(dictionary.character(1), "a");
  EXPECT_EQ(dictionary.character(2), "\xe4\xb8\xad");
  EXPECT_EQ(dictionary.character(4), " ");  // use_space_char
  std::ofstream(path, std::ios::binary) << "";
  EXPECT_THROW(TextDictionary::read(path), Error);
  std::ofstream(path, std::ios::binary) << "a\n\xff\xfe\n";
  try {
    TextDictionary::read(path);
    ADD_FAILURE() << "a keys file that is not UTF-8 was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("line 2"), std::string::npos) << error.what();
  }
  std::filesystem::remove(path);
  EXPECT_THROW(TextDictionary::read(path), Error);
}

// --- minimum-area rectangle, corner orders, unclip --------------------------------------------------------

TEST(VisionOcrGeometry, MinimumAreaRectangleOfAnAxisAlignedBlock) {
  std::vector<PointF> points;
  for (int y = 3; y <= 7; ++y) {
    for (int x = 2; x <= 11; ++x) points.push_back({double(x), double(y)});
  }
  const RotatedRectangle rectangle = minimum_area_rectangle(points);
  EXPECT_NEAR(rectangle.width * rectangle.height, 9.0 * 4.0, 1e-9);
  EXPECT_NEAR(rectangle.shorter_side(), 4.0, 1e-9);
  const Quad corners = mini_box_corners(rectangle);
  const Quad expected = {PointF{2, 3}, PointF{11, 3}, PointF{11, 7}, PointF{2, 7}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(corners[i].x, expected[i].x, 1e-9) << i;
    EXPECT_NEAR(corners[i].y, expected[i].y, 1e-9) << i;
  }
}

TEST(VisionOcrGeometry, MinimumAreaRectangleOfARotatedRectangleWithInnerPoints) {
  // A 10 × 5 rectangle along (4, 3) / 5: corners (0,0), (8,6), (5,10), (−3,4), plus points inside it.
  const std::vector<PointF> points = {{0, 0}, {8, 6}, {5, 10}, {-3, 4}, {2, 4}, {4, 5}, {1, 2}, {3, 7}};
  const RotatedRectangle rectangle = minimum_area_rectangle(points);
  EXPECT_NEAR(rectangle.width * rectangle.height, 50.0, 1e-9);
  EXPECT_NEAR(rectangle.shorter_side(), 5.0, 1e-9);
  // get_mini_boxes: by x (−3,4), (0,0), (5,10), (8,6); the upper of each pair starts the top edge.
  const Quad corners = mini_box_corners(rectangle);
  const Quad expected = {PointF{0, 0}, PointF{8, 6}, PointF{5, 10}, PointF{-3, 4}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(corners[i].x, expected[i].x, 1e-9) << i;
    EXPECT_NEAR(corners[i].y, expected[i].y, 1e-9) << i;
  }
}

TEST(VisionOcrGeometry, DegeneratePointSetsGiveThinRectangles) {
  EXPECT_EQ(minimum_area_rectangle({}).shorter_side(), 0);
  EXPECT_EQ(minimum_area_rectangle({{4, 4}, {4, 4}}).width, 0);
  const RotatedRectangle line = minimum_area_rectangle({{0, 0}, {3, 4}, {6, 8}});
  EXPECT_NEAR(std::max(line.width, line.height), 10.0, 1e-9);
  EXPECT_NEAR(line.shorter_side(), 0.0, 1e-9);
}

TEST(VisionOcrGeometry, ClockwiseOrderBySumAndDifference) {
  // order_points_clockwise: least x + y first, most x + y third, then least y − x second.
  const Quad shuffled = {PointF{50, 30}, PointF{10, 12}, PointF{12, 32}, PointF{48, 10}};
  const Quad ordered = order_corners_clockwise(shuffled);
  EXPECT_EQ(ordered[0].x, 10);
  EXPECT_EQ(ordered[1].x, 48);
  EXPECT_EQ(ordered[2].x, 50);
  EXPECT_EQ(ordered[3].x, 12);
}

TEST(VisionOcrGeometry, UnclipGrowsARectangleByAreaTimesRatioOverPerimeter) {
  // 100 × 20: distance = 2000 · 1.5 / 240 = 12.5; Clipper rounds the offset sides half away from zero, so the
  // sides move to x = −3 and 123, y = −3 and 43: a 126 × 46 box (pyclipper gives the same points).
  const std::vector<PointF> rectangle = {{10, 10}, {110, 10}, {110, 30}, {10, 30}};
  EXPECT_DOUBLE_EQ(unclip_distance(rectangle, 1.5), 12.5);
  const std::vector<std::vector<PointF>> grown = unclip_polygon(rectangle, 1.5);
  ASSERT_EQ(grown.size(), 1u);
  double min_x = 1e9, max_x = -1e9, min_y = 1e9, max_y = -1e9;
  for (const PointF& p : grown[0]) {
    min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
  }
  EXPECT_EQ(min_x, -3);
  EXPECT_EQ(max_x, 123);
  EXPECT_EQ(min_y, -3);
  EXPECT_EQ(max_y, 43);
  const RotatedRectangle box = minimum_area_rectangle(grown[0]);
  EXPECT_NEAR(std::max(box.width, box.height), 126, 1e-9);
  EXPECT_NEAR(box.shorter_side(), 46, 1e-9);
  // pyclipper truncates float corners to integers first: 0.7 → 0, 10.9 → 10.
  EXPECT_EQ(unclip_polygon({{0.7, 0.7}, {10.9, 0.7}, {10.9, 4.9}, {0.7, 4.9}}, 1.0).size(), 1u);
  EXPECT_TRUE(unclip_polygon({{1, 1}, {5, 1}, {9, 1}}, 1.5).empty());  // no area: nothing to grow
}

TEST(VisionOcrGeometry, ReadingOrderPutsBoxesOnOneLineLeftToRight) {
  // Top-left corners: A (100, 50), B (10, 55), C (50, 200), D (5, 120). By y: A B D C; B is within 10 px of A's
  // line and left of it, so it goes first.
  auto box = [](double x, double y) { return Quad{PointF{x, y}, PointF{x + 20, y}, PointF{x + 20, y + 10}, PointF{x, y + 10}}; };
  const std::vector<size_t> order = reading_order({box(100, 50), box(10, 55), box(50, 200), box(5, 120)});
  EXPECT_EQ(order, (std::vector<size_t>{1, 0, 3, 2}));
  // 10 px apart is a new line (PaddleOCR's test is < 10).
  EXPECT_EQ(reading_order({box(100, 50), box(10, 60)}), (std::vector<size_t>{0, 1}));
}

// --- box score and the whole DB post-processing --------------------------------------------------------------

TEST(VisionOcrBoxScore, MeanProbabilityInsideTheTruncatedBox) {
  std::vector<float> map(10 * 10, 0.0f);
  for (int y = 3; y <= 5; ++y) {
    for (int x = 2; x <= 5; ++x) map[y * 10 + x] = 1.0f;
  }
  EXPECT_FLOAT_EQ(box_score(map.data(), 10, 10, {PointF{2, 3}, PointF{5, 3}, PointF{5, 5}, PointF{2, 5}}), 1.0f);
  // One more column: 12 of 15 pixels are text.
  EXPECT_FLOAT_EQ(box_score(map.data(), 10, 10, {PointF{1, 3}, PointF{5, 3}, PointF{5, 5}, PointF{1, 5}}), 0.8f);
  // Fractional corners: the crop is floor..ceil (x 1..6, y 3..6), the polygon truncated to x 0..4, y 0..2 in
  // it, i.e. x 1..5, y 3..5 again: 0.8.
  EXPECT_FLOAT_EQ(box_score(map.data(), 10, 10, {PointF{1.7, 3.2}, PointF{5.9, 3.2}, PointF{5.9, 5.6}, PointF{1.7, 5.6}}), 0.8f);
}

TEST(VisionOcrDetection, TwoBarsGiveTwoUnclippedBoxesMappedToThePicture) {
  // A 64 × 32 map with two solid bars: x 4..27, y 4..9 (p = 0.9) and x 10..49, y 20..25 (p = 0.8).
  std::vector<float> map(64 * 32, 0.05f);
  for (int y = 4; y <= 9; ++y) {
    for (int x = 4; x <= 27; ++x) map[y * 64 + x] = 0.9f;
  }
  for (int y = 20; y <= 25; ++y) {
    for (int x = 10; x <= 49; ++x) map[y * 64 + x] = 0.8f;
  }
  // The picture is twice the map: corners scale by 2.
  const std::vector<TextBox> boxes = text_boxes_from_probability_map(map.data(), 64, 32, 128, 64);
  ASSERT_EQ(boxes.size(), 2u);
  // Bar 1: kernel 23 × 5 (pixel centres 4..27, 4..9), area 115, perimeter 56, d = 115 · 1.5 / 56 = 3.08:
  // sides at round(4 − 3.08) = 1, round(27 + 3.08) = 30, 1 and round(9 + 3.08) = 12; ×2 → 2, 60, 2, 24.
  EXPECT_FLOAT_EQ(boxes[0].score, 0.9f);
  const Quad first = {PointF{2, 2}, PointF{60, 2}, PointF{60, 24}, PointF{2, 24}};
  // Bar 2: kernel 39 × 5, area 195, perimeter 88, d = 3.32: sides 7, 52, 17, 28; ×2 → 14, 104, 34, 56.
  const Quad second = {PointF{14, 34}, PointF{104, 34}, PointF{104, 56}, PointF{14, 56}};
  EXPECT_FLOAT_EQ(boxes[1].score, 0.8f);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(boxes[0].corners[i].x, first[i].x) << i;
    EXPECT_EQ(boxes[0].corners[i].y, first[i].y) << i;
    EXPECT_EQ(boxes[1].corners[i].x, second[i].x) << i;
    EXPECT_EQ(boxes[1].corners[i].y, second[i].y) << i;
  }
  // Below the box threshold (0.6) nothing is left; a bar 2 pixels high is below the minimum size.
  std::vector<float> weak(64 * 32, 0.0f);
  for (int x = 4; x < 40; ++x) weak[6 * 64 + x] = weak[7 * 64 + x] = 0.95f, weak[20 * 64 + x] = 0.5f;
  for (int y = 18; y < 24; ++y) {
    for (int x = 4; x < 40; ++x) weak[y * 64 + x] = 0.5f;
  }
  EXPECT_TRUE(text_boxes_from_probability_map(weak.data(), 64, 32, 64, 32).empty());
}

TEST(VisionOcrDetection, ConnectedRegionsJoinDiagonally) {
  // Two pixels touching at a corner are one region (8-connectivity, as findContours); a gap of one makes two.
  std::vector<uint8_t> mask = {1, 0, 0, 0,
                               0, 1, 0, 1,
                               0, 0, 0, 1};
  EXPECT_EQ(connected_region_outlines(mask, 4, 3).size(), 2u);
}

TEST(VisionOcrDetection, ResizeToMultiplesOf32AsPaddleOcr) {
  TextDetectionResize size = text_detection_resize(1920, 1080, 960, DetectionLimitType::max);
  EXPECT_EQ(size.width, 960);   // ratio 0.5
  EXPECT_EQ(size.height, 544);  // 540 / 32 = 16.875 → 17 · 32
  size = text_detection_resize(100, 40, 960, DetectionLimitType::max);
  EXPECT_EQ(size.width, 96);    // 3.125 → 3
  EXPECT_EQ(size.height, 32);   // 1.25 → 1
  size = text_detection_resize(80, 48, 960, DetectionLimitType::max);
  EXPECT_EQ(size.width, 64);    // 2.5 → 2 (Python rounds half to even)
  EXPECT_EQ(size.height, 64);   // 1.5 → 2
  size = text_detection_resize(10, 5, 960, DetectionLimitType::max);
  EXPECT_EQ(size.width, 32);    // at least 32
  EXPECT_EQ(size.height, 32);
  size = text_detection_resize(1000, 500, 736, DetectionLimitType::min);
  EXPECT_EQ(size.height, 736);  // the shorter side enlarged to the limit: ratio 1.472
  EXPECT_EQ(size.width, 1472);
}

// --- perspective crop and line tensors --------------------------------------------------------------------

Image textured_picture(int width, int height) {
  Image image;
  image.width = width, image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.row(y) + 3 * x;
      p[0] = static_cast<uint8_t>(x * 3 + y * 7), p[1] = static_cast<uint8_t>(x * y), p[2] = static_cast<uint8_t>(200 - x);
    }
  }
  return image;
}

TEST(VisionOcrCrop, AxisAlignedBoxIsTheSubPictureAndAVerticalBoxIsTurned) {
  const Image picture = textured_picture(64, 48);
  // Integer sample positions: bicubic weights are 0, 1, 0, 0, so the crop is the pixels themselves.
  const Image crop = crop_text_line(picture, {PointF{10, 5}, PointF{30, 5}, PointF{30, 15}, PointF{10, 15}});
  ASSERT_EQ(crop.width, 20);
  ASSERT_EQ(crop.height, 10);
  for (int y = 0; y < 10; ++y) {
    for (int x = 0; x < 20; ++x) {
      for (int c = 0; c < 3; ++c) ASSERT_EQ(crop.row(y)[3 * x + c], picture.row(5 + y)[3 * (10 + x) + c]) << x << "," << y;
    }
  }
  // Text running downwards: p0 = (30, 5) → p1 = (30, 25); the crop's (x, y) is the picture's (30 − y, 5 + x).
  const Image down = crop_text_line(picture, {PointF{30, 5}, PointF{30, 25}, PointF{20, 25}, PointF{20, 5}});
  ASSERT_EQ(down.width, 20);
  ASSERT_EQ(down.height, 10);
  EXPECT_EQ(down.row(3)[3 * 7], picture.row(12)[3 * 27]);
  // A box 10 wide and 30 tall (ratio 3 ≥ 1.5) is turned 90° counter-clockwise: 30 × 10.
  const Image tall = crop_text_line(picture, {PointF{5, 5}, PointF{15, 5}, PointF{15, 35}, PointF{5, 35}});
  ASSERT_EQ(tall.width, 30);
  ASSERT_EQ(tall.height, 10);
  // np.rot90: turned (x, y) = crop (W − 1 − y, x) with W = 10: the picture's (5 + 9 − y, 5 + x).
  EXPECT_EQ(tall.row(2)[3 * 4 + 1], picture.row(9)[3 * 12 + 1]);
  // Three corners on one line (a box clipped at the picture's edge) still give a picture, read along the edge.
  const Image flat = crop_text_line(picture, {PointF{0, 5}, PointF{0, 25}, PointF{0, 40}, PointF{9, 40}});
  EXPECT_GT(flat.width, 0);
  EXPECT_EQ(flat.pixels.size(), static_cast<size_t>(flat.width) * flat.height * 3);
  const Image half = rotate_half_turn(crop);
  EXPECT_EQ(half.row(0)[0], crop.row(9)[3 * 19]);
}

TEST(VisionOcrLineTensor, WidthByRatioNormalizedToPlusMinusOneAndZeroPadded) {
  EXPECT_EQ(recognition_input_width(200, 40), 320);  // ratio 5 < 320 / 48: the default width
  EXPECT_EQ(recognition_input_width(500, 40), 600);  // 48 · 12.5
  Image line;
  line.width = 20, line.height = 10;
  line.pixels.resize(20 * 10 * 3);
  for (size_t i = 0; i < 200; ++i) line.pixels[3 * i] = 255, line.pixels[3 * i + 1] = 0, line.pixels[3 * i + 2] = 51;
  const Tensor tensor = text_line_tensor(line, 48, 320);
  ASSERT_EQ(tensor.shape(), (Shape{1, 3, 48, 320}));
  const float* data = tensor.data<float>();
  const size_t plane = 48 * 320;
  // Resized to ceil(48 · 2) = 96 wide; channels B, G, R: (51 / 255 − 0.5) / 0.5 = −0.6, −1, 1.
  EXPECT_NEAR(data[0 * plane + 10 * 320 + 50], -0.6f, 1e-6);
  EXPECT_NEAR(data[1 * plane + 10 * 320 + 50], -1.0f, 1e-6);
  EXPECT_NEAR(data[2 * plane + 10 * 320 + 95], 1.0f, 1e-6);
  EXPECT_EQ(data[2 * plane + 10 * 320 + 96], 0.0f);  // padding
  EXPECT_EQ(data[0 * plane + 47 * 320 + 319], 0.0f);
}

// --- against PaddleOCR's Python (tools/ppocr_reference.py) ---------------------------------------------------

struct ReferenceFolder {
  std::string path;
  ~ReferenceFolder() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

const std::string& reference_directory() {
  static const ReferenceFolder folder{[] {
    const std::filesystem::path directory =
        std::filesystem::temp_directory_path() / ("npukit_ppocr_reference_" + std::to_string(::getpid()));
    const std::string command = std::string("/usr/bin/python3 '") + NPUKIT_MODELS_DIR +
                                "/../tools/ppocr_reference.py' fixtures '" + directory.string() + "' > /dev/null 2>&1";
    return std::system(command.c_str()) == 0 ? directory.string() : std::string();
  }()};
  return folder.path;
}

#define NPUKIT_REQUIRE_PPOCR_REFERENCE()                                                                  \
  if (reference_directory().empty())                                                                      \
  GTEST_FAIL() << "tools/ppocr_reference.py failed: install python3-opencv and python3-pyclipper "       \
                  "(tools/install_dependencies.sh test)"

nlohmann::json reference_manifest() {
  std::ifstream file(reference_directory() + "/manifest.json");
  return nlohmann::json::parse(file);
}

Quad quad_from_json(const nlohmann::json& points) {
  Quad quad;
  for (int i = 0; i < 4; ++i) quad[i] = {points[i][0].get<double>(), points[i][1].get<double>()};
  return quad;
}

Image image_from_npy(const std::string& path) {
  const Tensor array = read_npy(path);
  Image image;
  image.height = static_cast<int>(array.dim(0));
  image.width = static_cast<int>(array.dim(1));
  image.pixels.assign(array.data<uint8_t>(), array.data<uint8_t>() + array.element_count());
  return image;
}

TEST(VisionOcrAgainstPaddleOcr, BoxScoreEqualsFillPolyMean) {
  NPUKIT_REQUIRE_PPOCR_REFERENCE();
  const Tensor map = read_npy(reference_directory() + "/fill_map.npy");
  int count = 0;
  const nlohmann::json manifest = reference_manifest();  // kept: a range-for over a temporary's member dangles
  for (const nlohmann::json& entry : manifest.at("fill")) {
    const float ours = box_score(map.data<float>(), static_cast<int>(map.dim(1)), static_cast<int>(map.dim(0)),
                                 quad_from_json(entry.at("box")));
    // cv2.fillPoly's edge pixels are not reproduced exactly: on a map of uniform noise (the worst case) the
    // means differ by up to 0.02; on text maps by about 0.001 (below).
    EXPECT_NEAR(ours, entry.at("score").get<double>(), 0.025) << entry.dump();
    ++count;
  }
  EXPECT_EQ(count, 40);
}

TEST(VisionOcrAgainstPaddleOcr, DbPostProcessingGivesPaddleOcrsBoxesOnSyntheticMaps) {
  NPUKIT_REQUIRE_PPOCR_REFERENCE();
  int boxes_compared = 0;
  const nlohmann::json manifest = reference_manifest();
  for (const nlohmann::json& entry : manifest.at("maps")) {
    SCOPED_TRACE(entry.at("map").get<std::string>());
    const Tensor map = read_npy(reference_directory() + "/" + entry.at("map").get<std::string>());
    const int width = entry.at("width"), height = entry.at("height");
    std::vector<TextBox> boxes = text_boxes_from_probability_map(map.data<float>(), static_cast<int>(map.dim(1)),
                                                                 static_cast<int>(map.dim(0)), width, height);
    std::vector<Quad> corners;
    for (const TextBox& box : boxes) corners.push_back(box.corners);
    const std::vector<size_t> order = reading_order(corners);
    const nlohmann::json& expected = entry.at("boxes");
    ASSERT_EQ(boxes.size(), expected.size());
    for (size_t i = 0; i < order.size(); ++i) {
      const TextBox& box = boxes[order[i]];
      const Quad theirs = quad_from_json(expected[i].at("box"));
      for (int k = 0; k < 4; ++k) {
        // Corners in picture pixels: the same whole numbers.
        EXPECT_EQ(box.corners[k].x, theirs[k].x) << "box " << i << " corner " << k;
        EXPECT_EQ(box.corners[k].y, theirs[k].y) << "box " << i << " corner " << k;
      }
      EXPECT_NEAR(box.score, expected[i].at("score").get<double>(), 0.005) << "box " << i;
      ++boxes_compared;
    }
  }
  EXPECT_GE(boxes_compared, 10);
}

TEST(VisionOcrAgainstPaddleOcr, PerspectiveCropsMatchWarpPerspectiveWithinOneGreyLevel) {
  NPUKIT_REQUIRE_PPOCR_REFERENCE();
  const Image picture = image_from_npy(reference_directory() + "/crop_picture.npy");
  int crops = 0;
  const nlohmann::json manifest = reference_manifest();
  for (const nlohmann::json& entry : manifest.at("crops")) {
    const Image theirs = image_from_npy(reference_directory() + "/" + entry.at("crop").get<std::string>());
    const Image ours = crop_text_line(picture, quad_from_json(entry.at("box")));
    ASSERT_EQ(ours.width, theirs.width) << entry.dump();
    ASSERT_EQ(ours.height, theirs.height) << entry.dump();
    int largest = 0;
    for (size_t i = 0; i < ours.pixels.size(); ++i) largest = std::max(largest, std::abs(ours.pixels[i] - theirs.pixels[i]));
    EXPECT_LE(largest, 1) << entry.dump();  // OpenCV's fixed-point weights against our float ones
    ++crops;
  }
  EXPECT_EQ(crops, 4);
}

TEST(VisionOcrAgainstPaddleOcr, DetectorInputMatchesDetResizeForTestAndNormalizeImage) {
  NPUKIT_REQUIRE_PPOCR_REFERENCE();
  const Image picture = read_image(reference_directory() + "/det_picture.png");
  const TextDetectionResize size = text_detection_resize(picture.width, picture.height, 960, DetectionLimitType::max);
  const Tensor ours = text_detection_tensor(picture, size);
  const Tensor theirs = read_npy(reference_directory() + "/det_input.npy");
  ASSERT_EQ(ours.shape(), theirs.shape());
  EXPECT_EQ(ours.shape(), (Shape{1, 3, 512, 960}));  // 1300 × 700 → 960 × int(516.9) = 516 → 16.125 · 32 → 512
  float largest = 0;
  for (int64_t i = 0; i < ours.element_count(); ++i) {
    largest = std::max(largest, std::fabs(ours.data<float>()[i] - theirs.data<float>()[i]));
  }
  // One grey level is 1 / (255 · 0.224) ≈ 0.0175 after the std.
  EXPECT_LE(largest, 0.0180f);
}

}  // namespace
}  // namespace npukit::vision
