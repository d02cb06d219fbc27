// --input NAME=PICTURE (run, bench, compare): a picture for an image input goes through the declared default
// pre-processing (letterbox at the input's size, /255, RGB), so `run` on a picture gives exactly what `run` on
// the .npy of vision::preprocess gives; a picture for an input that is not a fixed-size image is refused with
// what to pass instead.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "cli_runner.h"
#include "core/npy.h"
#include "npukit/tensor.h"
#include "vision/image_decoding.h"
#include "vision/preprocessing_spec.h"

namespace npukit::testing {
namespace {

class CliPictureInput : public CliRunner {};

TEST_F(CliPictureInput, RunOnAPictureEqualsRunOnItsPreprocessedArray) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/detector/shapes_yolov8.onnx";
  const std::string picture = std::string(NPUKIT_MODELS_DIR) + "/detector/demo/scene_0000.jpg";
  ASSERT_TRUE(std::filesystem::exists(model) && std::filesystem::exists(picture));

  ValueInfo input;
  input.name = "images";
  input.dtype = DType::f32;
  input.shape = {1, 3, 320, 320};
  const Tensor preprocessed = vision::preprocess(vision::read_image(picture), vision::default_preprocessing_spec(input));
  ASSERT_EQ(preprocessed.shape(), (Shape{1, 3, 320, 320}));
  write_npy(path("images.npy"), preprocessed);

  CommandResult from_picture = run("run '" + model + "' --input images='" + picture + "' -o '" + path("a") + "'");
  ASSERT_EQ(from_picture.exit_code, 0) << from_picture.err;
  CommandResult from_array = run("run '" + model + "' --input images='" + path("images.npy") + "' -o '" + path("b") + "'");
  ASSERT_EQ(from_array.exit_code, 0) << from_array.err;
  size_t outputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path("a"))) {
    const Tensor a = read_npy(entry.path().string());
    const Tensor b = read_npy(path("b") + "/" + entry.path().filename().string());
    ASSERT_EQ(a.byte_size(), b.byte_size());
    EXPECT_EQ(0, std::memcmp(a.raw_data(), b.raw_data(), a.byte_size())) << entry.path();
    ++outputs;
  }
  EXPECT_GT(outputs, 0u);
}

TEST_F(CliPictureInput, APictureForAnInputOfDynamicSizeIsRefusedWithWhatToPass) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/ocr/ch_PP-OCRv4_rec_infer.onnx";
  const std::string picture = std::string(NPUKIT_MODELS_DIR) + "/demo/ocr_page.png";
  ASSERT_TRUE(std::filesystem::exists(model) && std::filesystem::exists(picture));
  CommandResult result = run("run '" + model + "' --input x='" + picture + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("from the picture '" + picture + "'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("otherwise pass a .npy file"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace npukit::testing
