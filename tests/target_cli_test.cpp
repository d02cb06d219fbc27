// `npukit targets`, `check` and `patch` end to end: tables for people, JSON for programs, Markdown reports,
// and errors that say what to do, with a non-zero exit.
#include <gtest/gtest.h>

#include "cli_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace npukit {
namespace {

using testing::CommandResult;
using testing::read_text;

class TargetCli : public testing::CliRunner {};

TEST_F(TargetCli, TargetsListsEveryProfileAsTableAndJson) {
  CommandResult table = run("targets");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const char* id : {"rk3588", "rk3566", "hailo8", "hailo8l", "edgetpu", "jetson-orin-dla", "qualcomm-htp", "ax620a", "esp32s3", "a311d", "jetson-orin-gpu", "axelera-metis"}) {
    EXPECT_NE(table.out.find(id), std::string::npos) << id;
  }
  EXPECT_EQ(table.out.find("\033["), std::string::npos);  // no color when not on a terminal
  CommandResult json = run("targets --json");
  ASSERT_EQ(json.exit_code, 0);
  nlohmann::json profiles = nlohmann::json::parse(json.out);
  ASSERT_EQ(profiles.size(), 12u);
  for (const nlohmann::json& profile : profiles) {
    if (profile["id"] == "rk3588") {
      EXPECT_EQ(profile["compute"]["tops_int8"]["value"], 6);
      EXPECT_FALSE(profile["compute"]["tops_int8"]["source"].get<std::string>().empty());
    }
    if (profile["id"] == "hailo8") EXPECT_EQ(profile["memory"]["on_chip_sram_bytes"]["known"], false);
  }
  CommandResult one = run("targets --target rk3568");
  ASSERT_EQ(one.exit_code, 0);
  EXPECT_NE(one.out.find("RK3566 / RK3568"), std::string::npos);
}

TEST_F(TargetCli, CheckBuiltinYoloOnRk3588AsTableJsonAndMarkdown) {
  CommandResult table = run("check builtin:yolov5n-320 --target rk3588 --report '" + path("report.md") + "'");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("coordinate_transformation_mode 'asymmetric'"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("patch: resize-half-pixel"), std::string::npos);
  EXPECT_NE(table.out.find("patch: cut-yolo-postprocess"), std::string::npos);
  EXPECT_NE(table.out.find("transfers per inference"), std::string::npos);
  const std::string report = read_text(path("report.md"));
  EXPECT_NE(report.find("| rk3588 |"), std::string::npos);
  EXPECT_NE(report.find("cut-yolo-postprocess"), std::string::npos);

  CommandResult json = run("check builtin:yolov5n-320 --target all --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json parsed = nlohmann::json::parse(json.out);
  ASSERT_EQ(parsed["targets"].size(), 12u);
  for (const nlohmann::json& target : parsed["targets"]) {
    EXPECT_TRUE(target["has_yolo_postprocess"].get<bool>());
    EXPECT_GE(target["accelerator_mac_share"].get<double>(), 0.0);
    EXPECT_FALSE(target["nodes"].empty());
  }
}

TEST_F(TargetCli, PatchWritesTheModelAndTheSidecarAndCheckAgrees) {
  const std::string output = path("patched.onnx");
  CommandResult patch = run("patch builtin:yolov5n-320 --target rk3588 -o '" + output + "' --json");
  ASSERT_EQ(patch.exit_code, 0) << patch.err;
  nlohmann::json report = nlohmann::json::parse(patch.out);
  EXPECT_EQ(report["accelerator_mac_share_after"], 1.0);
  EXPECT_EQ(report["segments_after"], 1);
  EXPECT_FALSE(report["needs_retraining"].get<bool>());
  ASSERT_TRUE(std::filesystem::exists(output));
  nlohmann::json sidecar = nlohmann::json::parse(read_text(path("patched.postprocess.json")));
  EXPECT_EQ(sidecar["strides"], nlohmann::json({8, 16, 32}));
  EXPECT_EQ(sidecar["outputs"].size(), 6u);
  CommandResult check = run("check '" + output + "' --target rk3588 --json");
  ASSERT_EQ(check.exit_code, 0) << check.err;
  nlohmann::json checked = nlohmann::json::parse(check.out)["targets"][0];
  EXPECT_EQ(checked["accelerator_mac_share"], 1.0);
  EXPECT_EQ(checked["segments"].size(), 1u);
  // Opting in to SiLU → ReLU is reported as needing retraining.
  CommandResult relu = run("patch builtin:yolov5n-320 --target rk3588 -o '" + path("relu.onnx") + "' --allow-retraining");
  ASSERT_EQ(relu.exit_code, 0) << relu.err;
  EXPECT_NE(relu.out.find("retrain"), std::string::npos);
}

TEST_F(TargetCli, BadTargetsAndProfilesSayWhatToDo) {
  CommandResult unknown = run("check builtin:yolov5n-320 --target rk9999");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("unknown target 'rk9999'"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("npukit targets"), std::string::npos);
  CommandResult none = run("check builtin:yolov5n-320");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("--target"), std::string::npos);
  std::ofstream(path("broken.json")) << R"({"schema": "npukit-target-profile/1", "id": "mine"})";
  CommandResult broken = run("check builtin:yolov5n-320 --target-file '" + path("broken.json") + "'");
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("broken.json"), std::string::npos) << broken.err;
  EXPECT_NE(broken.err.find("field '"), std::string::npos) << broken.err;
  CommandResult all_patch = run("patch builtin:yolov5n-320 --target all -o '" + path("x.onnx") + "'");
  EXPECT_EQ(all_patch.exit_code, 1);
  CommandResult missing = run("check /nonexistent/model.onnx --target rk3588");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/model.onnx"), std::string::npos);
}

TEST_F(TargetCli, UserProfileFileIsUsedLikeABuiltinOne) {
  // The RK3566 profile under another id, with Conv removed: every Conv then runs on the CPU.
  nlohmann::json profile = nlohmann::json::parse(read_text(std::string(NPUKIT_TARGETS_DIR) + "/rk3566.json"));
  profile["id"] = "my-npu";
  profile["ops"].erase("Conv");
  std::ofstream(path("my-npu.json")) << profile.dump();
  CommandResult result = run("check builtin:yolov5n-320 --target-file '" + path("my-npu.json") + "' --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json checked = nlohmann::json::parse(result.out)["targets"][0];
  EXPECT_EQ(checked["target"], "my-npu");
  EXPECT_EQ(checked["accelerator_mac_share"], 0.0);
}

}  // namespace
}  // namespace npukit
