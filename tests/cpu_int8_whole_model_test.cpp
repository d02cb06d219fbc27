// Whole models quantized by `npukit quantize` (MobileNetV2, uint8 activations) through ONNX Runtime (node, its
// default graph optimisations, 1 thread) and through the cpu backend's int8 kernels: equal element by element.
// The chain QLinearConv → QLinearAdd → ... → QLinearGlobalAveragePool runs channels-last (blocked_layout.h).
//
// Why uint8 activations: ONNX Runtime's QDQ fusion on x86 (QDQIsInt8Allowed() is false off ARM) turns only
// u8-activation Conv / MatMul groups into QLinearConv / QLinearMatMul; with s8 activations it runs DQ → float
// Conv → Q, whose float sums npukit's exact integer path does not reproduce to the bit. Add, GlobalAveragePool
// and the others fuse for both types.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <random>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "onnx_runtime_equality.h"
#include "core/npy.h"
#include "engine/engine.h"
#include "onnx/onnx_import.h"
#include "quantization/quantization_points.h"
#include "quantization/quantize_model.h"
#include "targets/profile_loader.h"

namespace npukit {
namespace {

using testing::differing_elements;
using testing::host_has_vnni;

const std::filesystem::path models_directory = NPUKIT_MODELS_DIR;

Tensor random_pictures(int64_t count, int64_t size, unsigned seed) {
  Tensor pictures(DType::f32, {count, 3, size, size});
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& value : pictures.values<float>()) value = uniform(generator);
  return pictures;
}

// A whole model of models/generated quantized by `npukit quantize --target edgetpu --method minmax --activations
// uint8` on `pictures` random pictures (seed 7), and one more random picture (seed 11) as the input.
struct WholeModelRun {
  std::filesystem::path directory;
  std::string model_path;
  Tensor input;
  std::map<std::string, Tensor> onnx_runtime;  // every graph output, as ORT (optimisations on, 1 thread) gives it
};

WholeModelRun quantize_and_run_onnx_runtime(const std::string& name, int64_t size, int64_t pictures) {
  WholeModelRun run;
  const std::filesystem::path source = models_directory / "generated" / (name + ".onnx");
  if (!std::filesystem::exists(source)) throw std::runtime_error("run tools/make_models.sh: " + source.string());
  run.directory = std::filesystem::temp_directory_path() /
                  ("npukit_cpu_int8_whole_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(run.directory);
  std::filesystem::create_directories(run.directory);
  const std::string calibration = (run.directory / "calibration.npy").string();
  write_npy(calibration, random_pictures(pictures, size, 7));
  quantization::QuantizeOptions options;
  options.calibration = calibration;
  options.method = quantization::RangeMethod::minmax;
  options.settings.activations = quantization::parse_storage_grid("uint8", "--activations");
  const quantization::QuantizeResult quantized =
      quantization::quantize_model(source.string(), targets::find_builtin_target("edgetpu"), options);
  run.model_path = (run.directory / (name + "_uint8.onnx")).string();
  quantization::write_quantized_model(quantized, run.model_path);

  const std::string input_path = (run.directory / "input.npy").string();
  run.input = random_pictures(1, size, 11);
  write_npy(input_path, run.input);
  const std::filesystem::path script = models_directory.parent_path() / "tools" / "ort_run.js";
  const std::filesystem::path ort_directory = run.directory / "ort";
  const std::string input_name = onnx_io::load_model(run.model_path).graph->inputs.at(0)->name;
  const std::string command = "node '" + script.string() + "' '" + run.model_path + "' '" + ort_directory.string() +
                              "' " + input_name + "='" + input_path + "' --threads 1 --optimization all";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("ONNX Runtime failed: " + command);
  std::ifstream index_file(ort_directory / "index.json");
  const nlohmann::json index = nlohmann::json::parse(index_file);
  for (const auto& [output, path] : index.items()) run.onnx_runtime[output] = read_npy(path.get<std::string>());
  return run;
}

// Elements of `ours` that differ from ORT's, per output; on a CPU without VNNI only printed (ORT's u8 x s8 kernels
// saturate pairs in int16 there, tests/cpu_int8_test.cpp).
void expect_equal_to_onnx_runtime(const std::string& label, const WholeModelRun& run,
                                  const std::map<std::string, Tensor>& actual) {
  ASSERT_FALSE(run.onnx_runtime.empty());
  for (const auto& [output, reference] : run.onnx_runtime) {
    SCOPED_TRACE(output);
    const Tensor& ours = actual.at(output);
    ASSERT_EQ(ours.shape(), reference.shape());
    const int64_t differences = differing_elements(ours, reference);
    const size_t elements = static_cast<size_t>(ours.element_count());
    if (host_has_vnni()) {
      EXPECT_EQ(differences, 0) << differences << " of " << elements << " elements differ from ONNX Runtime";
    } else {
      std::cout << label << ": " << differences << " of " << elements
                << " elements differ from ONNX Runtime, whose u8 x s8 kernels saturate on this CPU (no VNNI)\n";
    }
  }
}

TEST(CpuInt8OnnxRuntimeWholeModel, MobileNetV2Uint8EqualsOnnxRuntimeElementByElement) {
  const WholeModelRun run = quantize_and_run_onnx_runtime("mobilenetv2", 224, 2);
  engine::EngineOptions engine_options;
  engine_options.backend = "cpu";
  auto session = engine::Engine::from_model(std::make_shared<ir::Model>(onnx_io::load_model(run.model_path)), engine_options);
  session->set_profiling(true);
  const std::map<std::string, Tensor> actual = session->run({{"input", run.input}});
  std::map<std::string, size_t> integer_operators;
  for (const auto& timing : session->last_profile()) {
    if (timing.op_type.rfind("QLinear", 0) == 0) {
      ++integer_operators[timing.op_type];
      EXPECT_EQ(timing.backend, "cpu") << timing.node << " fell back to ref";
    }
  }
  // 52 convolutions and the classifier's Gemm, which ORT runs as QGemm and the cpu backend as a 1x1 QLinearConv.
  EXPECT_EQ(integer_operators["QLinearConv"], 53u);
  EXPECT_EQ(integer_operators["QLinearAdd"], 10u);
  EXPECT_EQ(integer_operators["QLinearGlobalAveragePool"], 1u);
  // The int8 chain is held channels-last: the layout plan holds the QLinearConv outputs between them.
  ASSERT_NE(session->blocked_layouts(), nullptr);
  EXPECT_GT(session->blocked_layouts()->blocked_count(), 50u);
  expect_equal_to_onnx_runtime("mobilenetv2 uint8", run, actual);
  std::filesystem::remove_all(run.directory);
}

// YOLOv8n's detection head: the DFL softmax runs as ORT's QLinearSoftmax (an exp table, floor(1 / s_y)), not as
// the float softmax quantized; before it did, 32 to 38 of the 705600 outputs differed (box coordinates, up to 9.68).
TEST(CpuInt8OnnxRuntimeWholeModel, YoloV8nUint8EqualsOnnxRuntimeElementByElement) {
  const WholeModelRun run = quantize_and_run_onnx_runtime("yolov8n", 640, 2);
  engine::EngineOptions engine_options;
  engine_options.backend = "cpu";
  auto session = engine::Engine::from_model(std::make_shared<ir::Model>(onnx_io::load_model(run.model_path)), engine_options);
  session->set_profiling(true);
  const std::string input_name = onnx_io::load_model(run.model_path).graph->inputs.at(0)->name;
  const std::map<std::string, Tensor> actual = session->run({{input_name, run.input}});
  std::map<std::string, size_t> integer_operators;
  for (const auto& timing : session->last_profile()) {
    if (timing.op_type.rfind("QLinear", 0) == 0) {
      ++integer_operators[timing.op_type];
      EXPECT_EQ(timing.backend, "cpu") << timing.node << " fell back to ref";
    }
  }
  EXPECT_EQ(integer_operators["QLinearSoftmax"], 1u);
  EXPECT_GT(integer_operators["QLinearConv"], 60u);
  expect_equal_to_onnx_runtime("yolov8n uint8", run, actual);
  std::filesystem::remove_all(run.directory);
}

}  // namespace
}  // namespace npukit
