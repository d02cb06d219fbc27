// The cpu backend's vectorized exp, sigmoid, tanh and SiLU (runtime/kernels/cpu/vector_math.h) against
// double-precision std:: functions over the whole float range: within 1e-6 relative wherever the result
// is a normal float, exact saturation (0, 1, ±1, +inf) at the ends, NaN in NaN out, and no NaN from
// infinite or huge inputs. Arrays of odd lengths also exercise the padded tail of the vector loops.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "runtime/kernels/cpu/vector_math.h"

namespace npukit::runtime::cpu {
namespace {

constexpr float infinity = std::numeric_limits<float>::infinity();

// Every 389th float bit pattern of magnitude below 200 (both signs, subnormals included), plus the edges.
std::vector<float> sweep() {
  std::vector<float> values;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 389) {
    const uint32_t word = static_cast<uint32_t>(bits);
    float value;
    std::memcpy(&value, &word, sizeof(value));
    if (std::isfinite(value) && std::fabs(value) < 200.0f) values.push_back(value);
  }
  for (float edge : {0.0f, -0.0f, 1e-30f, -1e-30f, 88.72f, 88.73f, -87.3f, -103.9f, -104.5f, 100.0f, -100.0f, infinity,
                     -infinity, FLT_MAX, -FLT_MAX, FLT_MIN}) {
    values.push_back(edge);
  }
  values.push_back(std::numeric_limits<float>::quiet_NaN());
  return values;
}

using RangeFunction = void (*)(const float*, float*, int64_t);

// Worst relative error over results that are normal floats; every other result is checked exactly.
// Inputs below `relative_from` are checked to an absolute |x| * FLT_MIN instead (SiLU's sigmoid factor is
// subnormal there and carries fewer bits).
void expect_accurate(const char* name, RangeFunction function, double (*exact)(double), double tolerance,
                     float relative_from = -infinity) {
  const std::vector<float> inputs = sweep();
  std::vector<float> outputs(inputs.size());
  function(inputs.data(), outputs.data(), static_cast<int64_t>(inputs.size()));
  double worst = 0;
  float worst_input = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const double expected = exact(inputs[i]);
    const float actual = outputs[i];
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(actual)) << name << "(" << inputs[i] << ") = " << actual;
      continue;
    }
    ASSERT_FALSE(std::isnan(actual)) << name << "(" << inputs[i] << ") is NaN, expected " << expected;
    if (inputs[i] < relative_from) {
      ASSERT_LE(std::fabs(actual - expected), std::fabs(double(inputs[i])) * FLT_MIN) << name << "(" << inputs[i] << ")";
    } else if (std::fabs(expected) > FLT_MAX) {
      ASSERT_TRUE(std::isinf(actual) || std::fabs(actual) == FLT_MAX) << name << "(" << inputs[i] << ") = " << actual;
    } else if (std::fabs(expected) < FLT_MIN) {
      ASSERT_LE(std::fabs(actual - expected), FLT_MIN) << name << "(" << inputs[i] << ") = " << actual;
    } else {
      const double error = std::fabs(actual - expected) / std::fabs(expected);
      if (error > worst) {
        worst = error;
        worst_input = inputs[i];
      }
    }
  }
  EXPECT_LE(worst, tolerance) << name << ": worst relative error at " << worst_input;
}

double exact_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double exact_silu(double x) { return std::isinf(x) && x < 0 ? 0.0 : x / (1.0 + std::exp(-x)); }

TEST(CpuVectorMath, ExpMatchesStdExpOverTheFloatRange) {
  expect_accurate("exp", vector_math::exp, [](double x) { return std::exp(x); }, 1e-6);
}

TEST(CpuVectorMath, SigmoidMatchesOverTheFloatRange) {
  expect_accurate("sigmoid", vector_math::sigmoid, exact_sigmoid, 1e-6);
}

TEST(CpuVectorMath, TanhMatchesOverTheFloatRange) {
  expect_accurate("tanh", vector_math::tanh, [](double x) { return std::tanh(x); }, 1e-6);
}

TEST(CpuVectorMath, SiluMatchesOverTheFloatRange) {
  expect_accurate("silu", vector_math::silu, exact_silu, 1e-6, -87.0f);
}

TEST(CpuVectorMath, SaturatesWithoutNaN) {
  const std::vector<float> inputs{100.0f, -100.0f, infinity, -infinity, 1e10f, -1e10f, 0.0f};
  std::vector<float> sigmoid(inputs.size()), tanh(inputs.size()), silu(inputs.size()), exp(inputs.size());
  const int64_t count = static_cast<int64_t>(inputs.size());
  vector_math::sigmoid(inputs.data(), sigmoid.data(), count);
  vector_math::tanh(inputs.data(), tanh.data(), count);
  vector_math::silu(inputs.data(), silu.data(), count);
  vector_math::exp(inputs.data(), exp.data(), count);
  EXPECT_EQ(sigmoid, (std::vector<float>{1.0f, sigmoid[1], 1.0f, 0.0f, 1.0f, 0.0f, 0.5f}));
  EXPECT_NEAR(sigmoid[1], 3.720076e-44, 1e-45);
  EXPECT_EQ(tanh, (std::vector<float>{1.0f, -1.0f, 1.0f, -1.0f, 1.0f, -1.0f, 0.0f}));
  EXPECT_EQ(silu[0], 100.0f);
  EXPECT_EQ(silu[2], infinity);
  EXPECT_EQ(silu[3], 0.0f);
  EXPECT_EQ(silu[5], 0.0f);
  EXPECT_EQ(exp[2], infinity);
  EXPECT_EQ(exp[3], 0.0f);
  EXPECT_EQ(exp[6], 1.0f);
}

TEST(CpuVectorMath, SoftmaxHelpersMatchScalarLoops) {
  for (int64_t count : {1, 7, 8, 13, 127}) {
    std::vector<float> values(static_cast<size_t>(count)), shifts(values.size()), out(values.size());
    for (int64_t i = 0; i < count; ++i) {
      values[static_cast<size_t>(i)] = std::sin(static_cast<float>(i) * 0.7f) * 20.0f;
      shifts[static_cast<size_t>(i)] = std::cos(static_cast<float>(i)) * 3.0f;
    }
    float maximum = -infinity;
    for (float value : values) maximum = std::max(maximum, value);
    EXPECT_EQ(vector_math::maximum(values.data(), count), maximum);
    const double sum = vector_math::exp_shifted_sum(values.data(), maximum, out.data(), count);
    double expected_sum = 0;
    for (int64_t i = 0; i < count; ++i) {
      // The difference is taken in float, as the kernels (and ref) take it.
      const double expected = std::exp(double(values[static_cast<size_t>(i)] - maximum));
      expected_sum += expected;
      EXPECT_NEAR(out[static_cast<size_t>(i)], expected, 1e-6 * expected + 1e-38);
    }
    EXPECT_NEAR(sum, expected_sum, 1e-6 * expected_sum);
    vector_math::exp_of_difference(values.data(), shifts.data(), out.data(), count);
    for (int64_t i = 0; i < count; ++i) {
      const double expected = std::exp(double(values[static_cast<size_t>(i)] - shifts[static_cast<size_t>(i)]));
      EXPECT_NEAR(out[static_cast<size_t>(i)], expected, 1e-6 * expected);
    }
  }
}

}  // namespace
}  // namespace npukit::runtime::cpu
