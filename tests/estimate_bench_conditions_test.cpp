// The conditions `npukit bench` declares: the frequency governor and clocks read from cpufreq (or "unknown" with
// the reason), the model's batch and precision, and the bench command's JSON carrying them all.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "benchmark/measurement_conditions.h"
#include "cli_runner.h"
#include "target_test_graphs.h"

namespace npukit::testing {
namespace {

TEST(BenchConditions, ReadsGovernorClocksAndBoostFromCpufreqOrSaysWhyNot) {
  const std::filesystem::path root = std::filesystem::temp_directory_path() / ("npukit_cpufreq_" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "cpu0" / "cpufreq");
  std::filesystem::create_directories(root / "cpufreq");
  std::ofstream(root / "cpu0" / "cpufreq" / "scaling_governor") << "performance\n";
  std::ofstream(root / "cpu0" / "cpufreq" / "scaling_cur_freq") << "2400000\n";
  std::ofstream(root / "cpu0" / "cpufreq" / "cpuinfo_max_freq") << "3500000\n";
  std::ofstream(root / "cpufreq" / "boost") << "0\n";
  const benchmark::MachineConditions machine = benchmark::read_machine_conditions(root.string());
  EXPECT_EQ(machine.frequency_governor, "performance");
  EXPECT_EQ(machine.frequency, "cpu0 current 2.40 GHz, max 3.50 GHz");
  EXPECT_EQ(machine.frequency_boost, "off");
  EXPECT_GT(machine.hardware_threads, 0u);
  std::filesystem::remove_all(root);
  const benchmark::MachineConditions hidden = benchmark::read_machine_conditions(root.string());
  EXPECT_EQ(hidden.frequency_governor.rfind("unknown (", 0), 0u);
  EXPECT_EQ(hidden.frequency.rfind("unknown (", 0), 0u);
  EXPECT_EQ(hidden.frequency_boost.rfind("unknown (", 0), 0u);
}

TEST(BenchConditions, DescribesBatchAndPrecisionOfTheModel) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {4, 8, 4, 4});
  graph.output(graph.node("Conv", {x, graph.weights("w", {8, 8, 1, 1})}, {4, 8, 4, 4}, {{"kernel_shape", ints_attr({1, 1})}}));
  const benchmark::ModelConditions plain = benchmark::describe_model(*graph.model.graph);
  EXPECT_EQ(plain.batch, "4 (first dim of x)");
  EXPECT_EQ(plain.precision, "f32 weights, not quantized");
  EXPECT_NE(plain.input_sizes.find("x"), std::string::npos);

  TestGraph quantized;
  ir::Value* input = quantized.input("x", {1, 8});
  ir::Value* scale = quantized.weights("scale", {1});
  ir::Value* q = quantized.node("QuantizeLinear", {input, scale}, {1, 8}, {}, DType::u8);
  quantized.output(quantized.node("DequantizeLinear", {q, scale}, {1, 8}));
  const benchmark::ModelConditions qdq = benchmark::describe_model(*quantized.model.graph);
  EXPECT_NE(qdq.precision.find("1 QuantizeLinear"), std::string::npos);
  EXPECT_NE(qdq.precision.find("1 DequantizeLinear"), std::string::npos);
}

using BenchConditionsCli = CliRunner;

TEST_F(BenchConditionsCli, BenchDeclaresEveryConditionInTableAndJson) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v8_raw_concat.onnx";
  ASSERT_TRUE(std::filesystem::exists(model)) << "run tools/make_models.sh";
  CommandResult json = run("bench '" + model + "' -n 3 --warmup 1 --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json conditions = nlohmann::json::parse(json.out)["conditions"];
  for (const char* key : {"input_sizes", "batch", "precision", "inputs", "backend", "threads", "workers", "timed", "scenario",
                          "warmup_runs", "iterations", "duration_s", "machine", "libraries"}) {
    EXPECT_TRUE(conditions.contains(key)) << key;
  }
  EXPECT_EQ(conditions["iterations"], 3);
  EXPECT_EQ(conditions["warmup_runs"], 1);
  EXPECT_TRUE(conditions["machine"].contains("frequency_governor"));
  EXPECT_TRUE(conditions["libraries"].contains("oneDNN"));
  CommandResult table = run("bench '" + model + "' -n 3 --warmup 1");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const char* row : {"frequency governor", "dtype / quantization", "batch", "timed", "scenario", "libraries"}) {
    EXPECT_NE(table.out.find(row), std::string::npos) << row;
  }
}

}  // namespace
}  // namespace npukit::testing
