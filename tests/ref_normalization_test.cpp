// Reference Softmax semantics across opsets, quantization rounding and saturation, Einsum forms and
// LayerNormalization outputs on cases the ONNX node suite leaves out.
#include <gtest/gtest.h>

#include <cmath>

#include "ref_single_node.h"

namespace npukit {
namespace {

using testing::float_attribute;
using testing::int_attribute;
using testing::run_single_node;
using testing::string_attribute;

TEST(RefSoftmax, Opset11CoercesTo2DButOpset13UsesOneAxis) {
  // [1, 2, 2] with axis 1: opset 11 normalizes over all 4 values, opset 13 over pairs along axis 1.
  const Tensor x = Tensor::from_vector<float>(DType::f32, {1, 2, 2}, {0, 0, 0, std::log(3.0f)});
  auto old_semantics = run_single_node("Softmax", {{"x", x}}, {{"axis", int_attribute(1)}}, 1, 11);
  auto new_semantics = run_single_node("Softmax", {{"x", x}}, {{"axis", int_attribute(1)}}, 1, 13);
  const std::vector<float> old_values = old_semantics[0].to_float_vector();
  const std::vector<float> new_values = new_semantics[0].to_float_vector();
  EXPECT_NEAR(old_values[0], 1.0 / 6, 1e-6);
  EXPECT_NEAR(old_values[3], 3.0 / 6, 1e-6);
  EXPECT_NEAR(new_values[0], 0.5, 1e-6);   // column 0: (0, 0)
  EXPECT_NEAR(new_values[1], 0.25, 1e-6);  // column 1: (0, log 3)
  EXPECT_NEAR(new_values[3], 0.75, 1e-6);
}

TEST(RefSoftmax, HardmaxPicksTheFirstMaximum) {
  auto outputs = run_single_node("Hardmax", {{"x", Tensor::from_vector<float>(DType::f32, {1, 4}, {1, 3, 3, 2})}}, {}, 1, 13);
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{0, 1, 0, 0}));
}

TEST(RefQuantization, RoundsHalfToEvenAndSaturates) {
  auto outputs = run_single_node("QuantizeLinear",
                                 {{"x", Tensor::from_vector<float>(DType::f32, {6}, {0.5f, 1.5f, 2.5f, -0.5f, 1000, -1000})},
                                  {"scale", Tensor::from_vector<float>(DType::f32, {}, {1.0f}), true},
                                  {"zero", Tensor::from_vector<int8_t>(DType::i8, {}, {0}), true}},
                                 {}, 1, 13);
  EXPECT_EQ(outputs[0].to_int64_vector(), (std::vector<int64_t>{0, 2, 2, 0, 127, -128}));
}

TEST(RefQuantization, PerAxisDequantizeUsesEachChannelsParameters) {
  auto outputs = run_single_node("DequantizeLinear",
                                 {{"x", Tensor::from_vector<uint8_t>(DType::u8, {2, 3}, {10, 20, 30, 10, 20, 30})},
                                  {"scale", Tensor::from_vector<float>(DType::f32, {3}, {1, 0.5f, 2}), true},
                                  {"zero", Tensor::from_vector<uint8_t>(DType::u8, {3}, {10, 0, 40}), true}},
                                 {{"axis", int_attribute(-1)}}, 1, 13);
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{0, 10, -20, 0, 10, -20}));
}

TEST(RefEinsum, DiagonalEllipsisAndImplicitOutput) {
  // "...ii->...i": batched diagonal.
  auto diagonal = run_single_node("Einsum", {{"x", Tensor::from_vector<float>(DType::f32, {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})}},
                                  {{"equation", string_attribute("...ii->...i")}}, 1, 13);
  EXPECT_EQ(diagonal[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(diagonal[0].to_float_vector(), (std::vector<float>{1, 4, 5, 8}));
  // Implicit output "ij,jk": j appears twice so it is summed; output "ik".
  auto product = run_single_node("Einsum", {{"a", Tensor::from_vector<float>(DType::f32, {1, 2}, {1, 2})},
                                            {"b", Tensor::from_vector<float>(DType::f32, {2, 2}, {3, 4, 5, 6})}},
                                 {{"equation", string_attribute("ij,jk")}}, 1, 13);
  EXPECT_EQ(product[0].to_float_vector(), (std::vector<float>{13, 16}));
  // Trace: "ii" with implicit output is a scalar.
  auto trace = run_single_node("Einsum", {{"x", Tensor::from_vector<float>(DType::f32, {2, 2}, {1, 2, 3, 4})}},
                               {{"equation", string_attribute("ii")}}, 1, 13);
  EXPECT_EQ(trace[0].shape(), Shape{});
  EXPECT_EQ(trace[0].to_float_vector(), (std::vector<float>{5}));
}

TEST(RefEinsum, MismatchedLabelSizesAreInvalid) {
  try {
    run_single_node("Einsum", {{"a", Tensor(DType::f32, {2, 3})}, {"b", Tensor(DType::f32, {4, 2})}},
                    {{"equation", string_attribute("ij,jk->ik")}}, 1, 13);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
  }
}

TEST(RefNormalization, LayerNormalizationStatisticsOutputs) {
  auto outputs = run_single_node("LayerNormalization",
                                 {{"x", Tensor::from_vector<float>(DType::f32, {2, 2}, {1, 3, 2, 2})},
                                  {"scale", Tensor::from_vector<float>(DType::f32, {2}, {1, 2}), true},
                                  {"bias", Tensor::from_vector<float>(DType::f32, {2}, {0, 1}), true}},
                                 {{"epsilon", float_attribute(0.0)}}, 3, 17);
  // Row 0: mean 2, deviation 1 -> (-1, 1) * (1, 2) + (0, 1) = (-1, 3).
  EXPECT_NEAR(outputs[0].data<float>()[0], -1, 1e-6);
  EXPECT_NEAR(outputs[0].data<float>()[1], 3, 1e-6);
  EXPECT_EQ(outputs[1].shape(), (Shape{2, 1}));
  EXPECT_EQ(outputs[1].to_float_vector()[0], 2.0f);
  EXPECT_EQ(outputs[2].to_float_vector()[0], 1.0f);
}

TEST(RefNormalization, GridSampleUnknownModeIsUnsupported) {
  try {
    run_single_node("GridSample", {{"x", Tensor(DType::f32, {1, 1, 2, 2})}, {"grid", Tensor(DType::f32, {1, 1, 1, 2})}},
                    {{"mode", string_attribute("lanczos")}}, 1, 16);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
  }
}

}  // namespace
}  // namespace npukit
