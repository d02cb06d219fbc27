// Reference elementwise kernels (unary, binary, activations, Cast) on cases the ONNX node suite leaves out:
// odd broadcast shapes, 16-bit rounding, integer edge values, error paths.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/float16.h"
#include "ref_single_node.h"

namespace npukit {
namespace {

using testing::float_attribute;
using testing::int_attribute;
using testing::pattern_values;
using testing::run_single_node;

TEST(RefElementwise, AddBroadcastsOddShapesLikeNumpy) {
  // [7, 1, 13] + [5, 1]  ->  [7, 5, 13]
  std::vector<float> a = pattern_values(7 * 13, 4.0f, 1);
  std::vector<float> b = pattern_values(5, 4.0f, 2);
  auto outputs = run_single_node("Add",
                                 {{"a", Tensor::from_vector(DType::f32, {7, 1, 13}, a)},
                                  {"b", Tensor::from_vector(DType::f32, {5, 1}, b)}},
                                 {});
  const Tensor& y = outputs[0];
  ASSERT_EQ(y.shape(), (Shape{7, 5, 13}));
  for (int64_t i = 0; i < 7; ++i) {
    for (int64_t j = 0; j < 5; ++j) {
      for (int64_t k = 0; k < 13; ++k) {
        EXPECT_EQ(y.data<float>()[(i * 5 + j) * 13 + k], a[static_cast<size_t>(i * 13 + k)] + b[static_cast<size_t>(j)]);
      }
    }
  }
}

TEST(RefElementwise, IncompatibleShapesAreInvalidArgument) {
  try {
    run_single_node("Mul",
                    {{"a", Tensor(DType::f32, {2, 3})}, {"b", Tensor(DType::f32, {4})}}, {});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
  }
}

TEST(RefElementwise, IntegerDivisionTruncatesAndNeverTraps) {
  auto outputs = run_single_node("Div",
                                 {{"a", Tensor::from_vector<int32_t>(DType::i32, {4}, {7, -7, 5, std::numeric_limits<int32_t>::min()})},
                                  {"b", Tensor::from_vector<int32_t>(DType::i32, {4}, {2, 2, 0, -1})}},
                                 {});
  std::vector<int32_t> values(outputs[0].values<int32_t>().begin(), outputs[0].values<int32_t>().end());
  EXPECT_EQ(values[0], 3);
  EXPECT_EQ(values[1], -3);
  EXPECT_EQ(values[2], 0);  // division by zero is undefined: 0, not a trap
}

TEST(RefElementwise, ModFollowsDivisorSignUnlessFmod) {
  Tensor a = Tensor::from_vector<int64_t>(DType::i64, {4}, {-7, 7, -7, 7});
  Tensor b = Tensor::from_vector<int64_t>(DType::i64, {4}, {3, -3, -3, 3});
  auto python_style = run_single_node("Mod", {{"a", a}, {"b", b}}, {});
  EXPECT_EQ(python_style[0].to_int64_vector(), (std::vector<int64_t>{2, -2, -1, 1}));
  auto c_style = run_single_node("Mod", {{"a", a}, {"b", b}}, {{"fmod", int_attribute(1)}});
  EXPECT_EQ(c_style[0].to_int64_vector(), (std::vector<int64_t>{-1, 1, -1, 1}));
  try {
    run_single_node("Mod", {{"a", Tensor(DType::f32, {1})}, {"b", Tensor(DType::f32, {1})}}, {});
    FAIL() << "float Mod without fmod=1 must be rejected";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
  }
}

TEST(RefElementwise, SumOfHalfFloatsRoundsOnce) {
  // 1 + 2^-11 + 2^-11 in half: rounding after each add gives 1 (ties to even twice); once gives 1 + 2^-10.
  const float tiny = std::ldexp(1.0f, -11);
  auto outputs = run_single_node("Sum",
                                 {{"a", Tensor::from_vector<Float16>(DType::f16, {1}, {Float16(1.0f)})},
                                  {"b", Tensor::from_vector<Float16>(DType::f16, {1}, {Float16(tiny)})},
                                  {"c", Tensor::from_vector<Float16>(DType::f16, {1}, {Float16(tiny)})}},
                                 {});
  EXPECT_EQ(static_cast<float>(outputs[0].data<Float16>()[0]), 1.0f + std::ldexp(1.0f, -10));
}

TEST(RefElementwise, MaxPropagatesNaNAndBroadcastsThreeInputs) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto outputs = run_single_node("Max",
                                 {{"a", Tensor::from_vector<float>(DType::f32, {3, 1}, {1, nan, 3})},
                                  {"b", Tensor::from_vector<float>(DType::f32, {2}, {2, 0})},
                                  {"c", Tensor::from_vector<float>(DType::f32, {}, {-1})}},
                                 {});
  std::vector<float> values = outputs[0].to_float_vector();
  ASSERT_EQ(outputs[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(values[0], 2);
  EXPECT_EQ(values[1], 1);
  EXPECT_TRUE(std::isnan(values[2]));
  EXPECT_TRUE(std::isnan(values[3]));
  EXPECT_EQ(values[4], 3);
  EXPECT_EQ(values[5], 3);
}

TEST(RefElementwise, WhereBroadcastsAllThreeInputs) {
  std::vector<bool> condition_values = {true, false, true};
  Tensor condition(DType::boolean, {3, 1});
  for (size_t i = 0; i < 3; ++i) condition.data<bool>()[i] = condition_values[i];
  std::vector<float> x = pattern_values(127, 2.0f, 3);
  auto outputs = run_single_node("Where",
                                 {{"c", condition},
                                  {"x", Tensor::from_vector(DType::f32, {1, 127}, x)},
                                  {"y", Tensor::from_vector<float>(DType::f32, {}, {-9})}},
                                 {});
  ASSERT_EQ(outputs[0].shape(), (Shape{3, 127}));
  for (int64_t row = 0; row < 3; ++row) {
    for (int64_t column = 0; column < 127; ++column) {
      float expected = condition_values[static_cast<size_t>(row)] ? x[static_cast<size_t>(column)] : -9.0f;
      EXPECT_EQ(outputs[0].data<float>()[row * 127 + column], expected);
    }
  }
}

TEST(RefElementwise, ClipWithAttributesBeforeOpset11) {
  auto outputs = run_single_node("Clip", {{"x", Tensor::from_vector<float>(DType::f32, {4}, {-3, -0.5f, 0.5f, 3})}},
                                 {{"min", float_attribute(-1)}, {"max", float_attribute(1)}}, 1, 6);
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{-1, -0.5f, 0.5f, 1}));
}

TEST(RefElementwise, ClipIntegersWithOnlyMax) {
  auto outputs = run_single_node("Clip",
                                 {{"x", Tensor::from_vector<int8_t>(DType::i8, {3}, {-128, 5, 127})},
                                  {"min", Tensor()},
                                  {"max", Tensor::from_vector<int8_t>(DType::i8, {}, {6}), true}},
                                 {});
  EXPECT_EQ(outputs[0].to_int64_vector(), (std::vector<int64_t>{-128, 5, 6}));
}

TEST(RefElementwise, CastFloatToIntegerTruncatesAndSaturates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto outputs = run_single_node("Cast", {{"x", Tensor::from_vector<float>(DType::f32, {5}, {-2.7f, 2.7f, 1e10f, -1e10f, nan})}},
                                 {{"to", int_attribute(6)}});  // INT32
  EXPECT_EQ(outputs[0].dtype(), DType::i32);
  EXPECT_EQ(outputs[0].to_int64_vector(),
            (std::vector<int64_t>{-2, 2, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), 0}));
}

