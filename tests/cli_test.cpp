// The npukit binary end to end (NPUKIT_CLI_PATH): what people and scripts see, exit codes, and the messages
// for bad input; plus the output helpers (units, tables, file names).
#include <gtest/gtest.h>

#include "cli_runner.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "cli/table.h"
#include "cli/tensor_values.h"
#include "core/npy.h"

namespace npukit::cli {
namespace {

using testing::CommandResult;
using testing::read_text;

class CliTest : public testing::CliRunner {};

TEST_F(CliTest, InspectBuiltinJsonHasStableKeysAndTheFigures) {
  CommandResult result = run("inspect builtin:yolov5s --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["macs"].get<int64_t>(), 8216780800);
  EXPECT_EQ(json["inputs"][0]["name"], "images");
  EXPECT_EQ(json["inputs"][0]["shape"], nlohmann::json({1, 3, 640, 640}));
  EXPECT_EQ(json["outputs"][0]["shape"], nlohmann::json({1, 25200, 85}));
  EXPECT_EQ(json["ops"]["Conv"], 60);
  EXPECT_EQ(json["nodes"].size(), json["node_count"].get<size_t>());
  EXPECT_TRUE(json["complete"].get<bool>());
  EXPECT_GT(json["peak_activation_bytes"].get<int64_t>(), 3 * 32 * 320 * 320 * 4 - 1);
  for (const char* key : {"model", "opset", "parameters", "other_operations", "peak_node_index", "notes"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
}

TEST_F(CliTest, InspectTableLeadsWithTheSummary) {
  CommandResult result = run("inspect builtin:yolov5s --layers 3");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("8.22 G"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("[1, 25200, 85]"), std::string::npos);
  EXPECT_LT(result.out.find("MACs"), result.out.find("layers:"));
  // The three stride-2 3x3 Convs of the backbone tie for the most MACs at 640: 472 M each.
  EXPECT_NE(result.out.find("model.1.conv  Conv  [1, 64, 160, 160]  18.5 K  472 M"), std::string::npos) << result.out;
}

TEST_F(CliTest, InspectInputShapeResizesTheBuiltin) {
  CommandResult result = run("inspect builtin:yolov5s --json --input-shape images=1,3,320,320");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out)["outputs"][0]["shape"], nlohmann::json({1, 6300, 85}));
  CommandResult bad = run("inspect builtin:yolov5s --input-shape images=1,3,abc");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("'abc' is not a dimension"), std::string::npos) << bad.err;
}

TEST_F(CliTest, InspectMissingFileSaysSoAndExits1) {
  CommandResult result = run("inspect " + path("absent.onnx"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("npukit: error: " + path("absent.onnx") + ": no such file"), std::string::npos)
      << result.err;
}

TEST_F(CliTest, RunRandomInputWritesOutputsAndPrintsStatistics) {
  CommandResult result = run("run builtin:yolov5n-64 --random-input --seed 3 --output-dir " + path("out"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  Tensor output = read_npy(path("out/output0.npy"));
  EXPECT_EQ(output.shape(), (Shape{1, 252, 85}));
  EXPECT_NE(result.out.find("output0"), std::string::npos);
  EXPECT_NE(result.out.find("wall time"), std::string::npos);
  EXPECT_NE(result.out.find("random (seed 3)"), std::string::npos);

  // The same seed gives the same outputs; the JSON summary agrees with the file.
  CommandResult again = run("run builtin:yolov5n-64 --random-input --seed 3 --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  nlohmann::json json = nlohmann::json::parse(again.out);
  EXPECT_EQ(json["outputs"][0]["shape"], nlohmann::json({1, 252, 85}));
  EXPECT_FLOAT_EQ(json["outputs"][0]["first_values"][0].get<float>(), output.data<float>()[0]);
  TensorValueSummary summary = summarize_values(output);
  EXPECT_NEAR(json["outputs"][0]["max"].get<double>(), summary.maximum, 1e-6);
  EXPECT_EQ(json["inputs"][0]["source"], "random");
}

TEST_F(CliTest, RunReadsInputsFromNpyFiles) {
  Tensor images(DType::f32, {1, 3, 64, 64});
  for (float& value : images.values<float>()) value = 0.25f;
  write_npy(path("images.npy"), images);
  CommandResult result = run("run builtin:yolov5n-64 --input images=" + path("images.npy") + " --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out)["inputs"][0]["source"], path("images.npy"));
  // A bare file is accepted for a one-input model.
  EXPECT_EQ(run("run builtin:yolov5n-64 -i " + path("images.npy")).exit_code, 0);
}

TEST_F(CliTest, RunBadInputsSayWhatToDoAndExit1) {
  Tensor wrong_shape(DType::f32, {1, 3, 32, 32});
  write_npy(path("small.npy"), wrong_shape);
  Tensor wrong_dtype(DType::i64, {1, 3, 64, 64});
  write_npy(path("integers.npy"), wrong_dtype);
  std::ofstream(path("garbage.npy")) << "this is not a numpy file";

  struct Case {
    std::string arguments;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"--input images=" + path("absent.npy"), "no such file"},
      {"--input images=" + path("garbage.npy"), "is not a readable .npy file"},
      {"--input pixels=" + path("small.npy"), "has no input named 'pixels'; its inputs are: images"},
      {"--input images=" + path("small.npy"), "must have shape [1, 3, 64, 64]"},
      {"--input images=" + path("integers.npy"), "astype(np.float32)"},
      {"", "pass --input images=FILE.npy, or --random-input"},
      {"--random-input --backend warp", "unknown backend 'warp'"},
  };
  for (const Case& test_case : cases) {
    CommandResult result = run("run builtin:yolov5n-64 " + test_case.arguments);
    EXPECT_EQ(result.exit_code, 1) << test_case.arguments;
    EXPECT_NE(result.err.find("npukit: error: "), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(test_case.expected), std::string::npos) << test_case.arguments << "\n" << result.err;
  }
  EXPECT_EQ(run("run").exit_code, 1);  // usage errors exit 1 too
}

TEST_F(CliTest, RunKeepWritesIntermediateValuesAsComputed) {
  CommandResult all = run("run builtin:yolov5n-64 --random-input --seed 2 --keep all --json --output-dir " + path("all"));
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const nlohmann::json kept = nlohmann::json::parse(all.out)["kept"];
  ASSERT_GT(kept.size(), 20u);
  for (const nlohmann::json& value : kept) {
    ASSERT_TRUE(value["file"].is_string()) << value.dump();
    EXPECT_EQ(nlohmann::json(read_npy(value["file"].get<std::string>()).shape()), value["shape"]) << value["name"];
  }
  // One value asked for by name comes back bit for bit as in the "all" run: keeping observes, never changes.
  const nlohmann::json& chosen = kept[kept.size() / 2];
  const std::string name = chosen["name"].get<std::string>();
  CommandResult one = run("run builtin:yolov5n-64 --random-input --seed 2 --json --output-dir " + path("one") +
                          " --keep '" + name + "'");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const nlohmann::json single = nlohmann::json::parse(one.out)["kept"];
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0]["name"], name);
  const Tensor a = read_npy(chosen["file"].get<std::string>()), b = read_npy(single[0]["file"].get<std::string>());
  ASSERT_EQ(a.byte_size(), b.byte_size());
  EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.byte_size()), 0);

  CommandResult unknown = run("run builtin:yolov5n-64 --random-input --keep no_such_value");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("cannot keep 'no_such_value'"), std::string::npos) << unknown.err;
}

TEST_F(CliTest, MemoryLimitIsAppliedBeforeTheCommandRuns) {
  CommandResult result = run("--memory-limit 1K inspect builtin:yolov5n-64");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--memory-limit"), std::string::npos) << result.err;
  EXPECT_EQ(run("--memory-limit lots inspect builtin:yolov5n-64").exit_code, 1);
  EXPECT_EQ(run("--memory-limit 1G inspect builtin:yolov5n-64").exit_code, 0);
}

TEST(OutputHelpers, HumanUnits) {
  EXPECT_EQ(format_count(8.21e9), "8.21 G");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(999.7e3), "1.00 M");
  EXPECT_EQ(format_count(73856), "73.9 K");
  EXPECT_EQ(format_bytes(12.3 * 1048576), "12.3 MiB");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_seconds(0.00452), "4.52 ms");
  EXPECT_EQ(format_seconds(1.5), "1.50 s");
}

