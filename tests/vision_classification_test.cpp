// Classification top-k (src/vision/classification.cpp) and `npukit classify` on the project's MobileNetV2.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "npukit/error.h"
#include "npukit/session.h"
#include "vision/classification.h"
#include "vision/image_decoding.h"
#include "vision/letterbox.h"
#include "cli_runner.h"
#include "onnx_test_models.h"
#include "vision_fixtures.h"

namespace npukit::vision {
namespace {

using testing::fixture;
using testing::vision_fixture_directory;

TEST(VisionClassification, LogitsGetASoftmaxProbabilitiesDoNot) {
  // Logits 0, ln 2, ln 6 (sum of exps 1 + 2 + 6 = 9): probabilities 6/9, 2/9, 1/9.
  const Tensor logits = Tensor::from_vector<float>(DType::f32, {1, 3}, {0, std::log(2.0f), std::log(6.0f)});
  TopK top = top_k_classes(logits, 2);
  EXPECT_TRUE(top.softmax_applied);
  ASSERT_EQ(top.best.size(), 2u);
  EXPECT_EQ(top.best[0].class_id, 2);
  EXPECT_NEAR(top.best[0].probability, 6.0 / 9, 1e-6);
  EXPECT_EQ(top.best[1].class_id, 1);
  EXPECT_NEAR(top.best[1].probability, 2.0 / 9, 1e-6);
  const Tensor probabilities = Tensor::from_vector<float>(DType::f32, {1, 4}, {0.1f, 0.6f, 0.2f, 0.1f});
  top = top_k_classes(probabilities, 10);
  EXPECT_FALSE(top.softmax_applied);
  ASSERT_EQ(top.best.size(), 4u);  // k beyond the class count: all of them
  EXPECT_EQ(top.best[0].class_id, 1);
  EXPECT_FLOAT_EQ(top.best[0].probability, 0.6f);
  EXPECT_EQ(top.best[2].class_id, 0);  // ties keep the lower class first
  EXPECT_THROW(top_k_classes(Tensor(DType::f32, {2, 3}), 1), Error);
}

class VisionClassify : public npukit::testing::CliRunner {};

TEST_F(VisionClassify, ClassifyCommandPrintsTopKProbabilities) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const npukit::testing::CommandResult result =
      run("classify '" + std::string(NPUKIT_MODELS_DIR) + "/generated/mobilenetv2.onnx' '" + fixture("rgb.png") +
          "' '" + fixture("rgb.jpg") + "' --top 3 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  ASSERT_EQ(report["images"].size(), 2u);
  for (const nlohmann::json& image : report["images"]) {
    ASSERT_EQ(image["top"].size(), 3u);
    double previous = 1, sum = 0;
    for (const nlohmann::json& entry : image["top"]) {
      const double probability = entry["probability"];
      EXPECT_LE(probability, previous);
      previous = probability;
      sum += probability;
      EXPECT_LT(entry["class_id"].get<int>(), 1000);
    }
    EXPECT_LE(sum, 1.0 + 1e-5);
  }
  // The same numbers as the library steps written out: the picture stretched to 224 × 224, ImageNet mean/std,
  // the model, softmax.
  auto session = Session::load(std::string(NPUKIT_MODELS_DIR) + "/generated/mobilenetv2.onnx");
  LetterboxOptions stretch;
  stretch.height = stretch.width = 224;
  stretch.scale_fill = true;
  Normalization imagenet;
  imagenet.mean = {123.675f, 116.28f, 103.53f};
  imagenet.scale = {1 / 58.395f, 1 / 57.12f, 1 / 57.375f};
  session->set_input(session->inputs()[0].name, letterbox_to_tensor(read_image(fixture("rgb.png")), stretch, imagenet));
  session->run();
  const TopK expected = top_k_classes(session->output(session->outputs()[0].name), 1);
  EXPECT_EQ(report["images"][0]["top"][0]["class_id"], expected.best[0].class_id);
  EXPECT_NEAR(report["images"][0]["top"][0]["probability"].get<double>(), expected.best[0].probability, 1e-4);
}

TEST_F(VisionClassify, AModelWithoutAPictureInputIsRefusedWithTheReason) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  // No input at all: the output is a constant.
  onnx::ModelProto model = npukit::testing::make_model(13);
  npukit::testing::add_float_initializer(model.mutable_graph(), "logits", {1, 3}, {0.1f, 0.2f, 0.7f});
  npukit::testing::add_node(model.mutable_graph(), "Identity", {"logits"}, {"out"}, "copy");
  npukit::testing::add_output(model.mutable_graph(), "out", {1, 3});
  const std::string file = npukit::testing::write_model(model, path("no_input.onnx"));
  const npukit::testing::CommandResult result = run("classify '" + file + "' '" + fixture("rgb.png") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("classify needs one float32 [1, 3, H, W] input and one output"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace npukit::vision
