// Calibration-set diagnostics: each finding with the subject and the numbers the message must carry.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "quantization/calibration_diagnostics.h"

namespace npukit::quantization {
namespace {

ValueInfo picture_input() {
  ValueInfo info;
  info.name = "images";
  info.dtype = DType::f32;
  info.shape = {1, 3, 2, 2};
  return info;
}

CalibrationSample sample_of(const std::string& origin, const std::vector<float>& values) {
  CalibrationSample sample;
  sample.origin = origin;
  sample.inputs["images"] = Tensor::from_vector(DType::f32, {1, 3, 2, 2}, values);
  return sample;
}

// 12 values starting at `first`, step `step`.
std::vector<float> ramp(float first, float step) {
  std::vector<float> values;
  for (int i = 0; i < 12; ++i) values.push_back(first + step * i);
  return values;
}

const CalibrationDiagnostic* find(const std::vector<CalibrationDiagnostic>& found, const std::string& text) {
  for (const CalibrationDiagnostic& diagnostic : found) {
    if (diagnostic.message.find(text) != std::string::npos) return &diagnostic;
  }
  return nullptr;
}

std::string all(const std::vector<CalibrationDiagnostic>& found) {
  std::string text;
  for (const auto& d : found) text += (d.is_error ? "error " : "warning ") + d.subject + ": " + d.message + "\n";
  return text;
}

TEST(CalibrationDiagnostics, SampleCount) {
  auto none = diagnose_sample_count(0);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->is_error);
  auto few = diagnose_sample_count(5);
  ASSERT_TRUE(few.has_value());
  EXPECT_FALSE(few->is_error);
  EXPECT_NE(few->message.find("only 5 calibration samples"), std::string::npos);
  EXPECT_FALSE(diagnose_sample_count(20).has_value());
}

TEST(CalibrationDiagnostics, NanInAnInputNamesTheSampleFile) {
  InputStatistics statistics({picture_input()});
  for (int i = 0; i < 25; ++i) statistics.add(sample_of("ok" + std::to_string(i) + ".npy", ramp(0.01f * i, 0.05f)));
  std::vector<float> broken = ramp(0, 0.05f);
  broken[3] = std::numeric_limits<float>::quiet_NaN();
  statistics.add(sample_of("set/bad.npy", broken));
  broken[4] = std::numeric_limits<float>::infinity();
  statistics.add(sample_of("set/worse.npy", broken));
  const auto found = statistics.diagnostics(std::nullopt);
  const CalibrationDiagnostic* nan = find(found, "NaN");
  ASSERT_NE(nan, nullptr) << all(found);
  EXPECT_TRUE(nan->is_error);
  EXPECT_EQ(nan->subject, "images");
  EXPECT_NE(nan->message.find("2 NaN and 1 Inf"), std::string::npos) << nan->message;
  EXPECT_NE(nan->message.find("set/bad.npy"), std::string::npos) << nan->message;
  EXPECT_TRUE(has_error(found));
}

TEST(CalibrationDiagnostics, ConstantInputIsAnError) {
  InputStatistics statistics({picture_input()});
  for (int i = 0; i < 3; ++i) statistics.add(sample_of("blank" + std::to_string(i) + ".png", std::vector<float>(12, 0.5f)));
  const auto found = statistics.diagnostics(std::nullopt);
  const CalibrationDiagnostic* constant = find(found, "everywhere in every sample");
  ASSERT_NE(constant, nullptr) << all(found);
  EXPECT_TRUE(constant->is_error);
  EXPECT_NE(constant->message.find("is 0.5"), std::string::npos);
  EXPECT_NE(find(found, "only 3 calibration samples"), nullptr);
}

TEST(CalibrationDiagnostics, DuplicateSamplesNameBothFiles) {
  InputStatistics statistics({picture_input()});
  for (int i = 0; i < 20; ++i) statistics.add(sample_of("s" + std::to_string(i), ramp(0.01f * i, 0.05f)));
  statistics.add(sample_of("copy_of_s3", ramp(0.01f * 3, 0.05f)));
  const auto found = statistics.diagnostics(std::nullopt);
  const CalibrationDiagnostic* duplicate = find(found, "duplicate");
  ASSERT_NE(duplicate, nullptr) << all(found);
  EXPECT_FALSE(duplicate->is_error);
  EXPECT_NE(duplicate->message.find("1 duplicate sample (copy_of_s3 = s3)"), std::string::npos) << duplicate->message;
  EXPECT_FALSE(has_error(found)) << all(found);
}

TEST(CalibrationDiagnostics, OutliersSayHowMuchOfTheGridIsLost) {
  ValueHistogram histogram;
  std::vector<float> values(100000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 100) / 100;  // 0 .. 0.99
  values[0] = 100.0f;  // 1 in 100000: beyond the 99.99th percentile
  histogram.add(values.data(), values.size());
  const auto outliers = diagnose_outliers("conv_7_output", histogram);
  ASSERT_TRUE(outliers.has_value());
  EXPECT_EQ(outliers->subject, "conv_7_output");
  // The bulk tops at 0.99 of max 100: minmax wastes about 99% of the grid; those values get 2 of 256 levels.
  EXPECT_NE(outliers->message.find("max |x| is 100"), std::string::npos) << outliers->message;
  EXPECT_NE(outliers->message.find("99% of the grid"), std::string::npos) << outliers->message;
  EXPECT_NE(outliers->message.find("about 2 of 256 levels"), std::string::npos) << outliers->message;
  ValueHistogram even;
  even.add(values.data() + 1, values.size() - 1);
  EXPECT_FALSE(diagnose_outliers("x", even).has_value());
}

TEST(CalibrationDiagnostics, NonFiniteActivationNamesValueAndSample) {
  ValueHistogram histogram;
  const std::vector<float> values{1.0f, std::numeric_limits<float>::infinity()};
  histogram.add(values.data(), values.size());
  const auto found = diagnose_non_finite("softmax_out", histogram, "images/017.jpg");
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->is_error);
  EXPECT_EQ(found->subject, "softmax_out");
  EXPECT_NE(found->message.find("0 NaN and 1 Inf of 2 values, the first in sample images/017.jpg"), std::string::npos)
      << found->message;
}

