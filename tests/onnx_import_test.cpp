// ONNX → IR: types, Constant folding into initializers, input-shape overrides, every TensorProto encoding,
// external data, subgraphs with outer-scope values.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/float16.h"
#include "ir/graph.h"
#include "engine/engine.h"
#include "npukit/session.h"
#include "onnx/onnx_import.h"
#include "onnx/tensor_proto.h"
#include "onnx_test_models.h"

namespace npukit {
namespace {

using testing::add_float_initializer;
using testing::add_input;
using testing::add_node;
using testing::add_output;
using testing::make_model;
using testing::TemporaryFolder;
using testing::write_model;

const std::string kNodeTests = "/usr/share/libonnx-testdata/data/node";

TEST(OnnxImport, ConformanceModelGetsDeclaredTypes) {
  const std::string path = kNodeTests + "/test_add/model.onnx";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: install libonnx-testdata (make test does)";
  ir::Model model = onnx_io::load_model(path);
  EXPECT_EQ(model.source_path, path);
  EXPECT_EQ(model.opset(), 14);
  ASSERT_EQ(model.graph->inputs.size(), 2u);
  ASSERT_EQ(model.graph->outputs.size(), 1u);
  ASSERT_EQ(model.graph->nodes().size(), 1u);
  EXPECT_EQ(model.graph->nodes()[0]->op_type, "Add");
  EXPECT_EQ(model.graph->inputs[0]->type.to_string(), "f32[3, 4, 5]");
  EXPECT_EQ(model.graph->outputs[0]->type.to_string(), "f32[3, 4, 5]");
  EXPECT_EQ(model.graph->outputs[0]->producer, model.graph->nodes()[0].get());
}

TEST(OnnxImport, ConstantNodesBecomeInitializersAndRun) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {3});
  auto* constant = add_node(graph, "Constant", {}, {"c"}, "make_c");
  auto* attribute = constant->add_attribute();
  attribute->set_name("value_floats");
  attribute->set_type(onnx::AttributeProto_AttributeType_FLOATS);
  for (float value : {10.0f, 20.0f, 30.0f}) attribute->add_floats(value);
  auto* scalar = add_node(graph, "Constant", {}, {"k"}, "make_k");
  auto* tensor_attribute = scalar->add_attribute();
  tensor_attribute->set_name("value");
  tensor_attribute->set_type(onnx::AttributeProto_AttributeType_TENSOR);
  tensor_attribute->mutable_t()->set_data_type(onnx::TensorProto_DataType_FLOAT);
  tensor_attribute->mutable_t()->add_float_data(2.0f);
  add_node(graph, "Add", {"x", "c"}, {"sum"}, "add");
  add_node(graph, "Mul", {"sum", "k"}, {"y"}, "mul");
  add_output(graph, "y", {3});

  ir::Model model = onnx_io::load_model(write_model(proto, folder.file("constants.onnx")));
  ASSERT_EQ(model.graph->nodes().size(), 2u) << "Constant nodes must be folded into initializers";
  const ir::Value* c = model.graph->find_value("c");
  ASSERT_TRUE(c && c->initializer);
  EXPECT_EQ(c->initializer->to_float_vector(), (std::vector<float>{10, 20, 30}));
  const ir::Value* k = model.graph->find_value("k");
  ASSERT_TRUE(k && k->initializer);
  EXPECT_EQ(k->initializer->rank(), 0u);
  EXPECT_EQ(model.graph->find_value("sum")->type.to_string(), "f32[3]") << "shape inference fills intermediate types";

  auto session = engine::Engine::from_model(std::make_shared<ir::Model>(std::move(model)), {.backend = "ref"});
  auto outputs = session->run({{"x", Tensor::from_vector<float>(DType::f32, {3}, {1, 2, 3})}});
  EXPECT_EQ(outputs.at("y").to_float_vector(), (std::vector<float>{22, 44, 66}));
}

TEST(OnnxImport, InputShapesOverrideDynamicDimsBeforeInference) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {-1, 3});
  add_node(graph, "Relu", {"x"}, {"y"});
  add_output(graph, "y", {-1, 3});
  const std::string path = write_model(proto, folder.file("dynamic.onnx"));

  ir::Model dynamic = onnx_io::load_model(path);
  EXPECT_EQ(dynamic.graph->inputs[0]->type.to_string(), "f32[N, 3]");
  onnx_io::ImportOptions options;
  options.input_shapes["x"] = {2, 3};
  ir::Model fixed = onnx_io::load_model(path, options);
  EXPECT_EQ(fixed.graph->inputs[0]->type.to_string(), "f32[2, 3]");
  EXPECT_TRUE(fixed.graph->outputs[0]->type.has_static_shape());
  EXPECT_EQ(fixed.graph->outputs[0]->type.static_shape(), (Shape{2, 3}));

  options.input_shapes = {{"nope", {1}}};
  try {
    onnx_io::load_model(path, options);
    FAIL() << "an unknown input name must be refused";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("nope"), std::string::npos);
  }
}

