// Reference Conv, ConvTranspose, pooling and matrix products on cases the ONNX node suite leaves out: odd
// sizes that exercise the GEMM's edge tiles, groups with dilation and asymmetric padding, batch
// broadcasting, and bad input. Expected values come from direct loops written from the definitions.
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
using testing::string_attribute;

// Direct 2-D convolution from the definition (NCHW, OIHW), the oracle for the im2col + GEMM path.
std::vector<double> direct_conv2d(const std::vector<float>& x, Shape x_shape, const std::vector<float>& w, Shape w_shape,
                                  const std::vector<float>& bias, int64_t group, std::vector<int64_t> strides,
                                  std::vector<int64_t> dilations, std::vector<int64_t> pads, Shape& y_shape) {
  const int64_t n = x_shape[0], c = x_shape[1], h = x_shape[2], wd = x_shape[3];
  const int64_t m = w_shape[0], cg = w_shape[1], kh = w_shape[2], kw = w_shape[3];
  const int64_t oh = (h + pads[0] + pads[2] - ((kh - 1) * dilations[0] + 1)) / strides[0] + 1;
  const int64_t ow = (wd + pads[1] + pads[3] - ((kw - 1) * dilations[1] + 1)) / strides[1] + 1;
  y_shape = {n, m, oh, ow};
  std::vector<double> y(static_cast<size_t>(n * m * oh * ow), 0);
  const int64_t mg = m / group;
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t o = 0; o < m; ++o) {
      const int64_t g = o / mg;
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          double sum = bias.empty() ? 0 : bias[o];
          for (int64_t ci = 0; ci < cg; ++ci) {
            for (int64_t ky = 0; ky < kh; ++ky) {
              for (int64_t kx = 0; kx < kw; ++kx) {
                const int64_t iy = oy * strides[0] - pads[0] + ky * dilations[0];
                const int64_t ix = ox * strides[1] - pads[1] + kx * dilations[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                sum += static_cast<double>(x[((b * c + g * cg + ci) * h + iy) * wd + ix]) *
                       w[((o * cg + ci) * kh + ky) * kw + kx];
              }
            }
          }
          y[((b * m + o) * oh + oy) * ow + ox] = sum;
        }
      }
    }
  }
  return y;
}

TEST(RefConvolution, GroupedDilatedStridedAsymmetricPaddingOddSizes) {
  const Shape x_shape{2, 6, 13, 7}, w_shape{9, 2, 3, 2};
  const std::vector<float> x = pattern_values(shape_element_count(x_shape), 2.0f, 3);
  const std::vector<float> w = pattern_values(shape_element_count(w_shape), 1.0f, 4);
  const std::vector<float> bias = pattern_values(9, 1.0f, 5);
  Shape y_shape;
  const std::vector<double> expected = direct_conv2d(x, x_shape, w, w_shape, bias, 3, {2, 1}, {2, 3}, {1, 0, 2, 3}, y_shape);
  auto outputs = run_single_node("Conv",
                                 {{"x", Tensor::from_vector(DType::f32, x_shape, x)},
                                  {"w", Tensor::from_vector(DType::f32, w_shape, w), true},
                                  {"b", Tensor::from_vector(DType::f32, {9}, bias), true}},
                                 {{"group", int_attribute(3)},
                                  {"strides", ints_attribute({2, 1})},
                                  {"dilations", ints_attribute({2, 3})},
                                  {"pads", ints_attribute({1, 0, 2, 3})}});
  ASSERT_EQ(outputs[0].shape(), y_shape);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(outputs[0].data<float>()[i], expected[i], 1e-4) << i;
}

TEST(RefConvolution, PointwiseConvolutionWithManyChannelsMatchesDefinition) {
  // 1x1 convolutions skip im2col; 37 output channels and a 127-pixel plane leave edge tiles both ways.
  const Shape x_shape{1, 19, 1, 127}, w_shape{37, 19, 1, 1};
  const std::vector<float> x = pattern_values(shape_element_count(x_shape), 2.0f, 6);
  const std::vector<float> w = pattern_values(shape_element_count(w_shape), 1.0f, 7);
  Shape y_shape;
  const std::vector<double> expected = direct_conv2d(x, x_shape, w, w_shape, {}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, y_shape);
  auto outputs = run_single_node("Conv", {{"x", Tensor::from_vector(DType::f32, x_shape, x)},
                                          {"w", Tensor::from_vector(DType::f32, w_shape, w), true}},
                                 {});
  ASSERT_EQ(outputs[0].shape(), y_shape);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(outputs[0].data<float>()[i], expected[i], 1e-4) << i;
}

