// npukit check --input-sizes: the sizes argument, and per target which sizes pass the size-dependent limits
// (RK3588's 8192 on every dim), with MACs that grow with the square of the size, through the command as users run it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "check/input_size_fit.h"
#include "cli_runner.h"
#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "target_test_graphs.h"

namespace npukit::check {
namespace {

TEST(InputSizes, ListsAndRangesAreParsedAndNonsenseIsRefused) {
  EXPECT_EQ(parse_input_sizes("640,320,480,320"), (std::vector<int64_t>{320, 480, 640}));
  EXPECT_EQ(parse_input_sizes("320:1280:160"), (std::vector<int64_t>{320, 480, 640, 800, 960, 1120, 1280}));
  EXPECT_EQ(parse_input_sizes("320:1000:320"), (std::vector<int64_t>{320, 640, 960}));
  for (const char* bad : {"", "320,,640", "abc", "320:1280", "1280:320:160", "0", "-5", "1:100000:1", "320:640:0",
                          "1:10000:1", "99999999"}) {
    EXPECT_THROW(parse_input_sizes(bad), Error) << bad;
  }
  try {
    parse_input_sizes("320,six");
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'six' is not a whole number"), std::string::npos) << error.what();
  }
}

TEST(InputSizes, OnlySizeDependentRefusalsDecideTheFit) {
  EXPECT_TRUE(is_size_dependent_check("dim"));
  EXPECT_TRUE(is_size_dependent_check("elements"));
  EXPECT_TRUE(is_size_dependent_check("reduction_dim"));
  EXPECT_FALSE(is_size_dependent_check("kernel"));
  EXPECT_FALSE(is_size_dependent_check("axis"));
}

class InputSizesCli : public testing::CliRunner {
 protected:
  // x[1,3,32,32] → Conv 3×3 (8 channels, pad 1) → Relu.
  std::string write_conv_model() {
    testing::TestGraph graph;
    ir::Value* x = graph.input("x", {1, 3, 32, 32});
    ir::Value* y = graph.node("Conv", {x, graph.weights("w", {8, 3, 3, 3})}, {1, 8, 32, 32},
                              {{"kernel_shape", testing::ints_attr({3, 3})}, {"pads", testing::ints_attr({1, 1, 1, 1})}});
    graph.output(graph.node("Relu", {y}, {1, 8, 32, 32}));
    const std::string file = path("conv.onnx");
    onnx_io::save_model(graph.model, file);
    return file;
  }
};

TEST_F(InputSizesCli, Rk3588RefusesADimensionAbove8192AndMacsGrowWithTheArea) {
  const std::string model = write_conv_model();
  testing::CommandResult result = run("check '" + model + "' --target rk3588 --input-sizes 4096,8200 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json json = nlohmann::json::parse(result.out);
  const nlohmann::json& fit = json["input_sizes"][0];
  EXPECT_EQ(fit["target"], "rk3588");
  EXPECT_EQ(fit["largest_passing_size"], 4096);
  ASSERT_EQ(fit["sizes"].size(), 2u);
  EXPECT_TRUE(fit["sizes"][0]["passes_size_limits"].get<bool>());
  EXPECT_FALSE(fit["sizes"][1]["passes_size_limits"].get<bool>());
  const std::string broken = fit["sizes"][1]["size_limits_broken"][0];
  EXPECT_NE(broken.find("8200"), std::string::npos) << broken;
  EXPECT_NE(broken.find("at most 8192"), std::string::npos) << broken;
  EXPECT_EQ(fit["sizes"][0]["macs_total"].get<int64_t>(), int64_t{4096} * 4096 * 8 * 27);
  EXPECT_EQ(fit["sizes"][1]["macs_total"].get<int64_t>(), int64_t{8200} * 8200 * 8 * 27);
  EXPECT_EQ(fit["sizes"][0]["weight_bytes_int8"], 8 * 27);
  // The largest activation is the Conv output: 8 × 4096 × 4096 bytes at int8; RK3588's SRAM is 956 KB.
  EXPECT_EQ(fit["sizes"][0]["largest_activation_bytes_int8"].get<int64_t>(), int64_t{8} * 4096 * 4096);
  EXPECT_EQ(fit["sizes"][0]["within_on_chip_memory"], "no");
  EXPECT_NE(fit["on_chip_memory_source"].get<std::string>().find("RK3588_NPU_SRAM_usage"), std::string::npos);
  // Hailo publishes no on-chip memory size: unknown, never a guess.
  result = run("check '" + model + "' --target hailo8 --input-sizes 64 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out)["input_sizes"][0]["sizes"][0]["within_on_chip_memory"], "unknown");
}

TEST_F(InputSizesCli, TableAnswersForEveryTargetAndBadArgumentsSayWhatToDo) {
  const std::string model = write_conv_model();
  testing::CommandResult result = run("check '" + model + "' --target all --input-sizes 64:128:64");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* target : {"rk3588", "hailo8", "edgetpu", "jetson-orin-dla", "rk3566"}) {
    EXPECT_NE(result.out.find(std::string(target) + "  ("), std::string::npos) << target;
  }
  EXPECT_NE(result.out.find("largest size that passes every size limit: 128"), std::string::npos) << result.out;
  result = run("check '" + model + "' --target rk3588 --input-sizes 320,big");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("--input-sizes '320,big'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("320:1280:160"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace npukit::check
