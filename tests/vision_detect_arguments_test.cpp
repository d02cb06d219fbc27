// `detect` and `eval` on arguments that cannot work: a model whose picture input is not three channels, a sidecar
// that is not JSON or not a sidecar, and --target, which only the sim backend reads (EngineOptions::target).
// Each is an error naming the file or the flag, exit 1, and no detections.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "engine/engine.h"
#include "onnx/onnx_export.h"
#include "target_test_graphs.h"
#include "vision_fixtures.h"

namespace npukit::vision {
namespace {

using npukit::testing::CommandResult;
using testing::fixture;
using testing::vision_fixture_directory;

const std::string models_directory = NPUKIT_MODELS_DIR;

class VisionDetectArguments : public npukit::testing::CliRunner {
 protected:
  void expect_error(const std::string& arguments, const std::string& named) {
    const CommandResult result = run(arguments);
    EXPECT_EQ(result.exit_code, 1) << arguments << "\n" << result.err;
    EXPECT_NE(result.err.find(named), std::string::npos) << arguments << "\n" << result.err;
    EXPECT_FALSE(std::filesystem::exists(path("out/detections.json"))) << arguments;
  }
};

TEST_F(VisionDetectArguments, AModelWhosePictureInputIsOneChannelIsRefusedNamingIt) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  // x[1, 1, 32, 32] → Relu: a grey-scale network, which detect cannot feed an RGB letterbox.
  npukit::testing::TestGraph graph;
  ir::Value* x = graph.input("x", {1, 1, 32, 32});
  graph.output(graph.node("Relu", {x}, {1, 1, 32, 32}));
  const std::string model = path("grey.onnx");
  onnx_io::save_model(graph.model, model);
  expect_error("detect '" + model + "' '" + fixture("rgb.jpg") + "' -o '" + path("out") + "'",
               "a detector needs a float32 [1, 3, H, W] input; 'x' is");
  expect_error("detect '" + model + "' '" + fixture("rgb.jpg") + "' -o '" + path("out") + "'", "grey.onnx");
  expect_error("eval '" + model + "' --dataset '" + models_directory + "/detector/validation'",
               "a detector needs a float32 [1, 3, H, W] input");
}

TEST_F(VisionDetectArguments, ASidecarThatIsNotJsonOrNotASidecarIsAnErrorNamingIt) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const std::string model = models_directory + "/generated/yolov8n.onnx";
  std::ofstream(path("truncated.json")) << "{\"format\": \"npukit-yolo-postprocess/2\", \"outputs\": [";
  expect_error("detect '" + model + "' '" + fixture("rgb.jpg") + "' -o '" + path("out") + "' --sidecar '" +
                   path("truncated.json") + "'",
               "truncated.json: the sidecar is not JSON");
  std::ofstream(path("array.json")) << "[1, 2, 3]\n";
  expect_error("detect '" + model + "' '" + fixture("rgb.jpg") + "' -o '" + path("out") + "' --sidecar '" +
                   path("array.json") + "'",
               "array.json: the sidecar does not match the model");
  expect_error("detect '" + model + "' '" + fixture("rgb.jpg") + "' -o '" + path("out") + "' --sidecar '" +
                   path("missing.json") + "'",
               "missing.json: cannot read the sidecar file");
}

TEST_F(VisionDetectArguments, TargetGoesToTheSimBackendAndIsRefusedWithAnother) {
  NPUKIT_REQUIRE_VISION_FIXTURES();
  const std::string model = models_directory + "/detector/shapes_yolov8.onnx";
  const std::string picture = models_directory + "/detector/demo/scene_0000.jpg";
  const std::string dataset = models_directory + "/detector/validation";
  // With the float backends a target would change nothing: refused, saying what to do.
  expect_error("detect '" + model + "' '" + picture + "' -o '" + path("out") + "' --target rk3588",
               "--target rk3588 chooses the arithmetic of --backend sim; the cpu backend computes in float");
  expect_error("eval '" + model + "' --dataset '" + dataset + "' --backend ref --target rk3588",
               "the ref backend computes in float and ignores it: add --backend sim");
  // With --backend sim the target reaches the engine. Until the sim backend is built in, the engine's own error
  // says so; once it is, the target is taken (no complaint about the backend or the flag).
  const std::vector<std::string> backends = engine::available_backends();
  const bool sim_available = std::find(backends.begin(), backends.end(), "sim") != backends.end();
  const CommandResult result =
      run("detect '" + model + "' '" + picture + "' -o '" + path("out") + "' --backend sim --target rk3588");
  if (!sim_available) {
    EXPECT_EQ(result.exit_code, 1) << result.err;
    EXPECT_NE(result.err.find("unknown backend 'sim'"), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(path("out/detections.json")));
  } else {
    EXPECT_EQ(result.err.find("unknown backend"), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("--target"), std::string::npos) << result.err;
  }
}

}  // namespace
}  // namespace npukit::vision
