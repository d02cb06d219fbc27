// Picture decoding (src/vision/image_decoding.cpp): every format to the exact pixels PIL reads, grayscale and
// alpha to RGB, EXIF orientation, and the bad files: truncated, CMYK, not a picture, a decompression bomb.
#include <gtest/gtest.h>

#include <fstream>

#include "npukit/error.h"
#include "npukit/tensor.h"
#include "vision/exif_orientation.h"
#include "vision/image_decoding.h"
#include "vision_fixtures.h"

namespace npukit::vision {
namespace {

using testing::fixture;
using testing::image_from_npy;
using testing::largest_difference;
using testing::vision_fixture_directory;

TEST(VisionImage, PngBmpAndJpegDecodeToThePixelsPilReads) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const Image expected = image_from_npy(fixture("rgb.npy"));
  EXPECT_EQ(expected.width, 64);
  EXPECT_EQ(largest_difference(read_image(fixture("rgb.png")), expected), 0);
  EXPECT_EQ(largest_difference(read_image(fixture("rgb.bmp")), expected), 0);
  // JPEG is lossy: compare with PIL's own decode of the same file (libjpeg; IDCT variants differ by 1 at most).
  EXPECT_LE(largest_difference(read_image(fixture("rgb.jpg")), image_from_npy(fixture("rgb_jpg.npy"))), 1);
}

TEST(VisionImage, GrayscaleAndAlphaBecomeRgb) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  EXPECT_EQ(largest_difference(read_image(fixture("gray.png")), image_from_npy(fixture("gray.npy"))), 0);
  EXPECT_LE(largest_difference(read_image(fixture("gray.jpg")), image_from_npy(fixture("gray_jpg.npy"))), 1);
  // Alpha dropped, colour kept (as cv2.imread does).
  EXPECT_EQ(largest_difference(read_image(fixture("rgba.png")), image_from_npy(fixture("rgb.npy"))), 0);
}

TEST(VisionImage, GreyAlphaPaletteAndSixteenBitPngsBecomeTheRgbAnEightBitReaderSees) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  // Two channels (grey + alpha): the grey in all three, the alpha dropped.
  EXPECT_EQ(largest_difference(read_image(fixture("gray_alpha.png")), image_from_npy(fixture("gray.npy"))), 0);
  // One channel of palette indices: the palette's colours (PIL's convert("RGB")).
  EXPECT_EQ(largest_difference(read_image(fixture("palette.png")), image_from_npy(fixture("palette.npy"))), 0);
  // 16 bits per sample: the high byte, as cv2.imread(IMREAD_COLOR) gives it (the low byte runs 0..255 across the
  // picture, so taking it, or rounding value / 257, would differ).
  const Image sixteen = read_image(fixture("gray16.png"));
  EXPECT_EQ(sixteen.width, 64);
  EXPECT_EQ(sixteen.height, 48);
  EXPECT_EQ(largest_difference(sixteen, image_from_npy(fixture("gray16_high_byte.npy"))), 0);
}

TEST(VisionImage, ExifOrientationSixTurnsThePictureClockwise) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const Image image = read_image(fixture("exif6.jpg"));
  EXPECT_EQ(image.width, 48);
  EXPECT_EQ(image.height, 64);
  EXPECT_LE(largest_difference(image, image_from_npy(fixture("exif6_upright.npy"))), 1);
}

TEST(VisionImage, EveryExifOrientationMovesTheCornerPixelWhereTheTableSays) {
  // 3×2 picture with distinct pixels; pixel (0, 0) is red.
  Image image{3, 2, {}};
  for (int i = 0; i < 6; ++i) image.pixels.insert(image.pixels.end(), {uint8_t(10 * i), 0, 0});
  // Where the stored top-left pixel (value 0) and top-right (value 10) land once upright.
  struct Case { int orientation, width, top_left_x, top_left_y, top_right_x, top_right_y; };
  for (const Case& c : {Case{2, 3, 2, 0, 0, 0}, Case{3, 3, 2, 1, 0, 1}, Case{4, 3, 0, 1, 2, 1}, Case{5, 2, 0, 0, 0, 2},
                        Case{6, 2, 1, 0, 1, 2}, Case{7, 2, 1, 2, 1, 0}, Case{8, 2, 0, 2, 0, 0}}) {
    const Image upright = apply_exif_orientation(image, c.orientation);
    ASSERT_EQ(upright.width, c.width) << c.orientation;
    EXPECT_EQ(upright.row(c.top_left_y)[3 * c.top_left_x], 0) << c.orientation;
    EXPECT_EQ(upright.row(c.top_right_y)[3 * c.top_right_x], 20) << c.orientation;
  }
}

TEST(VisionImage, BadFilesAreErrorsNamingTheFile) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  for (const char* name : {"rgb_truncated.jpg", "rgb_truncated.png"}) {
    try {
      read_image(fixture(name));
      FAIL() << name << " was decoded";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::io) << error.what();
      EXPECT_NE(std::string(error.what()).find(name), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("truncated"), std::string::npos) << error.what();
    }
  }
  try {
    read_image(fixture("cmyk.jpg"));
    FAIL() << "a CMYK JPEG was decoded";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
    EXPECT_NE(std::string(error.what()).find("CMYK"), std::string::npos) << error.what();
  }
  EXPECT_THROW(read_image(fixture("no_such_file.png")), Error);
  const std::string text = fixture("text.jpg");
  std::ofstream(text) << "not a picture";
  try {
    read_image(text);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
    EXPECT_NE(std::string(error.what()).find("not a JPEG, PNG or BMP"), std::string::npos) << error.what();
  }
}

TEST(VisionImage, APictureBeyondTheMemoryLimitIsRefusedBeforeDecoding) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  // A PNG header claiming 100000 × 100000 pixels (120 GB as f32) with nothing behind it: the size alone refuses it.
  std::ifstream source(fixture("rgb.png"), std::ios::binary);
  std::vector<uint8_t> png((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
  const uint32_t huge = 100000;
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = static_cast<uint8_t>(huge >> (24 - 8 * i));
    png[20 + i] = static_cast<uint8_t>(huge >> (24 - 8 * i));
  }
  // IHDR's CRC no longer matches; libspng checks it first unless told otherwise, so test the limit directly too.
  try {
    check_image_size(huge, huge, "bomb.png");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::resource_limit);
    EXPECT_NE(std::string(error.what()).find("100000x100000"), std::string::npos);
  }
  EXPECT_THROW(decode_image(png.data(), png.size(), "bomb.png"), Error);
  // With a valid header (tools/make_vision_fixtures.py): refused for its size, not for a checksum.
  try {
    read_image(fixture("bomb.png"));
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::resource_limit) << error.what();
  }
  // Under a 1 MB limit a real 64×48 picture (36 KB as f32) still decodes, a 1000×1000 one would not.
  const size_t saved = tensor_memory_limit();
  set_tensor_memory_limit(1 << 20);
  EXPECT_NO_THROW(read_image(fixture("rgb.png")));
  EXPECT_THROW(check_image_size(1000, 1000, "x.png"), Error);
  set_tensor_memory_limit(saved);
}

TEST(VisionImage, DirectoriesListPicturesByExtensionAndAnEmptyOneIsAnError) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const std::vector<std::string> files = list_image_files(vision_fixture_directory());
  EXPECT_GE(files.size(), 9u);
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
  const std::filesystem::path empty = std::filesystem::path(vision_fixture_directory()) / "empty";
  std::filesystem::create_directories(empty);
  EXPECT_THROW(list_image_files(empty.string()), Error);
}

}  // namespace
}  // namespace npukit::vision
