// ir::QuantParams: validation, and the mapping to and from QuantizeLinear / DequantizeLinear (onnx/qdq_mapping.h)
// on hand-made QDQ graphs: per tensor and per axis, uint8 / int8 / int16 grids, weights and activations.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ir/quant_params.h"
#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "onnx/onnx_import.h"
#include "onnx_test_models.h"
#include "runtime/backend.h"
#include "runtime/executor.h"

namespace npukit {
namespace {

using ir::QuantParams;

QuantParams per_tensor(DType storage, float scale, std::vector<int64_t> zero_points = {}) {
  QuantParams params;
  params.storage = storage;
  params.scales = {scale};
  params.zero_points = std::move(zero_points);
  return params;
}

std::string validation_error(const QuantParams& params, std::optional<std::vector<int64_t>> dims) {
  try {
    params.validate(dims, "'w'");
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    return error.reason();
  }
  return "";
}

TEST(QuantParams, GridsOfEachStorageType) {
  QuantParams params = per_tensor(DType::i8, 1);
  EXPECT_EQ(params.bits(), 8);
  EXPECT_EQ(params.storage_min(), -128);
  EXPECT_EQ(params.storage_max(), 127);
  params.narrow_range = true;
  EXPECT_EQ(params.storage_min(), -127);  // TFLite weights: [-127, 127]
  params = per_tensor(DType::u8, 1);
  EXPECT_EQ(params.storage_min(), 0);
  EXPECT_EQ(params.storage_max(), 255);
  params = per_tensor(DType::i16, 1);
  EXPECT_EQ(params.storage_min(), -32768);
  EXPECT_EQ(params.storage_max(), 32767);
  params = per_tensor(DType::i4, 1);  // 4 bits held in an int8 container
  EXPECT_EQ(params.bits(), 4);
  EXPECT_EQ(params.storage_min(), -8);
  EXPECT_EQ(params.storage_max(), 7);
  params = per_tensor(DType::u4, 1);
  EXPECT_EQ(params.storage_max(), 15);
  params = per_tensor(DType::i32, 1);
  EXPECT_EQ(params.storage_min(), std::numeric_limits<int32_t>::min());
}

TEST(QuantParams, GranularityFollowsAxisAndGroupSize) {
  QuantParams params = per_tensor(DType::i8, 1);
  EXPECT_EQ(params.granularity(), ir::QuantGranularity::per_tensor);
  params.axis = 0;
  params.scales = {1, 2, 3};
  EXPECT_EQ(params.granularity(), ir::QuantGranularity::per_channel);
  EXPECT_NO_THROW(params.validate(std::vector<int64_t>{3, 8}, "'w'"));
  params.group_size = 4;
  params.axis = 0;
  params.scales = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(params.granularity(), ir::QuantGranularity::per_group);
  // Groups within each channel: 3 channels of 8 elements in groups of 4 = 2 groups each; of 7: ceil(7 / 4) = 2.
  EXPECT_NO_THROW(params.validate(std::vector<int64_t>{3, 8}, "'w'"));
  EXPECT_NO_THROW(params.validate(std::vector<int64_t>{3, 7}, "'w'"));
  EXPECT_EQ(params.groups_per_channel({3, 8}), 2);
  EXPECT_EQ(params.groups_per_channel({3, 2, 2, 2}), 2);  // a Conv weight: C x KH x KW = 8 inputs per channel
  EXPECT_EQ(params.groups_per_channel({3, 1, 3, 1}), 1);  // 3 inputs: one (short) group
  params.axis = 1;  // a MatMul weight [K, N]: groups run along K within each column
  EXPECT_NO_THROW(params.validate(std::vector<int64_t>{8, 3}, "'w'"));
  EXPECT_THROW(params.validate(std::vector<int64_t>{3, 8}, "'w'"), Error);  // 8 columns of 3: 8 scales
}

TEST(QuantParams, ValidationNamesWhatIsWrong) {
  EXPECT_NE(validation_error(per_tensor(DType::i8, 0), std::nullopt).find("finite and > 0"), std::string::npos);
  EXPECT_NE(validation_error(per_tensor(DType::i8, -0.5f), std::nullopt).find("finite and > 0"), std::string::npos);
  EXPECT_NE(validation_error(per_tensor(DType::i8, std::nanf("")), std::nullopt).find("finite"), std::string::npos);
  EXPECT_NE(validation_error(per_tensor(DType::i8, INFINITY), std::nullopt).find("finite"), std::string::npos);
  EXPECT_NE(validation_error(per_tensor(DType::f32, 1), std::nullopt).find("not an integer grid"), std::string::npos);
  EXPECT_NE(validation_error(per_tensor(DType::u8, 1, {256}), std::nullopt).find("outside the u8 grid [0, 255]"),
            std::string::npos);
  EXPECT_NE(validation_error(per_tensor(DType::i8, 1, {-129}), std::nullopt).find("outside"), std::string::npos);
  QuantParams narrow = per_tensor(DType::i8, 1, {-128});
  narrow.narrow_range = true;
  EXPECT_NE(validation_error(narrow, std::nullopt).find("[-127, 127]"), std::string::npos);
  QuantParams no_scale;
  EXPECT_NE(validation_error(no_scale, std::nullopt).find("no scale"), std::string::npos);
  QuantParams channels = per_tensor(DType::i8, 1);
  channels.axis = 0;
  channels.scales = {1, 1};
  EXPECT_NE(validation_error(channels, std::vector<int64_t>{3, 4}).find("2 scales, but axis 0 has 3 elements"),
            std::string::npos);
  channels.axis = 2;
  EXPECT_NE(validation_error(channels, std::vector<int64_t>{3, 4}).find("outside rank 2"), std::string::npos);
  QuantParams mismatched = per_tensor(DType::i8, 1, {0, 0});
  EXPECT_NE(validation_error(mismatched, std::nullopt).find("2 zero points for 1 scales"), std::string::npos);
  QuantParams several = per_tensor(DType::i8, 1);
  several.scales = {1, 2};
  EXPECT_NE(validation_error(several, std::nullopt).find("without an axis"), std::string::npos);
  QuantParams groups = per_tensor(DType::i8, 1);
  groups.axis = 1;
  groups.group_size = 4;
  groups.scales = {1, 1, 1};
  EXPECT_NE(validation_error(groups, std::vector<int64_t>{3, 8}).find("3 scales, but axis 1 has 8 channels of 3 elements "
                                                                      "in groups of 4 (1 per channel, 8 scales)"),
            std::string::npos);
}

// x (f32 [1, 4]) -> QuantizeLinear(0.5, zp) -> x_q -> DequantizeLinear -> y, and a weight w (int8 [3, 2]) read
// through a per-axis DequantizeLinear into a MatMul.
onnx::ModelProto qdq_model(int32_t activation_type) {
  onnx::ModelProto model = testing::make_model(13);
  auto* graph = model.mutable_graph();
  testing::add_input(graph, "x", {1, 3});
  testing::add_output(graph, "y", {1, 2});
  testing::add_float_initializer(graph, "x_scale", {}, {0.5f});
  auto* zero_point = graph->add_initializer();
  zero_point->set_name("x_zero_point");
  zero_point->set_data_type(activation_type);
  zero_point->add_int32_data(activation_type == onnx::TensorProto_DataType_UINT8 ? 10 : -3);
  testing::add_node(graph, "QuantizeLinear", {"x", "x_scale", "x_zero_point"}, {"x_q"}, "quantize_x");
  testing::add_node(graph, "DequantizeLinear", {"x_q", "x_scale", "x_zero_point"}, {"x_dq"}, "dequantize_x");
  auto* weight = graph->add_initializer();
  weight->set_name("w");
  weight->set_data_type(onnx::TensorProto_DataType_INT8);
  weight->add_dims(3);
  weight->add_dims(2);
  for (int value : {1, -2, 3, -4, 5, -6}) weight->add_int32_data(value);
  testing::add_float_initializer(graph, "w_scale", {2}, {0.25f, 0.125f});
  auto* weight_zero = graph->add_initializer();
  weight_zero->set_name("w_zero_point");
  weight_zero->set_data_type(onnx::TensorProto_DataType_INT8);
  weight_zero->add_dims(2);
  weight_zero->add_int32_data(0);
  weight_zero->add_int32_data(0);
  auto* dequantize_w = testing::add_node(graph, "DequantizeLinear", {"w", "w_scale", "w_zero_point"}, {"w_dq"}, "dequantize_w");
  auto* axis = dequantize_w->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto_AttributeType_INT);
  axis->set_i(1);
  testing::add_node(graph, "MatMul", {"x_dq", "w_dq"}, {"y"}, "matmul");
  return model;
}

ir::Model import(const onnx::ModelProto& proto) {
  return onnx_io::load_model_from_bytes(proto.SerializeAsString(), "qdq.onnx", "");
}

DType storage_of(int32_t onnx_type) {
  if (onnx_type == onnx::TensorProto_DataType_UINT8) return DType::u8;
  return onnx_type == onnx::TensorProto_DataType_INT8 ? DType::i8 : DType::i16;
}

// int16 Q/DQ are ONNX opset 21; libonnx 1.12 accepts them at opset 13 and the import records them as they are.
constexpr int32_t kActivationTypes[] = {onnx::TensorProto_DataType_UINT8, onnx::TensorProto_DataType_INT8,
                                        onnx::TensorProto_DataType_INT16};

TEST(QdqImport, ValueBetweenQAndDqGetsPerTensorParams) {
  for (int32_t type : kActivationTypes) {
    ir::Model model = import(qdq_model(type));
    const ir::Value* quantized = model.graph->find_value("x_q");
    ASSERT_TRUE(quantized->quant.has_value());
    const QuantParams& params = *quantized->quant;
    EXPECT_EQ(params.storage, storage_of(type));
    EXPECT_EQ(params.scales, std::vector<float>{0.5f});
    EXPECT_EQ(params.zero_points, std::vector<int64_t>{type == onnx::TensorProto_DataType_UINT8 ? 10 : -3});
    EXPECT_EQ(params.granularity(), ir::QuantGranularity::per_tensor);
    EXPECT_EQ(params.rounding, ir::RoundingMode::half_to_even);
    // The float values on either side are not quantized values themselves.
    EXPECT_FALSE(model.graph->find_value("x")->quant.has_value());
    EXPECT_FALSE(model.graph->find_value("x_dq")->quant.has_value());
  }
}

TEST(QdqImport, DequantizedInitializerMarksTheWeightPerAxis) {
  ir::Model model = import(qdq_model(onnx::TensorProto_DataType_UINT8));
  const ir::Value* weight = model.graph->find_value("w");
  ASSERT_TRUE(weight->quant.has_value());
  EXPECT_EQ(weight->quant->storage, DType::i8);
  EXPECT_EQ(weight->quant->granularity(), ir::QuantGranularity::per_channel);
  EXPECT_EQ(weight->quant->axis, 1);
  EXPECT_EQ(weight->quant->scales, (std::vector<float>{0.25f, 0.125f}));
  EXPECT_TRUE(weight->quant->symmetric());
}

TEST(QdqImport, NegativeAxisIsResolvedAgainstTheRank) {
  onnx::ModelProto proto = qdq_model(onnx::TensorProto_DataType_INT8);
  for (auto& node : *proto.mutable_graph()->mutable_node()) {
    if (node.name() == "dequantize_w") node.mutable_attribute(0)->set_i(-1);
  }
  EXPECT_EQ(import(proto).graph->find_value("w")->quant->axis, 1);
}

TEST(QdqImport, UnusableConstantScaleIsRefusedNamingTheNode) {
  onnx::ModelProto proto = qdq_model(onnx::TensorProto_DataType_INT8);
  for (auto& initializer : *proto.mutable_graph()->mutable_initializer()) {
    if (initializer.name() == "w_scale") initializer.set_float_data(1, -0.125f);
  }
  try {
    import(proto);
    FAIL() << "a negative scale was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_model);
    EXPECT_NE(error.node().find("dequantize_w"), std::string::npos) << error.what();
    EXPECT_NE(error.reason().find("finite and > 0"), std::string::npos) << error.what();
  }
}

TEST(QdqImport, ScaleComputedAtRunTimeLeavesNoParams) {
  onnx::ModelProto model = testing::make_model(13);
  auto* graph = model.mutable_graph();
  testing::add_input(graph, "x", {4});
  testing::add_input(graph, "scale", {});
  testing::add_output(graph, "y", {4}, onnx::TensorProto_DataType_UINT8);
  testing::add_node(graph, "QuantizeLinear", {"x", "scale"}, {"y"});
  EXPECT_FALSE(import(model).graph->find_value("y")->quant.has_value());
}

std::map<std::string, QuantParams> params_by_value(const ir::Graph& graph) {
  std::map<std::string, QuantParams> found;
  for (const auto& value : graph.values()) {
    if (value->quant) found[value->name] = *value->quant;
  }
  return found;
}

std::vector<std::string> op_types(const ir::Graph& graph) {
  std::vector<std::string> types;
  for (const auto& node : graph.nodes()) types.push_back(node->op_type);
  return types;
}

TEST(QdqRoundTrip, ImportExportImportKeepsNodesAndParams) {
  for (int32_t type : kActivationTypes) {
    ir::Model first = import(qdq_model(type));
    ir::Model second = onnx_io::load_model_from_bytes(onnx_io::serialize_model(first), "exported.onnx", "");
    EXPECT_EQ(op_types(*first.graph), op_types(*second.graph));
    EXPECT_EQ(params_by_value(*first.graph), params_by_value(*second.graph));
    EXPECT_EQ(params_by_value(*first.graph).size(), 2u);  // x_q and w
  }
}

// x (f32 [1, 3]) -> MatMul(w f32 [3, 2]) -> y, with parameters set on x, w and y as a quantizer would.
ir::Model float_model_with_quantization_points() {
  onnx::ModelProto proto = testing::make_model(13);
  auto* graph = proto.mutable_graph();
  testing::add_input(graph, "x", {1, 3});
  testing::add_output(graph, "y", {1, 2});
  testing::add_float_initializer(graph, "w", {3, 2}, {0.5f, -1.0f, 0.26f, 0.05f, -0.15f, 2.0f});
  testing::add_node(graph, "MatMul", {"x", "w"}, {"y"}, "matmul");
  ir::Model model = import(proto);
  QuantParams weight;
  weight.storage = DType::i8;
  weight.narrow_range = true;
  weight.axis = 1;
  weight.scales = {0.1f, 0.1f};
  model.graph->find_value("w")->quant = weight;
  model.graph->find_value("x")->quant = per_tensor(DType::u8, 0.5f, {128});
  model.graph->find_value("y")->quant = per_tensor(DType::i8, 0.25f, {0});
  return model;
}

TEST(QdqExport, FloatValuesWithParamsBecomeQdqPairs) {
  ir::Model model = float_model_with_quantization_points();
  ir::Model exported = onnx_io::load_model_from_bytes(onnx_io::serialize_model(model), "exported.onnx", "");
  const ir::Graph& graph = *exported.graph;
  // The graph keeps its input and output names; the MatMul reads dequantized values.
  ASSERT_EQ(graph.inputs.size(), 1u);
  EXPECT_EQ(graph.inputs[0]->name, "x");
  ASSERT_EQ(graph.outputs.size(), 1u);
  EXPECT_EQ(graph.outputs[0]->name, "y");
  EXPECT_EQ(graph.outputs[0]->producer->op_type, "DequantizeLinear");
  // The weight is stored quantized with round half to even, grid [-127, 127]:
  //   0.5/0.1 = 5, -1.0/0.1 = -10, 0.26/0.1 = 2.6 -> 3, 0.05/0.1 = 0.5 -> 0 (tie to even),
  //   -0.15/0.1 = -1.5 -> -2 (tie to even), 2.0/0.1 = 20.
  // (0.05f / 0.1f and -0.15f / 0.1f are exactly 0.5 and -1.5 in float32.)
  const ir::Value* weight = graph.find_value("w_quantized");
  ASSERT_NE(weight, nullptr);
  ASSERT_TRUE(weight->initializer.has_value());
  ASSERT_EQ(weight->initializer->dtype(), DType::i8);
  EXPECT_EQ(weight->initializer->to_int64_vector(), (std::vector<int64_t>{5, -10, 3, 0, -2, 20}));
  ASSERT_TRUE(weight->quant.has_value());
  EXPECT_EQ(weight->quant->axis, 1);
  EXPECT_EQ(weight->quant->scales, (std::vector<float>{0.1f, 0.1f}));
  const ir::Value* input = graph.find_value("x_quantized");
  ASSERT_NE(input, nullptr);
  ASSERT_TRUE(input->quant.has_value());
  EXPECT_EQ(*input->quant, per_tensor(DType::u8, 0.5f, {128}));
  const ir::Value* output = graph.find_value("y_quantized");
  ASSERT_NE(output, nullptr);
  EXPECT_EQ(*output->quant, per_tensor(DType::i8, 0.25f, {0}));
  // And once exported, the file is a fixed point of import -> export.
  ir::Model again = onnx_io::load_model_from_bytes(onnx_io::serialize_model(exported), "again.onnx", "");
  EXPECT_EQ(params_by_value(graph), params_by_value(*again.graph));
  EXPECT_EQ(op_types(graph), op_types(*again.graph));

  // It runs as ONNX defines: x = [1, 2, 3] -> u8 (zp 128, s 0.5) is exact; MatMul with the dequantized weight
  //   [0.5 -1.0; 0.3 0.0; -0.2 2.0]: y0 = 0.5 + 0.6 - 0.6 = 0.5, y1 = -1.0 + 0 + 6.0 = 5.0;
  //   y -> i8 at 0.25: 2 and 20 -> 0.5 and 5.0.
  auto shared = std::make_shared<ir::Model>(std::move(exported));
  runtime::Executor executor(shared, {&runtime::reference_backend()});
  std::vector<Tensor> outputs = executor.run({{"x", Tensor::from_vector<float>(DType::f32, {1, 3}, {1, 2, 3})}});
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{0.5f, 5.0f}));
}

