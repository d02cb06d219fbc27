// ir::infer_shapes on hand-built graphs, one op family at a time: exact dims (static and symbolic), the
// error cases naming the node, and the report (conflicts, values learned, ops without a rule).
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/shape_inference.h"
#include "npukit/error.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::ir {
namespace {

// "N,3,?,224": integers are fixed dims, "?" an unknown dim, anything else a symbol; "" is a scalar.
std::vector<Dim> dims(const std::string& spec) {
  std::vector<Dim> result;
  std::stringstream stream(spec);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (item == "?") result.push_back(Dim{});
    else if (!item.empty() && (std::isdigit(static_cast<unsigned char>(item[0])) != 0)) result.push_back(Dim::fixed(std::stoll(item)));
    else result.push_back(Dim::symbolic(item));
  }
  return result;
}

Attribute int_attribute(int64_t value) {
  Attribute attribute;
  attribute.kind = Attribute::Kind::integer;
  attribute.int_value = value;
  return attribute;
}

Attribute ints_attribute(std::vector<int64_t> values) {
  Attribute attribute;
  attribute.kind = Attribute::Kind::integers;
  attribute.int_values = std::move(values);
  return attribute;
}

Attribute floats_attribute(std::vector<double> values) {
  Attribute attribute;
  attribute.kind = Attribute::Kind::floats;
  attribute.float_values = std::move(values);
  return attribute;
}

Attribute string_attribute(std::string value) {
  Attribute attribute;
  attribute.kind = Attribute::Kind::string;
  attribute.string_value = std::move(value);
  return attribute;
}

class Builder {
 public:
  explicit Builder(std::shared_ptr<Graph> graph = std::make_shared<Graph>()) : graph_(std::move(graph)) {}

  Graph& graph() { return *graph_; }
  std::shared_ptr<Graph> shared() { return graph_; }

  Value* input(const std::string& name, const std::string& spec, DType dtype = DType::f32) {
    Value* value = graph_->add_value(name, TensorType{dtype, dims(spec)});
    value->is_graph_input = true;
    graph_->inputs.push_back(value);
    return value;
  }
  Value* input_of_unknown_rank(const std::string& name, DType dtype = DType::f32) {
    Value* value = graph_->add_value(name, TensorType{dtype, std::nullopt});
    value->is_graph_input = true;
    graph_->inputs.push_back(value);
    return value;
  }
  Value* ints(const std::string& name, const std::vector<int64_t>& values, bool scalar = false) {
    Shape shape = scalar ? Shape{} : Shape{static_cast<int64_t>(values.size())};
    return graph_->add_initializer(name, Tensor::from_vector<int64_t>(DType::i64, shape, values));
  }
  Value* floats(const std::string& name, const std::vector<float>& values, bool scalar = false) {
    Shape shape = scalar ? Shape{} : Shape{static_cast<int64_t>(values.size())};
    return graph_->add_initializer(name, Tensor::from_vector<float>(DType::f32, shape, values));
  }
  Value* weight(const std::string& name, const Shape& shape) { return graph_->add_initializer(name, Tensor(DType::f32, shape)); }

  Node* node(const std::string& op, std::vector<Value*> inputs, const std::string& name, size_t outputs = 1) {
    std::vector<Value*> produced;
    for (size_t i = 0; i < outputs; ++i) produced.push_back(graph_->add_value(name + "_out" + std::to_string(i)));
    return graph_->add_node(op, std::move(inputs), std::move(produced), name);
  }

 private:
  std::shared_ptr<Graph> graph_;
};

std::string type_of(const Node* node, size_t output = 0) { return node->outputs[output]->type.to_string(); }

// Runs inference and returns the error's message, or "" when there was none.
std::string inference_error(Graph& graph) {
  try {
    infer_shapes(graph);
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_model);
    return error.what();
  }
  return "";
}

// Every op the reference backend runs has a shape rule, so a new kernel without one fails here.
TEST(IrShapeInference, EveryOpTheReferenceBackendRunsHasARule) {
  std::vector<std::string> missing;
  for (const auto& [domain, op_type] : runtime::ref::reference_registry().ops()) {
    if (!has_shape_rule(domain, op_type)) missing.push_back((domain.empty() ? "" : domain + ":") + op_type);
  }
  EXPECT_TRUE(missing.empty()) << ::testing::PrintToString(missing);
  EXPECT_GT(runtime::ref::reference_registry().ops().size(), 150u);
}