TEST(OutputHelpers, TableAlignsNumbersRight) {
  Table table({{"name"}, {"MACs", Align::right}});
  table.add_row({"conv", "8.21 G"});
  table.add_row({"a_much_longer_name", "12"});
  std::ostringstream out;
  table.print(out);
  EXPECT_EQ(out.str(),
            "name                  MACs\n"
            "------------------  ------\n"
            "conv                8.21 G\n"
            "a_much_longer_name      12\n");
  EXPECT_EQ(shorten_middle("abcdefghij", 5), "ab…ij");
  EXPECT_THROW(table.add_row({"1", "2", "3"}), Error);
}

TEST(OutputHelpers, FileNamesAreSanitized) {
  EXPECT_EQ(sanitize_file_name("output0"), "output0");
  EXPECT_EQ(sanitize_file_name("/model.24/Concat:0"), "_model.24_Concat_0");
  EXPECT_EQ(sanitize_file_name("../../etc/passwd"), "_._.._etc_passwd");
  EXPECT_EQ(sanitize_file_name(""), "output");
}

TEST(OutputHelpers, ProgressIsQuietWhenNotATerminalAndRendersABar) {
  Progress progress("run", 4);
  if (!stderr_is_terminal()) EXPECT_FALSE(progress.active());
  EXPECT_EQ(Progress::render("run", 2, 4, "running", 10), "run [#####     ] 2/4 running");
}

}  // namespace
}  // namespace npukit::cli