TEST(RefConvolution, Float16ComputesInFloatAndRoundsOnce) {
  // 0.1 summed 9 times: in half precision step by step it drifts; computed in float it rounds to half(0.9).
  std::vector<Float16> x(9, Float16(0.1f)), w(9, Float16(1.0f));
  auto outputs = run_single_node("Conv", {{"x", Tensor::from_vector(DType::f16, {1, 1, 3, 3}, x)},
                                          {"w", Tensor::from_vector(DType::f16, {1, 1, 3, 3}, w), true}},
                                 {});
  ASSERT_EQ(outputs[0].shape(), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(outputs[0].data<Float16>()[0].bits, Float16(9 * static_cast<float>(Float16(0.1f))).bits);
}

TEST(RefConvolution, SameLowerPutsTheOddPaddingFirst) {
  // 1-D, length 4, kernel 2, stride 1: one padding element, at the beginning for SAME_LOWER.
  auto outputs = run_single_node("Conv", {{"x", Tensor::from_vector<float>(DType::f32, {1, 1, 4}, {1, 2, 3, 4})},
                                          {"w", Tensor::from_vector<float>(DType::f32, {1, 1, 2}, {1, 10}), true}},
                                 {{"auto_pad", string_attribute("SAME_LOWER")}});
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{10, 21, 32, 43}));
}

TEST(RefConvolution, ChannelMismatchIsInvalidArgument) {
  try {
    run_single_node("Conv", {{"x", Tensor(DType::f32, {1, 3, 5, 5})}, {"w", Tensor(DType::f32, {4, 2, 3, 3}), true}}, {});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
  }
}

TEST(RefConvolution, IntegerConvUnsupportedDtypeIsUnsupported) {
  try {
    run_single_node("Conv", {{"x", Tensor(DType::i32, {1, 1, 3, 3})}, {"w", Tensor(DType::i32, {1, 1, 1, 1}), true}}, {});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::unsupported);
  }
}

TEST(RefConvolution, ConvTransposeIsTheAdjointOfConv) {
  // <conv(x, w), y> == <x, conv_transpose(y, w)> for stride 2, dilation 2, pads (1, 2), 2 groups.
  const Shape x_shape{1, 4, 9}, w_shape{6, 2, 3};  // Conv: 4 -> 6 channels, group 2
  const std::vector<float> x = pattern_values(shape_element_count(x_shape), 1.0f, 8);
  const std::vector<float> w = pattern_values(shape_element_count(w_shape), 1.0f, 9);
  const std::map<std::string, ir::Attribute> attributes{{"group", int_attribute(2)},
                                                        {"strides", ints_attribute({2})},
                                                        {"dilations", ints_attribute({2})},
                                                        {"pads", ints_attribute({1, 2})}};
  auto conv = run_single_node("Conv", {{"x", Tensor::from_vector(DType::f32, x_shape, x)},
                                       {"w", Tensor::from_vector(DType::f32, w_shape, w), true}},
                              attributes);
  const Shape y_shape = conv[0].shape();
  ASSERT_EQ(y_shape, (Shape{1, 6, 4}));
  const std::vector<float> y = pattern_values(shape_element_count(y_shape), 1.0f, 10);
  // ConvTranspose weights are [C_in_of_transpose, C_out / group, k] = the Conv weights read as [6, 2, 3].
  auto transposed = run_single_node("ConvTranspose", {{"y", Tensor::from_vector(DType::f32, y_shape, y)},
                                                      {"w", Tensor::from_vector(DType::f32, w_shape, w), true}},
                                    {{"group", int_attribute(2)},
                                     {"strides", ints_attribute({2})},
                                     {"dilations", ints_attribute({2})},
                                     {"pads", ints_attribute({1, 2})},
                                     {"output_padding", ints_attribute({1})}});
  ASSERT_EQ(transposed[0].shape(), x_shape);
  double left = 0, right = 0;
  for (size_t i = 0; i < y.size(); ++i) left += static_cast<double>(conv[0].data<float>()[i]) * y[i];
  for (size_t i = 0; i < x.size(); ++i) right += static_cast<double>(transposed[0].data<float>()[i]) * x[i];
  EXPECT_NEAR(left, right, 1e-4);
}

TEST(RefPooling, MaxPoolCeilModeIndicesAndColumnMajorStorage) {
  // 5x5 input 0..24, kernel 2, stride 2, ceil_mode: 3x3 output, the last window clipped to one row/column.
  std::vector<float> x(25);
  for (int i = 0; i < 25; ++i) x[i] = static_cast<float>(i);
  auto outputs = run_single_node("MaxPool", {{"x", Tensor::from_vector(DType::f32, {1, 1, 5, 5}, x)}},
                                 {{"kernel_shape", ints_attribute({2, 2})},
                                  {"strides", ints_attribute({2, 2})},
                                  {"ceil_mode", int_attribute(1)},
                                  {"storage_order", int_attribute(1)}},
                                 2, 12);
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{6, 8, 9, 16, 18, 19, 21, 23, 24}));
  // Column-major index of (row, column) in a 5x5 plane is column * 5 + row.
  EXPECT_EQ(outputs[1].to_int64_vector(), (std::vector<int64_t>{6, 16, 21, 8, 18, 23, 9, 19, 24}));
}