// ---- elementwise ---------------------------------------------------------------------------------------

TEST(IrShapeInference, BroadcastingKeepsStaticAndEqualSymbolicDims) {
  Builder b;
  Node* add = b.node("Add", {b.input("a", "N,3,1,5"), b.input("b", "4,1")}, "add");
  Node* same = b.node("Mul", {b.input("c", "N,H"), b.input("d", "N,1")}, "same");
  Node* mixed = b.node("Sub", {b.input("e", "N"), b.input("f", "M")}, "mixed");
  Node* greater = b.node("Greater", {add->outputs[0], b.input("g", "")}, "greater");
  Node* where = b.node("Where", {b.input("cond", "2,1", DType::boolean), b.input("x", "1,3"), b.input("y", "")}, "where");
  Node* sum = b.node("Sum", {b.input("s1", "2,1,1"), b.input("s2", "3,1"), b.input("s3", "4")}, "sum");
  Attribute to = int_attribute(7);  // ONNX INT64
  Node* cast = b.node("Cast", {b.input("h", "N,2")}, "cast");
  cast->attributes["to"] = to;
  Node* relu = b.node("Relu", {b.input("r", "N,?,7")}, "relu");
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(add), "f32[N, 3, 4, 5]");
  EXPECT_EQ(type_of(same), "f32[N, H]");
  EXPECT_EQ(type_of(mixed), "f32[?]");
  EXPECT_EQ(type_of(greater), "bool[N, 3, 4, 5]");
  EXPECT_EQ(type_of(where), "f32[2, 3]");
  EXPECT_EQ(type_of(sum), "f32[2, 3, 4]");
  EXPECT_EQ(type_of(cast), "i64[N, 2]");
  EXPECT_EQ(type_of(relu), "f32[N, ?, 7]");
}

TEST(IrShapeInference, BroadcastOfThreeAgainstFourNamesTheNode) {
  Builder b;
  b.node("Add", {b.input("a", "2,3"), b.input("b", "4")}, "bad_add");
  const std::string message = inference_error(b.graph());
  EXPECT_NE(message.find("'bad_add' (Add)"), std::string::npos) << message;
  EXPECT_NE(message.find("3 against 4"), std::string::npos) << message;
}

// ---- convolution and pooling ---------------------------------------------------------------------------

TEST(IrShapeInference, ConvKeepsTheBatchSymbolAndAppliesStridesPadsDilations) {
  Builder b;
  Value* image = b.input("image", "N,3,224,224");
  Node* conv = b.node("Conv", {image, b.weight("w", {32, 3, 3, 3})}, "conv");
  conv->attributes["strides"] = ints_attribute({2, 2});
  conv->attributes["pads"] = ints_attribute({1, 1, 1, 1});
  Node* dilated = b.node("Conv", {image, b.weight("w2", {8, 3, 3, 3})}, "dilated");
  dilated->attributes["dilations"] = ints_attribute({2, 3});
  Node* same = b.node("Conv", {b.input("odd", "1,3,225,225"), b.weight("w3", {4, 3, 3, 3})}, "same");
  same->attributes["strides"] = ints_attribute({2, 2});
  same->attributes["auto_pad"] = string_attribute("SAME_UPPER");
  Node* grouped = b.node("Conv", {b.input("g", "1,32,10,10"), b.weight("w4", {32, 1, 3, 3})}, "depthwise");
  grouped->attributes["group"] = int_attribute(32);
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(conv), "f32[N, 32, 112, 112]");
  EXPECT_EQ(type_of(dilated), "f32[N, 8, 220, 218]");
  EXPECT_EQ(type_of(same), "f32[1, 4, 113, 113]");
  EXPECT_EQ(type_of(grouped), "f32[1, 32, 8, 8]");
}

TEST(IrShapeInference, ConvChannelMismatchNamesTheNode) {
  Builder b;
  b.node("Conv", {b.input("x", "1,4,8,8"), b.weight("w", {16, 3, 3, 3})}, "stem");
  const std::string message = inference_error(b.graph());
  EXPECT_NE(message.find("'stem' (Conv)"), std::string::npos) << message;
  EXPECT_NE(message.find("4 channels"), std::string::npos) << message;
}

