// Reference reductions, TopK, CumSum and Det on cases the ONNX node suite leaves out.
#include <gtest/gtest.h>

#include <cmath>

#include "core/float16.h"
#include "ref_single_node.h"

namespace npukit {
namespace {

using testing::int_attribute;
using testing::ints_attribute;
using testing::pattern_values;
using testing::run_single_node;

TEST(RefReduction, SumOverMiddleAxisOfOddShape) {
  std::vector<float> x = pattern_values(7 * 13 * 5, 3.0f, 5);
  auto outputs = run_single_node("ReduceSum",
                                 {{"x", Tensor::from_vector(DType::f32, {7, 13, 5}, x)},
                                  {"axes", Tensor::from_vector<int64_t>(DType::i64, {1}, {-2}), true}},
                                 {{"keepdims", int_attribute(0)}}, 1, 13);
  ASSERT_EQ(outputs[0].shape(), (Shape{7, 5}));
  for (int64_t i = 0; i < 7; ++i) {
    for (int64_t k = 0; k < 5; ++k) {
      double expected = 0;
      for (int64_t j = 0; j < 13; ++j) expected += x[static_cast<size_t>((i * 13 + j) * 5 + k)];
      EXPECT_NEAR(outputs[0].data<float>()[i * 5 + k], expected, 1e-5);
    }
  }
}

TEST(RefReduction, AxesAttributeBeforeOpset13) {
  auto outputs = run_single_node("ReduceSum", {{"x", Tensor::from_vector<int32_t>(DType::i32, {2, 3}, {1, 2, 3, 4, 5, 6})}},
                                 {{"axes", ints_attribute({0})}}, 1, 11);
  EXPECT_EQ(outputs[0].shape(), (Shape{1, 3}));
  EXPECT_EQ(outputs[0].to_int64_vector(), (std::vector<int64_t>{5, 7, 9}));
}

TEST(RefReduction, EmptyAxesReduceEverythingUnlessNoop) {
  Tensor x = Tensor::from_vector<float>(DType::f32, {2, 2}, {1, 5, -2, 3});
  auto all = run_single_node("ReduceMax", {{"x", x}}, {}, 1, 13);
  EXPECT_EQ(all[0].shape(), (Shape{1, 1}));
  EXPECT_EQ(all[0].to_float_vector(), (std::vector<float>{5}));
  auto noop = run_single_node("ReduceSum", {{"x", x}, {"axes", Tensor(DType::i64, {0}), true}},
                              {{"noop_with_empty_axes", int_attribute(1)}}, 1, 13);
  EXPECT_EQ(noop[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(noop[0].to_float_vector(), (std::vector<float>{1, 5, -2, 3}));
}

TEST(RefReduction, LogSumExpDoesNotOverflow) {
  auto outputs = run_single_node("ReduceLogSumExp", {{"x", Tensor::from_vector<float>(DType::f32, {2}, {1000, 1000})}},
                                 {{"keepdims", int_attribute(0)}}, 1, 13);
  EXPECT_NEAR(outputs[0].to_float_vector()[0], 1000.0 + std::log(2.0), 1e-3);
}

TEST(RefReduction, ProductOverEmptyAxisIsOne) {
  auto outputs = run_single_node("ReduceProd", {{"x", Tensor(DType::f32, {3, 0})}},
                                 {{"axes", ints_attribute({1})}, {"keepdims", int_attribute(0)}}, 1, 13);
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{1, 1, 1}));
}

TEST(RefReduction, MeanOfHalfFloatsAccumulatesWide) {
  // 4096 values of 1.5: a half accumulator would stop growing at 2048; the mean must stay 1.5.
  std::vector<Float16> values(4096, Float16(1.5f));
  auto outputs = run_single_node("ReduceMean", {{"x", Tensor::from_vector(DType::f16, {4096}, values)}},
                                 {{"keepdims", int_attribute(0)}}, 1, 13);
  EXPECT_EQ(static_cast<float>(outputs[0].data<Float16>()[0]), 1.5f);
}

TEST(RefReduction, TopKSmallestKeepsLowerIndexOnTies) {
  auto outputs = run_single_node("TopK",
                                 {{"x", Tensor::from_vector<float>(DType::f32, {2, 5}, {3, 1, 2, 1, 5, 7, 7, 7, 0, 9})},
                                  {"k", Tensor::from_vector<int64_t>(DType::i64, {1}, {3}), true}},
                                 {{"largest", int_attribute(0)}}, 2, 11);
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{1, 1, 2, 0, 7, 7}));
  EXPECT_EQ(outputs[1].to_int64_vector(), (std::vector<int64_t>{1, 3, 2, 3, 0, 1}));
}

TEST(RefReduction, TopKWithKBeyondAxisIsInvalid) {
  try {
    run_single_node("TopK", {{"x", Tensor(DType::f32, {4})}, {"k", Tensor::from_vector<int64_t>(DType::i64, {1}, {5}), true}},
                    {}, 2, 11);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
  }
}

TEST(RefReduction, CumSumExclusiveReverseOnMiddleAxis) {
  std::vector<float> x = pattern_values(3 * 7 * 5, 2.0f, 6);
  auto outputs = run_single_node("CumSum",
                                 {{"x", Tensor::from_vector(DType::f32, {3, 7, 5}, x)},
                                  {"axis", Tensor::from_vector<int32_t>(DType::i32, {}, {1}), true}},
                                 {{"exclusive", int_attribute(1)}, {"reverse", int_attribute(1)}});
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 7; ++j) {
      for (int64_t k = 0; k < 5; ++k) {
        float expected = 0;
        for (int64_t later = j + 1; later < 7; ++later) expected += x[static_cast<size_t>((i * 7 + later) * 5 + k)];
        EXPECT_NEAR(outputs[0].data<float>()[(i * 7 + j) * 5 + k], expected, 1e-5);
      }
    }
  }
}

TEST(RefReduction, DeterminantNeedsPivoting) {
  // The leading zero forces a row exchange; det = -306 for the second matrix.
  auto outputs = run_single_node("Det",
                                 {{"x", Tensor::from_vector<double>(DType::f64, {2, 3, 3},
                                                                    {0, 1, 2, 1, 0, 3, 4, -3, 8,  //
                                                                     6, 1, 1, 4, -2, 5, 2, 8, 7})}},
                                 {});
  ASSERT_EQ(outputs[0].shape(), (Shape{2}));
  EXPECT_NEAR(outputs[0].data<double>()[0], -2.0, 1e-12);
  EXPECT_NEAR(outputs[0].data<double>()[1], -306.0, 1e-9);
}

}  // namespace
}  // namespace npukit
