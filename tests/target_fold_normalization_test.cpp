// patch --fold-normalization: the model fed raw uint8 NHWC pixels equals the original fed (x − mean)/std, on
// random images, for a Conv without padding (all folded into its weights and bias) and with padding (the mean
// stays as one Sub so the zero padding of the normalized input stays exact); and the refusals say why.
#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "engine/engine.h"
#include "pass_equivalence.h"
#include "passes/fold_input_normalization.h"
#include "patch/patch_pipeline.h"
#include "target_test_graphs.h"
#include "targets/profile_loader.h"

namespace npukit::passes {
namespace {

using testing::TestGraph;
using testing::count_ops;
using testing::int_attr;
using testing::ints_attr;

const std::vector<double> kMean = {123.675, 116.28, 103.53}, kStd = {58.395, 57.12, 57.375};

// x[1,3,16,16] → Conv 3×3 (stride 2, given pads) → Relu → Conv 1×1.
ir::Model first_conv_model(int64_t pad, int64_t group = 1) {
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 3, 16, 16});
  const int64_t out = (16 + 2 * pad - 3) / 2 + 1;
  ir::Value* a = graph.node("Conv", {x, graph.weights("w", {6, 3 / group, 3, 3}), graph.weights("b", {6})}, {1, 6, out, out},
                            {{"kernel_shape", ints_attr({3, 3})}, {"strides", ints_attr({2, 2})},
                             {"pads", ints_attr({pad, pad, pad, pad})}, {"group", int_attr(group)}});
  ir::Value* r = graph.node("Relu", {a}, {1, 6, out, out});
  graph.output(graph.node("Conv", {r, graph.weights("w2", {4, 6, 1, 1})}, {1, 4, out, out},
                          {{"kernel_shape", ints_attr({1, 1})}}));
  return std::move(graph.model);
}

// The largest difference between the folded model on raw images and the original on normalized ones.
double fold_difference(const ir::Model& original, const ir::Model& folded, bool nhwc, bool uint8, int images) {
  auto before = engine::Engine::from_model(npukit::testing::copy_model(original), {.backend = "ref"});
  auto after = engine::Engine::from_model(npukit::testing::copy_model(folded), {.backend = "ref"});
  std::mt19937 generator(11);
  std::uniform_int_distribution<int> pixel(0, 255);
  double worst = 0;
  for (int image = 0; image < images; ++image) {
    Tensor raw(uint8 ? DType::u8 : DType::f32, nhwc ? Shape{1, 16, 16, 3} : Shape{1, 3, 16, 16});
    Tensor normalized(DType::f32, {1, 3, 16, 16});
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t h = 0; h < 16; ++h) {
        for (int64_t w = 0; w < 16; ++w) {
          const int value = pixel(generator);
          const int64_t raw_index = nhwc ? (h * 16 + w) * 3 + c : (c * 16 + h) * 16 + w;
          if (uint8) raw.data<uint8_t>()[raw_index] = static_cast<uint8_t>(value);
          else raw.data<float>()[raw_index] = static_cast<float>(value);
          normalized.data<float>()[(c * 16 + h) * 16 + w] =
              static_cast<float>((value - kMean[static_cast<size_t>(c)]) / kStd[static_cast<size_t>(c)]);
        }
      }
    }
    const Tensor expected = before->run({{"x", normalized}}).begin()->second;
    const Tensor actual = after->run({{"x", raw}}).begin()->second;
    EXPECT_EQ(expected.shape(), actual.shape());
    for (int64_t i = 0; i < expected.element_count(); ++i) {
      worst = std::max(worst, std::fabs(static_cast<double>(expected.data<float>()[i]) - actual.data<float>()[i]));
    }
  }
  return worst;
}

