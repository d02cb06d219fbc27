// engine::Engine with configured backend instances: the cpu backend prepares (rewrites and plans layouts for)
// its own copy of a shared model, keeps its layout plan itself, and leaves the caller's model as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/engine.h"
#include "ir/graph.h"
#include "preparation/model_preparation.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"

namespace npukit {
namespace {

std::shared_ptr<const ir::Model> detection_model() {
  return std::make_shared<ir::Model>(
      preparation::load_prepared_model(std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v8_dynamic_batch.onnx").model);
}

size_t count_op(const ir::Graph& graph, const std::string& op_type) {
  size_t count = 0;
  for (const auto& node : graph.nodes()) count += node->op_type == op_type;
  return count;
}

TEST(Engine, CpuPreparesItsOwnCopyAndKeepsItsLayoutPlan) {
  const std::shared_ptr<const ir::Model> model = detection_model();
  const size_t nodes = model->graph->nodes().size();
  ASSERT_EQ(count_op(*model->graph, "FusedConv"), 0u);
  auto first = engine::Engine::from_model(model, {.backend = "cpu"});
  auto second = engine::Engine::from_model(model, {.backend = "cpu", .threads = 2});
  // The caller's model is untouched: the passes ran on each engine's copy.
  EXPECT_EQ(model->graph->nodes().size(), nodes);
  EXPECT_EQ(count_op(*model->graph, "FusedConv"), 0u);
  EXPECT_NE(&first->model(), model.get());
  EXPECT_GT(count_op(*first->model().graph, "FusedConv"), 0u);
  // Each engine's plan speaks of its own model's values.
  ASSERT_NE(first->blocked_layouts(), nullptr);
  ASSERT_NE(second->blocked_layouts(), nullptr);
  EXPECT_GT(first->blocked_layouts()->blocked_count(), 0u);
  EXPECT_EQ(first->blocked_layouts()->blocked_count(), second->blocked_layouts()->blocked_count());
  size_t blocked_in_first = 0;
  for (const auto& value : first->model().graph->values()) {
    blocked_in_first += first->blocked_layouts()->is_blocked(value.get());
    EXPECT_FALSE(second->blocked_layouts()->is_blocked(value.get())) << value->name;
  }
  EXPECT_EQ(blocked_in_first, first->blocked_layouts()->blocked_count());
  for (const auto& value : model->graph->values()) EXPECT_FALSE(first->blocked_layouts()->is_blocked(value.get()));

  Tensor image(DType::f32, {1, 3, 256, 256});
  for (int64_t i = 0; i < image.element_count(); ++i) image.data<float>()[i] = static_cast<float>(i % 251) / 251.0f;
  const Tensor a = first->run({{"images", image}}).at("output0");
  const Tensor b = second->run({{"images", image}}).at("output0");
  ASSERT_EQ(a.shape(), b.shape());
  const Tensor reference = engine::Engine::from_model(model, {.backend = "ref"})->run({{"images", image}}).at("output0");
  double worst = 0, magnitude = 0;
  for (int64_t i = 0; i < a.element_count(); ++i) {
    worst = std::max(worst, std::fabs(double(a.data<float>()[i]) - b.data<float>()[i]));
    worst = std::max(worst, std::fabs(double(a.data<float>()[i]) - reference.data<float>()[i]));
    magnitude = std::max(magnitude, std::fabs(double(reference.data<float>()[i])));
  }
  EXPECT_LE(worst, 1e-4 * magnitude);
}

TEST(Engine, RefRunsTheModelAsGivenWithoutALayoutPlan) {
  const std::shared_ptr<const ir::Model> model = detection_model();
  auto engine = engine::Engine::from_model(model, {.backend = "ref"});
  EXPECT_EQ(&engine->model(), model.get());
  EXPECT_EQ(engine->blocked_layouts(), nullptr);
  EXPECT_EQ(engine::Engine::from_model(model)->options().backend, "cpu");
}

TEST(Engine, UnknownBackendAndThreadsAreRefusedBeforeAnyWork) {
  const std::shared_ptr<const ir::Model> model = detection_model();
  try {
    engine::Engine::from_model(model, {.backend = "npu"});
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("available: cpu, ref"), std::string::npos) << error.what();
  }
  EXPECT_THROW(engine::Engine::from_model(model, {.backend = "cpu", .threads = -1}), Error);
}

}  // namespace
}  // namespace npukit
