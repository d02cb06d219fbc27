// The integer reference kernels (runtime/kernels/integer): hand-computed vectors for a few elements each —
// ties, negative accumulators, saturation, INT32 extremes, the clamp of a fused activation — and the
// difference a requantization variant makes.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>

#include "npukit/error.h"
#include "runtime/kernels/integer/average_pool.h"
#include "runtime/kernels/integer/convolution.h"
#include "runtime/kernels/integer/elementwise.h"
#include "runtime/kernels/integer/lookup_table.h"
#include "runtime/kernels/integer/matmul.h"
#include "runtime/kernels/integer/requantize.h"

namespace npukit {
namespace {

using namespace runtime::integer;
using targets::Requantization;

std::vector<int32_t> values_of(const Tensor& tensor) {
  std::vector<int32_t> values;
  for (int64_t i = 0; i < tensor.element_count(); ++i) values.push_back(static_cast<int32_t>(tensor.value_as_int64(i)));
  return values;
}

OutputStage stage(std::vector<double> multipliers, Requantization variant, int32_t zero_point = 0, int32_t minimum = -128,
                  int32_t maximum = 127, DType dtype = DType::i8) {
  return OutputStage{Requantizer(multipliers, variant, 31), zero_point, minimum, maximum, dtype};
}

TEST(IntegerRequantizer, TiesFollowTheVariant) {
  // M = 0.5: every odd value is a tie. gemmlowp's doubling high multiply rounds ties toward +infinity, the
  // float scale of ONNX Runtime half to even, TVM's TONEAREST away from zero.
  const Requantizer double_rounding({0.5}, Requantization::fixed_point_double_rounding, 31);
  const Requantizer float_scale({0.5}, Requantization::float_scale, 31);
  const Requantizer to_nearest({0.5}, Requantization::fixed_point_to_nearest, 31);
  const Requantizer upward({0.5}, Requantization::fixed_point_upward, 31);
  const std::vector<int32_t> inputs{1, 3, 5, -1, -3, -5};
  const std::vector<int32_t> double_expected{1, 2, 3, 0, -1, -2};
  const std::vector<int32_t> float_expected{0, 2, 2, 0, -2, -2};
  const std::vector<int32_t> nearest_expected{1, 2, 3, -1, -2, -3};
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(double_rounding.apply(inputs[i]), double_expected[i]) << inputs[i];
    EXPECT_EQ(float_scale.apply(inputs[i]), float_expected[i]) << inputs[i];
    EXPECT_EQ(to_nearest.apply(inputs[i]), nearest_expected[i]) << inputs[i];
    EXPECT_EQ(upward.apply(inputs[i]), double_expected[i]) << inputs[i];  // one rounding, ties up: same here
  }
  // M = 0.25, -6 * 0.25 = -1.5: the doubling high multiply leaves -3 (halves), RoundingDivideByPOT takes the
  // tie away from zero: -2.
  EXPECT_EQ(Requantizer({0.25}, Requantization::fixed_point_double_rounding, 31).apply(-6), -2);
  EXPECT_EQ(Requantizer({0.25}, Requantization::fixed_point_upward, 31).apply(-6), -1);
}

TEST(IntegerRequantizer, Int32ExtremesAndPowerOfTwo) {
  // M = 1.0 is encoded as 2^30 with shift 1. The reference build shifts left first, saturating (INT32_MAX * 2
  // does not fit), then halves in the doubling high multiply: the extremes come out as +-2^30. The single
  // rounding build multiplies in 64 bits and keeps them.
  const Requantizer one({1.0}, Requantization::fixed_point_double_rounding, 31);
  EXPECT_EQ(one.apply(INT32_MAX), 1073741824);
  EXPECT_EQ(one.apply(INT32_MIN), -1073741824);
  EXPECT_EQ(one.apply(1000), 1000);
  const Requantizer one_single({1.0}, Requantization::fixed_point_single_rounding, 31);
  EXPECT_EQ(one_single.apply(INT32_MAX), INT32_MAX);
  EXPECT_EQ(one_single.apply(INT32_MIN), INT32_MIN);
  const Requantizer half({0.5}, Requantization::fixed_point_double_rounding, 31);
  EXPECT_EQ(half.apply(INT32_MIN), INT32_MIN / 2);
  const Requantizer shift({0.125}, Requantization::power_of_two, 0);
  EXPECT_EQ(shift.apply(12), 2);   // 1.5 -> 2 (half away from zero)
  EXPECT_EQ(shift.apply(-12), -2);
  EXPECT_THROW(Requantizer({0.3}, Requantization::power_of_two, 0), Error);  // not 2^k: refused, not rounded
  EXPECT_THROW(Requantizer({std::nan("")}, Requantization::float_scale, 0), Error);
}

TEST(IntegerConvolution, HandComputedElements) {
  // input 1x1x2x2 (zero point 3), weights 2x1x2x2 per channel, bias, 1x1 output per channel.
  const Tensor input = Tensor::from_vector<int8_t>(DType::i8, {1, 1, 2, 2}, {13, -7, 3, 5});  // x - zp: 10 -10 0 2
  const Tensor weights = Tensor::from_vector<int8_t>(DType::i8, {2, 1, 2, 2}, {1, 2, 3, 4, -127, 127, 0, 1});
  const Tensor bias = Tensor::from_vector<int32_t>(DType::i32, {2}, {5, -100});
  ConvolutionParameters p;
  p.input_zero_point = 3;
  p.output = stage({0.5, 1.0}, Requantization::fixed_point_double_rounding, -2);
  // channel 0: 10*1 - 10*2 + 0*3 + 2*4 + 5 = 3 -> 3 * 0.5 = 1.5 -> 2 (tie up) -> + zp -2 = 0
  // channel 1: 10*-127 - 10*127 + 0 + 2*1 - 100 = -2638 -> -2638 - 2 saturates at -128
  EXPECT_EQ(values_of(convolution(input, weights, &bias, p)), (std::vector<int32_t>{0, -128}));
  p.output.maximum = 5;  // a fused clamp (Relu6 on this grid)
  p.output.minimum = -2;  // Relu: the zero point
  EXPECT_EQ(values_of(convolution(input, weights, &bias, p)), (std::vector<int32_t>{0, -2}));
}

TEST(IntegerConvolution, DepthwiseStridedPaddedDilated) {
  // 2 channels, depthwise 3x3 of ones, dilation 2, stride 2, pad 2: the output's top-left element reads
  // input rows/columns {-2, 0, 2}: only (0,0), (0,2), (2,0), (2,2) are inside.
  Tensor input(DType::u8, {1, 2, 5, 5});
  for (int64_t i = 0; i < 50; ++i) input.data<uint8_t>()[i] = static_cast<uint8_t>(100 + i);
  const Tensor weights = Tensor::from_vector<int8_t>(DType::i8, {2, 1, 3, 3}, std::vector<int8_t>(18, 1));
  ConvolutionParameters p;
  p.group = 2;
  p.strides = {2, 2};
  p.dilations = {2, 2};
  p.pads = {2, 2, 2, 2};
  p.input_zero_point = 100;
  p.output = stage({1.0}, Requantization::fixed_point_double_rounding, 0, 0, 255, DType::u8);
  const Tensor output = convolution(input, weights, nullptr, p);
  ASSERT_EQ(output.shape(), (Shape{1, 2, 3, 3}));
  // channel 0, (0, 0): (0 + 2 + 10 + 12) = 24; channel 1 adds 25 to each of the 4 terms: 124
  EXPECT_EQ(output.value_as_int64(0), 24);
  EXPECT_EQ(output.value_as_int64(9), 124);
  // the centre output (1, 1) reads rows/columns {0, 2, 4}: 9 terms 0+2+4+10+12+14+20+22+24 = 108
  EXPECT_EQ(output.value_as_int64(4), 108);
}

TEST(IntegerMatMul, PerColumnMultipliersAndNegativeAccumulators) {
  const Tensor a = Tensor::from_vector<int8_t>(DType::i8, {1, 3}, {-128, 0, 127});  // zp -1: -127, 1, 128
  const Tensor b = Tensor::from_vector<int8_t>(DType::i8, {3, 2}, {1, -1, 2, 0, -1, 3});
  const Tensor bias = Tensor::from_vector<int32_t>(DType::i32, {2}, {0, 1});
  MatMulParameters p;
  p.a_zero_point = -1;
  p.output = stage({0.25, 0.01}, Requantization::fixed_point_double_rounding);
  // column 0: -127 + 2 - 128 = -253 -> * 0.25 = -63.25 -> -63; column 1: 127 + 0 + 384 + 1 = 512 -> 5.12 -> 5
  EXPECT_EQ(values_of(matmul(a, b, &bias, p)), (std::vector<int32_t>{-63, 5}));
}

TEST(IntegerElementwise, AddRescalesBothInputsAndSaturates) {
  // Both inputs at scale 1, output scale 1: twice the max scale is 2, M_a = M_b = 0.5, M_out = 2 / 2^20.
  AddParameters p;
  p.a_requantizer = Requantizer({0.5}, Requantization::fixed_point_double_rounding, 31);
  p.b_requantizer = Requantizer({0.5}, Requantization::fixed_point_double_rounding, 31);
  p.output = stage({2.0 / (1 << 20)}, Requantization::fixed_point_double_rounding);
  const Tensor a = Tensor::from_vector<int8_t>(DType::i8, {4}, {3, -100, 100, -128});
  const Tensor b = Tensor::from_vector<int8_t>(DType::i8, {1}, {4});  // broadcast
  EXPECT_EQ(values_of(add(a, b, p)), (std::vector<int32_t>{7, -96, 104, -124}));
  const Tensor big = Tensor::from_vector<int8_t>(DType::i8, {1}, {100});
  EXPECT_EQ(values_of(add(a, big, p)), (std::vector<int32_t>{103, 0, 127, -28}));
}

TEST(IntegerElementwise, MulOfZeroPointShiftedValues) {
  MulParameters p;
  p.a_zero_point = 10;
  p.b_zero_point = -5;
  p.output = stage({1.0 / 64}, Requantization::fixed_point_double_rounding, 3);
  const Tensor a = Tensor::from_vector<int8_t>(DType::i8, {2, 1}, {42, -22});  // 32, -32
  const Tensor b = Tensor::from_vector<int8_t>(DType::i8, {1, 2}, {-3, 11});   // 2, 16
  // 32*2/64 = 1, 32*16/64 = 8, -32*2/64 = -1, -32*16/64 = -8; + 3
  EXPECT_EQ(values_of(mul(a, b, p)), (std::vector<int32_t>{4, 11, 2, -5}));
}

TEST(IntegerAveragePool, RoundsHalfAwayFromZeroAndSkipsPadding) {
  const Tensor input = Tensor::from_vector<int8_t>(DType::i8, {1, 1, 2, 3}, {1, 2, -1, -2, 2, 2});
  AveragePoolParameters p;
  p.kernel = {1, 2};
  p.strides = {1, 1};
  // windows: (1,2) 1.5 -> 2, (2,-1) 0.5 -> 1, (-2,2) 0, (2,2) 2
  EXPECT_EQ(values_of(average_pool(input, p)), (std::vector<int32_t>{2, 1, 0, 2}));
  const Tensor negative = Tensor::from_vector<int8_t>(DType::i8, {1, 1, 1, 2}, {-1, -2});
  EXPECT_EQ(values_of(average_pool(negative, p)), (std::vector<int32_t>{-2}));  // -1.5 -> -2
  p.kernel = {3, 3};
  p.pads = {1, 1, 1, 1};
  p.strides = {2, 2};
  // top-left window sees (1, 2, -2, 2) of the padded 3x3: 3 / 4 = 0.75 -> 1 (count 4: the padding is not counted)
  EXPECT_EQ(average_pool(input, p).value_as_int64(0), 1);
  p.count_include_pad = true;  // 3 / 9 -> 0
  EXPECT_EQ(average_pool(input, p).value_as_int64(0), 0);
  AveragePoolParameters global;
  global.kernel = {};
  EXPECT_EQ(values_of(average_pool(input, global)), (std::vector<int32_t>{1}));  // 4 / 6 -> 1
}

TEST(IntegerRequantize, RescalesAndQuantizesWithTheTargetsRounding) {
  RequantizeParameters p;
  p.input_zero_point = 10;
  p.output = stage({0.5}, Requantization::fixed_point_double_rounding, -3, 0, 255, DType::u8);
  const Tensor input = Tensor::from_vector<int8_t>(DType::i8, {3}, {13, 7, 127});  // 3, -3, 117
  EXPECT_EQ(values_of(requantize(input, p)), (std::vector<int32_t>{0, 0, 56}));  // 2-3, -1-3 -> 0 (clamp), 59-3
  QuantizeParameters q;
  q.scale = 0.5f;
  q.rounding = ir::RoundingMode::half_away_from_zero;
  const Tensor real = Tensor::from_vector<float>(DType::f32, {4}, {0.25f, -0.25f, 100.f, 0.75f});
  EXPECT_EQ(values_of(quantize(real, q)), (std::vector<int32_t>{1, -1, 127, 2}));
  q.rounding = ir::RoundingMode::half_to_even;
  EXPECT_EQ(values_of(quantize(real, q)), (std::vector<int32_t>{0, 0, 127, 2}));
}

TEST(IntegerLookupTable, SigmoidOnTfliteGrid) {
  // input scale 1/16 zp 0, output TFLite's logistic grid 1/256 zp -128
  const LookupTable table = build_lookup_table(lookup_function("Sigmoid"), {1.0 / 16, 0, -128, 127}, {1.0 / 256, -128, -128, 127},
                                               DType::i8, ir::RoundingMode::half_away_from_zero);
  ASSERT_EQ(table.values.size(), 256u);
  const Tensor input = Tensor::from_vector<int8_t>(DType::i8, {3}, {0, 127, -128});
  // sigmoid(0) = 0.5 -> 128 - 128 = 0; sigmoid(7.9375) * 256 = 255.91 -> 256 -> 128 clamps to 127;
  // sigmoid(-8) * 256 = 0.0859 -> 0 -> -128
  EXPECT_EQ(values_of(look_up(input, table)), (std::vector<int32_t>{0, 127, -128}));
  EXPECT_FALSE(lookup_function("Softmax"));
}

}  // namespace
}  // namespace npukit
