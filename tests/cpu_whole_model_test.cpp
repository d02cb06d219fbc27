// Whole models on the cpu backend: every model of models/reference/manifest.json (tools/make_models.sh)
// runs on backend "cpu" (after its pass list) with the recorded inputs, and each output must match the
// recorded ONNX Runtime output to max|ours - ort| / max|ort| <= 1e-4 — the bar the reference backend meets
// in whole_model_test.cpp. Every convolution must also have run on cpu, so the test cannot pass by falling
// back to ref. A missing manifest fails (no skipping).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "npukit/session.h"
#include "onnx/onnx_import.h"
#include "passes/pass_lists.h"

namespace npukit {
namespace {

const std::filesystem::path models_directory = NPUKIT_MODELS_DIR;

class CpuWholeModel : public ::testing::TestWithParam<std::string> {};

TEST_P(CpuWholeModel, MatchesOnnxRuntime) {
  std::ifstream file(models_directory / "reference" / "manifest.json");
  ASSERT_TRUE(file) << "models/reference/manifest.json is missing: run tools/make_models.sh";
  const nlohmann::json manifest = nlohmann::json::parse(file);
  const nlohmann::json* entry = nullptr;
  for (const nlohmann::json& candidate : manifest.at("models")) {
    if (candidate.at("name") == GetParam()) entry = &candidate;
  }
  ASSERT_NE(entry, nullptr) << "the manifest lacks " << GetParam();
  SessionOptions options;
  options.backend = "cpu";
  options.threads = 2;
  auto session = Session::load((models_directory / entry->at("model").get<std::string>()).string(), options);
  for (const auto& [name, npy] : entry->at("inputs").items()) {
    session->set_input(name, read_npy((models_directory / npy.get<std::string>()).string()));
  }
  session->set_profiling(true);
  session->run();
  int convolutions = 0;
  for (const Session::NodeTiming& timing : session->last_profile()) {
    if (timing.op_type == "Conv" || timing.op_type == "FusedConv") {
      ++convolutions;
      EXPECT_EQ(timing.backend, "cpu") << timing.node << " (" << timing.op_type << ") fell back to ref";
    }
  }
  EXPECT_GT(convolutions, 0);
  for (const auto& [name, npy] : entry->at("outputs").items()) {
    SCOPED_TRACE("output '" + name + "'");
    const Tensor reference = read_npy((models_directory / npy.get<std::string>()).string());
    const Tensor& actual = session->output(name);
    ASSERT_EQ(actual.shape(), reference.shape());
    const std::vector<float> ours = actual.to_float_vector(), theirs = reference.to_float_vector();
    double difference = 0, magnitude = 0;
    for (size_t i = 0; i < theirs.size(); ++i) {
      ASSERT_TRUE(std::isfinite(ours[i])) << "element " << i << " is " << ours[i];
      difference = std::max(difference, std::fabs(double(ours[i]) - theirs[i]));
      magnitude = std::max(magnitude, std::fabs(double(theirs[i])));
    }
    EXPECT_LE(difference, 1e-4 * magnitude) << GetParam() << ": relative error " << difference / magnitude;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, CpuWholeModel,
                         ::testing::Values("mobilenetv2", "resnet50", "yolov5s", "yolov5s_raw", "yolov8n",
                                           "yolov8n_raw", "yolov8n_large", "vit", "ocr_det", "ocr_rec", "ocr_cls"));

// YOLOv8's C2f blocks split their channels with Slices whose bounds come out of Shape -> Gather -> Div:
// ONNX inference leaves everything behind them unknown. The cpu pass list folds and re-infers until every
// computed value has a static shape, which the activation arena and the blocked layouts need.
TEST(CpuWholeModelPasses, EveryComputedShapeOfYoloV8nIsStaticAfterThePassList) {
  ir::Model model = onnx_io::load_model((models_directory / "generated" / "yolov8n.onnx").string());
  size_t unknown_before = 0;
  for (const auto& value : model.graph->values()) unknown_before += value->producer && !value->type.has_static_shape();
  EXPECT_GT(unknown_before, 0u) << "the model no longer needs the refresh; the test should find another";
  passes::run_cpu_pass_list(model);
  for (const auto& value : model.graph->values()) {
    if (value->producer) EXPECT_TRUE(value->type.has_static_shape()) << value->name << " " << value->type.to_string();
  }
}

}  // namespace
}  // namespace npukit
