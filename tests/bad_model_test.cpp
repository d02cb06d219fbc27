// Hostile and broken inputs give an npukit::Error of the right kind that names the file, the node or
// tensor, and the reason — never a crash, never a silent wrong answer (DESIGN.md decision 6).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "ir/graph.h"
#include "npukit/session.h"
#include "onnx/onnx_import.h"
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

// Runs `action`, expects an npukit::Error of `kind` whose message contains every one of `fragments`.
void expect_error(const std::function<void()>& action, ErrorKind kind, const std::vector<std::string>& fragments) {
  try {
    action();
    ADD_FAILURE() << "expected an npukit::Error of kind " << error_kind_name(kind);
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), kind) << error.what();
    for (const std::string& fragment : fragments) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
          << "message lacks '" << fragment << "': " << error.what();
    }
  }
}

onnx::ModelProto relu_model() {
  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {2, 3});
  add_float_initializer(graph, "w", {2, 3}, {1, 2, 3, 4, 5, 6});
  add_node(graph, "Add", {"x", "w"}, {"sum"}, "add");
  add_node(graph, "Relu", {"sum"}, {"y"}, "relu");
  add_output(graph, "y", {2, 3});
  return proto;
}

TEST(BadModel, BytesThatAreNotAModel) {
  TemporaryFolder folder;
  const std::string path = folder.file("text.onnx");
  testing::write_bytes(path, "this is a text file, not a protobuf model\n");
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "not an ONNX model"});
}

TEST(BadModel, EmptyFile) {
  TemporaryFolder folder;
  const std::string path = folder.file("empty.onnx");
  testing::write_bytes(path, "");
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "empty"});
}

TEST(BadModel, MissingFileAndFolder) {
  TemporaryFolder folder;
  expect_error([&] { onnx_io::load_model(folder.file("absent.onnx")); }, ErrorKind::io, {"absent.onnx"});
  expect_error([&] { onnx_io::load_model(folder.path()); }, ErrorKind::io, {folder.path()});
}

TEST(BadModel, TruncatedFile) {
  TemporaryFolder folder;
  const std::string bytes = relu_model().SerializeAsString();
  // Every cut must give a clean error; most cuts break the protobuf framing, a few leave a parseable prefix
  // that then fails the structural checks.
  for (size_t length = 1; length < bytes.size(); length += 3) {
    const std::string path = folder.file("truncated.onnx");
    testing::write_bytes(path, bytes.substr(0, length));
    try {
      onnx_io::load_model(path);
      ADD_FAILURE() << "a model cut at " << length << " of " << bytes.size() << " bytes loaded";
    } catch (const Error& error) {
      EXPECT_EQ(error.file(), path);
      EXPECT_TRUE(error.kind() == ErrorKind::invalid_model || error.kind() == ErrorKind::unsupported) << error.what();
    }
  }
  const std::string path = folder.file("half.onnx");
  testing::write_bytes(path, bytes.substr(0, bytes.size() / 2));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "protobuf parse failed"});
}