TEST(IrShapeInference, ConvTransposeAndPools) {
  Builder b;
  Node* up = b.node("ConvTranspose", {b.input("x", "1,16,8,8"), b.weight("w", {16, 8, 4, 4})}, "up");
  up->attributes["strides"] = ints_attribute({2, 2});
  up->attributes["pads"] = ints_attribute({1, 1, 1, 1});
  Node* sized = b.node("ConvTranspose", {b.input("x2", "1,16,8,8"), b.weight("w2", {16, 2, 3, 3})}, "sized");
  sized->attributes["group"] = int_attribute(2);
  sized->attributes["output_shape"] = ints_attribute({20, 21});
  Value* map = b.input("map", "N,3,5,5");
  Node* ceil_pool = b.node("MaxPool", {map}, "ceil_pool", 2);
  ceil_pool->attributes["kernel_shape"] = ints_attribute({2, 2});
  ceil_pool->attributes["strides"] = ints_attribute({2, 2});
  ceil_pool->attributes["ceil_mode"] = int_attribute(1);
  Node* floor_pool = b.node("AveragePool", {map}, "floor_pool");
  floor_pool->attributes["kernel_shape"] = ints_attribute({2, 2});
  floor_pool->attributes["strides"] = ints_attribute({2, 2});
  Node* global = b.node("GlobalAveragePool", {map}, "global");
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(up), "f32[1, 8, 16, 16]");
  EXPECT_EQ(type_of(sized), "f32[1, 4, 20, 21]");
  EXPECT_EQ(type_of(ceil_pool), "f32[N, 3, 3, 3]");
  EXPECT_EQ(type_of(ceil_pool, 1), "i64[N, 3, 3, 3]");
  EXPECT_EQ(type_of(floor_pool), "f32[N, 3, 2, 2]");
  EXPECT_EQ(type_of(global), "f32[N, 3, 1, 1]");
}

// ---- matrix products, normalization, reductions ---------------------------------------------------------

TEST(IrShapeInference, GemmAndBatchedAndOneDimensionalMatMul) {
  Builder b;
  Node* gemm = b.node("Gemm", {b.input("features", "N,512"), b.weight("fc", {1000, 512})}, "fc");
  gemm->attributes["transB"] = int_attribute(1);
  Node* batched = b.node("MatMul", {b.input("a", "2,1,4,5"), b.input("b", "3,5,6")}, "batched");
  Node* vector_left = b.node("MatMul", {b.input("v", "5"), b.input("m", "5,6")}, "vector_left");
  Node* vector_right = b.node("MatMul", {b.input("m2", "B,4,5"), b.input("v2", "5")}, "vector_right");
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(gemm), "f32[N, 1000]");
  EXPECT_EQ(type_of(batched), "f32[2, 3, 4, 6]");
  EXPECT_EQ(type_of(vector_left), "f32[6]");
  EXPECT_EQ(type_of(vector_right), "f32[B, 4]");
}

TEST(IrShapeInference, MatMulInnerSizeMismatchNamesTheNode) {
  Builder b;
  b.node("MatMul", {b.input("a", "4,5"), b.input("b", "6,7")}, "project");
  const std::string message = inference_error(b.graph());
  EXPECT_NE(message.find("'project' (MatMul)"), std::string::npos) << message;
}

TEST(IrShapeInference, ReductionsWithAxesAsAttributeOrInput) {
  Builder b;
  Value* x = b.input("x", "N,3,4");
  Node* mean = b.node("ReduceMean", {x}, "mean");
  mean->attributes["axes"] = ints_attribute({-1});
  mean->attributes["keepdims"] = int_attribute(0);
  Node* sum = b.node("ReduceSum", {x, b.ints("axes", {1})}, "sum");
  Node* all = b.node("ReduceMax", {x}, "all");
  Node* noop = b.node("ReduceSum", {x, b.ints("empty", {})}, "noop");
  noop->attributes["noop_with_empty_axes"] = int_attribute(1);
  Node* runtime_axes = b.node("ReduceSum", {x, b.input("axes_at_run_time", "1", DType::i64)}, "runtime_axes");
  Node* argmax = b.node("ArgMax", {x}, "argmax");
  argmax->attributes["axis"] = int_attribute(2);
  argmax->attributes["keepdims"] = int_attribute(0);
  Node* topk = b.node("TopK", {x, b.ints("k", {2})}, "topk", 2);
  Node* softmax = b.node("Softmax", {x}, "softmax");
  Node* layer_norm = b.node("LayerNormalization", {x, b.weight("gamma", {4})}, "layer_norm", 3);
  layer_norm->attributes["axis"] = int_attribute(1);
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(mean), "f32[N, 3]");
  EXPECT_EQ(type_of(sum), "f32[N, 1, 4]");
  EXPECT_EQ(type_of(all), "f32[1, 1, 1]");
  EXPECT_EQ(type_of(noop), "f32[N, 3, 4]");
  EXPECT_EQ(type_of(runtime_axes), "f32[?, ?, ?]");
  EXPECT_EQ(type_of(argmax), "i64[N, 3]");
  EXPECT_EQ(type_of(topk, 0), "f32[N, 3, 2]");
  EXPECT_EQ(type_of(topk, 1), "i64[N, 3, 2]");
  EXPECT_EQ(type_of(softmax), "f32[N, 3, 4]");
  EXPECT_EQ(type_of(layer_norm, 1), "f32[N, 1, 1]");
}

