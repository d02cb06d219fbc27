// Transformers on the NPUs, whole models (tools/make_models.sh): the ViT (models/generated/vit.onnx) and the small
// text encoder (tools/models/text_encoder.py) keep at least 90% of their MACs on the RK3588 and Hailo-8 NPUs
// after `patch`, and the patched models compute what the originals do (within 1e-4 of the largest output).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "check/target_check.h"
#include "engine/engine.h"
#include "cli_runner.h"
#include "npukit/session.h"
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
      // Attention's MatMuls (both operands computed) pass the target's MatMul limits (RK3588: K <= 8192), and its
      // Transposes its Transpose limits: the ViT's 5-D qkv split, refused on RK3588 (rank <= 4), is split-qkv-heads'.
      for (const NodeVerdict& verdict : after.nodes) {
        if (verdict.op_type == "MatMul" || verdict.op_type == "Transpose" || verdict.op_type == "Reshape") {
          EXPECT_TRUE(on_accelerator(verdict.placement)) << file << " " << target << " " << verdict.name << ": " << verdict.reason;
        }
      }
      EXPECT_LT(largest_relative_difference(original, *patched), 1e-4) << file << " on " << target;
      if (std::string(file) == "generated/vit.onnx" && std::string(target) == "rk3588") {
        const CheckResult before = check_model(original, profile);
        size_t refused_transposes = 0;
        for (const NodeVerdict& verdict : before.nodes) {
          if (verdict.op_type == "Transpose" && !on_accelerator(verdict.placement)) {
            ++refused_transposes;
            EXPECT_NE(verdict.reason.find("RK3588 allows rank at most 4"), std::string::npos) << verdict.reason;
            EXPECT_EQ(verdict.patch, "split-qkv-heads");
          }
        }
        EXPECT_EQ(refused_transposes, 4u);  // one per block
        EXPECT_LT(after.segments.size(), before.segments.size());
      }
    }
  }
}

size_t count_placed(const CheckResult& result, const std::string& op, Placement placement) {
  return static_cast<size_t>(std::count_if(result.nodes.begin(), result.nodes.end(), [&](const NodeVerdict& node) {
    return node.op_type == op && node.placement == placement;
  }));
}

// The Amlogic A311D (VIPNano-QI) profile on the whole models, from its sources (docs of khadas/aml_npu_sdk):
// the 63-op ACUITY mapping decides what imports, the convolution tips what is off the optimized path.
TEST(AmlogicWholeModel, CheckFollowsTheMappingAndTheConvolutionTips) {
  const targets::TargetProfile& a311d = targets::find_builtin_target("vim3");
  EXPECT_EQ(a311d.id, "a311d");
  // CNNs: every Conv is square, stride 1 or 2, pads <= 7: all on the NPU's optimized path.
  for (const char* file : {"generated/mobilenetv2.onnx", "generated/resnet50.onnx"}) {
    const CheckResult result = check_model(load_prepared(file), a311d);
    EXPECT_TRUE(result.compiles) << file;
    EXPECT_DOUBLE_EQ(result.accelerator_mac_share(), 1.0) << file;
    EXPECT_EQ(result.macs_off_optimized_path, 0) << file;
  }
  // YOLOv8n: its Resize is not in the 2020 mapping (only Upsample is): the toolkit refuses the model, said so.
  const CheckResult yolo = check_model(load_prepared("generated/yolov8n_raw.onnx"), a311d);
  EXPECT_FALSE(yolo.compiles);
  EXPECT_EQ(count_placed(yolo, "Resize", Placement::rejected), 2u);
  // ViT: the 16×16 stride-16 patch embedding is off the optimized path (native strides 1, 2) with no rewrite
  // within 4× the MACs; LayerNormalization is not mapped and decompose-layernorm is named.
  const CheckResult vit = check_model(load_prepared("generated/vit.onnx"), a311d);
  ASSERT_EQ(count_placed(vit, "Conv", Placement::accelerator_slow), 1u);
  for (const NodeVerdict& verdict : vit.nodes) {
    if (verdict.op_type == "Conv") {
      EXPECT_NE(verdict.reason.find("Conv stride 16×16: A311D's optimized path takes one of 1, 2"), std::string::npos)
          << verdict.reason;
      EXPECT_TRUE(verdict.patch.empty());
      EXPECT_NE(verdict.fix.find("no meaning-keeping rewrite"), std::string::npos);
      EXPECT_EQ(vit.macs_off_optimized_path, *verdict.macs);
    }
    if (verdict.op_type == "LayerNormalization") {
      EXPECT_EQ(verdict.placement, Placement::rejected);
      EXPECT_EQ(verdict.patch, "decompose-layernorm");
    }
  }
}

