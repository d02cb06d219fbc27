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
#include <random>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "engine/engine.h"
#include "onnx/onnx_import.h"
#include "quantization/quantization_points.h"
#include "quantization/quantize_model.h"
#include "targets/profile_loader.h"

namespace npukit {
namespace {

const std::filesystem::path models_directory = NPUKIT_MODELS_DIR;

bool host_has_vnni() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni");
#else
  return false;
#endif
}

Tensor random_pictures(int64_t count, int64_t size, unsigned seed) {
  Tensor pictures(DType::f32, {count, 3, size, size});
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& value : pictures.values<float>()) value = uniform(generator);
  return pictures;
}

TEST(CpuInt8OnnxRuntimeWholeModel, MobileNetV2Uint8EqualsOnnxRuntimeElementByElement) {
  const std::filesystem::path source = models_directory / "generated" / "mobilenetv2.onnx";
  ASSERT_TRUE(std::filesystem::exists(source)) << "run tools/make_models.sh";
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("npukit_cpu_int8_whole_" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  const std::string calibration = (directory / "calibration.npy").string();
  write_npy(calibration, random_pictures(2, 224, 7));
  quantization::QuantizeOptions options;
  options.calibration = calibration;
  options.method = quantization::RangeMethod::minmax;
  options.settings.activations = quantization::parse_storage_grid("uint8", "--activations");
  const quantization::QuantizeResult quantized =
      quantization::quantize_model(source.string(), targets::find_builtin_target("edgetpu"), options);
  const std::string model_path = (directory / "mobilenetv2_uint8.onnx").string();
  quantization::write_quantized_model(quantized, model_path);

  const std::string input_path = (directory / "input.npy").string();
  const Tensor input = random_pictures(1, 224, 11);
  write_npy(input_path, input);
  const std::filesystem::path script = models_directory.parent_path() / "tools" / "ort_run.js";
  const std::filesystem::path ort_directory = directory / "ort";
  const std::string command = "node '" + script.string() + "' '" + model_path + "' '" + ort_directory.string() +
                              "' input='" + input_path + "' --threads 1 --optimization all";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream index_file(ort_directory / "index.json");
  const nlohmann::json index = nlohmann::json::parse(index_file);

  engine::EngineOptions engine_options;
  engine_options.backend = "cpu";
  auto session = engine::Engine::from_model(std::make_shared<ir::Model>(onnx_io::load_model(model_path)), engine_options);
  session->set_profiling(true);
  const std::map<std::string, Tensor> actual = session->run({{"input", input}});
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

  ASSERT_FALSE(index.empty());
  for (const auto& [output, path] : index.items()) {
    SCOPED_TRACE(output);
    const Tensor reference = read_npy(path.get<std::string>());
    const Tensor& ours = actual.at(output);
    ASSERT_EQ(ours.shape(), reference.shape());
    const std::vector<float> a = ours.to_float_vector(), b = reference.to_float_vector();
    int64_t differences = 0;
    for (size_t i = 0; i < a.size(); ++i) differences += a[i] != b[i];
    if (host_has_vnni()) {
      EXPECT_EQ(differences, 0) << differences << " of " << a.size() << " elements differ from ONNX Runtime";
    } else {
      // ONNX Runtime's u8 x s8 kernels saturate pairs in int16 without VNNI (tests/cpu_int8_test.cpp); counted.
      std::cout << "mobilenetv2 uint8: " << differences << " of " << a.size()
                << " elements differ from ONNX Runtime, whose u8 x s8 kernels saturate on this CPU (no VNNI)\n";
    }
  }
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace npukit