TEST(IrShapeInference, RecurrentLayersAndEinsum) {
  Builder b;
  Node* lstm = b.node("LSTM", {b.input("x", "T,B,8"), b.weight("w", {2, 64, 8}), b.weight("r", {2, 64, 16})}, "lstm", 3);
  lstm->attributes["hidden_size"] = int_attribute(16);
  lstm->attributes["direction"] = string_attribute("bidirectional");
  Node* einsum = b.node("Einsum", {b.input("p", "B,3,4"), b.input("q", "B,4,5")}, "einsum");
  einsum->attributes["equation"] = string_attribute("bij,bjk->bik");
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(lstm, 0), "f32[T, 2, B, 16]");
  EXPECT_EQ(type_of(lstm, 1), "f32[2, B, 16]");
  EXPECT_EQ(type_of(einsum), "f32[B, 3, 5]");
}

// ---- data movement ------------------------------------------------------------------------------------

TEST(IrShapeInference, ReshapeCopiesZeroesAndSolvesMinusOneAcrossSymbols) {
  Builder b;
  Node* symbolic = b.node("Reshape", {b.input("x", "N,3,4"), b.ints("t1", {0, -1})}, "symbolic");
  Node* fixed = b.node("Reshape", {b.input("y", "2,3,4"), b.ints("t2", {4, -1, 2})}, "fixed");
  Node* zero = b.node("Reshape", {b.input("z", "0,3"), b.ints("t3", {3, 0})}, "allow_zero");
  zero->attributes["allowzero"] = int_attribute(1);
  Node* runtime = b.node("Reshape", {b.input("w", "2,3"), b.input("target", "3", DType::i64)}, "runtime");
  Node* flatten = b.node("Flatten", {b.input("f", "N,3,4,5")}, "flatten");
  flatten->attributes["axis"] = int_attribute(2);
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(symbolic), "f32[N, 12]");
  EXPECT_EQ(type_of(fixed), "f32[4, 3, 2]");
  EXPECT_EQ(type_of(zero), "f32[3, 0]");
  EXPECT_EQ(type_of(runtime), "f32[?, ?, ?]");
  EXPECT_EQ(type_of(flatten), "f32[?, 20]");
}

TEST(IrShapeInference, ReshapeOfTenElementsIntoThreeByFourNamesTheNode) {
  Builder b;
  b.node("Reshape", {b.input("x", "10"), b.ints("target", {3, 4})}, "to_grid");
  const std::string message = inference_error(b.graph());
  EXPECT_NE(message.find("'to_grid' (Reshape)"), std::string::npos) << message;
  EXPECT_NE(message.find("10 elements"), std::string::npos) << message;
}

