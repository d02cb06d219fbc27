// The one preparation path of every command (preparation/model_preparation.h): input shapes that replace stale
// declared ones, a symbolic batch set to 1, inputs held at a value, If specialization, and the work inside
// If/Loop bodies counted by inspect and placed by check. The control-flow models come from
// tools/make_control_flow_models.py (make models); their MACs below are computed by hand from their layers.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "check/target_check.h"
#include "inspect/model_statistics.h"
#include "npukit/error.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "onnx_test_models.h"
#include "preparation/model_preparation.h"
#include "targets/profile_loader.h"

namespace npukit::preparation {
namespace {

const std::filesystem::path models_directory = NPUKIT_MODELS_DIR;

std::string model_path(const std::string& name) {
  const std::filesystem::path path = models_directory / "generated" / name;
  if (!std::filesystem::exists(path)) throw std::runtime_error(path.string() + " is missing: run make models");
  return path.string();
}

// Then branch (16 kHz): Conv1d 1→16 k5 s2 over 512 samples (256 out), 16→32 k3 s2 (128), 32→32 k3 s2 (64), an LSTM
// of 32 hidden units over 64 steps of 32 features, a 32→1 Gemm.
constexpr int64_t then_branch_macs = 256 * 16 * 1 * 5 + 128 * 32 * 16 * 3 + 64 * 32 * 32 * 3 + 64 * 128 * (32 + 32) + 32;
// Else branch (8 kHz): 1→16 k3, 16→16 k3, 16→32 k3, the same LSTM and Gemm.
constexpr int64_t else_branch_macs = 256 * 16 * 1 * 3 + 128 * 16 * 16 * 3 + 64 * 32 * 16 * 3 + 64 * 128 * (32 + 32) + 32;
// Weights, biases, LSTM W/R/B, the head, and two small int64 constants per branch.
constexpr int64_t then_branch_parameters = 80 + 16 + 1536 + 32 + 3072 + 32 + 4096 + 4096 + 256 + 32 + 1 + 2;
constexpr int64_t else_branch_parameters = 48 + 16 + 768 + 16 + 1536 + 32 + 4096 + 4096 + 256 + 32 + 1 + 2;

const inspect::NodeStatistics& node_named(const inspect::ModelStatistics& statistics, const std::string& name) {
  for (const inspect::NodeStatistics& node : statistics.nodes) {
    if (node.name == name) return node;
  }
  throw std::runtime_error("no node " + name);
}

size_t count_op(const ir::Graph& graph, const std::string& op) {
  return static_cast<size_t>(std::count_if(graph.nodes().begin(), graph.nodes().end(),
                                           [&](const auto& node) { return node->op_type == op; }));
}

TEST(ControlFlowCost, IfCountsItsCostlierBranchWithEveryParameterInside) {
  const PreparedModel prepared = load_prepared_model(model_path("speech_if.onnx"));
  const inspect::ModelStatistics statistics = inspect::compute_statistics(prepared.model);
  const inspect::NodeStatistics& branch = node_named(statistics, "by_sample_rate");
  EXPECT_TRUE(branch.has_subgraphs);
  EXPECT_EQ(branch.subgraph_nodes, 24u);
  ASSERT_TRUE(branch.macs.has_value());
  EXPECT_EQ(*branch.macs, std::max(then_branch_macs, else_branch_macs));
  EXPECT_EQ(branch.parameter_count, then_branch_parameters + else_branch_parameters);
  EXPECT_EQ(statistics.parameter_count, then_branch_parameters + else_branch_parameters + 1);  // + the 16000
  EXPECT_EQ(statistics.macs, then_branch_macs);
  EXPECT_EQ(statistics.subgraph_nodes, 24u);
  EXPECT_EQ(statistics.subgraph_op_histogram.at("Conv"), 6);
  EXPECT_EQ(statistics.subgraph_op_histogram.at("LSTM"), 2);
  EXPECT_NE(branch.subgraph_detail.find("then_branch 12 nodes"), std::string::npos) << branch.subgraph_detail;
}

TEST(ControlFlowCost, LoopCostsItsBodyTimesAConstantTripCountAndIsUnknownOtherwise) {
  const inspect::ModelStatistics constant =
      inspect::compute_statistics(load_prepared_model(model_path("loop_constant.onnx")).model);
  ASSERT_TRUE(node_named(constant, "repeat").macs.has_value());
  EXPECT_EQ(*node_named(constant, "repeat").macs, 4 * 16 * 16);  // 4 iterations of a [1,16]x[16,16] MatMul
  EXPECT_EQ(constant.parameter_count, 16 * 16 + 1 + 1);          // the body's weights, the count, the condition

  const inspect::ModelStatistics dynamic =
      inspect::compute_statistics(load_prepared_model(model_path("loop_dynamic.onnx")).model);
  EXPECT_FALSE(node_named(dynamic, "repeat").macs.has_value());
  EXPECT_EQ(dynamic.nodes_with_unknown_cost, 1u);
  EXPECT_NE(node_named(dynamic, "repeat").subgraph_detail.find("256 MACs per iteration, trip count unknown"),
            std::string::npos)
      << node_named(dynamic, "repeat").subgraph_detail;
  bool says_unknown = std::any_of(dynamic.notes.begin(), dynamic.notes.end(), [](const std::string& note) {
    return note.find("unknown number of times") != std::string::npos;
  });
  EXPECT_TRUE(says_unknown);
}

TEST(ControlFlowCheck, WorkInsideAnIfFallsBackWithItOnRk3588) {
  const PreparedModel prepared = load_prepared_model(model_path("speech_if.onnx"));
  const check::CheckResult result = check::check_model(prepared.model, targets::find_builtin_target("rk3588"));
  EXPECT_EQ(result.macs_total, then_branch_macs);
  EXPECT_EQ(result.macs_accelerator, 0);
  EXPECT_DOUBLE_EQ(result.accelerator_mac_share(), 0.0);
  ASSERT_EQ(result.subgraph_nodes.size(), 24u);
  for (const check::NodeVerdict& node : result.subgraph_nodes) {
    EXPECT_EQ(node.placement, check::Placement::fallback) << node.name;
    EXPECT_NE(node.reason.find("inside 'by_sample_rate' (If)"), std::string::npos) << node.reason;
  }
  const auto holder = std::find_if(result.nodes.begin(), result.nodes.end(),
                                   [](const check::NodeVerdict& node) { return node.op_type == "If"; });
  ASSERT_NE(holder, result.nodes.end());
  EXPECT_EQ(holder->placement, check::Placement::fallback);
  EXPECT_NE(holder->fix.find("--input-value sr="), std::string::npos) << holder->fix;
}

TEST(IfSpecialization, AnInputHeldAtAValueInlinesTheBranchItSelects) {
  for (const auto& [rate, macs] : std::map<std::string, int64_t>{{"16000", then_branch_macs}, {"8000", else_branch_macs}}) {
    SCOPED_TRACE("sr=" + rate);
    PreparationOptions options;
    options.input_values["sr"] = rate;
    const PreparedModel prepared = load_prepared_model(model_path("speech_if.onnx"), options);
    const ir::Graph& graph = *prepared.model.graph;
    EXPECT_EQ(count_op(graph, "If"), 0u);
    EXPECT_EQ(count_op(graph, "Conv"), 3u);
    EXPECT_EQ(count_op(graph, "LSTM"), 1u);
    EXPECT_TRUE(std::none_of(graph.inputs.begin(), graph.inputs.end(), [](const ir::Value* input) { return input->name == "sr"; }));
    const check::CheckResult result = check::check_model(prepared.model, targets::find_builtin_target("rk3588"));
    EXPECT_EQ(result.macs_total, macs);
    EXPECT_EQ(result.macs_accelerator, macs - 32);  // only the 32-MAC Gemm head stays off the NPU
    EXPECT_TRUE(result.subgraph_nodes.empty());
  }
}

TEST(IfSpecialization, TheSpecializedModelComputesWhatTheOriginalDoesForThatValue) {
  PreparationOptions options;
  options.input_values["sr"] = "8000";
  auto specialized = std::make_shared<ir::Model>(load_prepared_model(model_path("speech_if.onnx"), options).model);
  auto original = std::make_shared<ir::Model>(load_prepared_model(model_path("speech_if.onnx")).model);
  Tensor audio(DType::f32, {1, 512}), state(DType::f32, {1, 1, 32});
  for (int64_t i = 0; i < 512; ++i) audio.data<float>()[i] = static_cast<float>((i * 37) % 101) / 50.0f - 1.0f;
  for (int64_t i = 0; i < 32; ++i) state.data<float>()[i] = static_cast<float>(i % 7) / 10.0f;
  const Tensor rate = Tensor::from_vector<int64_t>(DType::i64, {}, {8000});
  engine::EngineOptions reference;
  reference.backend = "ref";
  auto expected = engine::Engine::from_model(original, reference)->run({{"input", audio}, {"sr", rate}, {"state", state}});
  auto actual = engine::Engine::from_model(specialized, reference)->run({{"input", audio}, {"state", state}});
  ASSERT_EQ(actual.at("probability").element_count(), 1);
  EXPECT_EQ(actual.at("probability").data<float>()[0], expected.at("probability").data<float>()[0]);
}

TEST(InputValues, BadValuesSayWhatIsWrong) {
  const std::string path = model_path("speech_if.onnx");
  auto message = [&](const std::string& name, const std::string& text) {
    PreparationOptions options;
    options.input_values[name] = text;
    try {
      load_prepared_model(path, options);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("rate", "16000").find("the model's inputs are: input, sr, state"), std::string::npos);
  EXPECT_NE(message("sr", "16k").find("'16k' is not a number"), std::string::npos);
  EXPECT_NE(message("sr", "1.5").find("integer"), std::string::npos);
  EXPECT_NE(message("sr", "1,2").find("2 given"), std::string::npos);
  EXPECT_NE(message("sr", "/nonexistent/sr.npy").find("no such file"), std::string::npos);
  EXPECT_THROW(parse_input_values({"sr"}), Error);
  EXPECT_THROW(parse_input_values({"sr=1", "sr=2"}), Error);
}

class PreparationShapes : public ::testing::Test {
 protected:
  // x [batch, 3, 8, 8] → Conv 3→4 3x3 pad 1 → Relu → y, with value_info and output shapes as an exporter at batch 1
  // writes them (stale at any other input shape).
  std::string write_conv_model(const std::vector<int64_t>& input_dims, const std::string& file) {
    onnx::ModelProto model = testing::make_model(13);
    onnx::GraphProto* graph = model.mutable_graph();
    testing::add_input(graph, "x", input_dims);
    testing::add_float_initializer(graph, "w", {4, 3, 3, 3}, std::vector<float>(108, 0.1f));
    auto* conv = testing::add_node(graph, "Conv", {"x", "w"}, {"c"}, "conv");
    auto* pads = conv->add_attribute();
    pads->set_name("pads");
    pads->set_type(onnx::AttributeProto::INTS);
    for (int i = 0; i < 4; ++i) pads->add_ints(1);
    testing::add_node(graph, "Relu", {"c"}, {"y"}, "relu");
    // Declared as an exporter does: what it computed at the export shape, dynamic where the input is.
    const std::vector<int64_t> declared{input_dims[0] < 0 ? -1 : 1, 4, input_dims[2] < 0 ? -1 : 8, input_dims[3] < 0 ? -1 : 8};
    testing::set_value_info(graph->add_value_info(), "c", onnx::TensorProto_DataType_FLOAT, declared);
    testing::add_output(graph, "y", declared);
    return testing::write_model(model, folder_.file(file));
  }
  testing::TemporaryFolder folder_;
};

TEST_F(PreparationShapes, InputShapesReplaceEveryStaleDeclaredShape) {
  PreparationOptions options;
  options.input_shapes["x"] = {2, 3, 16, 16};
  const PreparedModel prepared = load_prepared_model(write_conv_model({1, 3, 8, 8}, "static.onnx"), options);
  EXPECT_EQ(prepared.model.graph->outputs[0]->type.to_string(), "f32[2, 4, 16, 16]");
  EXPECT_EQ(prepared.model.graph->find_value("c")->type.to_string(), "f32[2, 4, 16, 16]");
}

TEST_F(PreparationShapes, ASymbolicBatchBecomesOneWithANote) {
  const PreparedModel prepared = load_prepared_model(write_conv_model({-1, 3, 8, 8}, "batch.onnx"));
  EXPECT_EQ(prepared.model.graph->inputs[0]->type.to_string(), "f32[1, 3, 8, 8]");
  EXPECT_EQ(prepared.model.graph->outputs[0]->type.to_string(), "f32[1, 4, 8, 8]");
  ASSERT_EQ(prepared.report.notes.size(), 1u);
  EXPECT_NE(prepared.report.notes[0].find("input 'x': batch dim N set to 1"), std::string::npos) << prepared.report.notes[0];
  EXPECT_NO_THROW(require_static_inputs(prepared.model, "bench"));
}

TEST_F(PreparationShapes, DataShapesFixDynamicDimsOnly) {
  PreparationOptions options;
  options.data_shapes[""] = {4, 3, 8, 8};  // the only input, as `run -i file.npy` gives it
  const PreparedModel prepared = load_prepared_model(write_conv_model({-1, 3, 8, 8}, "batch.onnx"), options);
  EXPECT_EQ(prepared.model.graph->outputs[0]->type.to_string(), "f32[4, 4, 8, 8]");
  EXPECT_TRUE(prepared.report.notes.empty());

  options.data_shapes[""] = {4, 3, 8, 8};  // disagrees with a static input: left for the caller to report
  const PreparedModel static_model = load_prepared_model(write_conv_model({1, 3, 8, 8}, "static.onnx"), options);
  EXPECT_EQ(static_model.model.graph->inputs[0]->type.to_string(), "f32[1, 3, 8, 8]");
}

TEST_F(PreparationShapes, CommandsThatNeedStaticShapesNameTheInputAndTheFlag) {
  const PreparedModel prepared = load_prepared_model(write_conv_model({-1, 3, -1, -1}, "dynamic.onnx"));
  EXPECT_EQ(prepared.report.dynamic_inputs, std::vector<std::string>{"x"});
  try {
    require_static_inputs(prepared.model, "bench");
    FAIL() << "a dynamic input must be refused";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("bench needs a static shape; give it with --input-shape x=N,3,H,W"),
              std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("dynamic.onnx"), std::string::npos) << error.what();
  }
  const inspect::ModelStatistics statistics = inspect::compute_statistics(prepared.model);
  EXPECT_EQ(statistics.macs, 0);
  EXPECT_EQ(statistics.nodes_with_unknown_cost, 2u);  // reported as unknown, never as 0
}

TEST(PreparationWholeModel, MobileNetV2AtBatchTwoHasEveryShapeAtBatchTwo) {
  PreparationOptions options;
  options.input_shapes["input"] = {2, 3, 224, 224};
  const PreparedModel prepared = load_prepared_model(model_path("mobilenetv2.onnx"), options);
  EXPECT_EQ(prepared.model.graph->outputs[0]->type.to_string(), "f32[2, 1000]");
  EXPECT_EQ(prepared.report.values_with_unknown_shape, 0u);
  const inspect::ModelStatistics at_one = inspect::compute_statistics(load_prepared_model(model_path("mobilenetv2.onnx")).model);
  EXPECT_EQ(inspect::compute_statistics(prepared.model).macs, 2 * at_one.macs);
}

}  // namespace
}  // namespace npukit::preparation
