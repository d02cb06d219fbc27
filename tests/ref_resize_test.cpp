// Reference Resize / NonMaxSuppression / RoiAlign on cases the ONNX node suite leaves out: odd shapes,
// integer images, 1-D resizes checked against the formula, NMS ties and limits.
#include <gtest/gtest.h>

#include <cmath>

#include "ref_single_node.h"

namespace npukit::testing {
namespace {

Tensor f32_vector(std::vector<float> values) {
  return Tensor::from_vector<float>(DType::f32, {static_cast<int64_t>(values.size())}, values);
}

TEST(RefResize, NearestUint8UpsampleOnOddShape) {
  // YOLO-style 2x nearest upsampling (asymmetric, floor) of a 1x3x7x13 uint8 image.
  Tensor image(DType::u8, {1, 3, 7, 13});
  for (int64_t i = 0; i < image.element_count(); ++i) image.data<uint8_t>()[i] = static_cast<uint8_t>(i * 7);
  Tensor output = run_single_node("Resize",
                                  {{"x", image}, {"roi", Tensor()}, {"scales", f32_vector({1, 1, 2, 2}), true}},
                                  {{"coordinate_transformation_mode", string_attribute("asymmetric")},
                                   {"nearest_mode", string_attribute("floor")}})[0];
  ASSERT_EQ(output.shape(), (Shape{1, 3, 14, 26}));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 14; ++y)
      for (int64_t x = 0; x < 26; ++x)
        ASSERT_EQ(output.data<uint8_t>()[(c * 14 + y) * 26 + x], image.data<uint8_t>()[(c * 7 + y / 2) * 13 + x / 2]);
}

TEST(RefResize, LinearHalfPixelSevenToThirteenMatchesFormula) {
  std::vector<float> values = pattern_values(7);
  Tensor input = Tensor::from_vector<float>(DType::f32, {1, 7}, values);
  Tensor output = run_single_node("Resize",
                                  {{"x", input}, {"roi", Tensor()}, {"scales", Tensor()},
                                   {"sizes", Tensor::from_vector<int64_t>(DType::i64, {2}, {1, 13}), true}},
                                  {{"mode", string_attribute("linear")}})[0];
  ASSERT_EQ(output.shape(), (Shape{1, 13}));
  for (int64_t x = 0; x < 13; ++x) {
    double original = (x + 0.5) * 7.0 / 13.0 - 0.5;
    double low = std::floor(original);
    double ratio = original - low;
    auto at = [&](double index) { return values[static_cast<size_t>(std::clamp(index, 0.0, 6.0))]; };
    double expected = at(low) * (1.0 - ratio) + at(low + 1) * ratio;
    EXPECT_NEAR(output.data<float>()[x], expected, 1e-5) << "x = " << x;
  }
}

TEST(RefResize, LinearAlignCornersHitsBothEnds) {
  Tensor input = Tensor::from_vector<float>(DType::f32, {1, 2}, {0, 10});
  Tensor output = run_single_node("Resize",
                                  {{"x", input}, {"roi", Tensor()}, {"scales", Tensor()},
                                   {"sizes", Tensor::from_vector<int64_t>(DType::i64, {2}, {1, 5}), true}},
                                  {{"mode", string_attribute("linear")},
                                   {"coordinate_transformation_mode", string_attribute("align_corners")}})[0];
  EXPECT_EQ(output.to_float_vector(), (std::vector<float>{0, 2.5f, 5, 7.5f, 10}));
}

TEST(RefResize, LinearOnIntegersIsUnsupported) {
  Tensor input(DType::u8, {1, 1, 2, 2});
  try {
    run_single_node("Resize", {{"x", input}, {"roi", Tensor()}, {"scales", f32_vector({1, 1, 2, 2}), true}},
                    {{"mode", string_attribute("linear")}});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
  }
}

TEST(RefDetection, NonMaxSuppressionTiesLimitsAndCenterBoxes) {
  // Four boxes in center format; 0 and 1 overlap heavily, 2 is apart, 3 is a copy of 2 with a tied score.
  Tensor boxes = Tensor::from_vector<float>(DType::f32, {1, 4, 4},
                                            {0.5f, 0.5f, 1, 1, 0.55f, 0.5f, 1, 1, 5, 5, 1, 1, 5, 5, 1, 1});
  Tensor scores = Tensor::from_vector<float>(DType::f32, {1, 1, 4}, {0.9f, 0.95f, 0.3f, 0.3f});
  auto run = [&](int64_t max_boxes, float score_threshold) {
    return run_single_node("NonMaxSuppression",
                           {{"boxes", boxes},
                            {"scores", scores},
                            {"max", Tensor::from_vector<int64_t>(DType::i64, {1}, {max_boxes}), true},
                            {"iou", Tensor::from_vector<float>(DType::f32, {1}, {0.5f}), true},
                            {"score", Tensor::from_vector<float>(DType::f32, {1}, {score_threshold}), true}},
                           {{"center_point_box", int_attribute(1)}})[0];
  };
  Tensor all = run(10, 0.0f);
  ASSERT_EQ(all.shape(), (Shape{2, 3}));
  // Box 1 (best score) suppresses box 0; of the tied boxes 2 and 3 the lower index wins and suppresses 3.
  EXPECT_EQ(all.to_int64_vector(), (std::vector<int64_t>{0, 0, 1, 0, 0, 2}));
  EXPECT_EQ(run(1, 0.0f).to_int64_vector(), (std::vector<int64_t>{0, 0, 1}));
  // Scores must be strictly above the threshold.
  EXPECT_EQ(run(10, 0.3f).to_int64_vector(), (std::vector<int64_t>{0, 0, 1}));
}

TEST(RefDetection, RoiAlignOfConstantImageIsConstant) {
  Tensor image(DType::f32, {1, 2, 7, 13});
  for (int64_t i = 0; i < image.element_count(); ++i) image.data<float>()[i] = i < 91 ? 3.0f : -2.0f;
  Tensor rois = Tensor::from_vector<float>(DType::f32, {2, 4}, {1, 1, 6, 5, 0, 0, 12.5f, 6.5f});
  Tensor batch = Tensor::from_vector<int64_t>(DType::i64, {2}, {0, 0});
  Tensor output = run_single_node("RoiAlign", {{"x", image}, {"rois", rois}, {"batch", batch}},
                                  {{"output_height", int_attribute(3)},
                                   {"output_width", int_attribute(5)},
                                   {"sampling_ratio", int_attribute(2)}})[0];
  ASSERT_EQ(output.shape(), (Shape{2, 2, 3, 5}));
  for (int64_t roi = 0; roi < 2; ++roi) {
    for (int64_t i = 0; i < 15; ++i) {
      EXPECT_NEAR(output.data<float>()[(roi * 2 + 0) * 15 + i], 3.0f, 1e-5);
      EXPECT_NEAR(output.data<float>()[(roi * 2 + 1) * 15 + i], -2.0f, 1e-5);
    }
  }
}

}  // namespace
}  // namespace npukit::testing