TEST(IrShapeInference, SqueezeUnsqueezeTransposeConcatSplit) {
  Builder b;
  Value* x = b.input("x", "N,1,4,1");
  Node* squeeze_input = b.node("Squeeze", {x, b.ints("axes1", {1, -1})}, "squeeze_input");
  Node* squeeze_attr = b.node("Squeeze", {b.input("s", "1,4,1")}, "squeeze_all");
  Node* unsqueeze_attr = b.node("Unsqueeze", {b.input("u", "3,4")}, "unsqueeze_attr");
  unsqueeze_attr->attributes["axes"] = ints_attribute({0, -1});
  Node* transpose = b.node("Transpose", {x}, "transpose");
  transpose->attributes["perm"] = ints_attribute({0, 2, 3, 1});
  Node* concat = b.node("Concat", {b.input("c1", "N,2,5"), b.input("c2", "N,3,5")}, "concat");
  concat->attributes["axis"] = int_attribute(1);
  Node* split_input = b.node("Split", {b.input("p", "N,10"), b.ints("sizes", {3, 7})}, "split_input", 2);
  split_input->attributes["axis"] = int_attribute(1);
  Node* split_chunks = b.node("Split", {b.input("q", "5,2")}, "split_chunks", 2);
  split_chunks->attributes["num_outputs"] = int_attribute(2);
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(squeeze_input), "f32[N, 4]");
  EXPECT_EQ(type_of(squeeze_attr), "f32[4]");
  EXPECT_EQ(type_of(unsqueeze_attr), "f32[1, 3, 4, 1]");
  EXPECT_EQ(type_of(transpose), "f32[N, 4, 1, 1]");
  EXPECT_EQ(type_of(concat), "f32[N, 5, 5]");
  EXPECT_EQ(type_of(split_input, 0), "f32[N, 3]");
  EXPECT_EQ(type_of(split_input, 1), "f32[N, 7]");
  EXPECT_EQ(type_of(split_chunks, 0), "f32[3, 2]");
  EXPECT_EQ(type_of(split_chunks, 1), "f32[2, 2]");
}

TEST(IrShapeInference, SliceClampsBoundsAndWalksNegativeSteps) {
  Builder b;
  Value* x = b.input("x", "10,N,8");
  const int64_t big = std::numeric_limits<int64_t>::max();
  Node* backwards = b.node("Slice", {x, b.ints("s1", {-1}), b.ints("e1", {-100}), b.ints("a1", {0}), b.ints("st1", {-2})}, "backwards");
  Node* clamped = b.node("Slice", {x, b.ints("s2", {2, 0}), b.ints("e2", {big, -3}), b.ints("a2", {0, 2})}, "clamped");
  Node* whole = b.node("Slice", {x, b.ints("s3", {0}), b.ints("e3", {big}), b.ints("a3", {1})}, "whole_symbolic_axis");
  Node* old_form = b.node("Slice", {x}, "opset1");
  old_form->attributes["starts"] = ints_attribute({1});
  old_form->attributes["ends"] = ints_attribute({1000});
  Node* runtime = b.node("Slice", {x, b.input("s4", "1", DType::i64), b.ints("e4", {5}), b.ints("a4", {2})}, "runtime");
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(backwards), "f32[5, N, 8]");
  EXPECT_EQ(type_of(clamped), "f32[8, N, 5]");
  EXPECT_EQ(type_of(whole), "f32[10, N, 8]");
  EXPECT_EQ(type_of(old_form), "f32[9, N, 8]");
  EXPECT_EQ(type_of(runtime), "f32[10, N, ?]");
}

TEST(IrShapeInference, GatherExpandTilePadResize) {
  Builder b;
  Value* x = b.input("x", "N,3,8,8");
  Node* gather = b.node("Gather", {x, b.input("idx", "2,5", DType::i64)}, "gather");
  gather->attributes["axis"] = int_attribute(1);
  Node* gather_elements = b.node("GatherElements", {x, b.input("idx2", "N,3,8,2", DType::i64)}, "gather_elements");
  Node* expand = b.node("Expand", {b.input("e", "3,1"), b.ints("shape", {2, 1, 4})}, "expand");
  Node* tile = b.node("Tile", {x, b.ints("repeats", {1, 2, 1, 3})}, "tile");
  Node* pad = b.node("Pad", {x, b.ints("pads", {0, 0, 1, 2, 0, 0, 3, 4})}, "pad");
  Node* by_scales = b.node("Resize", {x, b.floats("roi", {}), b.floats("scales", {1, 1, 2, 2.5})}, "by_scales");
  Node* by_sizes = b.node("Resize", {x, b.floats("roi2", {}), b.floats("no_scales", {}), b.ints("sizes", {1, 3, 5, 7})}, "by_sizes");
  Node* upsample = b.node("Upsample", {x, b.floats("up_scales", {1, 1, 2, 2})}, "upsample");
  Node* to_space = b.node("DepthToSpace", {b.input("d", "1,12,4,5")}, "to_space");
  to_space->attributes["blocksize"] = int_attribute(2);
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(gather), "f32[N, 2, 5, 8, 8]");
  EXPECT_EQ(type_of(gather_elements), "f32[N, 3, 8, 2]");
  EXPECT_EQ(type_of(expand), "f32[2, 3, 4]");
  EXPECT_EQ(type_of(tile), "f32[N, 6, 8, 24]");
  EXPECT_EQ(type_of(pad), "f32[N, 3, 12, 14]");
  EXPECT_EQ(type_of(by_scales), "f32[N, 3, 16, 20]");
  EXPECT_EQ(type_of(by_sizes), "f32[1, 3, 5, 7]");
  EXPECT_EQ(type_of(upsample), "f32[N, 3, 16, 16]");
  EXPECT_EQ(type_of(to_space), "f32[1, 3, 8, 10]");
}

