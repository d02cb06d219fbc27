// The ONNX backend node tests (libonnx-testdata) on the reference backend: at least 80% pass, none is
// wrong, none fails with an error. Unsupported is allowed, but only with ErrorKind::unsupported and a reason.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "conformance/conformance_runner.h"
#include "npukit/tensor.h"

namespace npukit {
namespace {

const std::string kNodeTests = "/usr/share/libonnx-testdata/data/node";

TEST(Conformance, NodeTestsOnTheReferenceBackend) {
  ASSERT_TRUE(std::filesystem::is_directory(kNodeTests))
      << kNodeTests << " is missing: install libonnx-testdata (make test does)";
  std::vector<conformance::TestResult> results = conformance::run_suite(kNodeTests, {});
  size_t passed = 0, wrong = 0, unsupported = 0, errors = 0, disputed = 0;
  for (const auto& result : results) {
    switch (result.status) {
      case conformance::TestStatus::passed: ++passed; break;
      case conformance::TestStatus::wrong:
        ++wrong;
        ADD_FAILURE() << "wrong: " << result.name << ": " << result.reason;
        break;
      case conformance::TestStatus::unsupported:
        ++unsupported;
        EXPECT_FALSE(result.reason.empty()) << result.name << " is unsupported without a reason";
        break;
      case conformance::TestStatus::error:
        ++errors;
        ADD_FAILURE() << "error: " << result.name << ": " << result.reason;
        break;
      case conformance::TestStatus::disputed:
        ++disputed;
        EXPECT_FALSE(conformance::known_data_defect(result.name).empty());
        break;
    }
  }
  std::cout << results.size() << " tests: " << passed << " passed, " << wrong << " wrong, " << unsupported
            << " unsupported, " << errors << " error, " << disputed << " disputed\n";
  EXPECT_EQ(results.size(), 932u) << "the libonnx-testdata 1.12 node suite has 932 tests";
  EXPECT_GE(passed * 100, results.size() * 80) << passed << " of " << results.size() << " passed";
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(errors, 0u);
  EXPECT_LE(disputed, 1u) << "only test_adam_multiple is known to contradict the spec";
}

// Known defects of the test data are few and cited; everything else is judged against the data.
TEST(Conformance, KnownDataDefectsAreCited) {
  EXPECT_NE(conformance::known_data_defect("test_adam_multiple").find("onnx/onnx#7749"), std::string_view::npos);
  EXPECT_TRUE(conformance::known_data_defect("test_adam").empty());
  EXPECT_TRUE(conformance::known_data_defect("test_abs").empty());
}

// The comparison follows numpy.testing.assert_allclose(rtol=1e-3, atol=1e-7) with NaN == NaN.
TEST(Conformance, ComparisonFollowsAssertAllclose) {
  auto f32 = [](std::vector<float> values) {
    return Tensor::from_vector<float>(DType::f32, {static_cast<int64_t>(values.size())}, values);
  };
  EXPECT_TRUE(conformance::compare_tensors(f32({1000.0f}), f32({1000.9f})).equal);
  conformance::Comparison outside = conformance::compare_tensors(f32({1000.0f}), f32({1001.2f}));
  EXPECT_FALSE(outside.equal);
  EXPECT_NEAR(outside.max_abs_error, 1.2, 1e-3);
  EXPECT_NEAR(outside.max_rel_error, 1.2e-3, 1e-6);
  EXPECT_TRUE(conformance::compare_tensors(f32({0.0f}), f32({5e-8f})).equal);
  EXPECT_FALSE(conformance::compare_tensors(f32({0.0f}), f32({2e-7f})).equal);
  EXPECT_TRUE(conformance::compare_tensors(f32({NAN, INFINITY}), f32({NAN, INFINITY})).equal);
  EXPECT_FALSE(conformance::compare_tensors(f32({NAN}), f32({1.0f})).equal);
  EXPECT_FALSE(conformance::compare_tensors(f32({INFINITY}), f32({-INFINITY})).equal);
  EXPECT_FALSE(conformance::compare_tensors(f32({1, 2}), f32({1})).equal);
  auto i64 = Tensor::from_vector<int64_t>(DType::i64, {2}, {5, 6});
  auto i64_off = Tensor::from_vector<int64_t>(DType::i64, {2}, {5, 7});
  EXPECT_TRUE(conformance::compare_tensors(i64, i64).equal);
  EXPECT_FALSE(conformance::compare_tensors(i64, i64_off).equal) << "integers must match exactly";
  conformance::Comparison dtype = conformance::compare_tensors(i64, f32({5, 6}));
  EXPECT_FALSE(dtype.equal);
  EXPECT_NE(dtype.reason.find("dtype"), std::string::npos);
}

TEST(Conformance, MainOpOfATest) {
  EXPECT_EQ(conformance::main_op_of_test("test_abs", {"Abs"}), "Abs");
  EXPECT_EQ(conformance::main_op_of_test("test_clip_default_min", {"Constant", "Clip"}), "Clip");
  EXPECT_EQ(conformance::main_op_of_test("test_reduce_sum_keepdims_example_expanded", {"Shape", "ReduceSum", "Mul"}),
            "ReduceSum");
  EXPECT_EQ(conformance::main_op_of_test("test_gather_elements_0", {"Cast", "GatherElements"}), "GatherElements");
  EXPECT_EQ(conformance::main_op_of_test("test_sce_mean_expanded", {"Shape", "Reshape"}), "SoftmaxCrossEntropyLoss");
}

TEST(Conformance, IsolationReportsACrashOrMissingFolderAsAnError) {
  conformance::TestResult result = conformance::run_test_isolated("/nonexistent/test_abs");
  EXPECT_EQ(result.status, conformance::TestStatus::error);
  EXPECT_EQ(result.op, "Abs");
  EXPECT_NE(result.reason.find("model.onnx"), std::string::npos) << result.reason;
}

}  // namespace
}  // namespace npukit
