// Blocked layouts between convolutions (runtime/kernels/cpu/blocked_layout.h): small graphs of the shape
// conv -> op under test -> conv run on cpu and on ref; the outputs must agree, and the values around the
// op must really be held blocked (or plain, where the rules say so), so a case cannot pass by running
// everything in NCHW.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "ref_single_node.h"

namespace npukit::testing {
namespace {

Tensor pattern(Shape shape, int64_t seed, float range = 1.0f) {
  const int64_t count = shape_element_count(shape);
  return Tensor::from_vector<float>(DType::f32, std::move(shape), pattern_values(count, range, seed));
}

// A model under construction: one input x, nodes appended in order, the last value the graph output.
class GraphBuilder {
 public:
  explicit GraphBuilder(Shape input_shape) {
    model_->opset_imports[""] = 17;
    model_->graph->name = "blocked_layout_case";
    input_ = Tensor(pattern(input_shape, 1, 2.0f));
    ir::Value* x = model_->graph->add_value("x", type_of(input_));
    x->is_graph_input = true;
    model_->graph->inputs.push_back(x);
  }
  ir::Value* x() { return model_->graph->find_value("x"); }
  ir::Value* constant(const std::string& name, Tensor tensor) { return model_->graph->add_initializer(name, std::move(tensor)); }
  ir::Value* node(const std::string& op, std::vector<ir::Value*> inputs, const std::string& name,
                  std::map<std::string, ir::Attribute> attributes = {}) {
    ir::Value* output = model_->graph->add_value(name);
    ir::Node* node = model_->graph->add_node(op, std::move(inputs), {output}, name);
    node->attributes = std::move(attributes);
    return output;
  }
  std::vector<ir::Value*> node_with_outputs(const std::string& op, std::vector<ir::Value*> inputs,
                                           const std::vector<std::string>& names,
                                           std::map<std::string, ir::Attribute> attributes = {}) {
    std::vector<ir::Value*> outputs;
    for (const std::string& name : names) outputs.push_back(model_->graph->add_value(name));
    ir::Node* node = model_->graph->add_node(op, std::move(inputs), outputs, names.front() + "_node");
    node->attributes = std::move(attributes);
    return outputs;
  }
  ir::Value* ints(const std::string& name, std::vector<int64_t> values) {
    const int64_t count = static_cast<int64_t>(values.size());
    return constant(name, Tensor::from_vector<int64_t>(DType::i64, {count}, values));
  }
  ir::Value* floats(const std::string& name, std::vector<float> values) {
    const int64_t count = static_cast<int64_t>(values.size());
    return constant(name, Tensor::from_vector<float>(DType::f32, {count}, values));
  }
  // A 3x3 (pad 1) or 1x1 convolution with pattern weights and a bias.
  ir::Value* conv(ir::Value* input, int64_t input_channels, int64_t output_channels, int64_t kernel, const std::string& name) {
    ir::Value* weights = constant(name + ".w", pattern({output_channels, input_channels, kernel, kernel}, ++seed_, 0.3f));
    ir::Value* bias = constant(name + ".b", pattern({output_channels}, ++seed_, 0.5f));
    const int64_t pad = kernel / 2;
    return node("Conv", {input, weights, bias}, name, {{"pads", ints_attribute({pad, pad, pad, pad})}});
  }
  void output(ir::Value* value) {
    value->is_graph_output = true;
    model_->graph->outputs.push_back(value);
  }
  std::shared_ptr<ir::Model> model() const { return model_; }
  const Tensor& input() const { return input_; }