TEST(IrShapeInference, ShapeSizeConstantOfShapeRange) {
  Builder b;
  Value* x = b.input("x", "N,3,8,8");
  Node* shape = b.node("Shape", {x}, "shape");
  Node* tail = b.node("Shape", {x}, "tail");
  tail->attributes["start"] = int_attribute(-2);
  Node* size = b.node("Size", {x}, "size");
  Node* filled = b.node("ConstantOfShape", {b.ints("dims", {2, 3})}, "filled");
  Node* range = b.node("Range", {b.ints("start", {1}, true), b.ints("limit", {10}, true), b.ints("delta", {3}, true)}, "range");
  Node* runtime_range = b.node("Range", {b.input("from", "", DType::i64), b.ints("to", {10}, true), b.ints("by", {1}, true)}, "runtime_range");
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(shape), "i64[4]");
  EXPECT_EQ(type_of(tail), "i64[2]");
  EXPECT_EQ(type_of(size), "i64[]");
  EXPECT_EQ(type_of(filled), "f32[2, 3]");
  EXPECT_EQ(type_of(range), "i64[3]");
  EXPECT_EQ(type_of(runtime_range), "i64[?]");
}

TEST(IrShapeInference, ElementCountOverflowingSixtyFourBitsNamesTheNode) {
  Builder b;
  b.node("ConstantOfShape", {b.ints("huge", {int64_t{1} << 32, int64_t{1} << 32})}, "huge_fill");
  const std::string message = inference_error(b.graph());
  EXPECT_NE(message.find("'huge_fill' (ConstantOfShape)"), std::string::npos) << message;
  EXPECT_NE(message.find("overflows 64 bits"), std::string::npos) << message;
}

// ---- shapes computed at run time ----------------------------------------------------------------------

TEST(IrShapeInference, ShapeArithmeticFeedsReshapeSliceAndExpand) {
  Builder b;
  Value* x = b.input("x", "N,64,20,20");
  // YOLOv8's C2f chunk: Shape → Gather(1) → Add 1 → Div 2 → the Slice bound.
  Node* shape = b.node("Shape", {x}, "shape");
  Node* channels = b.node("Gather", {shape->outputs[0], b.ints("one", {1})}, "channels");
  Node* plus = b.node("Add", {channels->outputs[0], b.ints("plus_one", {1})}, "plus");
  Node* half = b.node("Div", {plus->outputs[0], b.ints("two", {2})}, "half");
  Node* chunk = b.node("Slice", {x, b.ints("zero", {0}), half->outputs[0], b.ints("axis1", {1})}, "chunk");
  // ViT's flatten: Shape → Slice [0:2] → Concat with -1 → Reshape, the batch symbolic.
  Node* leading = b.node("Slice", {shape->outputs[0], b.ints("from", {0}), b.ints("to", {2})}, "leading");
  Node* target = b.node("Concat", {leading->outputs[0], b.ints("rest", {-1})}, "target");
  target->attributes["axis"] = int_attribute(0);
  Node* flat = b.node("Reshape", {x, target->outputs[0]}, "flat");
  // ViT's class token: ConstantOfShape → Mul -1 → Equal → Where → Expand.
  Node* ones = b.node("ConstantOfShape", {b.ints("three", {3})}, "ones");
  Attribute fill;
  fill.kind = Attribute::Kind::tensor;
  fill.tensor_value = Tensor::from_vector<int64_t>(DType::i64, {1}, {1});
  ones->attributes["value"] = fill;
  Node* minus = b.node("Mul", {ones->outputs[0], b.ints("minus_one", {-1})}, "minus");
  Value* wanted = b.ints("wanted", {1, 1, 192});
  Node* equal = b.node("Equal", {wanted, minus->outputs[0]}, "equal");
  Node* where = b.node("Where", {equal->outputs[0], ones->outputs[0], wanted}, "where");
  Node* expand = b.node("Expand", {b.input("token", "1,1,192"), where->outputs[0]}, "expand");
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(half), "i64[1]");
  EXPECT_EQ(type_of(chunk), "f32[N, 32, 20, 20]");
  EXPECT_EQ(type_of(target), "i64[3]");
  EXPECT_EQ(type_of(flat), "f32[N, 64, 400]");
  EXPECT_EQ(type_of(expand), "f32[1, 1, 192]");
}

