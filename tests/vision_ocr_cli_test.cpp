// `npukit ocr` errors that need no model run: each is a clear message naming the file, exit 1, nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"

namespace npukit::testing {
namespace {

const std::string models = std::string(NPUKIT_MODELS_DIR) + "/ocr/";

class VisionOcrCli : public CliRunner {
 protected:
  std::string arguments(const std::string& keys) const {
    return " --det '" + models + "ch_PP-OCRv4_det_infer.onnx' --rec '" + models + "ch_PP-OCRv4_rec_infer.onnx' --keys '" + keys +
           "' -o '" + path("out") + "'";
  }
};

TEST_F(VisionOcrCli, MissingKeysFileEmptyDirectoryAndMissingPicture) {
  std::filesystem::create_directories(path("pictures"));
  std::ofstream(path("pictures/page.png")) << "x";
  CommandResult result = run("ocr '" + path("pictures/page.png") + "'" + arguments(path("no_keys.txt")));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("no_keys.txt"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("--keys"), std::string::npos) << result.err;

  std::filesystem::create_directories(path("empty"));
  result = run("ocr '" + path("empty") + "'" + arguments(models + "ppocr_keys_v1.txt"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("empty"), std::string::npos) << result.err;

  result = run("ocr '" + path("nothing.png") + "'" + arguments(models + "ppocr_keys_v1.txt"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("nothing.png"), std::string::npos) << result.err;

  result = run("ocr '" + path("pictures") + "'" + arguments(models + "ppocr_keys_v1.txt") + " --det-limit-type middle");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--det-limit-type"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(path("out")));
}

}  // namespace
}  // namespace npukit::testing
