// A model that divides its picture input by 255 itself, fed data that is already 0..1: the warning names the node.
#include <gtest/gtest.h>

#include "quantization/input_normalization.h"
#include "target_test_graphs.h"

namespace npukit::quantization {
namespace {

using npukit::testing::TestGraph;

ValueHistogram observed(float maximum) {
  ValueHistogram histogram;
  const std::vector<float> values{0.0f, maximum / 2, maximum};
  histogram.add(values.data(), values.size());
  return histogram;
}

TEST(CalibrationInputNormalization, FindsADivBy255BehindACastAndATranspose) {
  TestGraph graph;
  ir::Value* images = graph.input("images", {1, 640, 640, 3}, DType::u8);
  ir::Value* cast = graph.node("Cast", {images}, {1, 640, 640, 3}, {{"to", npukit::testing::int_attr(1)}});
  ir::Value* transposed = graph.node("Transpose", {cast}, {1, 3, 640, 640}, {{"perm", npukit::testing::ints_attr({0, 3, 1, 2})}});
  ir::Value* divisor = passes::add_float_constant(*graph.model.graph, "two_five_five", {}, {255.0f});
  graph.output(graph.node("Div", {transposed, divisor}, {1, 3, 640, 640}));
  const auto scaling = find_in_graph_pixel_scaling(*graph.model.graph, "images");
  ASSERT_TRUE(scaling.has_value());
  EXPECT_EQ(scaling->divisor, 255.0);
  EXPECT_NE(scaling->node.find("Div"), std::string::npos);
  const auto warning = diagnose_in_graph_pixel_scaling(*graph.model.graph, "images", observed(1.0f));
  ASSERT_TRUE(warning.has_value());
  EXPECT_FALSE(warning->is_error);
  EXPECT_NE(warning->message.find("divides this input by 255 itself, but the data given is already 0..1"),
            std::string::npos)
      << warning->message;
  // Raw pixels are what it wants: no warning.
  EXPECT_FALSE(diagnose_in_graph_pixel_scaling(*graph.model.graph, "images", observed(255.0f)).has_value());
}

TEST(CalibrationInputNormalization, FindsAMulByTheInverseAndIgnoresOtherConstants) {
  TestGraph graph;
  ir::Value* images = graph.input("images", {1, 3, 8, 8});
  ir::Value* inverse = passes::add_float_constant(*graph.model.graph, "inverse", {1}, {1.0f / 255});
  graph.output(graph.node("Mul", {images, inverse}, {1, 3, 8, 8}));
  const auto scaling = find_in_graph_pixel_scaling(*graph.model.graph, "images");
  ASSERT_TRUE(scaling.has_value());
  EXPECT_NEAR(scaling->divisor, 255.0, 1e-3);

  TestGraph other;
  ir::Value* input = other.input("x", {1, 3, 8, 8});
  ir::Value* two = passes::add_float_constant(*other.model.graph, "two", {}, {2.0f});
  other.output(other.node("Div", {input, two}, {1, 3, 8, 8}));
  EXPECT_FALSE(find_in_graph_pixel_scaling(*other.model.graph, "x").has_value());
  EXPECT_FALSE(find_in_graph_pixel_scaling(*other.model.graph, "missing").has_value());
}

}  // namespace
}  // namespace npukit::quantization