TEST(CalibrationDiagnostics, RawPixelsWhereTheModelExpectsZeroToOne) {
  InputStatistics statistics({picture_input()});
  for (int i = 0; i < 20; ++i) statistics.add(sample_of("raw" + std::to_string(i) + ".npy", ramp(static_cast<float>(i), 20.0f)));
  const auto found = statistics.diagnostics(std::nullopt);
  const CalibrationDiagnostic* mismatch = find(found, "divide by 255");
  ASSERT_NE(mismatch, nullptr) << all(found);
  EXPECT_NE(mismatch->message.find("values reach 239"), std::string::npos) << mismatch->message;
  EXPECT_NE(mismatch->message.find("gives 0..1"), std::string::npos) << mismatch->message;
}

TEST(CalibrationDiagnostics, ZeroToOneDataWhereThePreprocessingSaysRawPixels) {
  InputStatistics statistics({picture_input()});
  for (int i = 0; i < 20; ++i) statistics.add(sample_of("n" + std::to_string(i), ramp(0.01f * i, 0.05f)));
  const auto raw = vision::parse_preprocessing_spec("letterbox=2,mean=0,std=1");
  const auto found = statistics.diagnostics(raw);
  ASSERT_NE(find(found, "already divided by 255"), nullptr) << all(found);
  // The same data against the default (0..1) pre-processing is fine.
  EXPECT_TRUE(statistics.diagnostics(std::nullopt).empty()) << all(statistics.diagnostics(std::nullopt));
}

TEST(CalibrationDiagnostics, MeanStdNormalizedDataAgainstTheDefault) {
  InputStatistics statistics({picture_input()});
  for (int i = 0; i < 20; ++i) statistics.add(sample_of("m" + std::to_string(i), ramp(-2.1f + 0.01f * i, 0.4f)));
  const auto found = statistics.diagnostics(std::nullopt);
  ASSERT_NE(find(found, "normalized with a mean / std"), nullptr) << all(found);
}

}  // namespace
}  // namespace npukit::quantization