TEST(FoldNormalization, RawUint8NhwcPixelsGiveTheOriginalOutputs) {
  for (int64_t pad : {0, 1}) {
    const ir::Model original = first_conv_model(pad);
    auto folded = npukit::testing::copy_model(original);
    NormalizationFold fold = fold_input_normalization(*folded, {kMean, kStd, true, true});
    EXPECT_EQ(fold.raw_dtype, "uint8");
    EXPECT_EQ(fold.raw_layout, "NHWC");
    EXPECT_EQ(fold.raw_shape, (std::vector<int64_t>{1, 16, 16, 3}));
    EXPECT_EQ(fold.mean_kept_as_sub, pad != 0);
    EXPECT_EQ(count_ops(*folded, "Sub"), pad != 0 ? 1u : 0u);
    EXPECT_EQ(count_ops(*folded, "Transpose"), 1u);
    EXPECT_EQ(count_ops(*folded, "Cast"), 1u);
    EXPECT_EQ(folded->graph->inputs.front()->type.dtype, DType::u8);
    EXPECT_LT(fold_difference(original, *folded, true, true, 8), 1e-4) << "pad " << pad;
  }
}

TEST(FoldNormalization, ZeroMeanNeedsNoSubEvenWithPadding) {
  // YOLO's pixel / 255: mean 0, std 255; zero padding is the same raw or normalized.
  const ir::Model original = first_conv_model(1);
  auto folded = npukit::testing::copy_model(original);
  NormalizationFold fold = fold_input_normalization(*folded, {{0.0}, {255.0}, false, false});
  EXPECT_FALSE(fold.mean_kept_as_sub);
  EXPECT_EQ(count_ops(*folded, "Sub"), 0u);
  // Check against (x / 255) by hand: the test helper normalizes with kMean/kStd, so compare directly here.
  auto before = engine::Engine::from_model(npukit::testing::copy_model(original), {.backend = "ref"});
  auto after = engine::Engine::from_model(npukit::testing::copy_model(*folded), {.backend = "ref"});
  Tensor raw(DType::f32, {1, 3, 16, 16}), normalized(DType::f32, {1, 3, 16, 16});
  std::mt19937 generator(2);
  std::uniform_int_distribution<int> pixel(0, 255);
  for (int64_t i = 0; i < raw.element_count(); ++i) {
    raw.data<float>()[i] = static_cast<float>(pixel(generator));
    normalized.data<float>()[i] = raw.data<float>()[i] / 255.0f;
  }
  const Tensor expected = before->run({{"x", normalized}}).begin()->second;
  const Tensor actual = after->run({{"x", raw}}).begin()->second;
  for (int64_t i = 0; i < expected.element_count(); ++i) {
    EXPECT_NEAR(expected.data<float>()[i], actual.data<float>()[i], 1e-4);
  }
}

TEST(FoldNormalization, FloatNchwAndGroupedConvs) {
  // Raw float NCHW, unpadded: nothing in front of the Conv at all.
  const ir::Model original = first_conv_model(0);
  auto folded = npukit::testing::copy_model(original);
  fold_input_normalization(*folded, {kMean, kStd, false, false});
  EXPECT_EQ(count_ops(*folded, "Transpose") + count_ops(*folded, "Cast") + count_ops(*folded, "Sub"), 0u);
  EXPECT_LT(fold_difference(original, *folded, false, false, 4), 1e-4);
  // A depthwise first Conv (group 3) folds channel by channel.
  const ir::Model depthwise = first_conv_model(1, 3);
  auto folded_depthwise = npukit::testing::copy_model(depthwise);
  fold_input_normalization(*folded_depthwise, {kMean, kStd, true, false});
  EXPECT_LT(fold_difference(depthwise, *folded_depthwise, false, true, 4), 1e-4);
}