std::string export_error(const ir::Model& model) {
  try {
    onnx_io::serialize_model(model);
  } catch (const Error& error) {
    return error.reason();
  }
  return "";
}

TEST(QdqExport, WhatOnnxCannotStateIsRefusedNamingTheValue) {
  ir::Model model = float_model_with_quantization_points();
  model.graph->find_value("y")->quant->rounding = ir::RoundingMode::half_away_from_zero;
  EXPECT_NE(export_error(model).find("'y'"), std::string::npos);
  EXPECT_NE(export_error(model).find("rounds half to even"), std::string::npos);
  model.graph->find_value("y")->quant = per_tensor(DType::i4, 0.25f);
  EXPECT_NE(export_error(model).find("opset 21"), std::string::npos);
  // 16-bit activations are written, as com.microsoft Q / DQ (ONNX Runtime's contrib ops; ONNX's own need opset 21).
  model.graph->find_value("y")->quant = per_tensor(DType::i16, 0.25f);
  EXPECT_EQ(export_error(model), "");
  model.graph->find_value("y")->quant.reset();
  QuantParams groups;
  groups.storage = DType::i8;
  groups.axis = 1;
  groups.group_size = 2;
  // w is a MatMul weight [K 3, N 2]: per group, 2 columns of 3 inputs each in groups of 2 = 2 groups per column.
  groups.scales = {0.1f, 0.1f, 0.1f, 0.1f};
  model.graph->find_value("w")->quant = groups;
  EXPECT_EQ(export_error(model), "");  // groups of 2 and a short last group of 1: written (padded, then sliced)
  groups.scales = {0.1f};
  model.graph->find_value("w")->quant = groups;
  EXPECT_NE(export_error(model).find("1 scales, but axis 1 has 2 channels of 3 elements"), std::string::npos);
  model.graph->find_value("w")->quant.reset();
  QuantParams activation_groups = groups;
  activation_groups.axis = 1;
  activation_groups.group_size = 1;
  activation_groups.scales = {0.25f, 0.25f};
  model.graph->find_value("y")->quant = activation_groups;  // y [1, 2]: 2 channels of one element
  EXPECT_NE(export_error(model).find("per-group scales on an activation"), std::string::npos);
}

}  // namespace
}  // namespace npukit