// Builds the same values through the typed field and through raw_data and checks both decode alike.
TEST(OnnxImport, TensorProtoTypedFieldsAndRawDataForEveryDType) {
  auto decode = [](const onnx::TensorProto& proto) { return onnx_io::tensor_from_proto(proto, {}); };
  {
    onnx::TensorProto proto;
    proto.set_data_type(onnx::TensorProto_DataType_FLOAT16);
    proto.add_dims(2);
    proto.add_int32_data(0x3C00);  // 1.0
    proto.add_int32_data(0xC000);  // -2.0
    Tensor tensor = decode(proto);
    ASSERT_EQ(tensor.dtype(), DType::f16);
    EXPECT_EQ(tensor.to_float_vector(), (std::vector<float>{1.0f, -2.0f}));
  }
  {
    onnx::TensorProto proto;
    proto.set_data_type(onnx::TensorProto_DataType_BFLOAT16);
    proto.add_dims(1);
    proto.add_int32_data(0x3FC0);  // 1.5
    EXPECT_EQ(decode(proto).to_float_vector(), (std::vector<float>{1.5f}));
  }
  {
    onnx::TensorProto proto;
    proto.set_data_type(onnx::TensorProto_DataType_UINT32);
    proto.add_dims(2);
    proto.add_uint64_data(4000000000u);
    proto.add_uint64_data(7);
    Tensor tensor = decode(proto);
    ASSERT_EQ(tensor.dtype(), DType::u32);
    EXPECT_EQ(tensor.data<uint32_t>()[0], 4000000000u);
    EXPECT_EQ(tensor.data<uint32_t>()[1], 7u);
  }
  {
    onnx::TensorProto proto;
    proto.set_data_type(onnx::TensorProto_DataType_UINT64);
    proto.add_dims(1);
    proto.add_uint64_data(18000000000000000000ull);
    EXPECT_EQ(decode(proto).data<uint64_t>()[0], 18000000000000000000ull);
  }
  {
    onnx::TensorProto proto;
    proto.set_data_type(onnx::TensorProto_DataType_BOOL);
    proto.add_dims(3);
    for (int value : {0, 1, 2}) proto.add_int32_data(value);
    Tensor tensor = decode(proto);
    ASSERT_EQ(tensor.dtype(), DType::boolean);
    EXPECT_EQ(tensor.to_int64_vector(), (std::vector<int64_t>{0, 1, 1}));
  }
  const std::vector<std::pair<int32_t, DType>> small_integers = {
      {onnx::TensorProto_DataType_INT8, DType::i8},   {onnx::TensorProto_DataType_UINT8, DType::u8},
      {onnx::TensorProto_DataType_INT16, DType::i16}, {onnx::TensorProto_DataType_UINT16, DType::u16},
      {onnx::TensorProto_DataType_INT32, DType::i32}};
  for (const auto& [onnx_type, dtype] : small_integers) {
    onnx::TensorProto proto;
    proto.set_data_type(onnx_type);
    proto.add_dims(2);
    const bool is_signed = dtype_is_signed(dtype);
    proto.add_int32_data(is_signed ? -5 : 5);
    proto.add_int32_data(100);
    Tensor tensor = decode(proto);
    ASSERT_EQ(tensor.dtype(), dtype);
    EXPECT_EQ(tensor.to_int64_vector(), (std::vector<int64_t>{is_signed ? -5 : 5, 100})) << dtype_name(dtype);
    // The same tensor through raw_data.
    onnx::TensorProto raw;
    onnx_io::tensor_to_proto(tensor, "t", raw);
    EXPECT_TRUE(raw.has_raw_data());
    Tensor again = decode(raw);
    ASSERT_EQ(again.dtype(), dtype);
    EXPECT_EQ(std::memcmp(again.raw_data(), tensor.raw_data(), tensor.byte_size()), 0);
  }
  {
    onnx::TensorProto proto;
    proto.set_data_type(onnx::TensorProto_DataType_DOUBLE);
    proto.add_dims(1);
    proto.add_double_data(0.1);
    EXPECT_EQ(decode(proto).data<double>()[0], 0.1);
    proto.set_data_type(onnx::TensorProto_DataType_INT64);
    proto.clear_double_data();
    proto.add_int64_data(-9000000000ll);
    EXPECT_EQ(decode(proto).data<int64_t>()[0], -9000000000ll);
  }
  {
    onnx::TensorProto proto;
    proto.set_name("names");
    proto.set_data_type(onnx::TensorProto_DataType_STRING);
    proto.add_dims(1);
    proto.add_string_data("a");
    try {
      decode(proto);
      FAIL() << "string tensors must be refused";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::unsupported);
      EXPECT_NE(std::string(error.what()).find("names"), std::string::npos);
    }
  }
}

