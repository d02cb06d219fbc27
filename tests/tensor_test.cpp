#include <gtest/gtest.h>

#include <cmath>

#include "core/float16.h"
#include "npukit/tensor.h"

namespace npukit {
namespace {

TEST(Tensor, AllocatesZeroFilledStorage) {
  Tensor tensor(DType::f32, {2, 3});
  EXPECT_EQ(tensor.element_count(), 6);
  EXPECT_EQ(tensor.byte_size(), 24u);
  for (float value : tensor.values<float>()) EXPECT_EQ(value, 0.0f);
}

TEST(Tensor, OverflowingShapeIsAnError) {
  EXPECT_THROW(Tensor(DType::f32, {int64_t{1} << 40, int64_t{1} << 40}), Error);
  try {
    Tensor(DType::f32, {int64_t{1} << 40, int64_t{1} << 40});
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::resource_limit);
  }
}

TEST(Tensor, ShapeBeyondMemoryLimitIsAnError) {
  try {
    Tensor(DType::f32, {1 << 20, 1 << 20});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::resource_limit);
    EXPECT_NE(std::string(error.what()).find("memory limit"), std::string::npos);
  }
}

TEST(Tensor, ReshapeSharesStorage) {
  Tensor tensor = Tensor::from_vector<float>(DType::f32, {2, 2}, {1, 2, 3, 4});
  Tensor flat = tensor.reshaped({4});
  flat.data<float>()[0] = 9;
  EXPECT_EQ(tensor.data<float>()[0], 9);
  EXPECT_THROW(tensor.reshaped({3}), Error);
}

TEST(Float16, RoundTripsAndRoundsToNearestEven) {
  EXPECT_EQ(float(Float16(1.0f)), 1.0f);
  EXPECT_EQ(float(Float16(-2.5f)), -2.5f);
  EXPECT_EQ(float(Float16(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(float(Float16(65520.0f))));
  EXPECT_EQ(float(Float16(5.9604644775390625e-08f)), 5.9604644775390625e-08f);  // smallest subnormal
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even gives 1.
  EXPECT_EQ(float(Float16(1.0f + 0.00048828125f)), 1.0f);
  EXPECT_EQ(float(BFloat16(1.0f)), 1.0f);
  EXPECT_EQ(float(BFloat16(3.0f)), 3.0f);
}

}  // namespace
}  // namespace npukit
