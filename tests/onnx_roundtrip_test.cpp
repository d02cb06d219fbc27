// Import → export → import of every conformance model that passes must run to bit-identical outputs
// (DESIGN.md decision 1: an unchanged model survives the trip through the IR).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "conformance/conformance_runner.h"
#include "ir/graph.h"
#include "onnx/onnx_export.h"
#include "onnx/onnx_import.h"
#include "runtime/backend.h"
#include "runtime/executor.h"

namespace npukit {
namespace {

const std::string kNodeTests = "/usr/share/libonnx-testdata/data/node";

bool identical(const Tensor& first, const Tensor& second) {
  if (first.dtype() != second.dtype() || first.shape() != second.shape()) return false;
  return std::memcmp(first.raw_data(), second.raw_data(), first.byte_size()) == 0;
}

std::string type_summary(const ir::Graph& graph) {
  std::string text;
  for (const ir::Value* input : graph.inputs) text += input->name + ":" + input->type.to_string() + " ";
  text += "-> ";
  for (const ir::Value* output : graph.outputs) text += output->name + ":" + output->type.to_string() + " ";
  for (const auto& node : graph.nodes()) text += node->op_type + " ";
  return text;
}

TEST(OnnxRoundTrip, EveryPassingConformanceModelRunsIdenticallyAfterExport) {
  ASSERT_TRUE(std::filesystem::is_directory(kNodeTests)) << kNodeTests << " is missing: install libonnx-testdata (make test does)";
  size_t round_tripped = 0;
  for (const std::string& folder : conformance::list_tests(kNodeTests)) {
    const std::string name = std::filesystem::path(folder).filename().string();
    conformance::TestResult result = conformance::run_test_isolated(folder);
    if (result.status != conformance::TestStatus::passed) continue;
    SCOPED_TRACE(name);
    try {
      auto original = std::make_shared<ir::Model>(onnx_io::load_model(folder + "/model.onnx"));
      const std::string bytes = onnx_io::serialize_model(*original);
      auto reloaded = std::make_shared<ir::Model>(onnx_io::load_model_from_bytes(bytes, name + " (exported)", folder));
      EXPECT_EQ(type_summary(*original->graph), type_summary(*reloaded->graph));
      EXPECT_EQ(original->opset_imports, reloaded->opset_imports);
      runtime::Executor first(original, {&runtime::reference_backend()});
      runtime::Executor second(reloaded, {&runtime::reference_backend()});
      for (const auto& data_set : conformance::read_data_sets(folder, *original->graph)) {
        std::vector<Tensor> expected = first.run(data_set.inputs);
        std::vector<Tensor> actual = second.run(data_set.inputs);
        ASSERT_EQ(expected.size(), actual.size());
        for (size_t k = 0; k < expected.size(); ++k) {
          EXPECT_TRUE(identical(expected[k], actual[k])) << data_set.name << " output " << k;
        }
      }
      ++round_tripped;
    } catch (const Error& error) {
      ADD_FAILURE() << "round trip failed: " << error.what();
    }
  }
  std::cout << "round-tripped " << round_tripped << " passing conformance models\n";
  EXPECT_GT(round_tripped, 0u);
}

}  // namespace
}  // namespace npukit
