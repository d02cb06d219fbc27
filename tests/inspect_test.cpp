// Model statistics: MACs per op kind on hand-sized graphs, peak activation memory on a chain whose
// lifetimes are known, honest "unknown" for dynamic shapes, and the published figures of real models.
#include <gtest/gtest.h>

#include <filesystem>

#include "inspect/model_statistics.h"
#include "inspect/node_cost.h"
#include "onnx/onnx_import.h"
#include "zoo/builtin_models.h"

namespace npukit::inspect {
namespace {

ir::TensorType f32_type(const std::vector<int64_t>& shape) {
  ir::TensorType type;
  type.dtype = DType::f32;
  std::vector<ir::Dim> dims;
  for (int64_t size : shape) dims.push_back(ir::Dim::fixed(size));
  type.shape = dims;
  return type;
}

ir::Value* weight(ir::Graph& graph, const std::string& name, const std::vector<int64_t>& shape) {
  return graph.add_initializer(name, Tensor(DType::f32, shape));
}

void set_ints(ir::Node* node, const std::string& key, std::vector<int64_t> values) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::integers;
  attribute.int_values = std::move(values);
  node->attributes[key] = attribute;
}

void set_int(ir::Node* node, const std::string& key, int64_t value) {
  ir::Attribute attribute;
  attribute.kind = ir::Attribute::Kind::integer;
  attribute.int_value = value;
  node->attributes[key] = attribute;
}

TEST(NodeCost, GroupedConvCountsInputChannelsPerGroup) {
  ir::Graph graph;
  ir::Value* x = graph.add_value("x", f32_type({1, 4, 8, 8}));
  ir::Value* y = graph.add_value("y", f32_type({1, 6, 8, 8}));
  ir::Node* conv = graph.add_node("Conv", {x, weight(graph, "w", {6, 2, 3, 3})}, {y});
  set_int(conv, "group", 2);
  // 384 outputs × (4 / 2 channels) × 3 × 3
  EXPECT_EQ(estimate_node_cost(*conv).macs, 384 * 2 * 9);
  EXPECT_EQ(estimate_node_cost(*conv).other_operations, 0);
}

TEST(NodeCost, ConvTransposeCountsInputElements) {
  ir::Graph graph;
  ir::Value* x = graph.add_value("x", f32_type({1, 4, 5, 5}));
  ir::Value* y = graph.add_value("y", f32_type({1, 3, 11, 11}));
  ir::Node* node = graph.add_node("ConvTranspose", {x, weight(graph, "w", {4, 3, 3, 3})}, {y});
  // 100 inputs × 3 output channels × 3 × 3
  EXPECT_EQ(estimate_node_cost(*node).macs, 2700);
}

TEST(NodeCost, MatMulIncludesBatchDimsAndGemmHonoursTransA) {
  ir::Graph graph;
  ir::Value* a = graph.add_value("a", f32_type({2, 3, 4, 5}));
  ir::Value* product = graph.add_value("p", f32_type({2, 3, 4, 6}));
  ir::Node* matmul = graph.add_node("MatMul", {a, weight(graph, "b", {5, 6})}, {product});
  EXPECT_EQ(estimate_node_cost(*matmul).macs, 2 * 3 * 4 * 6 * 5);

  ir::Value* a_transposed = graph.add_value("at", f32_type({7, 3}));
  ir::Value* gemm_out = graph.add_value("g", f32_type({3, 4}));
  ir::Node* gemm = graph.add_node("Gemm", {a_transposed, weight(graph, "gb", {7, 4})}, {gemm_out});
  set_int(gemm, "transA", 1);
  EXPECT_EQ(estimate_node_cost(*gemm).macs, 3 * 4 * 7);
}

TEST(NodeCost, OtherOpsAreCountedApartFromMacs) {
  ir::Graph graph;
  ir::Value* x = graph.add_value("x", f32_type({1, 6, 8, 8}));
  ir::Value* pooled = graph.add_value("pooled", f32_type({1, 6, 4, 4}));
  ir::Node* pool = graph.add_node("MaxPool", {x}, {pooled});
  set_ints(pool, "kernel_shape", {2, 2});
  EXPECT_EQ(estimate_node_cost(*pool).macs, 0);
  EXPECT_EQ(estimate_node_cost(*pool).other_operations, 96 * 4);

  ir::Value* activated = graph.add_value("activated", f32_type({1, 6, 4, 4}));
  ir::Node* relu = graph.add_node("Relu", {pooled}, {activated});
  EXPECT_EQ(estimate_node_cost(*relu).other_operations, 96);

  ir::Value* flat = graph.add_value("flat", f32_type({1, 96}));
  ir::Node* reshape = graph.add_node("Reshape", {activated, weight(graph, "shape", {2})}, {flat});
  EXPECT_EQ(estimate_node_cost(*reshape).other_operations, 0);
}

TEST(ModelStatistics, PeakActivationMemoryFollowsLifetimes) {
  ir::Model model;
  ir::Graph& graph = *model.graph;
  ir::Value* x = graph.add_value("x", f32_type({1, 1000}));
  x->is_graph_input = true;
  graph.inputs.push_back(x);
  ir::Value* a = graph.add_value("a", f32_type({1, 1000}));
  ir::Value* b = graph.add_value("b", f32_type({1, 1000}));
  ir::Value* c = graph.add_value("c", f32_type({1, 1000}));
  graph.add_node("Relu", {x}, {a});
  graph.add_node("Relu", {a}, {b});
  graph.add_node("Add", {a, b}, {c});
  c->is_graph_output = true;
  graph.outputs.push_back(c);
  ModelStatistics statistics = compute_statistics(model);
  // x dies after node 0; during node 2, a, b and c are all alive: 3 × 4000 bytes.
  EXPECT_EQ(statistics.peak_activation_bytes, 12000);
  ASSERT_TRUE(statistics.peak_node_index.has_value());
  EXPECT_EQ(*statistics.peak_node_index, 2u);
  EXPECT_TRUE(statistics.complete());
  EXPECT_EQ(statistics.op_histogram.at("Relu"), 2);
  EXPECT_EQ(statistics.other_operations, 3000);
}

TEST(ModelStatistics, SharedWeightsAreCountedOnce) {
  ir::Model model;
  ir::Graph& graph = *model.graph;
  ir::Value* x = graph.add_value("x", f32_type({1, 8}));
  graph.inputs.push_back(x);
  ir::Value* shared = weight(graph, "w", {8, 8});
  ir::Value* h = graph.add_value("h", f32_type({1, 8}));
  ir::Value* y = graph.add_value("y", f32_type({1, 8}));
  graph.add_node("MatMul", {x, shared}, {h});
  graph.add_node("MatMul", {h, shared}, {y});
  ir::Value* doubled = graph.add_value("doubled", f32_type({8, 8}));
  graph.add_node("Add", {shared, shared}, {doubled});
  graph.outputs.push_back(y);
  graph.outputs.push_back(doubled);
  ModelStatistics statistics = compute_statistics(model);
  EXPECT_EQ(statistics.nodes[2].parameter_count, 64);  // read twice, held once
  EXPECT_EQ(statistics.parameter_count, 64);
  EXPECT_EQ(statistics.parameter_bytes, 256);
  EXPECT_EQ(statistics.nodes[0].parameter_count, 64);
  EXPECT_EQ(statistics.nodes[1].parameter_count, 64);
  EXPECT_EQ(statistics.macs, 2 * 64);
}

TEST(ModelStatistics, DynamicShapesAreReportedUnknownWithTheFix) {
  ir::Model model;
  ir::Graph& graph = *model.graph;
  ir::TensorType dynamic = f32_type({1, 4, 8, 8});
  (*dynamic.shape)[0] = ir::Dim::symbolic("batch");
  ir::Value* x = graph.add_value("images", dynamic);
  graph.inputs.push_back(x);
  ir::TensorType dynamic_out = f32_type({1, 6, 8, 8});
  (*dynamic_out.shape)[0] = ir::Dim::symbolic("batch");
  ir::Value* y = graph.add_value("y", dynamic_out);
  graph.add_node("Conv", {x, weight(graph, "w", {6, 4, 3, 3})}, {y});
  graph.outputs.push_back(y);
  ModelStatistics statistics = compute_statistics(model);
  EXPECT_FALSE(statistics.nodes[0].macs.has_value());
  EXPECT_EQ(statistics.nodes_with_unknown_cost, 1u);
  EXPECT_EQ(statistics.activations_with_unknown_size, 2u);
  EXPECT_FALSE(statistics.complete());
  EXPECT_EQ(statistics.inputs[0].shape_text(), "[batch, 4, 8, 8]");
  bool names_the_fix = false;
  for (const std::string& note : statistics.notes) {
    names_the_fix = names_the_fix || note.find("--input-shape images=N,4,8,8") != std::string::npos;
  }
  EXPECT_TRUE(names_the_fix);
}

// The exports of tools/make_models.sh; a missing file fails the test, it never skips it.
std::string generated_model(const std::string& name) {
  std::string path = std::string(NPUKIT_MODELS_DIR) + "/generated/" + name + ".onnx";
  EXPECT_TRUE(std::filesystem::exists(path)) << path << " is missing: run tools/make_models.sh";
  return path;
}

TEST(ModelStatistics, ResNet50Is4Point1GigaMacs) {
  std::string path = generated_model("resnet50");
  ASSERT_TRUE(std::filesystem::exists(path));
  ModelStatistics statistics = compute_statistics(onnx_io::load_model(path));
  EXPECT_TRUE(statistics.complete());
  EXPECT_NEAR(static_cast<double>(statistics.macs), 4.1e9, 0.02 * 4.1e9);
  EXPECT_NEAR(static_cast<double>(statistics.parameter_count), 25.56e6, 0.01 * 25.56e6);
  EXPECT_EQ(statistics.op_histogram.at("Conv"), 53);
}

TEST(ModelStatistics, Yolov5sExportIs8Point2GigaMacsLikeTheBuiltin) {
  std::string path = generated_model("yolov5s");
  ASSERT_TRUE(std::filesystem::exists(path));
  ModelStatistics exported = compute_statistics(onnx_io::load_model(path));
  EXPECT_NEAR(static_cast<double>(exported.macs), 8.2e9, 0.03 * 8.2e9);
  ModelStatistics builtin = compute_statistics(zoo::build_builtin_model("builtin:yolov5s"));
  EXPECT_EQ(builtin.macs, exported.macs);
  EXPECT_EQ(builtin.op_histogram.at("Conv"), exported.op_histogram.at("Conv"));
}

TEST(ModelStatistics, InputShapeFixesADynamicImport) {
  // PP-OCRv4 det declares x as [N, 3, H, W]: unknown until the dims are fixed.
  std::string path = std::string(NPUKIT_MODELS_DIR) + "/ocr/ch_PP-OCRv4_det_infer.onnx";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run tools/make_models.sh";
  ModelStatistics dynamic = compute_statistics(onnx_io::load_model(path));
  EXPECT_FALSE(dynamic.complete());
  EXPECT_GT(dynamic.nodes_with_unknown_cost, 0u);
  onnx_io::ImportOptions options;
  options.input_shapes["x"] = {1, 3, 640, 640};
  ModelStatistics one = compute_statistics(onnx_io::load_model(path, options));
  EXPECT_TRUE(one.complete());
  EXPECT_NEAR(static_cast<double>(one.macs), 2.30e9, 0.01 * 2.30e9);
  options.input_shapes["x"] = {2, 3, 640, 640};
  ModelStatistics two = compute_statistics(onnx_io::load_model(path, options));
  EXPECT_EQ(two.macs, 2 * one.macs);
  EXPECT_EQ(two.peak_activation_bytes, 2 * one.peak_activation_bytes);
}

}  // namespace
}  // namespace npukit::inspect
