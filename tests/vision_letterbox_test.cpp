// Letterbox (src/vision/letterbox.cpp) against Ultralytics' LetterBox run with OpenCV
// (tools/make_vision_fixtures.py): the same geometry exactly, and pixels within one grey level of
// cv2.resize(INTER_LINEAR) + copyMakeBorder, for landscape, portrait, enlarged and 1080p pictures, with
// auto, scaleup off, top-left placement and scaleFill; then the tensor's layout, channel order and normalization.
#include <gtest/gtest.h>

#include "core/npy.h"
#include "vision/letterbox.h"
#include "vision_fixtures.h"

namespace npukit::vision {
namespace {

using testing::fixture;
using testing::image_from_npy;
using testing::largest_difference;
using testing::vision_fixture_directory;

struct OptionCase {
  const char* suffix;
  LetterboxOptions options;
};

std::vector<OptionCase> option_cases() {
  LetterboxOptions square;
  LetterboxOptions automatic;
  automatic.height = automatic.width = 320;
  automatic.auto_stride = true;
  LetterboxOptions no_scaleup;
  no_scaleup.height = no_scaleup.width = 320;
  no_scaleup.scaleup = false;
  LetterboxOptions fill;
  fill.height = 256;
  fill.width = 320;
  fill.scale_fill = true;
  LetterboxOptions top_left;
  top_left.height = top_left.width = 320;
  top_left.center = false;
  return {{"640", square}, {"320_auto", automatic}, {"320_noscaleup", no_scaleup}, {"320_topleft", top_left},
          {"256x320_fill", fill}};
}

TEST(VisionLetterbox, MatchesUltralyticsWithOpenCvWithinOneGreyLevel) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  for (const char* name : {"landscape", "portrait", "small", "frame"}) {
    const Image input = image_from_npy(fixture(std::string("letterbox_") + name + "_input.npy"));
    for (const OptionCase& c : option_cases()) {
      const Image expected = image_from_npy(fixture(std::string("letterbox_") + name + "_" + c.suffix + ".npy"));
      const Image actual = letterbox_image(input, c.options);
      ASSERT_EQ(actual.width, expected.width) << name << " " << c.suffix;
      ASSERT_EQ(actual.height, expected.height) << name << " " << c.suffix;
      EXPECT_LE(largest_difference(actual, expected), 1) << name << " " << c.suffix;
    }
  }
}

TEST(VisionLetterbox, GeometryFollowsUltralyticsRounding) {
  // 1920×1080 → 640: r = 1/3, 640×360, 280 rows of padding split 140 / 140.
  LetterboxGeometry g = compute_letterbox(1920, 1080, {});
  EXPECT_EQ(g.resized_width, 640);
  EXPECT_EQ(g.resized_height, 360);
  EXPECT_EQ(g.top, 140);
  EXPECT_EQ(g.output_height, 640);
  EXPECT_DOUBLE_EQ(g.scale_x, 1.0 / 3);
  // 37×23 → 640: r = 640/37, height round(397.8) = 398, padding 242 → 121 / 121; an odd padding 241 (from 399)
  // would split round(120.4) = 120 on top, round(120.6) = 121 below.
  g = compute_letterbox(37, 23, {});
  EXPECT_EQ(g.resized_height, 398);
  EXPECT_EQ(g.top, 121);
  g = compute_letterbox(640, 399, {});
  EXPECT_EQ(g.top, 120);
  EXPECT_EQ(g.output_height - g.top - g.resized_height, 121);
  // auto: 1920×1080 at 640 pads to a multiple of 32 only: 360 → 384 rows.
  LetterboxOptions automatic;
  automatic.auto_stride = true;
  g = compute_letterbox(1920, 1080, automatic);
  EXPECT_EQ(g.output_height, 384);
  EXPECT_EQ(g.top, 12);
}

TEST(VisionLetterbox, TensorIsTheLetterboxedPictureNormalizedInTheAskedLayout) {
  // A 4×2 picture of distinct colours enlarged ×2 into 8×8: rows 2..5 hold it, the rest is 114.
  Image image{4, 2, {}};
  for (int i = 0; i < 8; ++i) image.pixels.insert(image.pixels.end(), {uint8_t(30 * i), uint8_t(200 - 20 * i), 7});
  LetterboxOptions options;
  options.width = options.height = 8;
  const Image letterboxed = letterbox_image(image, options);
  LetterboxGeometry geometry;
  const Tensor nchw = letterbox_to_tensor(image, options, {}, &geometry);
  ASSERT_EQ(nchw.shape(), (Shape{1, 3, 8, 8}));
  EXPECT_EQ(geometry.top, 2);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      for (int c = 0; c < 3; ++c) {
        EXPECT_FLOAT_EQ(nchw.data<float>()[(c * 8 + y) * 8 + x], letterboxed.row(y)[3 * x + c] / 255.0f);
      }
    }
  }
  EXPECT_FLOAT_EQ(nchw.data<float>()[0], 114.0f / 255);
  Normalization imagenet;
  imagenet.bgr = true;
  imagenet.layout = TensorLayout::nhwc;
  imagenet.mean = {103.53f, 116.28f, 123.675f};
  imagenet.scale = {1 / 57.375f, 1 / 57.12f, 1 / 58.395f};
  const Tensor nhwc = letterbox_to_tensor(image, options, imagenet);
  ASSERT_EQ(nhwc.shape(), (Shape{1, 8, 8, 3}));
  const uint8_t* pixel = letterboxed.row(3) + 3 * 5;
  const float* value = nhwc.data<float>() + (3 * 8 + 5) * 3;
  EXPECT_FLOAT_EQ(value[0], (pixel[2] - 103.53f) / 57.375f);  // blue first
  EXPECT_FLOAT_EQ(value[2], (pixel[0] - 123.675f) / 58.395f);
}

}  // namespace
}  // namespace npukit::vision
