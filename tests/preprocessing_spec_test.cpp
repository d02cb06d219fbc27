// The declared pre-processing: its CLI text (parse, print, errors naming the item), resolution against a model
// input, and the three resize modes against values computed by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "npukit/error.h"
#include "vision/preprocessing_spec.h"
#include "vision_fixtures.h"

namespace npukit::vision {
namespace {

std::string parse_error(const std::string& text) {
  try {
    parse_preprocessing_spec(text);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

ValueInfo input(std::vector<int64_t> shape, DType dtype = DType::f32) {
  ValueInfo info;
  info.name = "images";
  info.dtype = dtype;
  info.shape = std::move(shape);
  return info;
}

// A width × height picture whose red channel is given per pixel, green = red + 1, blue = red + 2.
Image picture(int width, int height, const std::vector<uint8_t>& red) {
  Image image{width, height, {}};
  for (uint8_t value : red) {
    image.pixels.push_back(value);
    image.pixels.push_back(static_cast<uint8_t>(value + 1));
    image.pixels.push_back(static_cast<uint8_t>(value + 2));
  }
  return image;
}

TEST(PreprocessingSpec, ParsesTheUltralyticsDefault) {
  const PreprocessingSpec spec = parse_preprocessing_spec("letterbox=640,mean=0,std=255,rgb,nchw");
  EXPECT_EQ(spec.mode, ResizeMode::letterbox);
  EXPECT_EQ(spec.height, 640);
  EXPECT_EQ(spec.width, 640);
  EXPECT_FALSE(spec.normalization.bgr);
  EXPECT_EQ(spec.normalization.layout, TensorLayout::nchw);
  EXPECT_TRUE(spec.layout_given);
  EXPECT_FLOAT_EQ(spec.normalization.scale[1], 1.0f / 255);
  EXPECT_EQ(spec.output_dtype, DType::f32);
}

TEST(PreprocessingSpec, ParsesPerChannelValuesSizesAndQuantizedOutputs) {
  PreprocessingSpec spec =
      parse_preprocessing_spec("center_crop=224,shorter=256,mean=123.675/116.28/103.53,std=58.395/57.12/57.375,bgr");
  EXPECT_EQ(spec.mode, ResizeMode::center_crop);
  EXPECT_EQ(spec.shorter_side, 256);
  EXPECT_FLOAT_EQ(spec.normalization.mean[2], 103.53f);
  EXPECT_FLOAT_EQ(spec.normalization.scale[0], 1.0f / 58.395f);
  EXPECT_TRUE(spec.normalization.bgr);
  EXPECT_FALSE(spec.layout_given);
  spec = parse_preprocessing_spec("resize=320x240,nhwc,dtype=i8,scale=0.0078125,zero_point=-1");
  EXPECT_EQ(spec.height, 320);
  EXPECT_EQ(spec.width, 240);
  EXPECT_EQ(spec.output_dtype, DType::i8);
  EXPECT_FLOAT_EQ(spec.output_scale, 0.0078125f);
  EXPECT_EQ(spec.output_zero_point, -1);
  spec = parse_preprocessing_spec("resize,dtype=u8,std=1");  // raw pixels need no scale
  EXPECT_EQ(spec.output_dtype, DType::u8);
  EXPECT_EQ(spec.height, 0);
  EXPECT_EQ(parse_preprocessing_spec("").mode, ResizeMode::letterbox);
}

TEST(PreprocessingSpec, TextRoundTrips) {
  for (const char* text : {"letterbox=640,mean=0,std=255,rgb,nchw", "resize=320x240,mean=0,std=1,bgr,nhwc,dtype=u8,scale=1,zero_point=0",
                           "center_crop=224,shorter=256,mean=123.675/116.28/103.53,std=58.395/57.12/57.375,rgb",
                           "letterbox=512,mean=0,std=255,rgb,nchw,pad=0"}) {
    EXPECT_EQ(preprocessing_spec_text(parse_preprocessing_spec(text)), text);
  }
}

TEST(PreprocessingSpec, MistakesNameTheItem) {
  EXPECT_NE(parse_error("letterbox=640,colour").find("item 'colour': unknown"), std::string::npos);
  EXPECT_NE(parse_error("letterbox=abc").find("item 'letterbox=abc'"), std::string::npos);
  EXPECT_NE(parse_error("letterbox=0").find("outside 1..32768"), std::string::npos);
  EXPECT_NE(parse_error("letterbox=640,resize=320").find("given twice"), std::string::npos);
  EXPECT_NE(parse_error("rgb,bgr").find("given twice"), std::string::npos);
  EXPECT_NE(parse_error("std=0").find("positive"), std::string::npos);
  EXPECT_NE(parse_error("mean=1/2").find("one value or three"), std::string::npos);
  EXPECT_NE(parse_error("mean=nan").find("not a number"), std::string::npos);
  EXPECT_NE(parse_error("letterbox,,rgb").find("empty item"), std::string::npos);
  EXPECT_NE(parse_error("letterbox,shorter=256").find("only center_crop"), std::string::npos);
  EXPECT_NE(parse_error("dtype=i8").find("scale="), std::string::npos);
  EXPECT_NE(parse_error("scale=0.5").find("only a quantized dtype"), std::string::npos);
  EXPECT_NE(parse_error("dtype=u8,scale=1,zero_point=300").find("zero point"), std::string::npos);
  EXPECT_NE(parse_error("dtype=u8,scale=1,zero_point=-3").find("outside the u8 grid"), std::string::npos);
  EXPECT_NE(parse_error("rgb=1").find("takes no value"), std::string::npos);
  EXPECT_NE(parse_error("pad=300").find("0..255"), std::string::npos);
}

TEST(PreprocessingSpec, ResolvesSizeAndLayoutFromTheModelInput) {
  PreprocessingSpec spec = resolve_preprocessing_spec(parse_preprocessing_spec("letterbox"), input({1, 3, 480, 640}));
  EXPECT_EQ(spec.height, 480);
  EXPECT_EQ(spec.width, 640);
  EXPECT_EQ(spec.normalization.layout, TensorLayout::nchw);
  spec = default_preprocessing_spec(input({1, 224, 224, 3}));
  EXPECT_EQ(spec.normalization.layout, TensorLayout::nhwc);
  EXPECT_EQ(preprocessing_spec_text(spec), "letterbox=224,mean=0,std=255,rgb,nhwc");
  auto error_of = [](const PreprocessingSpec& s, const ValueInfo& i) -> std::string {
    try {
      resolve_preprocessing_spec(s, i);
    } catch (const Error& error) {
      return error.what();
    }
    return "no error";
  };
  EXPECT_NE(error_of(parse_preprocessing_spec("letterbox=320"), input({1, 3, 640, 640})).find("height 640 but"),
            std::string::npos);
  EXPECT_NE(error_of({}, input({1, 1, 28, 28})).find("neither dim 1 nor dim 3"), std::string::npos);
  EXPECT_NE(error_of({}, input({1, 80})).find("not a picture input"), std::string::npos);
  EXPECT_NE(error_of({}, input({1, 3, 640, 640}, DType::u8)).find("add dtype=u8"), std::string::npos);
  EXPECT_EQ(resolve_preprocessing_spec(parse_preprocessing_spec("letterbox=320x256"), input({1, 3, -1, -1})).width, 256);
}

TEST(PreprocessingSpec, ResizeIsBilinearWithHalfPixelCentres) {
  // One row 4 → 2 wide: source positions (d + 0.5)·2 − 0.5 = 0.5 and 2.5: (0 + 100) / 2 = 50, (200 + 250) / 2 = 225.
  const Image image = picture(4, 1, {0, 100, 200, 250});
  PreprocessingSpec spec = parse_preprocessing_spec("resize=1x2,mean=0,std=1,nchw");
  LetterboxGeometry geometry;
  const Tensor tensor = preprocess(image, spec, &geometry);
  ASSERT_EQ(tensor.shape(), (Shape{1, 3, 1, 2}));
  EXPECT_EQ(tensor.data<float>()[0], 50.0f);
  EXPECT_EQ(tensor.data<float>()[1], 225.0f);
  EXPECT_EQ(tensor.data<float>()[2], 51.0f);   // green plane
  EXPECT_EQ(tensor.data<float>()[5], 227.0f);  // blue plane
  EXPECT_EQ(geometry.left, 0);
  EXPECT_DOUBLE_EQ(geometry.scale_x, 0.5);
}

TEST(PreprocessingSpec, ResizeMatchesOpenCvWithinOneGreyLevel) {
  // tools/make_vision_fixtures.py: cv2.resize(INTER_LINEAR) to 320 × 256 of four pictures; through the spec as
  // raw u8 pixels in NHWC, so the tensor is the resized picture itself.
  using namespace npukit::vision::testing;
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const PreprocessingSpec spec = parse_preprocessing_spec("resize=256x320,dtype=u8,std=1,nhwc");
  for (const char* name : {"landscape", "portrait", "small", "frame"}) {
    const Image input = image_from_npy(fixture(std::string("letterbox_") + name + "_input.npy"));
    const Image expected = image_from_npy(fixture(std::string("letterbox_") + name + "_256x320_fill.npy"));
    const Tensor tensor = preprocess(input, spec);
    ASSERT_EQ(tensor.shape(), (Shape{1, 256, 320, 3})) << name;
    ASSERT_EQ(static_cast<size_t>(tensor.element_count()), expected.pixels.size()) << name;
    int largest = 0;
    for (size_t i = 0; i < expected.pixels.size(); ++i) {
      largest = std::max(largest, std::abs(int{tensor.data<uint8_t>()[i]} - int{expected.pixels[i]}));
    }
    EXPECT_LE(largest, 1) << name;
  }
}

TEST(PreprocessingSpec, CenterCropTakesTheMiddleAfterResizingTheShorterSide) {
  // 6 × 2 picture, red = column · 10; crop 2 × 2 with the shorter side already 2: no resize, left =
  // round((6 − 2) / 2) = 2, so columns 2 and 3 (red 20, 30).
  std::vector<uint8_t> red;
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 6; ++x) red.push_back(static_cast<uint8_t>(10 * x));
  }
  const Image image = picture(6, 2, red);
  LetterboxGeometry geometry;
  Tensor tensor = preprocess(image, parse_preprocessing_spec("center_crop=2,mean=0,std=1,nhwc"), &geometry);
  ASSERT_EQ(tensor.shape(), (Shape{1, 2, 2, 3}));
  EXPECT_EQ(tensor.data<float>()[0], 20.0f);
  EXPECT_EQ(tensor.data<float>()[1], 21.0f);
  EXPECT_EQ(tensor.data<float>()[3], 30.0f);
  EXPECT_EQ(geometry.left, -2);
  EXPECT_EQ(geometry.top, 0);
  // shorter=1 halves the picture to 3 × 1 first (bilinear at half-pixel centres 0.5, 2.5, 4.5: red 5, 25, 45),
  // then a 1 × 1 crop takes the middle: 25.
  tensor = preprocess(image, parse_preprocessing_spec("center_crop=1,shorter=1,mean=0,std=1,nchw"));
  ASSERT_EQ(tensor.shape(), (Shape{1, 3, 1, 1}));
  EXPECT_EQ(tensor.data<float>()[0], 25.0f);
}

TEST(PreprocessingSpec, MeanStdChannelOrderAndQuantizedOutput) {
  const Image image = picture(1, 1, {100});  // R 100, G 101, B 102
  PreprocessingSpec spec = parse_preprocessing_spec("resize=1,mean=100/0/0,std=2/1/4,bgr,nchw");
  Tensor tensor = preprocess(image, spec);
  // Tensor channel 0 is blue: (102 − 100) / 2 = 1; channel 1 green: 101; channel 2 red: 100 / 4 = 25.
  EXPECT_FLOAT_EQ(tensor.data<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(tensor.data<float>()[1], 101.0f);
  EXPECT_FLOAT_EQ(tensor.data<float>()[2], 25.0f);
  // u8 raw pixels are the picture itself.
  tensor = preprocess(image, parse_preprocessing_spec("resize=1,dtype=u8,std=1,nchw"));
  ASSERT_EQ(tensor.dtype(), DType::u8);
  EXPECT_EQ(tensor.data<uint8_t>()[0], 100);
  EXPECT_EQ(tensor.data<uint8_t>()[2], 102);
  // i8: value = pixel / 255, q = round_half_even(value / (1/128)) − 128 = round(100·128/255) − 128 = 50 − 128.
  tensor = preprocess(image, parse_preprocessing_spec("resize=1,dtype=i8,scale=0.0078125,zero_point=-128,nchw"));
  ASSERT_EQ(tensor.dtype(), DType::i8);
  EXPECT_EQ(tensor.data<int8_t>()[0], 50 - 128);
}

}  // namespace
}  // namespace npukit::vision