 private:
  std::shared_ptr<ir::Model> model_ = std::make_shared<ir::Model>();
  Tensor input_;
  int64_t seed_ = 10;
};

struct LayoutCase {
  std::string label;
  std::function<void(GraphBuilder&)> build;  // x [1, 16, 9, 11] -> ... -> output
  std::vector<std::string> blocked;          // values that must be held blocked on cpu
  std::vector<std::string> plain;            // values that must stay plain
};

std::vector<LayoutCase> layout_cases() {
  return {
      {"activations between convolutions",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 32, 3, "a");
         ir::Value* s = g.node("Sigmoid", {a}, "s");
         ir::Value* m = g.node("Mul", {a, s}, "m");  // SiLU left unfused: a is read twice
         ir::Value* r = g.node("Relu", {m}, "r");
         ir::Value* sum = g.node("Add", {r, a}, "sum");  // a third reader keeps the SiLU pattern unfused
         g.output(g.conv(sum, 32, 16, 1, "out"));
       },
       {"a", "s", "m", "r", "sum"},
       {}},
      {"residual Add of two branches",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 32, 3, "a");
         ir::Value* b = g.conv(a, 32, 32, 1, "b");
         ir::Value* c = g.conv(a, 32, 32, 3, "c");
         ir::Value* sum = g.node("Add", {b, c}, "sum");
         ir::Value* difference = g.node("Sub", {sum, a}, "difference");
         g.output(g.conv(difference, 32, 16, 1, "out"));
       },
       {"a", "c", "sum", "difference"},  // b became sum's convolution, with c as its fused residual
       {}},
      {"squeeze-excitation: pooled, gated and multiplied per channel",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 32, 3, "a");
         ir::Value* pooled = g.node("GlobalAveragePool", {a}, "pooled");
         ir::Value* squeezed = g.conv(pooled, 32, 16, 1, "squeezed");
         ir::Value* relu = g.node("Relu", {squeezed}, "relu");
         ir::Value* excited = g.conv(relu, 16, 32, 1, "excited");
         ir::Value* gate = g.node("HardSigmoid", {excited}, "gate", {{"alpha", float_attribute(0.2)}});
         ir::Value* scaled = g.node("Mul", {a, gate}, "scaled");
         g.output(g.conv(scaled, 32, 16, 1, "out"));
       },
       {"a", "pooled", "relu", "gate", "scaled"},  // the activations were fused into their convolutions
       {}},
      {"constant per-channel operands on either side, and a scalar",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 32, 3, "a");
         ir::Value* scaled = g.node("Mul", {a, g.constant("scale", pattern({1, 32, 1, 1}, 3))}, "scaled");
         ir::Value* flipped = g.node("Sub", {g.constant("offset", pattern({32, 1, 1}, 4)), scaled}, "flipped");
         ir::Value* divided = g.node("Div", {flipped, g.constant("two", Tensor::from_vector<float>(DType::f32, {1}, std::vector<float>{2.0f}))}, "divided");
         ir::Value* shifted = g.node("Add", {divided, g.constant("shift", pattern({32, 1, 1}, 6))}, "shifted");
         g.output(g.conv(shifted, 32, 16, 1, "out"));
       },
       {"scaled", "flipped", "divided", "shifted"},  // the Mul by a constant may be folded into a
       {}},
      {"BatchNormalization after an Add",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 32, 3, "a");
         ir::Value* b = g.conv(g.x(), 16, 32, 1, "b");
         ir::Value* sum = g.node("Add", {a, b}, "sum");
         Tensor variance = pattern({32}, 7);
         for (float& value : variance.values<float>()) value = std::fabs(value) + 0.2f;
         ir::Value* normalized = g.node("BatchNormalization",
                                        {sum, g.constant("gamma", pattern({32}, 8)), g.constant("beta", pattern({32}, 9)),
                                         g.constant("mean", pattern({32}, 10)), g.constant("variance", variance)},
                                        "normalized");
         g.output(g.conv(normalized, 32, 16, 1, "out"));
       },
       {"sum", "normalized"},
       {}},
      {"Concat on channels, then pooling (SPPF)",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 16, 1, "a");
         ir::Value* p1 = g.node("MaxPool", {a}, "p1",
                                {{"kernel_shape", ints_attribute({5, 5})}, {"pads", ints_attribute({2, 2, 2, 2})}});
         ir::Value* p2 = g.node("MaxPool", {p1}, "p2",
                                {{"kernel_shape", ints_attribute({5, 5})}, {"pads", ints_attribute({2, 2, 2, 2})}});
         ir::Value* p3 = g.node("AveragePool", {p2}, "p3",
                                {{"kernel_shape", ints_attribute({3, 3})}, {"pads", ints_attribute({1, 1, 1, 1})}});
         ir::Value* joined = g.node("Concat", {a, p1, p2, p3}, "joined", {{"axis", int_attribute(1)}});
         g.output(g.conv(joined, 64, 16, 1, "out"));
       },
       {"a", "p1", "p2", "p3", "joined"},
       {}},
      {"Split and a block-aligned Slice on channels",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 64, 3, "a");
         std::vector<ir::Value*> parts =
             g.node_with_outputs("Split", {a, g.ints("split", {32, 32})}, {"part0", "part1"}, {{"axis", int_attribute(1)}});
         ir::Value* middle = g.node("Slice", {a, g.ints("starts", {16}), g.ints("ends", {48}), g.ints("axes", {1})}, "middle");
         ir::Value* both = g.node("Add", {parts[0], parts[1]}, "both");
         ir::Value* all = g.node("Mul", {both, middle}, "all");
         g.output(g.conv(all, 32, 16, 1, "out"));
       },
       {"a", "part0", "part1", "middle", "both", "all"},
       {}},
      {"a Slice off a block boundary keeps its values plain",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 64, 3, "a");
         ir::Value* middle = g.node("Slice", {a, g.ints("starts", {4}), g.ints("ends", {36}), g.ints("axes", {1})}, "middle");
         ir::Value* relu = g.node("Relu", {middle}, "relu");
         g.output(g.conv(relu, 32, 16, 1, "out"));
       },
       {},
       {"a", "middle", "relu"}},
      {"nearest Resize 2x between convolutions, bilinear stays plain",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 32, 3, "a");
         ir::Value* nearest = g.node("Resize", {a, g.floats("roi", {}), g.floats("scales", {1, 1, 2, 2})}, "nearest",
                                     {{"mode", string_attribute("nearest")},
                                      {"coordinate_transformation_mode", string_attribute("asymmetric")},
                                      {"nearest_mode", string_attribute("floor")}});
         ir::Value* b = g.conv(g.x(), 16, 32, 1, "b");
         ir::Value* bilinear = g.node("Resize", {b, g.floats("roi2", {}), g.floats("scales2", {1, 1, 2, 2})}, "bilinear",
                                      {{"mode", string_attribute("linear")}});
         ir::Value* from_nearest = g.conv(nearest, 32, 32, 1, "from_nearest");
         ir::Value* from_bilinear = g.conv(bilinear, 32, 32, 1, "from_bilinear");
         ir::Value* sum = g.node("Add", {from_nearest, from_bilinear}, "sum");
         g.output(g.conv(sum, 32, 16, 1, "out"));
       },
       {"a", "nearest", "sum"},
       {"b", "bilinear"}},
      {"a spatial broadcast keeps its operands plain",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 32, 3, "a");
         ir::Value* map = g.conv(g.x(), 16, 1, 1, "map");  // [1, 1, 9, 11]
         ir::Value* weighted = g.node("Mul", {a, map}, "weighted");
         g.output(g.conv(weighted, 32, 16, 1, "out"));
       },
       {},
       {"a", "map", "weighted"}},
      {"channels that do not fill a block stay plain",
       [](GraphBuilder& g) {
         ir::Value* a = g.conv(g.x(), 16, 20, 3, "a");  // 20 fills no block of 16 (AVX-512) nor of 8 (AVX2)
         ir::Value* r = g.node("Relu", {a}, "r");
         g.output(g.conv(r, 20, 16, 1, "out"));
       },
       {},
       {"r"}},  // a was fused with the Relu
  };
}