TEST(RefPooling, AveragePoolCountIncludePadWithCeilMode) {
  // 1-D, 4 ones, kernel 3, stride 2, pads (1, 1), ceil_mode. Windows: [-1,2) [1,4) [3,5) -> the last one
  // reaches the end padding; count_include_pad divides by the taps inside the padded input.
  auto with_pad = run_single_node("AveragePool", {{"x", Tensor::from_vector<float>(DType::f32, {1, 1, 4}, {1, 1, 1, 1})}},
                                  {{"kernel_shape", ints_attribute({3})},
                                   {"strides", ints_attribute({2})},
                                   {"pads", ints_attribute({1, 1})},
                                   {"ceil_mode", int_attribute(1)},
                                   {"count_include_pad", int_attribute(1)}},
                                  1, 11);
  const std::vector<float> values = with_pad[0].to_float_vector();
  ASSERT_EQ(values.size(), 3u);
  EXPECT_NEAR(values[0], 2.0f / 3.0f, 1e-6);
  EXPECT_NEAR(values[1], 1.0f, 1e-6);
  EXPECT_NEAR(values[2], 0.5f, 1e-6);
}

TEST(RefMatMul, OddSizesAndBatchBroadcastingAgainstDefinition) {
  // [3, 1, 7, 127] x [5, 127, 13] -> [3, 5, 7, 13]: edge tiles in m and n, a depth above one block.
  const Shape a_shape{3, 1, 7, 127}, b_shape{5, 127, 13};
  const std::vector<float> a = pattern_values(shape_element_count(a_shape), 1.0f, 11);
  const std::vector<float> b = pattern_values(shape_element_count(b_shape), 1.0f, 12);
  auto outputs = run_single_node("MatMul", {{"a", Tensor::from_vector(DType::f32, a_shape, a)},
                                            {"b", Tensor::from_vector(DType::f32, b_shape, b)}},
                                 {}, 1, 13);
  ASSERT_EQ(outputs[0].shape(), (Shape{3, 5, 7, 13}));
  for (int64_t p = 0; p < 3; ++p) {
    for (int64_t q = 0; q < 5; ++q) {
      for (int64_t i = 0; i < 7; ++i) {
        for (int64_t j = 0; j < 13; ++j) {
          double expected = 0;
          for (int64_t k = 0; k < 127; ++k) expected += static_cast<double>(a[(p * 7 + i) * 127 + k]) * b[(q * 127 + k) * 13 + j];
          EXPECT_NEAR(outputs[0].data<float>()[((p * 5 + q) * 7 + i) * 13 + j], expected, 1e-4);
        }
      }
    }
  }
}

TEST(RefMatMul, VectorOperandsDropTheirDimension) {
  auto outputs = run_single_node("MatMul", {{"a", Tensor::from_vector<float>(DType::f32, {3}, {1, 2, 3})},
                                            {"b", Tensor::from_vector<float>(DType::f32, {2, 3, 2}, {1, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2})}},
                                 {}, 1, 13);
  EXPECT_EQ(outputs[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{4, 5, 12, 12}));
}

TEST(RefMatMul, Int32WrapsAroundLikeHardware) {
  auto outputs = run_single_node("MatMul", {{"a", Tensor::from_vector<int32_t>(DType::i32, {1, 2}, {2147483647, 1})},
                                            {"b", Tensor::from_vector<int32_t>(DType::i32, {2, 1}, {1, 1})}},
                                 {}, 1, 13);
  EXPECT_EQ(outputs[0].data<int32_t>()[0], std::numeric_limits<int32_t>::min());
}

TEST(RefMatMul, IncompatibleInnerDimensionsAreInvalid) {
  try {
    run_single_node("MatMul", {{"a", Tensor(DType::f32, {2, 3})}, {"b", Tensor(DType::f32, {4, 2})}}, {}, 1, 13);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
  }
}

TEST(RefMatMul, GemmTransposedWithColumnBias) {
  // A^T (3x2 stored as 2x3), B^T (2x2), C [2, 1] broadcast along columns.
  auto outputs = run_single_node("Gemm", {{"a", Tensor::from_vector<float>(DType::f32, {3, 2}, {1, 4, 2, 5, 3, 6})},
                                          {"b", Tensor::from_vector<float>(DType::f32, {2, 3}, {1, 1, 1, 0, 1, 0})},
                                          {"c", Tensor::from_vector<float>(DType::f32, {2, 1}, {100, 200})}},
                                 {{"transA", int_attribute(1)}, {"transB", int_attribute(1)}}, 1, 13);
  // A = [[1,2,3],[4,5,6]], B = [[1,0],[1,1],[1,0]]: A B = [[6,2],[15,5]].
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{106, 102, 215, 205}));
}

}  // namespace
}  // namespace npukit