TEST(IrShapeInference, RangeOverAComputedWidthBuildsAnAnchorGrid) {
  Builder b;
  Value* map = b.input("map", "N,64,20,80");
  Node* shape = b.node("Shape", {map}, "shape");
  Node* width = b.node("Gather", {shape->outputs[0], b.ints("three", {3}, true)}, "width");
  Node* columns = b.node("Range", {b.ints("zero", {0}, true), width->outputs[0], b.ints("one", {1}, true)}, "columns");
  Node* halves = b.node("Range", {b.floats("from", {0}, true), b.floats("to", {3}, true), b.floats("by", {0.5f}, true)}, "halves");
  Node* down = b.node("Range", {b.ints("high", {10}, true), b.ints("low", {0}, true), b.ints("step", {-3}, true)}, "down");
  infer_shapes(b.graph());
  EXPECT_EQ(type_of(width), "i64[]");
  EXPECT_EQ(type_of(columns), "i64[80]");
  EXPECT_EQ(type_of(halves), "f32[6]");
  EXPECT_EQ(type_of(down), "i64[4]");
}

TEST(IrShapeInference, ComputedReshapeTargetIsCheckedAgainstTheElementCount) {
  Builder b;
  Value* x = b.input("x", "1,64,20,20");
  Node* shape = b.node("Shape", {x}, "shape");
  Node* doubled = b.node("Mul", {shape->outputs[0], b.ints("twice", {1, 2, 1, 1})}, "doubled");
  b.node("Reshape", {x, doubled->outputs[0]}, "grown");
  const std::string message = inference_error(b.graph());
  EXPECT_NE(message.find("'grown' (Reshape)"), std::string::npos) << message;
}

TEST(IrShapeInference, HostileSizesGiveErrorsNamingTheNodeNotCrashes) {
  const int64_t huge = std::numeric_limits<int64_t>::max();
  {
    Builder b;
    Node* conv = b.node("Conv", {b.input("x", "1,3,8,8"), b.weight("w", {4, 3, 3, 3})}, "padded_conv");
    conv->attributes["pads"] = ints_attribute({huge, huge, huge, huge});
    const std::string message = inference_error(b.graph());
    EXPECT_NE(message.find("'padded_conv' (Conv)"), std::string::npos) << message;
  }
  {
    Builder b;
    b.node("Pad", {b.input("x", "4,4"), b.ints("pads", {huge, 0, huge, 0})}, "padded");
    const std::string message = inference_error(b.graph());
    EXPECT_NE(message.find("'padded' (Pad)"), std::string::npos) << message;
  }
  {
    Builder b;
    b.node("Reshape", {b.input("x", "1099511627776,1099511627776"), b.ints("target", {-1})}, "flatten_huge");
    const std::string message = inference_error(b.graph());
    EXPECT_NE(message.find("'flatten_huge' (Reshape)"), std::string::npos) << message;
  }
  {
    Builder b;
    Node* up = b.node("ConvTranspose", {b.input("x", "1,2,4,4"), b.weight("w", {2, 2, 3, 3})}, "short_kernel");
    up->attributes["kernel_shape"] = ints_attribute({3});
    EXPECT_NE(inference_error(b.graph()).find("'short_kernel' (ConvTranspose)"), std::string::npos);
  }
  {
    Builder b;
    Node* einsum = b.node("Einsum", {b.input("x", "2,3,4")}, "two_ellipses");
    einsum->attributes["equation"] = string_attribute("......->...");
    EXPECT_NE(inference_error(b.graph()).find("'two_ellipses' (Einsum)"), std::string::npos);
  }
  {
    Builder b;  // a shape input declared 2^40 long: refused before 2^40 dims are allocated
    b.node("Reshape", {b.input("x", "4"), b.input("target", "1099511627776", DType::i64)}, "long_target");
    EXPECT_NE(inference_error(b.graph()).find("'long_target' (Reshape)"), std::string::npos);
  }
  {
    Builder b;  // empty axes and extreme steps are valid: no error, no crash
    Node* empty = b.node("Slice", {b.input("x", "0,5"), b.ints("s", {-1}), b.ints("e", {-huge}), b.ints("a", {0}),
                                   b.ints("st", {-huge})}, "empty_axis");
    Node* shape = b.node("Shape", {b.input("y", "3,5")}, "shape");
    Node* stride = b.node("Slice", {shape->outputs[0], b.ints("s2", {0}), b.ints("e2", {huge}), b.ints("a2", {0}),
                                    b.ints("st2", {huge})}, "first_only");
    EXPECT_EQ(inference_error(b.graph()), "");
    EXPECT_EQ(type_of(empty), "f32[0, 5]");
    EXPECT_EQ(type_of(stride), "i64[1]");
  }
}

