// The built-in YOLOv5: the v6.0 architecture (shapes, parameter count, MACs), deterministic weights,
// and a run whose activations neither vanish nor explode.
#include <gtest/gtest.h>

#include <cmath>

#include "inspect/model_statistics.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "zoo/builtin_models.h"

namespace npukit::zoo {
namespace {

TEST(BuiltinYolov5, HasTheExportInterfaceAndV6Architecture) {
  ir::Model model = build_builtin_model("builtin:yolov5s");
  inspect::ModelStatistics statistics = inspect::compute_statistics(model);
  ASSERT_EQ(statistics.inputs.size(), 1u);
  EXPECT_EQ(statistics.inputs[0].name, "images");
  EXPECT_EQ(statistics.inputs[0].shape_text(), "[1, 3, 640, 640]");
  ASSERT_EQ(statistics.outputs.size(), 1u);
  EXPECT_EQ(statistics.outputs[0].name, "output0");
  EXPECT_EQ(statistics.outputs[0].shape_text(), "[1, 25200, 85]");
  EXPECT_TRUE(statistics.complete());
  EXPECT_EQ(statistics.op_histogram.at("Conv"), 60);
  EXPECT_EQ(statistics.op_histogram.at("Resize"), 2);
  EXPECT_EQ(statistics.op_histogram.at("MaxPool"), 3);
  // ultralytics v6.0 prints 7225885 parameters for the fused yolov5s: the Conv weights and biases.
  int64_t conv_parameters = 0;
  for (const auto& node : statistics.nodes) {
    if (node.op_type == "Conv") conv_parameters += node.parameter_count;
  }
  EXPECT_EQ(conv_parameters, 7225885);
  // 16.4 GFLOPs in ultralytics' summary = 8.2 GMACs; this exact figure matches the PyTorch export.
  EXPECT_EQ(statistics.macs, 8216780800);
}

TEST(BuiltinYolov5, SizeAndVariantFollowTheName) {
  inspect::ModelStatistics small = inspect::compute_statistics(build_builtin_model("builtin:yolov5n-320"));
  EXPECT_EQ(small.inputs[0].shape_text(), "[1, 3, 320, 320]");
  EXPECT_EQ(small.outputs[0].shape_text(), "[1, 6300, 85]");
  BuiltinOptions options;
  options.input_shapes["images"] = {2, 3, 256, 320};
  inspect::ModelStatistics shaped = inspect::compute_statistics(build_builtin_model("builtin:yolov5s", options));
  EXPECT_EQ(shaped.outputs[0].shape_text(), "[2, " + std::to_string(3 * (32 * 40 + 16 * 20 + 8 * 10)) + ", 85]");
}

TEST(BuiltinYolov5, IsDeterministic) {
  ir::Model first = build_builtin_model("builtin:yolov5n-64");
  ir::Model second = build_builtin_model("builtin:yolov5n-64");
  const ir::Value* a = first.graph->find_value("model.0.conv.weight");
  const ir::Value* b = second.graph->find_value("model.0.conv.weight");
  ASSERT_TRUE(a && b && a->initializer && b->initializer);
  ASSERT_EQ(a->initializer->element_count(), b->initializer->element_count());
  for (int64_t i = 0; i < a->initializer->element_count(); ++i) {
    ASSERT_EQ(a->initializer->value_as_double(i), b->initializer->value_as_double(i));
  }
  EXPECT_NE(a->initializer->value_as_double(0), a->initializer->value_as_double(1));
}

TEST(BuiltinYolov5, BadNamesAndSizesAreErrors) {
  for (const char* reference : {"builtin:yolov5q", "builtin:resnet", "builtin:yolov5s-100", "builtin:yolov5s-abc"}) {
    try {
      build_builtin_model(reference);
      ADD_FAILURE() << reference << " was accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::invalid_argument) << reference;
      EXPECT_EQ(error.file(), reference);
    }
  }
  BuiltinOptions options;
  options.input_shapes["image"] = {1, 3, 64, 64};
  EXPECT_THROW(build_builtin_model("builtin:yolov5s", options), Error);
}

TEST(BuiltinYolov5, RunsWithActivationsThatNeitherVanishNorExplode) {
  auto model = std::make_shared<ir::Model>(build_builtin_model("builtin:yolov5s-320"));
  auto session = engine::Engine::from_model(model, {.backend = "ref"});
  Tensor images(DType::f32, {1, 3, 320, 320});
  float* pixels = images.data<float>();
  for (int64_t i = 0; i < images.element_count(); ++i) pixels[i] = static_cast<float>((i * 7919) % 256) / 255.0f;
  session->set_input("images", images);
  session->run();
  const Tensor& output = session->output("output0");
  ASSERT_EQ(output.shape(), (Shape{1, 6300, 85}));
  const float* values = output.data<float>();
  double score_sum = 0, score_square_sum = 0;
  int64_t scores = 0;
  for (int64_t box = 0; box < 6300; ++box) {
    const float* row = values + box * 85;
    for (int k = 0; k < 85; ++k) ASSERT_TRUE(std::isfinite(row[k])) << "box " << box << " field " << k;
    // Centres stay near the image (a cell's centre ± 1.5 strides), sizes positive.
    EXPECT_GT(row[0], -64.0f);
    EXPECT_LT(row[0], 384.0f);
    EXPECT_GT(row[2], 0.0f);
    for (int k = 4; k < 85; ++k) {
      score_sum += row[k];
      score_square_sum += row[k] * row[k];
      ++scores;
    }
  }
  double mean = score_sum / scores;
  double deviation = std::sqrt(score_square_sum / scores - mean * mean);
  // Sigmoid of a head whose logits have a standard deviation near 0.14–0.5: scores spread around 0.5,
  // neither stuck at one value (vanished) nor pinned at 0 and 1 (exploded).
  EXPECT_NEAR(mean, 0.5, 0.1);
  EXPECT_GT(deviation, 0.02);
  EXPECT_LT(deviation, 0.25);
}

}  // namespace
}  // namespace npukit::zoo
