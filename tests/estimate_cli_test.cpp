// npukit estimate and check --estimate as a user runs them: the table, --json, the reports, and bad arguments.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace npukit::testing {
namespace {

using EstimateCli = CliRunner;

// A small YOLOv8 head (0.5 MB, 256x256) made by tools/make_models.sh.
std::string small_model() { return std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v8_raw_concat.onnx"; }

TEST_F(EstimateCli, TablePrintsLatencyBandBottleneckAndAssumptions) {
  ASSERT_TRUE(std::filesystem::exists(small_model())) << "run tools/make_models.sh";
  CommandResult result = run("estimate '" + small_model() + "' --target rk3588 --no-cpu-timing");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("rk3588"), std::string::npos);
  EXPECT_NE(result.out.find("band (leave-one-out)"), std::string::npos);
  EXPECT_NE(result.out.find("segments on rk3588"), std::string::npos);
  EXPECT_NE(result.out.find("assumed (not in the profile)"), std::string::npos);
  EXPECT_NE(result.out.find("DRAM bandwidth"), std::string::npos);
  EXPECT_NE(result.out.find("leave-one-out median error"), std::string::npos);
}

TEST_F(EstimateCli, JsonHasEveryTargetAndSaysWhyOneHasNoEstimate) {
  CommandResult result = run("estimate '" + small_model() + "' --target all --no-cpu-timing --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json json = nlohmann::json::parse(result.out);
  ASSERT_TRUE(json.contains("fit"));
  EXPECT_TRUE(json["fit"]["present"].get<bool>());
  bool saw_rk3588 = false, saw_unavailable = false;
  for (const nlohmann::json& target : json["targets"]) {
    if (target["target"] == "rk3588") {
      saw_rk3588 = true;
      EXPECT_GT(target["latency_ms"].get<double>(), 0);
      EXPECT_LE(target["error_band"]["low_ms"].get<double>(), target["latency_ms"].get<double>());
      EXPECT_GE(target["error_band"]["high_ms"].get<double>(), target["latency_ms"].get<double>());
      EXPECT_FALSE(target["layers"].empty());
      EXPECT_FALSE(target["assumptions"].empty());
    }
    if (!target["available"].get<bool>()) {
      saw_unavailable = true;
      EXPECT_FALSE(target["reason"].get<std::string>().empty());
      EXPECT_TRUE(target["latency_ms"].is_null());
    }
  }
  EXPECT_TRUE(saw_rk3588);
  EXPECT_TRUE(saw_unavailable);  // esp32s3 has no TOPS: "unknown" with the reason, never a guess
}

TEST_F(EstimateCli, WritesHtmlAndMarkdownReports) {
  const std::string html = path("r.html"), markdown = path("r.md");
  ASSERT_EQ(run("estimate '" + small_model() + "' --target hailo8 --no-cpu-timing --report '" + html + "'").exit_code, 0);
  ASSERT_EQ(run("estimate '" + small_model() + "' --target hailo8 --no-cpu-timing --report '" + markdown + "'").exit_code, 0);
  EXPECT_NE(read_text(html).find("<svg"), std::string::npos);
  const std::string text = read_text(markdown);
  EXPECT_NE(text.find("## Latency per target"), std::string::npos);
  EXPECT_NE(text.find("| hailo8 |"), std::string::npos);
}

TEST_F(EstimateCli, BadArgumentsFailWithAReasonAndWriteNothing) {
  CommandResult no_model = run("estimate --target rk3588");
  EXPECT_EQ(no_model.exit_code, 1);
  EXPECT_NE(no_model.err.find("give a MODEL"), std::string::npos);
  CommandResult bad_report = run("estimate '" + small_model() + "' --target rk3588 --report '" + path("r.pdf") + "'");
  EXPECT_EQ(bad_report.exit_code, 1);
  EXPECT_NE(bad_report.err.find(".html or .md"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path("r.pdf")));
  CommandResult cores = run("estimate '" + small_model() + "' --target rk3588 --cores -2");
  EXPECT_EQ(cores.exit_code, 1);
  EXPECT_NE(cores.err.find("--cores"), std::string::npos);
  CommandResult missing = run("estimate '" + path("nothing.onnx") + "' --target rk3588");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nothing.onnx"), std::string::npos);
  CommandResult fit_nowhere = run("estimate --fit --fit-output '" + path("no/dir/fit.json") + "'");
  EXPECT_EQ(fit_nowhere.exit_code, 1);
  EXPECT_NE(fit_nowhere.err.find("does not exist"), std::string::npos);
  CommandResult unwritable = run("estimate '" + small_model() + "' --target rk3588 --no-cpu-timing --report '" + path("no/dir/r.html") + "'");
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_NE(unwritable.err.find("r.html"), std::string::npos);
}

// PP-OCRv4's detector takes any height and width: no latency can be known until they are fixed.
TEST_F(EstimateCli, ADynamicInputIsRefusedWithTheShapeThatFixesIt) {
  const std::string detector = std::string(NPUKIT_MODELS_DIR) + "/ocr/ch_PP-OCRv4_det_infer.onnx";
  for (const std::string& command : {"estimate '" + detector + "' --target rk3588 --no-cpu-timing",
                                     "check '" + detector + "' --target rk3588 --estimate"}) {
    CommandResult result = run(command);
    EXPECT_EQ(result.exit_code, 1) << command << "\n" << result.out;
    EXPECT_NE(result.err.find("--input-shape x="), std::string::npos) << command << "\n" << result.err;
  }
  CommandResult fixed = run("estimate '" + detector + "' --target rk3588 --no-cpu-timing --input-shape x=1,3,640,640");
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
}

TEST_F(EstimateCli, CheckEstimateAddsTheEstimateToTheVerdict) {
  CommandResult table = run("check '" + small_model() + "' --target rk3588 --estimate");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("latency estimate"), std::string::npos);
  CommandResult json = run("check '" + small_model() + "' --target rk3588 --estimate --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json parsed = nlohmann::json::parse(json.out);
  EXPECT_GT(parsed["targets"][0]["estimate"]["latency_ms"].get<double>(), 0);
}

}  // namespace
}  // namespace npukit::testing