// ---- subgraphs -----------------------------------------------------------------------------------------

TEST(IrShapeInference, IfOutputKeepsTheDimsBothBranchesAgreeOn) {
  Builder b;
  Value* x = b.input("x", "N,4");
  Value* condition = b.input("condition", "", DType::boolean);
  auto branch = [&](const std::string& name, const std::string& op) {
    auto graph = std::make_shared<Graph>();
    graph->name = name;
    graph->parent = &b.graph();
    Value* outer = graph->add_value("x", x->type);
    outer->outer_scope = true;
    Value* result = graph->add_value(name + "_result");
    graph->add_node(op, {outer}, {result}, name + "_node");
    result->is_graph_output = true;
    graph->outputs.push_back(result);
    return graph;
  };
  Node* node = b.node("If", {condition}, "choose");
  Attribute then_branch;
  then_branch.kind = Attribute::Kind::graph;
  then_branch.graph_value = branch("then", "Relu");
  Attribute else_branch = then_branch;
  else_branch.graph_value = branch("else", "Neg");
  node->attributes["then_branch"] = then_branch;
  node->attributes["else_branch"] = else_branch;
  // The input's shape changed after import: the branches' placeholders still hold the old one.
  x->type.shape = dims("N,6");
  infer_shapes(b.graph());
  EXPECT_EQ(then_branch.graph_value->outputs[0]->type.to_string(), "f32[N, 6]");
  EXPECT_EQ(type_of(node), "f32[N, 6]");
}

// ---- the report ----------------------------------------------------------------------------------------

TEST(IrShapeInference, StaleDeclaredShapesAreReplacedAndReportedAsConflicts) {
  Builder b;
  Node* relu = b.node("Relu", {b.input("x", "1,3,32,32")}, "relu");
  relu->outputs[0]->type = TensorType{DType::f32, dims("1,3,64,64")};  // declared when the input was 64x64
  Node* custom = b.node("MyCustomOp", {relu->outputs[0]}, "custom");
  custom->outputs[0]->type = TensorType{DType::f32, dims("7")};
  Node* unknown_rank = b.node("Relu", {b.input_of_unknown_rank("u")}, "unknown_rank");
  unknown_rank->outputs[0]->type = TensorType{DType::f32, dims("N,2")};
  ShapeInferenceReport report = infer_shapes(b.graph());
  EXPECT_EQ(type_of(relu), "f32[1, 3, 32, 32]");
  EXPECT_EQ(type_of(custom), "f32[7]");             // no rule: left as it was
  EXPECT_EQ(type_of(unknown_rank), "f32[N, 2]");    // no facts: left as it was
  ASSERT_EQ(report.conflicts.size(), 1u);
  EXPECT_EQ(report.conflicts[0], "node 'relu' (Relu): 'relu_out0' declared f32[1, 3, 64, 64], inferred f32[1, 3, 32, 32]");
  EXPECT_EQ(report.ops_without_rule, std::vector<std::string>{"MyCustomOp"});
  EXPECT_EQ(report.values_learned, 0u);  // the relu's type is as known as before, only different
}

TEST(IrShapeInference, CountsValuesLearned) {
  Builder b;
  Node* first = b.node("Relu", {b.input("x", "1,3")}, "first");
  Node* second = b.node("Sigmoid", {first->outputs[0]}, "second");
  second->outputs[0]->type = TensorType{DType::f32, dims("1,?")};
  ShapeInferenceReport report = infer_shapes(b.graph());
  EXPECT_EQ(report.values_learned, 2u);
  EXPECT_TRUE(report.conflicts.empty());
  EXPECT_EQ(type_of(second), "f32[1, 3]");
}

}  // namespace
}  // namespace npukit::ir