TEST(FoldNormalization, RefusesWhatCannotBeFoldedAndSaysWhy) {
  auto expect_refusal = [](ir::Model& model, const InputNormalization& normalization, const std::string& why) {
    try {
      fold_input_normalization(model, normalization);
      FAIL() << "folded although " << why;
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
      EXPECT_NE(std::string(error.what()).find(why), std::string::npos) << error.what();
    }
  };
  // The input goes into an Add first: no weights to fold into.
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 3, 8, 8});
  graph.output(graph.node("Add", {x, graph.weights("bias", {1, 3, 1, 1})}, {1, 3, 8, 8}));
  expect_refusal(graph.model, {kMean, kStd, false, false}, "is read by");
  ir::Model model = first_conv_model(0);
  expect_refusal(model, {{1.0, 2.0}, kStd, false, false}, "mean has 2 values but input 'x' has 3 channels");
  expect_refusal(model, {kMean, {1.0, 0.0, 1.0}, false, false}, "std of 0");
  // Through patch, the same refusal is an error before anything is written.
  const targets::TargetProfile& rk3588 = targets::find_builtin_target("rk3588");
  patch::PatchOptions options;
  options.fold_normalization = InputNormalization{kMean, kStd, true, true};
  EXPECT_THROW(patch::patch_model(graph.model, rk3588, options), Error);
  // And on success patch records the input contract.
  ir::Model patched = first_conv_model(1);
  patch::PatchReport report = patch::patch_model(patched, rk3588, options);
  ASSERT_TRUE(report.normalization);
  EXPECT_NE(report.input_contract_json.find("\"dtype\": \"uint8\""), std::string::npos) << report.input_contract_json;
  EXPECT_NE(report.input_contract_json.find("\"layout\": \"NHWC\""), std::string::npos);
}

class FoldNormalizationCli : public testing::CliRunner {};

TEST_F(FoldNormalizationCli, PatchWritesTheInputContractAndRefusesBadSpecs) {
  const std::string model = path("first_conv.onnx");
  onnx_io::save_model(first_conv_model(1), model);
  const std::string output = path("raw.onnx");
  testing::CommandResult result =
      run("patch '" + model + "' --target rk3588 -o '" + output +
          "' --fold-normalization mean=123.675,116.28,103.53:std=58.395,57.12,57.375:uint8:nhwc --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["passes"][0]["pass"], "fold-normalization");
  const nlohmann::json contract = nlohmann::json::parse(testing::read_text(path("raw.input.json")));
  EXPECT_EQ(contract["format"], "npukit-input-contract/1");
  EXPECT_EQ(contract["dtype"], "uint8");
  EXPECT_EQ(contract["layout"], "NHWC");
  EXPECT_EQ(contract["shape"], nlohmann::json({1, 16, 16, 3}));
  EXPECT_TRUE(contract["mean_kept_as_sub"].get<bool>());
  // `check` reads the written model: its input is uint8 NHWC now.
  result = run("check '" + output + "' --target rk3588 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Bad specs: say what to write, write nothing.
  for (const char* spec : {"mean=1,2,3", "mean=a:std=1", "mean=1:std=1:nchw8"}) {
    const std::string refused = path("refused.onnx");
    result = run("patch '" + model + "' --target rk3588 -o '" + refused + "' --fold-normalization '" + spec + "'");
    EXPECT_NE(result.exit_code, 0) << spec;
    EXPECT_NE(result.err.find("--fold-normalization"), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(refused)) << spec;
  }
  // A model whose input feeds an Add: refused with the reason, nothing written.
  TestGraph graph;
  ir::Value* x = graph.input("x", {1, 3, 8, 8});
  graph.output(graph.node("Add", {x, graph.weights("bias", {1, 3, 1, 1})}, {1, 3, 8, 8}));
  onnx_io::save_model(graph.model, path("add.onnx"));
  result = run("patch '" + path("add.onnx") + "' --target rk3588 -o '" + path("add_out.onnx") +
               "' --fold-normalization mean=0:std=255");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("cannot fold the normalization"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(path("add_out.onnx")));
}

}  // namespace
}  // namespace npukit::passes
