// The cpu pass list, one pass at a time: each rewrites a small model built here, the rewrite must have
// happened (the node is gone or fused), and the model before and after must give the same outputs on
// random inputs on the reference backend (pass_equivalence.h).
#include <gtest/gtest.h>

#include <string>

#include "pass_equivalence.h"
#include "passes/activation_fusion.h"
#include "passes/batchnorm_folding.h"
#include "passes/constant_folding.h"
#include "passes/identity_elimination.h"
#include "ref_single_node.h"
#include "ir/fused_activation.h"

namespace npukit::testing {
namespace {

constexpr double tolerance = 1e-5;

// A model under construction with one f32 graph input "x" of `shape`.
struct ModelBuilder {
  std::shared_ptr<ir::Model> model = std::make_shared<ir::Model>();
  ir::Graph& graph = *model->graph;
  int counter = 0;

  explicit ModelBuilder(Shape shape) {
    model->opset_imports[""] = 17;
    graph.name = "pass_test";
    ir::Value* x = graph.add_value("x", type_of(Tensor(DType::f32, shape)));
    x->is_graph_input = true;
    graph.inputs.push_back(x);
  }
  ir::Value* input() { return graph.find_value("x"); }
  ir::Value* constant(Shape shape, float range = 1.0f) {
    const int64_t count = shape_element_count(shape);
    const std::string name = "c" + std::to_string(counter++);
    return graph.add_initializer(name, Tensor::from_vector<float>(DType::f32, shape, pattern_values(count, range, counter)));
  }
  ir::Value* node(const std::string& op, std::vector<ir::Value*> inputs, Shape output_shape,
                  std::map<std::string, ir::Attribute> attributes = {}) {
    const std::string name = op + std::to_string(counter++);
    ir::Value* output = graph.add_value(name + "_out", type_of(Tensor(DType::f32, output_shape)));
    ir::Node* added = graph.add_node(op, std::move(inputs), {output}, name);
    added->attributes = std::move(attributes);
    return output;
  }
  void output(ir::Value* value) {
    value->is_graph_output = true;
    graph.outputs.push_back(value);
  }
  int count(const std::string& op_type) const {
    int found = 0;
    for (const auto& node : graph.nodes()) found += node->op_type == op_type;
    return found;
  }
};

std::map<std::string, ir::Attribute> same_padding() {
  return {{"pads", ints_attribute({1, 1, 1, 1})}};
}

// Positive variances: a BatchNormalization with random statistics must still be well defined.
ir::Value* positive_constant(ModelBuilder& builder, Shape shape) {
  ir::Value* value = builder.constant(shape);
  for (float& v : value->initializer->values<float>()) v = std::fabs(v) + 0.1f;
  return value;
}

TEST(BatchNormFoldingTest, FoldsIntoTheConvAndKeepsOutputs) {
  ModelBuilder builder({1, 4, 9, 9});
  ir::Value* conv = builder.node("Conv", {builder.input(), builder.constant({6, 4, 3, 3}), builder.constant({6})},
                                 {1, 6, 9, 9}, same_padding());
  ir::Value* normalized =
      builder.node("BatchNormalization",
                   {conv, builder.constant({6}), builder.constant({6}), builder.constant({6}),
                    positive_constant(builder, {6})},
                   {1, 6, 9, 9}, {{"epsilon", float_attribute(1e-3)}});
  builder.output(builder.node("Relu", {normalized}, {1, 6, 9, 9}));
  auto before = copy_model(*builder.model);
  passes::PassResult result = passes::fold_batchnorm_into_conv(*builder.model);
  EXPECT_EQ(result.rewrites, 1);
  EXPECT_EQ(builder.count("BatchNormalization"), 0);
  EXPECT_EQ(builder.count("Conv"), 1);
  EXPECT_LE(compare_models(*before, *builder.model).max_relative_difference, tolerance);
}

TEST(BatchNormFoldingTest, LeavesAConvWhoseOutputIsReadTwice) {
  ModelBuilder builder({1, 2, 5, 5});
  ir::Value* conv = builder.node("Conv", {builder.input(), builder.constant({2, 2, 1, 1})}, {1, 2, 5, 5});
  builder.output(builder.node("BatchNormalization",
                              {conv, builder.constant({2}), builder.constant({2}), builder.constant({2}),
                               positive_constant(builder, {2})},
                              {1, 2, 5, 5}));
  builder.output(builder.node("Relu", {conv}, {1, 2, 5, 5}));
  EXPECT_EQ(passes::fold_batchnorm_into_conv(*builder.model).rewrites, 0);
  EXPECT_EQ(builder.count("BatchNormalization"), 1);
}

TEST(ConstantFoldingTest, FoldsConstantSubexpressions) {
  ModelBuilder builder({2, 3});
  ir::Value* sum = builder.node("Add", {builder.constant({2, 3}), builder.constant({2, 3})}, {2, 3});
  ir::Value* scaled = builder.node("Mul", {sum, builder.constant({1})}, {2, 3});
  builder.output(builder.node("Mul", {builder.input(), scaled}, {2, 3}));
  auto before = copy_model(*builder.model);
  passes::PassResult result = passes::fold_constants(*builder.model);
  EXPECT_EQ(result.rewrites, 2);
  EXPECT_EQ(builder.count("Add"), 0);
  EXPECT_EQ(builder.count("Mul"), 1);
  EXPECT_LE(compare_models(*before, *builder.model).max_relative_difference, tolerance);
}

TEST(IdentityEliminationTest, RemovesIdentityDropoutNoOpReshapeAndTransposePairs) {
  ModelBuilder builder({2, 3, 4});
  ir::Value* a = builder.node("Identity", {builder.input()}, {2, 3, 4});
  ir::Value* b = builder.node("Dropout", {a}, {2, 3, 4});
  ir::Value* shape = builder.graph.add_initializer(
      "shape", Tensor::from_vector<int64_t>(DType::i64, {3}, std::vector<int64_t>{2, 3, 4}));
  ir::Value* c = builder.node("Reshape", {b, shape}, {2, 3, 4});
  ir::Value* d = builder.node("Transpose", {c}, {4, 2, 3}, {{"perm", ints_attribute({2, 0, 1})}});
  ir::Value* e = builder.node("Transpose", {d}, {2, 3, 4}, {{"perm", ints_attribute({1, 2, 0})}});
  builder.output(builder.node("Relu", {e}, {2, 3, 4}));
  auto before = copy_model(*builder.model);
  passes::PassResult result = passes::eliminate_identities(*builder.model);
  EXPECT_GE(result.rewrites, 4);
  EXPECT_EQ(builder.graph.nodes().size(), 1u) << "only the Relu should remain";
  EXPECT_LE(compare_models(*before, *builder.model).max_relative_difference, tolerance);
}

TEST(IdentityEliminationTest, KeepsAnIdentityThatProducesAGraphOutput) {
  ModelBuilder builder({3});
  builder.output(builder.node("Identity", {builder.input()}, {3}));
  EXPECT_EQ(passes::eliminate_identities(*builder.model).rewrites, 0);
  EXPECT_EQ(builder.count("Identity"), 1);
}

TEST(ActivationFusionTest, FusesResidualAddAndRelu) {
  ModelBuilder builder({1, 4, 7, 7});
  ir::Value* conv = builder.node("Conv", {builder.input(), builder.constant({4, 4, 3, 3}), builder.constant({4})},
                                 {1, 4, 7, 7}, same_padding());
  ir::Value* sum = builder.node("Add", {conv, builder.input()}, {1, 4, 7, 7});
  builder.output(builder.node("Relu", {sum}, {1, 4, 7, 7}));
  auto before = copy_model(*builder.model);
  passes::PassResult result = passes::fuse_activations(*builder.model);
  EXPECT_EQ(result.rewrites, 1);
  ASSERT_EQ(builder.graph.nodes().size(), 1u);
  const ir::Node& fused = *builder.graph.nodes()[0];
  EXPECT_EQ(fused.op_type, "FusedConv");
  EXPECT_EQ(fused.get_string("activation", ""), "Relu");
  EXPECT_EQ(fused.inputs.size(), 4u);
  EXPECT_LE(compare_models(*before, *builder.model).max_relative_difference, tolerance);
}

TEST(ActivationFusionTest, FusesSiluAndClip) {
  ModelBuilder builder({1, 3, 8, 8});
  ir::Value* first = builder.node("Conv", {builder.input(), builder.constant({5, 3, 3, 3})}, {1, 5, 8, 8}, same_padding());
  ir::Value* sigmoid = builder.node("Sigmoid", {first}, {1, 5, 8, 8});
  ir::Value* silu = builder.node("Mul", {first, sigmoid}, {1, 5, 8, 8});
  ir::Value* second = builder.node("Conv", {silu, builder.constant({5, 5, 1, 1}), builder.constant({5})}, {1, 5, 8, 8});
  ir::Value* low = builder.graph.add_initializer("low", Tensor::from_vector<float>(DType::f32, {}, std::vector<float>{0}));
  ir::Value* high = builder.graph.add_initializer("high", Tensor::from_vector<float>(DType::f32, {}, std::vector<float>{0.5f}));
  builder.output(builder.node("Clip", {second, low, high}, {1, 5, 8, 8}));
  auto before = copy_model(*builder.model);
  passes::PassResult result = passes::fuse_activations(*builder.model);
  EXPECT_EQ(result.rewrites, 2);
  EXPECT_EQ(builder.count("FusedConv"), 2);
  EXPECT_EQ(builder.count("Sigmoid") + builder.count("Mul") + builder.count("Clip"), 0);
  EXPECT_LE(compare_models(*before, *builder.model).max_relative_difference, tolerance);
}

// Paddle's export: a learnt scalar Mul, the bias as a separate per-channel Add, HardSwish written as x * Clip(x + 3, 0, 6) / 6.
TEST(ActivationFusionTest, FusesBiasAddAndDecomposedHardSwish) {
  ModelBuilder builder({1, 3, 6, 6});
  ir::Value* conv = builder.node("Conv", {builder.input(), builder.constant({4, 3, 3, 3})}, {1, 4, 6, 6}, same_padding());
  ir::Value* scaled = builder.node("Mul", {builder.constant({1}), conv}, {1, 4, 6, 6});
  ir::Value* biased = builder.node("Add", {scaled, builder.constant({1, 4, 1, 1})}, {1, 4, 6, 6});
  auto scalar = [&](const std::string& name, float value) {
    return builder.graph.add_initializer(name, Tensor::from_vector<float>(DType::f32, {}, std::vector<float>{value}));
  };
  ir::Value* shifted = builder.node("Add", {biased, scalar("three", 3)}, {1, 4, 6, 6});
  ir::Value* clipped = builder.node("Clip", {shifted, scalar("zero", 0), scalar("six", 6)}, {1, 4, 6, 6});
  ir::Value* product = builder.node("Mul", {biased, clipped}, {1, 4, 6, 6});
  ir::Value* divided = builder.node("Div", {product, scalar("six_again", 6)}, {1, 4, 6, 6});
  builder.output(divided);
  auto before = copy_model(*builder.model);
  passes::PassResult result = passes::fuse_activations(*builder.model);
  EXPECT_EQ(result.rewrites, 3);  // the scalar Mul, the bias Add, then the HardSwish
  ASSERT_EQ(builder.graph.nodes().size(), 1u);
  EXPECT_EQ(builder.graph.nodes()[0]->get_string("activation", ""), "HardSwish");
  EXPECT_LE(compare_models(*before, *builder.model).max_relative_difference, tolerance);
}

TEST(ActivationFusionTest, LeavesAnActivationWhoseInputIsAlsoAnOutput) {
  ModelBuilder builder({1, 2, 4, 4});
  ir::Value* conv = builder.node("Conv", {builder.input(), builder.constant({2, 2, 1, 1})}, {1, 2, 4, 4});
  builder.output(conv);
  builder.output(builder.node("Relu", {conv}, {1, 2, 4, 4}));
  EXPECT_EQ(passes::fuse_activations(*builder.model).rewrites, 0);
  EXPECT_EQ(builder.count("Relu"), 1);
}

}  // namespace
}  // namespace npukit::testing
