// The ONNX backend node tests (libonnx-testdata) on the reference backend, pinned to today's result: 885
// pass, none is wrong, none fails with an error, and exactly the tests listed below are unsupported (with
// ErrorKind::unsupported and a reason). A regression fails, and so does a newly supported test, until the
// list is updated: a change in either direction is seen. The whole suite takes 6 s from `npukit conformance`
// and 14 s in this test binary on the shared 2-core machine (one child process per test).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "conformance/conformance_runner.h"
#include "npukit/tensor.h"

namespace npukit {
namespace {

const std::string kNodeTests = "/usr/share/libonnx-testdata/data/node";

// The tests npukit does not run, by reason. Each is an honest "unsupported", never a wrong answer.
const std::set<std::string> kExpectedUnsupported = {
    // Random draws: outputs cannot be compared with recorded data.
    "test_bernoulli", "test_bernoulli_double", "test_bernoulli_double_expanded", "test_bernoulli_expanded",
    "test_bernoulli_seed", "test_bernoulli_seed_expanded", "test_training_dropout", "test_training_dropout_default",
    "test_training_dropout_default_mask", "test_training_dropout_mask",
    // String tensors: npukit has none.
    "test_cast_FLOAT_to_STRING", "test_cast_STRING_to_FLOAT", "test_castlike_FLOAT_to_STRING",
    "test_castlike_FLOAT_to_STRING_expanded", "test_castlike_STRING_to_FLOAT", "test_castlike_STRING_to_FLOAT_expanded",
    "test_strnormalizer_export_monday_casesensintive_lower", "test_strnormalizer_export_monday_casesensintive_nochangecase",
    "test_strnormalizer_export_monday_casesensintive_upper", "test_strnormalizer_export_monday_empty_output",
    "test_strnormalizer_export_monday_insensintive_upper_twodim", "test_strnormalizer_nostopwords_nochangecase",
    // Sequence and optional values: npukit supports tensor values only.
    "test_identity_opt", "test_identity_sequence", "test_if_opt", "test_if_seq", "test_loop13_seq",
    "test_loop16_seq_none", "test_optional_get_element", "test_optional_get_element_sequence",
    "test_optional_has_element", "test_optional_has_element_empty", "test_sequence_insert_at_back",
    "test_sequence_insert_at_front", "test_sequence_map_add_1_sequence_1_tensor",
    "test_sequence_map_add_1_sequence_1_tensor_expanded", "test_sequence_map_add_2_sequences",
    "test_sequence_map_add_2_sequences_expanded", "test_sequence_map_extract_shapes",
    "test_sequence_map_extract_shapes_expanded", "test_sequence_map_identity_1_sequence",
    "test_sequence_map_identity_1_sequence_1_tensor", "test_sequence_map_identity_1_sequence_1_tensor_expanded",
    "test_sequence_map_identity_1_sequence_expanded", "test_sequence_map_identity_2_sequences",
    "test_sequence_map_identity_2_sequences_expanded",
};

TEST(Conformance, NodeTestsOnTheReferenceBackend) {
  ASSERT_TRUE(std::filesystem::is_directory(kNodeTests))
      << kNodeTests << " is missing: install libonnx-testdata (make test does)";
  std::vector<conformance::TestResult> results = conformance::run_suite(kNodeTests, {});
  size_t passed = 0, wrong = 0, unsupported = 0, errors = 0, disputed = 0;
  std::set<std::string> unsupported_names;
  for (const auto& result : results) {
    switch (result.status) {
      case conformance::TestStatus::passed: ++passed; break;
      case conformance::TestStatus::wrong:
        ++wrong;
        ADD_FAILURE() << "wrong: " << result.name << ": " << result.reason;
        break;
      case conformance::TestStatus::unsupported:
        ++unsupported;
        unsupported_names.insert(result.name);
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
  EXPECT_EQ(passed, 885u) << "a change in the pass count: see the unsupported lists below, or the failures above";
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(disputed, 1u) << "only test_adam_multiple is known to contradict the spec";
  std::vector<std::string> newly_unsupported, now_supported;
  std::set_difference(unsupported_names.begin(), unsupported_names.end(), kExpectedUnsupported.begin(),
                      kExpectedUnsupported.end(), std::back_inserter(newly_unsupported));
  std::set_difference(kExpectedUnsupported.begin(), kExpectedUnsupported.end(), unsupported_names.begin(),
                      unsupported_names.end(), std::back_inserter(now_supported));
  for (const std::string& name : newly_unsupported) ADD_FAILURE() << "unsupported now, was not: " << name;
  for (const std::string& name : now_supported) {
    ADD_FAILURE() << "no longer unsupported (take it off kExpectedUnsupported if it passes): " << name;
  }
  EXPECT_EQ(kExpectedUnsupported.size(), 46u);
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
