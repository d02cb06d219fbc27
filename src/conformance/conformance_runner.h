// Runs ONNX backend node tests (a folder holding model.onnx and test_data_set_*/input_K.pb, output_K.pb)
// on the reference backend and compares the outputs the way ONNX's own backend tests do.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "npukit/tensor.h"

namespace npukit::ir {
class Graph;
}

namespace npukit::conformance {

enum class TestStatus {
  passed,
  wrong,        // ran, but an output differs from the expected one beyond tolerance
  unsupported,  // npukit says it does not implement something (ErrorKind::unsupported, sequences, strings)
  error,        // any other failure: a defect in npukit (or a crash, a time-out)
  disputed,     // differs from expected data that is known to contradict the spec (see known_data_defect)
};

std::string_view status_name(TestStatus status);

// Why a test's expected outputs contradict the operator spec (with the upstream report), or empty when the
// test is not known to be defective. Only a mismatch of such a test is "disputed"; a match still passes.
std::string_view known_data_defect(std::string_view test_name);

struct TestResult {
  std::string name;  // folder name, "test_abs"
  std::string op;    // the op the test exercises, "Abs"
  TestStatus status = TestStatus::error;
  std::string reason;  // empty when passed
  double max_abs_error = 0;
  double max_rel_error = 0;
  double seconds = 0;
};

// numpy.testing.assert_allclose semantics: |actual - expected| <= atol + rtol * |expected|, NaN equals
// NaN, infinities must match exactly; integer and bool tensors must be equal.
struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-7;
};

struct Comparison {
  bool equal = true;
  std::string reason;
  double max_abs_error = 0;
  double max_rel_error = 0;
};

Comparison compare_tensors(const Tensor& expected, const Tensor& actual, const Tolerance& tolerance = {});

// One test_data_set_N folder: inputs by graph-input name, expected outputs in graph-output order.
struct DataSet {
  std::string name;
  std::map<std::string, Tensor> inputs;
  std::vector<Tensor> expected_outputs;
};

// Reads every test_data_set_* of a test folder, checked against the model's declared inputs and outputs.
// Throws Error(invalid_argument) naming the data set when counts or dtypes disagree.
std::vector<DataSet> read_data_sets(const std::string& folder, const ir::Graph& graph);

// The op a test exercises: the only non-Constant node of a single-op model, else the ONNX op whose name
// (lower case, without underscores) is the longest prefix of the test name ("test_reduce_sum_keepdims_..."
// → ReduceSum), else the first non-Constant node.
std::string main_op_of_test(const std::string& test_name, const std::vector<std::string>& node_op_types);

// Runs one test folder in this process. Never throws: every failure becomes a status with its reason.
TestResult run_test(const std::string& folder, const Tolerance& tolerance = {});

// Runs one test folder in a child process, so a crash or a hang (beyond timeout_seconds) in a kernel is
// reported as an error of that test instead of ending the whole run.
TestResult run_test_isolated(const std::string& folder, int timeout_seconds = 120, const Tolerance& tolerance = {});

// Sorted test folders under `root` (folders holding a model.onnx) whose name matches `filter_regex`
// (ECMAScript, searched anywhere in the name; empty matches all). Throws Error(io) when root is not a folder,
// Error(invalid_argument) for a bad regex.
std::vector<std::string> list_tests(const std::string& root, const std::string& filter_regex = {});

struct SuiteOptions {
  std::string filter;
  bool isolate = true;
  int timeout_seconds = 120;
  Tolerance tolerance;
};

// Runs every listed test; `progress(done, total, result)` is called after each test.
std::vector<TestResult> run_suite(const std::string& root, const SuiteOptions& options,
                                  const std::function<void(size_t, size_t, const TestResult&)>& progress = {});

}  // namespace npukit::conformance
