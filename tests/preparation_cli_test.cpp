// The preparation path as a user meets it through the npukit binary: bench refuses a size nobody gave and shows
// the one it used, inspect says "unknown" instead of 0, --input-value specializes an If, a model exported for one
// size is refused at another naming the node, and patch's figures are check's on the file it wrote.
#include <gtest/gtest.h>

#include "cli_runner.h"

#include <filesystem>

#include <nlohmann/json.hpp>

namespace npukit {
namespace {

using testing::CommandResult;

const std::filesystem::path models_directory = NPUKIT_MODELS_DIR;

class PreparationCli : public testing::CliRunner {
 protected:
  static std::string model(const std::string& relative) {
    const std::filesystem::path path = models_directory / relative;
    if (!std::filesystem::exists(path)) throw std::runtime_error(path.string() + " is missing: run make models");
    return "'" + path.string() + "'";
  }
};

TEST_F(PreparationCli, BenchRefusesADynamicSizeAndShowsTheShapesItUsed) {
  const std::string detector = model("ocr/ch_PP-OCRv4_det_infer.onnx");
  CommandResult dynamic = run("bench " + detector + " -n 1 --warmup 0");
  EXPECT_EQ(dynamic.exit_code, 1);
  EXPECT_NE(dynamic.err.find("bench needs a static shape; give it with --input-shape x=N,3,H,W"), std::string::npos)
      << dynamic.err;
  EXPECT_TRUE(dynamic.out.empty()) << "no figure may be printed for a size nobody gave";

  CommandResult fixed = run("bench " + detector + " --input-shape x=1,3,64,96 -n 2 --warmup 0");
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_NE(fixed.out.find("x f32[1, 3, 64, 96]"), std::string::npos) << fixed.out;
  CommandResult json = run("bench " + detector + " --input-shape x=1,3,64,96 -n 2 --warmup 0 --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json report = nlohmann::json::parse(json.out);
  EXPECT_EQ(report["inputs"][0]["name"], "x");
  EXPECT_EQ(report["inputs"][0]["shape"], nlohmann::json({1, 3, 64, 96}));
}

TEST_F(PreparationCli, InspectSaysUnknownWhereASizeIsMissing) {
  const std::string detector = model("ocr/ch_PP-OCRv4_det_infer.onnx");
  CommandResult text = run("inspect " + detector);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("\nMACs              unknown"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\npeak activations  unknown"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("--input-shape x=N,3,H,W"), std::string::npos) << text.out;
  CommandResult json = run("inspect " + detector + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json report = nlohmann::json::parse(json.out);
  EXPECT_TRUE(report["macs"].is_null());
  EXPECT_TRUE(report["peak_activation_bytes"].is_null());
}

TEST_F(PreparationCli, CheckSaysUnknownForTheMacsOfASegmentOfUnknownSize) {
  const std::string detector = model("ocr/ch_PP-OCRv4_det_infer.onnx");
  CommandResult json = run("check " + detector + " --target rk3588 --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json result = nlohmann::json::parse(json.out)["targets"][0];
  EXPECT_FALSE(result["macs_known"].get<bool>());
  ASSERT_FALSE(result["segments"].empty());
  for (const auto& segment : result["segments"]) EXPECT_TRUE(segment["macs"].is_null()) << segment;
  CommandResult table = run("check " + detector + " --target rk3588");
  EXPECT_NE(table.out.find("p2o.Sigmoid.0  unknown"), std::string::npos) << table.out;

  CommandResult fixed = run("check " + detector + " --target rk3588 --input-shape x=1,3,64,64 --json");
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err;
  const nlohmann::json fixed_report = nlohmann::json::parse(fixed.out);  // kept alive for the loop below
  for (const auto& segment : fixed_report["targets"][0]["segments"]) {
    EXPECT_TRUE(segment["macs"].is_number()) << segment;
  }
}

TEST_F(PreparationCli, AModelExportedForOneSizeIsRefusedAtAnotherNamingTheNode) {
  CommandResult result = run("inspect " + model("generated/yolov8n.onnx") + " --input-shape images=1,3,320,320");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("yolov8n.onnx: node '/detect/dfl/Reshape' (Reshape): cannot reshape [1, 64, 2100]"),
            std::string::npos)
      << result.err;
}

TEST_F(PreparationCli, InputValueSpecializesTheIfForCheck) {
  const std::string speech = model("generated/speech_if.onnx");
  CommandResult as_is = run("check " + speech + " --target rk3588 --json");
  ASSERT_EQ(as_is.exit_code, 0) << as_is.err;
  const nlohmann::json before = nlohmann::json::parse(as_is.out)["targets"][0];
  EXPECT_EQ(before["accelerator_mac_share"], 0.0);
  EXPECT_EQ(before["subgraph_nodes"].size(), 24u);
  CommandResult table = run("check " + speech + " --target rk3588");
  EXPECT_NE(table.out.find("--input-value sr=VALUE"), std::string::npos) << table.out;

  CommandResult specialized = run("check " + speech + " --target rk3588 --input-value sr=16000 --json");
  ASSERT_EQ(specialized.exit_code, 0) << specialized.err;
  const nlohmann::json after = nlohmann::json::parse(specialized.out)["targets"][0];
  EXPECT_GT(after["accelerator_mac_share"].get<double>(), 0.99);
  EXPECT_TRUE(after["subgraph_nodes"].empty());
  EXPECT_EQ(after["macs_total"], before["macs_total"]);  // the 16 kHz branch is the costlier one

  CommandResult wrong = run("check " + speech + " --target rk3588 --input-value rate=16000");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("the model's inputs are: input, sr, state"), std::string::npos) << wrong.err;
}

TEST_F(PreparationCli, PatchReportsTheFiguresCheckFindsInTheWrittenFile) {
  const std::string output = path("patched.onnx");
  CommandResult patch = run("patch " + model("generated/yolov8n.onnx") + " --target rk3566 -o '" + output + "' --json");
  ASSERT_EQ(patch.exit_code, 0) << patch.err;
  const nlohmann::json report = nlohmann::json::parse(patch.out);
  EXPECT_GE(report["rounds"].get<int>(), 2);  // a round that changed something, then one that confirmed nothing does
  CommandResult check = run("check '" + output + "' --target rk3566 --json");
  ASSERT_EQ(check.exit_code, 0) << check.err;
  const nlohmann::json checked = nlohmann::json::parse(check.out)["targets"][0];
  EXPECT_EQ(report["accelerator_mac_share_after"], checked["accelerator_mac_share"]);
  EXPECT_EQ(report["segments_after"], checked["segments"].size());

  // A model no one here wrote, its size given with --input-shape (which the preparation already applied: the
  // patch's own static-shapes step must not count it again round after round).
  const std::string recognizer = path("recognizer.onnx");
  CommandResult given_size = run("patch " + model("ocr/ch_PP-OCRv4_rec_infer.onnx") +
                                 " --target hailo8 --input-shape x=1,3,48,320 -o '" + recognizer + "' --json");
  ASSERT_EQ(given_size.exit_code, 0) << given_size.err;
  const nlohmann::json recognizer_report = nlohmann::json::parse(given_size.out);
  EXPECT_LE(recognizer_report["rounds"].get<int>(), 2);
  CommandResult recognizer_check = run("check '" + recognizer + "' --target hailo8 --json");
  ASSERT_EQ(recognizer_check.exit_code, 0) << recognizer_check.err;
  const nlohmann::json recognizer_checked = nlohmann::json::parse(recognizer_check.out)["targets"][0];
  EXPECT_EQ(recognizer_report["accelerator_mac_share_after"], recognizer_checked["accelerator_mac_share"]);
  EXPECT_EQ(recognizer_report["segments_after"], recognizer_checked["segments"].size());

  CommandResult again = run("patch '" + output + "' --target rk3566 -o '" + path("twice.onnx") + "' --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const nlohmann::json second = nlohmann::json::parse(again.out);
  EXPECT_EQ(second["rounds"], 1);
  for (const auto& pass : second["passes"]) EXPECT_EQ(pass["rewrites"], 0) << pass["pass"];
}

}  // namespace
}  // namespace npukit