class AmlogicWholeModelCli : public testing::CliRunner {};

TEST_F(AmlogicWholeModelCli, CheckTableListsTheNewTargetBesideTheOthers) {
  const std::string model = (models_directory / "generated/vit.onnx").string();
  testing::CommandResult all = run("check '" + model + "' --target all");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("a311d"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("slow"), std::string::npos) << all.out;  // the column of npu-slow nodes
  testing::CommandResult one = run("check '" + model + "' --target a311d --json");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const nlohmann::json json = nlohmann::json::parse(one.out)["targets"][0];
  EXPECT_EQ(json["target"], "a311d");
  EXPECT_GT(json["macs_off_optimized_path"].get<int64_t>(), 0);
  EXPECT_LT(json["optimized_mac_share"].get<double>(), json["accelerator_mac_share"].get<double>());
}

// The Jetson GPU beside its DLA, and the Axelera Metis, on the whole models through `check --target all`.
TEST_F(AmlogicWholeModelCli, JetsonGpuAndAxeleraTablesOnTheWholeModels) {
  for (const char* name : {"yolov8n", "vit"}) {
    const std::string model = (models_directory / ("generated/" + std::string(name) + ".onnx")).string();
    testing::CommandResult all = run("check '" + model + "' --target all --json");
    ASSERT_EQ(all.exit_code, 0) << all.err;
    std::map<std::string, nlohmann::json> by_target;
    const nlohmann::json parsed = nlohmann::json::parse(all.out);  // outlives the loop over its targets
    for (const nlohmann::json& target : parsed["targets"]) by_target[target["target"].get<std::string>()] = target;
    ASSERT_EQ(by_target.count("jetson-orin-gpu"), 1u);
    ASSERT_EQ(by_target.count("axelera-metis"), 1u);
    ASSERT_EQ(by_target.count("a311d"), 1u);
    // TensorRT's GPU parser takes the whole model (150 ops, LayerNorm, Erf, Resize): one segment, all MACs.
    const nlohmann::json& gpu = by_target["jetson-orin-gpu"];
    EXPECT_TRUE(gpu["compiles"].get<bool>()) << name;
    EXPECT_EQ(gpu["segments"].size(), 1u) << name;
    EXPECT_DOUBLE_EQ(gpu["accelerator_mac_share"].get<double>(), 1.0) << name;
    EXPECT_NE(gpu["nms"].get<std::string>().find("GPU"), std::string::npos);
    // The DLA beside it runs less of the ViT (its 37 native ops): the GPU profile is not the DLA one.
    EXPECT_LT(by_target["jetson-orin-dla"]["accelerator_mac_share"].get<double>(),
              name == std::string("vit") ? 0.9 : 1.01);
    // Axelera: the 31 accelerated ops keep the MACs on the AIPU; the rest (LayerNorm, Erf …) goes to the host.
    const nlohmann::json& metis = by_target["axelera-metis"];
    EXPECT_EQ(metis["accelerator"], "AIPU");
    EXPECT_DOUBLE_EQ(metis["accelerator_mac_share"].get<double>(), 1.0) << name;
    if (name == std::string("vit")) {
      bool layernorm_on_host = false;
      for (const nlohmann::json& node : metis["nodes"]) {
        if (node["op"] == "LayerNormalization") layernorm_on_host = node["placement"] == "fallback";
      }
      EXPECT_TRUE(layernorm_on_host);
    }
  }
}

}  // namespace
}  // namespace npukit::check