TEST(BadModel, DimsThatOverflow) {
  TemporaryFolder folder;
  onnx::ModelProto proto = relu_model();
  auto* huge = proto.mutable_graph()->mutable_initializer(0);
  huge->clear_dims();
  huge->add_dims(int64_t{1} << 40);
  huge->add_dims(int64_t{1} << 40);
  const std::string path = write_model(proto, folder.file("overflow.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::resource_limit, {path, "'w'", "overflow"});
}

// A declared (not stored) shape can overflow too: inspect and check used to accept it ("toolkit accepts:
// yes"), with every size computed from it wrapped around. The importer names the value.
TEST(BadModel, DeclaredShapeThatOverflows) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {int64_t{1} << 40, 3, int64_t{1} << 40});
  add_node(graph, "Relu", {"x"}, {"y"}, "relu");
  add_output(graph, "y", {-1, -1, -1});
  const std::string path = write_model(proto, folder.file("declared_overflow.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model,
               {path, "value 'x'", "[1099511627776, 3, 1099511627776]", "overflows 64 bits"});
  // The same dims around a 0 describe an empty tensor: that loads.
  onnx::ModelProto empty = make_model();
  add_input(empty.mutable_graph(), "x", {int64_t{1} << 40, 0, int64_t{1} << 40});
  add_node(empty.mutable_graph(), "Relu", {"x"}, {"y"}, "relu");
  add_output(empty.mutable_graph(), "y", {-1, -1, -1});
  EXPECT_NO_THROW(onnx_io::load_model(write_model(empty, folder.file("empty.onnx"))));
}

TEST(BadModel, DimsBeyondTheMemoryLimit) {
  TemporaryFolder folder;
  onnx::ModelProto proto = relu_model();
  auto* big = proto.mutable_graph()->mutable_initializer(0);
  big->clear_dims();
  big->add_dims(100000);
  big->add_dims(100000);  // 40 GB of float
  const std::string path = write_model(proto, folder.file("big.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::resource_limit, {path, "'w'", "memory limit"});

  const size_t saved_limit = tensor_memory_limit();
  set_tensor_memory_limit(16);
  const std::string small_path = write_model(relu_model(), folder.file("small.onnx"));
  expect_error([&] { onnx_io::load_model(small_path); }, ErrorKind::resource_limit, {"'w'", "memory limit"});
  set_tensor_memory_limit(saved_limit);
}

TEST(BadModel, DataSizeDoesNotMatchDims) {
  TemporaryFolder folder;
  onnx::ModelProto proto = relu_model();
  proto.mutable_graph()->mutable_initializer(0)->add_float_data(7);  // 7 values for 6 elements
  const std::string path = write_model(proto, folder.file("size.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "'w'"});

  onnx::ModelProto raw = relu_model();
  auto* weight = raw.mutable_graph()->mutable_initializer(0);
  weight->clear_float_data();
  weight->set_raw_data(std::string(10, '\0'));
  const std::string raw_path = write_model(raw, folder.file("raw.onnx"));
  expect_error([&] { onnx_io::load_model(raw_path); }, ErrorKind::invalid_model, {raw_path, "'w'", "10 bytes"});
}

TEST(BadModel, GraphCycle) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {2});
  add_node(graph, "Add", {"x", "b"}, {"a"}, "first");
  add_node(graph, "Relu", {"a"}, {"b"}, "second");
  add_output(graph, "a", {2});
  const std::string path = write_model(proto, folder.file("cycle.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "cycle", "(Add)"});
}

TEST(BadModel, MissingInitializerOrInput) {
  TemporaryFolder folder;
  onnx::ModelProto proto = relu_model();
  proto.mutable_graph()->clear_initializer();
  const std::string path = write_model(proto, folder.file("missing.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "'add' (Add)", "'w'"});

  onnx::ModelProto no_input = relu_model();
  no_input.mutable_graph()->clear_input();
  const std::string no_input_path = write_model(no_input, folder.file("no_input.onnx"));
  expect_error([&] { onnx_io::load_model(no_input_path); }, ErrorKind::invalid_model, {"'add' (Add)", "'x'"});
}

TEST(BadModel, ValueDefinedTwice) {
  TemporaryFolder folder;
  onnx::ModelProto proto = relu_model();
  add_node(proto.mutable_graph(), "Neg", {"x"}, {"sum"}, "again");
  const std::string path = write_model(proto, folder.file("twice.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "'sum'", "more than once"});
}

TEST(BadModel, UnknownOpInTheOnnxDomain) {
  TemporaryFolder folder;
  onnx::ModelProto proto = relu_model();
  proto.mutable_graph()->mutable_node(1)->set_op_type("NoSuchOp");
  const std::string path = write_model(proto, folder.file("unknown_op.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "NoSuchOp"});
}

TEST(BadModel, UnknownDomainLoadsButDoesNotRun) {
  TemporaryFolder folder;
  onnx::ModelProto proto = relu_model();
  auto* node = proto.mutable_graph()->mutable_node(1);
  node->set_op_type("FancyRelu");
  node->set_domain("com.example.vendor");
  auto* import = proto.add_opset_import();
  import->set_domain("com.example.vendor");
  import->set_version(1);
  const std::string path = write_model(proto, folder.file("vendor.onnx"));
  ir::Model model = onnx_io::load_model(path);  // valid ONNX: only the executor can say it cannot run it
  EXPECT_EQ(model.graph->nodes()[1]->domain, "com.example.vendor");
  expect_error([&] { Session::load(path); }, ErrorKind::unsupported, {path, "'relu' (FancyRelu)"});
}

TEST(BadModel, OpsetOutOfRange) {
  TemporaryFolder folder;
  onnx::ModelProto proto = relu_model();
  proto.mutable_opset_import(0)->set_version(99);
  const std::string path = write_model(proto, folder.file("opset99.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::unsupported, {path, "99", "1..17"});
  proto.mutable_opset_import(0)->set_version(0);
  const std::string zero_path = write_model(proto, folder.file("opset0.onnx"));
  expect_error([&] { onnx_io::load_model(zero_path); }, ErrorKind::invalid_model, {zero_path, "opset 0"});
}

TEST(BadModel, WrongInputShapeAndDtypeAtRunTime) {
  TemporaryFolder folder;
  const std::string path = write_model(relu_model(), folder.file("relu.onnx"));
  auto session = Session::load(path);
  expect_error([&] { session->set_input("x", Tensor(DType::f32, {3, 2})); }, ErrorKind::invalid_argument,
               {path, "'x'", "[2, 3]", "[3, 2]"});
  expect_error([&] { session->set_input("x", Tensor(DType::i32, {2, 3})); }, ErrorKind::invalid_argument,
               {path, "'x'", "f32", "i32"});
  expect_error([&] { session->set_input("z", Tensor(DType::f32, {2, 3})); }, ErrorKind::invalid_argument, {"'z'"});
  expect_error([&] { session->run(); }, ErrorKind::invalid_argument, {"'x'", "not set"});
}

TEST(BadModel, ExternalDataEscapingTheFolder) {
  TemporaryFolder folder;
  std::filesystem::create_directories(folder.file("model"));
  testing::write_bytes(folder.file("secret.bin"), std::string(24, '\1'));
  for (const std::string& location : {std::string("../secret.bin"), std::string("sub/../../secret.bin"),
                                       folder.file("secret.bin")}) {
    onnx::ModelProto proto = relu_model();
    auto* weight = proto.mutable_graph()->mutable_initializer(0);
    weight->clear_float_data();
    weight->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
    auto* entry = weight->add_external_data();
    entry->set_key("location");
    entry->set_value(location);
    const std::string path = write_model(proto, folder.file("model/escape.onnx"));
    expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "'w'", location});
  }
  // A symbolic link inside the folder that points outside it is refused too.
  std::filesystem::create_symlink(folder.file("secret.bin"), folder.file("model/link.bin"));
  onnx::ModelProto proto = relu_model();
  auto* weight = proto.mutable_graph()->mutable_initializer(0);
  weight->clear_float_data();
  weight->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  auto* entry = weight->add_external_data();
  entry->set_key("location");
  entry->set_value("link.bin");
  const std::string path = write_model(proto, folder.file("model/link.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "'w'", "outside"});
}

TEST(BadModel, ExternalDataFromBytesWithoutAFolderIsRefused) {
  onnx::ModelProto proto = relu_model();
  auto* weight = proto.mutable_graph()->mutable_initializer(0);
  weight->clear_float_data();
  weight->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  auto* entry = weight->add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  expect_error([&] { onnx_io::load_model_from_bytes(proto.SerializeAsString(), "memory.onnx", ""); },
               ErrorKind::invalid_model, {"memory.onnx", "'w'", "not loaded from a file"});
}

TEST(BadModel, SubgraphReadingAnUndefinedName) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "condition", {}, onnx::TensorProto_DataType_BOOL);
  auto* node = add_node(graph, "If", {"condition"}, {"y"}, "branch");
  for (const std::string key : {"then_branch", "else_branch"}) {
    auto* attribute = node->add_attribute();
    attribute->set_name(key);
    attribute->set_type(onnx::AttributeProto_AttributeType_GRAPH);
    auto* body = attribute->mutable_g();
    body->set_name(key);
    add_node(body, "Relu", {"nowhere"}, {key + "_out"}, "inner");
    add_output(body, key + "_out", {2});
  }
  add_output(graph, "y", {2});
  const std::string path = write_model(proto, folder.file("subgraph.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "'nowhere'", "'branch' (If)"});
}

// Fuzzer findings: libonnx 1.12 shape inference reads out of bounds on these; the importer refuses them first.
TEST(BadModel, ConvolutionWeightOfAnotherRank) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model();
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {1, 7, 7});
  add_input(graph, "w", {1, 1, 1, 1});
  add_node(graph, "Conv", {"x", "w"}, {"y"}, "conv");
  add_output(graph, "y", {-1, -1, -1});
  const std::string path = write_model(proto, folder.file("conv.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "'conv' (Conv)", "rank"});
}

TEST(BadModel, StftSignalOfRankOne) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model(17);
  auto* graph = proto.mutable_graph();
  add_input(graph, "signal", {1});
  add_input(graph, "frame_step", {}, onnx::TensorProto_DataType_INT64);
  add_input(graph, "frame_length", {}, onnx::TensorProto_DataType_INT64);
  add_node(graph, "STFT", {"signal", "frame_step", "", "frame_length"}, {"y"}, "stft");
  add_output(graph, "y", {-1, -1, -1});
  const std::string path = write_model(proto, folder.file("stft.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model, {path, "'stft' (STFT)", "rank 1"});
}

// Fuzzer finding: libonnx 1.12's LayerNormalization inference indexes dims with an unchecked axis.
TEST(BadModel, AxisFarOutsideTheInputRank) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model(17);
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {2, 3, 4, 5});
  add_input(graph, "scale", {4, 5});
  onnx::NodeProto* node = add_node(graph, "LayerNormalization", {"x", "scale"}, {"y"}, "norm");
  onnx::AttributeProto* axis = node->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(-163842);
  add_output(graph, "y", {2, 3, 4, 5});
  const std::string path = write_model(proto, folder.file("layer_norm.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model,
               {path, "'norm' (LayerNormalization)", "axis -163842", "rank 4"});
}

// libonnx 1.12's Conv inference indexes the weight's dims by the input's rank. With the weight's rank known
// only after inference (here it comes out of an Identity), no pre-check sees the mismatch and inference
// itself crashes (SIGSEGV, also from Python's onnx.shape_inference). It runs in a child process, so the
// load gives an error naming the node instead of ending this process.
TEST(BadModel, ShapeInferenceCrashBecomesAnErrorNamingTheNode) {
  TemporaryFolder folder;
  onnx::ModelProto proto = make_model(13);
  auto* graph = proto.mutable_graph();
  add_input(graph, "x", {1, 1});
  add_float_initializer(graph, "w", {1, 1, 2, 2}, {1, 2, 3, 4});
  add_node(graph, "Relu", {"x"}, {"x_relu"}, "relu");
  add_node(graph, "Identity", {"w"}, {"w_copy"}, "copy");
  add_node(graph, "Conv", {"x_relu", "w_copy"}, {"y"}, "conv");
  add_output(graph, "y", {-1, -1});
  const std::string path = write_model(proto, folder.file("conv_crash.onnx"));
  expect_error([&] { onnx_io::load_model(path); }, ErrorKind::invalid_model,
               {path, "shape inference (libonnx 1.12) crashed", "'conv' (Conv)"});
  // The same loader still works afterwards (nothing in this process was harmed).
  const std::string good = write_model(relu_model(), folder.file("good.onnx"));
  EXPECT_EQ(onnx_io::load_model(good).graph->nodes().size(), 2u);
}

}  // namespace
}  // namespace npukit
