// Transformers on the NPUs, whole models (tools/make_models.sh): the ViT (models/generated/vit.onnx) and the small
// text encoder (tools/models/text_encoder.py) keep at least 90% of their MACs on the RK3588 and Hailo-8 NPUs
// after `patch`, and the patched models compute what the originals do (within 1e-4 of the largest output).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "check/target_check.h"
#include "engine/engine.h"
#include "onnx/onnx_export.h"
#include "onnx/onnx_import.h"
#include "patch/patch_pipeline.h"
#include "preparation/model_preparation.h"
#include "targets/profile_loader.h"

namespace npukit::check {
namespace {

const std::filesystem::path models_directory = NPUKIT_MODELS_DIR;

ir::Model load_prepared(const std::string& relative) {
  const std::filesystem::path path = models_directory / relative;
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(path.string() + " is missing: run tools/make_models.sh (make models)");
  }
  return preparation::load_prepared_model(path.string()).model;
}

std::shared_ptr<ir::Model> copy_of(const ir::Model& model) {
  return std::make_shared<ir::Model>(
      onnx_io::load_model_from_bytes(onnx_io::serialize_model(model), "copy.onnx", "", onnx_io::ImportOptions{}));
}

// Feeds in the ranges the models expect: pixels in [0, 1), token ids in [0, 1000).
std::map<std::string, Tensor> feeds_for(const ir::Model& model) {
  std::mt19937 generator(5);
  std::map<std::string, Tensor> feeds;
  for (const ir::Value* input : model.graph->inputs) {
    Tensor tensor(input->type.dtype, input->type.static_shape());
    if (input->type.dtype == DType::i64) {
      std::uniform_int_distribution<int64_t> token(0, 999);
      for (int64_t& value : tensor.values<int64_t>()) value = token(generator);
    } else {
      std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
      for (float& value : tensor.values<float>()) value = pixel(generator);
    }
    feeds[input->name] = tensor;
  }
  return feeds;
}

double largest_relative_difference(const ir::Model& before, const ir::Model& after) {
  const auto feeds = feeds_for(before);
  engine::EngineOptions options;
  options.backend = "cpu";
  const auto expected = engine::Engine::from_model(copy_of(before), options)->run(feeds);
  const auto actual = engine::Engine::from_model(copy_of(after), options)->run(feeds);
  double worst = 0;
  for (const auto& [name, tensor] : expected) {
    const Tensor& other = actual.at(name);
    EXPECT_EQ(other.shape(), tensor.shape()) << name;
    double magnitude = 0, difference = 0;
    for (int64_t i = 0; i < tensor.element_count(); ++i) {
      magnitude = std::max(magnitude, std::fabs(tensor.value_as_double(i)));
      difference = std::max(difference, std::fabs(tensor.value_as_double(i) - other.value_as_double(i)));
    }
    worst = std::max(worst, difference / std::max(magnitude, 1e-30));
  }
  return worst;
}

TEST(TransformerWholeModel, VitAndTextEncoderStayOnTheNpuAfterPatchWithTheSameOutputs) {
  for (const char* file : {"generated/vit.onnx", "generated/text_encoder.onnx"}) {
    const ir::Model original = load_prepared(file);
    for (const char* target : {"rk3588", "hailo8"}) {
      const targets::TargetProfile& profile = targets::find_builtin_target(target);
      auto patched = copy_of(original);
      const patch::PatchReport report = patch::patch_model(*patched, profile, patch::PatchOptions{});
      EXPECT_TRUE(report.converged) << file << " " << target;
      EXPECT_FALSE(report.needs_retraining);
      const CheckResult after = check_model(*patched, profile);
      EXPECT_TRUE(after.macs_known) << file << " " << target;
      EXPECT_GE(after.accelerator_mac_share(), 0.90) << file << " on " << target;
      EXPECT_TRUE(after.compiles) << file << " on " << target;
      // Attention's MatMuls (both operands computed) pass the target's MatMul limits (RK3588: K <= 8192). Its
      // Transposes too, except the ViT's 5-D qkv permute on RK3588, whose NPU ops are 4-D (rank <= 4): said so.
      for (const NodeVerdict& verdict : after.nodes) {
        if (verdict.op_type == "MatMul") {
          EXPECT_TRUE(on_accelerator(verdict.placement)) << file << " " << target << " " << verdict.name << ": " << verdict.reason;
        }
        if (verdict.op_type == "Transpose" && !on_accelerator(verdict.placement)) {
          EXPECT_EQ(std::string(target), "rk3588");
          EXPECT_NE(verdict.reason.find("Transpose on a 5-D tensor"), std::string::npos) << verdict.reason;
          EXPECT_NE(verdict.reason.find("RK3588 allows rank at most 4"), std::string::npos) << verdict.reason;
        }
      }
      EXPECT_LT(largest_relative_difference(original, *patched), 1e-4) << file << " on " << target;
    }
  }
}

}  // namespace
}  // namespace npukit::check