TEST(OnnxImport, ExternalDataIsReadRelativeToTheModel) {
  TemporaryFolder folder;
  std::filesystem::create_directories(folder.file("weights"));
  const float values[3] = {1.5f, -2.0f, 4.0f};
  std::string bytes(8, 'x');  // an offset, as real files align tensors
  bytes.append(reinterpret_cast<const char*>(values), sizeof values);
  testing::write_bytes(folder.file("weights/data.bin"), bytes);

  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {3});
  auto* weight = graph->add_initializer();
  weight->set_name("w");
  weight->set_data_type(onnx::TensorProto_DataType_FLOAT);
  weight->add_dims(3);
  weight->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  auto add_entry = [&](const std::string& key, const std::string& value) {
    auto* entry = weight->add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add_entry("location", "weights/data.bin");
  add_entry("offset", "8");
  add_entry("length", "12");
  add_node(graph, "Add", {"x", "w"}, {"y"});
  add_output(graph, "y", {3});
  ir::Model model = onnx_io::load_model(write_model(proto, folder.file("model.onnx")));
  const ir::Value* w = model.graph->find_value("w");
  ASSERT_TRUE(w && w->initializer);
  EXPECT_EQ(w->initializer->to_float_vector(), (std::vector<float>{1.5f, -2.0f, 4.0f}));
}

TEST(OnnxImport, SubgraphsReadOuterScopeValues) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "condition", {}, onnx::TensorProto_DataType_BOOL);
  add_input(graph, "x", {2});
  auto* node = add_node(graph, "If", {"condition"}, {"y"}, "branch");
  auto make_branch = [&](const std::string& key, const std::string& op) {
    auto* attribute = node->add_attribute();
    attribute->set_name(key);
    attribute->set_type(onnx::AttributeProto_AttributeType_GRAPH);
    auto* body = attribute->mutable_g();
    body->set_name(key);
    add_node(body, op, {"x", "x"}, {key + "_out"});
    add_output(body, key + "_out", {2});
  };
  make_branch("then_branch", "Add");
  make_branch("else_branch", "Mul");
  add_output(graph, "y", {2});

  ir::Model model = onnx_io::load_model(write_model(proto, folder.file("if.onnx")));
  const ir::Node& branch = *model.graph->nodes()[0];
  const ir::Attribute* then_branch = branch.find_attribute("then_branch");
  ASSERT_TRUE(then_branch && then_branch->graph_value);
  EXPECT_EQ(then_branch->graph_value->parent, model.graph.get());
  const ir::Value* outer_x = then_branch->graph_value->find_value("x");
  ASSERT_TRUE(outer_x);
  EXPECT_TRUE(outer_x->outer_scope);
  EXPECT_FALSE(outer_x->initializer);

  auto session = engine::Engine::from_model(std::make_shared<ir::Model>(std::move(model)), {.backend = "ref"});
  Tensor condition(DType::boolean, {});
  condition.data<bool>()[0] = true;
  Tensor x = Tensor::from_vector<float>(DType::f32, {2}, {3, 4});
  EXPECT_EQ(session->run({{"condition", condition}, {"x", x}}).at("y").to_float_vector(), (std::vector<float>{6, 8}));
  condition.data<bool>()[0] = false;
  EXPECT_EQ(session->run({{"condition", condition}, {"x", x}}).at("y").to_float_vector(), (std::vector<float>{9, 16}));
}

TEST(OnnxImport, InputWithInitializerKeepsBoth) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {2});
  add_input(graph, "bias", {2});
  add_float_initializer(graph, "bias", {2}, {1, 1});
  add_node(graph, "Add", {"x", "bias"}, {"y"});
  add_output(graph, "y", {2});
  ir::Model model = onnx_io::load_model(write_model(proto, folder.file("default.onnx")));
  const ir::Value* bias = model.graph->find_value("bias");
  ASSERT_TRUE(bias);
  EXPECT_TRUE(bias->is_graph_input);
  ASSERT_TRUE(bias->initializer);
  EXPECT_EQ(model.graph->inputs.size(), 2u);
}

}  // namespace
}  // namespace npukit