TEST(RefElementwise, CastDoubleToHalfRoundsOnce) {
  // 1 + 2^-11 + 2^-40: nearest half is 1 + 2^-10; via float nearest it would tie and round down to 1.
  const double value = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  auto outputs = run_single_node("Cast", {{"x", Tensor::from_vector<double>(DType::f64, {1}, {value})}},
                                 {{"to", int_attribute(10)}});  // FLOAT16
  EXPECT_EQ(static_cast<float>(outputs[0].data<Float16>()[0]), 1.0f + std::ldexp(1.0f, -10));
}

TEST(RefElementwise, CastToStringIsUnsupported) {
  try {
    run_single_node("Cast", {{"x", Tensor(DType::f32, {1})}}, {{"to", int_attribute(8)}});  // STRING
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
  }
}

TEST(RefElementwise, UnaryMathRejectsIntegerInputs) {
  try {
    run_single_node("Exp", {{"x", Tensor(DType::i32, {2})}}, {});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
  }
}

TEST(RefElementwise, RoundIsHalfToEven) {
  auto outputs = run_single_node("Round", {{"x", Tensor::from_vector<float>(DType::f32, {6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.6f})}}, {});
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{0, 2, 2, -0, -2, 3}));
}

TEST(RefElementwise, BitShiftByTheWidthGivesZero) {
  auto outputs = run_single_node("BitShift",
                                 {{"x", Tensor::from_vector<uint8_t>(DType::u8, {3}, {255, 1, 128})},
                                  {"y", Tensor::from_vector<uint8_t>(DType::u8, {3}, {8, 7, 200})}},
                                 {{"direction", testing::string_attribute("LEFT")}});
  EXPECT_EQ(outputs[0].to_int64_vector(), (std::vector<int64_t>{0, 128, 0}));
}

TEST(RefElementwise, PReluSlopePerChannel) {
  std::vector<float> x = pattern_values(2 * 3 * 5, 3.0f, 4);
  auto outputs = run_single_node("PRelu",
                                 {{"x", Tensor::from_vector(DType::f32, {2, 3, 5}, x)},
                                  {"slope", Tensor::from_vector<float>(DType::f32, {3, 1}, {0.1f, 0.2f, 0.3f})}},
                                 {});
  for (int64_t i = 0; i < 30; ++i) {
    float slope = 0.1f * static_cast<float>((i / 5) % 3 + 1);
    float value = x[static_cast<size_t>(i)];
    EXPECT_FLOAT_EQ(outputs[0].data<float>()[i], value < 0 ? value * slope : value);
  }
}

}  // namespace
}  // namespace npukit