class CpuBlockedLayout : public ::testing::TestWithParam<LayoutCase> {};

TEST_P(CpuBlockedLayout, MatchesReferenceWithTheExpectedLayouts) {
  const LayoutCase& layout_case = GetParam();
  GraphBuilder builder({1, 16, 9, 11});
  layout_case.build(builder);
  const std::map<std::string, Tensor> feeds{{"x", builder.input()}};
  const Tensor expected = engine::Engine::from_model(builder.model(), {.backend = "ref"})->run(feeds).at("out");
  engine::EngineOptions options;
  options.backend = "cpu";
  auto session = engine::Engine::from_model(builder.model(), options);
  session->set_profiling(true);
  const Tensor actual = session->run(feeds).at("out");
  for (const Session::NodeTiming& timing : session->last_profile()) {
    EXPECT_EQ(timing.backend, "cpu") << timing.node << " (" << timing.op_type << ") fell back to ref";
  }
  const ir::Graph& graph = *session->model().graph;
  // The channel block is 16 with AVX-512 and 8 with AVX2; every case's channels are multiples of 16 or
  // deliberately of neither, so the expectations hold on both.
  for (const std::string& name : layout_case.blocked) {
    const ir::Value* value = graph.find_value(name);
    ASSERT_NE(value, nullptr) << name << " is not in the graph after the cpu passes";
    EXPECT_TRUE(value->held_blocked) << name << " should be held blocked";
  }
  for (const std::string& name : layout_case.plain) {
    const ir::Value* value = graph.find_value(name);
    ASSERT_NE(value, nullptr) << name;
    EXPECT_FALSE(value->held_blocked) << name << " should stay plain";
  }
  ASSERT_EQ(actual.shape(), expected.shape());
  double magnitude = 0, difference = 0;
  for (int64_t i = 0; i < expected.element_count(); ++i) {
    magnitude = std::max(magnitude, std::fabs(double(expected.data<float>()[i])));
    difference = std::max(difference, std::fabs(double(expected.data<float>()[i]) - actual.data<float>()[i]));
  }
  EXPECT_GT(magnitude, 0);
  EXPECT_LE(difference, 1e-4 * magnitude) << layout_case.label;
}

std::string layout_case_name(const ::testing::TestParamInfo<LayoutCase>& info) {
  std::string name = std::to_string(info.index) + "_";
  for (char c : info.param.label) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Graphs, CpuBlockedLayout, ::testing::ValuesIn(layout_cases()), layout_case_name);

}  // namespace
}  // namespace npukit::testing
