// Scales and zero points of `npukit quantize` for hand-set ranges, weights and biases, computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "quantization/quantize_model.h"

namespace npukit::quantization {
namespace {

TEST(QuantizeParameters, AsymmetricInt8FromHandSetRange) {
  // [-1, 3] on [-128, 127]: scale 4 / 255, zero point round(-128 + 1 / (4 / 255)) = round(-64.25) = -64.
  const ir::QuantParams params = params_for_range(-1.0, 3.0, DType::i8, false, false);
  ASSERT_EQ(params.scales.size(), 1u);
  EXPECT_FLOAT_EQ(params.scales[0], 4.0f / 255.0f);
  EXPECT_EQ(params.zero_point(0), -64);
  EXPECT_EQ(params.axis, -1);
}

TEST(QuantizeParameters, AsymmetricUint8RangeIsWidenedToContainZero) {
  // [2, 6] becomes [0, 6]: scale 6 / 255, zero point 0 (0.0 is exact on the grid).
  const ir::QuantParams params = params_for_range(2.0, 6.0, DType::u8, false, false);
  EXPECT_FLOAT_EQ(params.scales[0], 6.0f / 255.0f);
  EXPECT_EQ(params.zero_point(0), 0);
  // [-6, -2] becomes [-6, 0]: zero point at the top of the grid.
  const ir::QuantParams negative = params_for_range(-6.0, -2.0, DType::u8, false, false);
  EXPECT_FLOAT_EQ(negative.scales[0], 6.0f / 255.0f);
  EXPECT_EQ(negative.zero_point(0), 255);
}

TEST(QuantizeParameters, SymmetricInt8UsesTheLargerMagnitude) {
  // [-0.5, 2.54]: max |x| = 2.54 over 127 steps, zero point 0; narrow gives the same scale.
  const ir::QuantParams params = params_for_range(-0.5, 2.54, DType::i8, false, true);
  EXPECT_FLOAT_EQ(params.scales[0], static_cast<float>(2.54 / 127.0));
  EXPECT_EQ(params.zero_point(0), 0);
  const ir::QuantParams narrow = params_for_range(-3.81, 1.0, DType::i8, true, true);
  EXPECT_FLOAT_EQ(narrow.scales[0], static_cast<float>(3.81 / 127.0));
  EXPECT_TRUE(narrow.narrow_range);
  EXPECT_EQ(narrow.storage_min(), -127);
}

TEST(QuantizeParameters, AllZeroRangeGetsAUsableScale) {
  const ir::QuantParams params = params_for_range(0.0, 0.0, DType::i8, false, false);
  EXPECT_FLOAT_EQ(params.scales[0], 1.0f);
  EXPECT_EQ(params.zero_point(0), 0);
  EXPECT_NO_THROW(params.validate(std::nullopt, "'zero'"));
}

TEST(QuantizeParameters, PerChannelWeightsTakeEachChannelsOwnRange) {
  // Two output channels of a [2, 1, 1, 2] Conv weight: channel 0 in [-1, 0.5], channel 1 in [0, 2.54].
  const Tensor weight = Tensor::from_vector<float>(DType::f32, {2, 1, 1, 2}, {-1.0f, 0.5f, 2.54f, 1.0f});
  const ir::QuantParams symmetric = weight_params(weight, DType::i8, true, true, 0);
  ASSERT_EQ(symmetric.scales.size(), 2u);
  EXPECT_EQ(symmetric.axis, 0);
  EXPECT_FLOAT_EQ(symmetric.scales[0], static_cast<float>(1.0 / 127.0));
  EXPECT_FLOAT_EQ(symmetric.scales[1], static_cast<float>(2.54 / 127.0));
  EXPECT_EQ(symmetric.zero_point(0), 0);
  EXPECT_EQ(symmetric.zero_point(1), 0);
  // Asymmetric (RK3588's w8a8): channel 0 [-1, 0.5] → scale 1.5 / 255, zero point round(-128 + 170) = 42.
  const ir::QuantParams asymmetric = weight_params(weight, DType::i8, false, false, 0);
  EXPECT_FLOAT_EQ(asymmetric.scales[0], static_cast<float>(1.5 / 255.0));
  EXPECT_EQ(asymmetric.zero_point(0), 42);
  EXPECT_FLOAT_EQ(asymmetric.scales[1], static_cast<float>(2.54 / 255.0));
  EXPECT_EQ(asymmetric.zero_point(1), -128);
  // Per tensor: one range over both channels, [-1, 2.54].
  const ir::QuantParams per_tensor = weight_params(weight, DType::i8, false, true, -1);
  ASSERT_EQ(per_tensor.scales.size(), 1u);
  EXPECT_FLOAT_EQ(per_tensor.scales[0], static_cast<float>(2.54 / 127.0));
}

TEST(QuantizeParameters, BiasScaleIsInputScaleTimesWeightScale) {
  ir::QuantParams input = params_for_range(0.0, 2.55, DType::u8, false, false);  // scale 0.01
  ir::QuantParams weight;
  weight.storage = DType::i8;
  weight.axis = 0;
  weight.scales = {0.5f, 0.25f, 2.0f};
  weight.zero_points = {0, 0, 0};
  const ir::QuantParams bias = bias_params(input, weight, DType::i32, 3);
  ASSERT_EQ(bias.scales.size(), 3u);
  EXPECT_EQ(bias.storage, DType::i32);
  EXPECT_EQ(bias.axis, 0);
  EXPECT_FLOAT_EQ(bias.scales[0], static_cast<float>(static_cast<double>(input.scales[0]) * 0.5));
  EXPECT_FLOAT_EQ(bias.scales[1], static_cast<float>(static_cast<double>(input.scales[0]) * 0.25));
  EXPECT_FLOAT_EQ(bias.scales[2], static_cast<float>(static_cast<double>(input.scales[0]) * 2.0));
  EXPECT_TRUE(bias.symmetric());
  // A weight per tensor gives a bias per tensor.
  ir::QuantParams single = weight;
  single.axis = -1;
  single.scales = {0.5f};
  single.zero_points = {0};
  const ir::QuantParams per_tensor = bias_params(input, single, DType::i32, 3);
  EXPECT_EQ(per_tensor.axis, -1);
  ASSERT_EQ(per_tensor.scales.size(), 1u);
  // A weight whose channel count differs from the bias is a broken model, said so.
  EXPECT_THROW(bias_params(input, weight, DType::i32, 4), Error);
}

}  // namespace
}  // namespace npukit::quantization

namespace npukit::quantization {
namespace {

TEST(QuantizeParameters, WeightScaleWidensWhenTheBiasWouldOverflowInt32) {
  // Input scale 0.01; channel 0's weights are tiny (scale 1e-12) but its bias is 5: 5 / (0.01 · 1e-12) = 5e14 does
  // not fit int32, so the channel's scale grows to 5 / (0.01 · 0.999 · (2^31 - 1)); channel 1 already fits.
  const ir::QuantParams input = params_for_range(0.0, 2.55, DType::u8, false, false);
  ir::QuantParams weight;
  weight.storage = DType::i8;
  weight.axis = 0;
  weight.scales = {1e-12f, 0.1f};
  weight.zero_points = {3, 0};
  const Tensor bias = Tensor::from_vector<float>(DType::f32, {2}, {5.0f, -1.0f});
  EXPECT_EQ(widen_weight_scales_for_bias(bias, input, weight, 2147483647), 1);
  const double expected = 5.0 / (static_cast<double>(input.scales[0]) * 0.999 * 2147483647.0);
  EXPECT_FLOAT_EQ(weight.scales[0], static_cast<float>(expected));
  EXPECT_FLOAT_EQ(weight.scales[1], 0.1f);
  EXPECT_EQ(weight.zero_points[0], 3);  // kept
  const ir::QuantParams bias_grid = bias_params(input, weight, DType::i32, 2);
  EXPECT_LE(std::fabs(5.0 / bias_grid.scales[0]), 2147483647.0);
}

}  // namespace
}  // namespace npukit::quantization
