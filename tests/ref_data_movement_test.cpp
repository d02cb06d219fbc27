// Reference data-movement, shape and indexing kernels on cases the ONNX node suite leaves out: odd shapes,
// 16-bit and integer dtypes, negative steps, large reflect pads, and bad input that must be an Error.
#include <gtest/gtest.h>

#include <functional>
#include <numeric>

#include "core/float16.h"
#include "ref_single_node.h"

namespace npukit::testing {
namespace {

Tensor iota_i32(Shape shape) {
  Tensor tensor(DType::i32, shape);
  std::iota(tensor.data<int32_t>(), tensor.data<int32_t>() + tensor.element_count(), 0);
  return tensor;
}

Tensor i64_vector(std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>(DType::i64, {static_cast<int64_t>(values.size())}, values);
}

std::vector<int32_t> i32_values(const Tensor& tensor) {
  return std::vector<int32_t>(tensor.data<int32_t>(), tensor.data<int32_t>() + tensor.element_count());
}

ErrorKind error_kind_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.kind();
  }
  return ErrorKind::internal;  // no error: the caller's expectation fails
}

TEST(RefDataMovement, TransposeOddShapeFloat16MatchesNaive) {
  const Shape shape = {7, 13, 5};
  std::vector<float> values = pattern_values(7 * 13 * 5);
  Tensor input(DType::f16, shape);
  for (size_t i = 0; i < values.size(); ++i) input.data<Float16>()[i] = Float16(values[i]);
  Tensor output = run_single_node("Transpose", {{"x", input}}, {{"perm", ints_attribute({2, 0, 1})}})[0];
  ASSERT_EQ(output.shape(), (Shape{5, 7, 13}));
  for (int64_t c = 0; c < 5; ++c) {
    for (int64_t a = 0; a < 7; ++a) {
      for (int64_t b = 0; b < 13; ++b) {
        EXPECT_EQ(output.data<Float16>()[(c * 7 + a) * 13 + b].bits, input.data<Float16>()[(a * 13 + b) * 5 + c].bits);
      }
    }
  }
}

TEST(RefDataMovement, SliceNegativeStepOver127Elements) {
  Tensor input = iota_i32({127});
  Tensor output = run_single_node("Slice", {{"x", input},
                                            {"starts", i64_vector({1000}), true},
                                            {"ends", i64_vector({-1000}), true},
                                            {"axes", i64_vector({0}), true},
                                            {"steps", i64_vector({-3}), true}},
                                  {})[0];
  // Clamped to start 126, end -1 (exclusive): 126, 123, …, 0 → 43 elements.
  ASSERT_EQ(output.shape(), (Shape{43}));
  for (int64_t i = 0; i < 43; ++i) EXPECT_EQ(output.data<int32_t>()[i], 126 - 3 * i);
}

TEST(RefDataMovement, PadReflectBeyondOnePeriodAndEdge) {
  Tensor input = Tensor::from_vector<int32_t>(DType::i32, {3}, {1, 2, 3});
  Tensor reflect = run_single_node("Pad", {{"x", input}, {"pads", i64_vector({5, 5}), true}},
                                   {{"mode", string_attribute("reflect")}})[0];
  EXPECT_EQ(i32_values(reflect), (std::vector<int32_t>{2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2}));  // numpy.pad
  Tensor edge = run_single_node("Pad", {{"x", input}, {"pads", i64_vector({4, 2}), true}},
                                {{"mode", string_attribute("edge")}})[0];
  EXPECT_EQ(i32_values(edge), (std::vector<int32_t>{1, 1, 1, 1, 1, 2, 3, 3, 3}));
  // Negative pads crop.
  Tensor cropped = run_single_node("Pad", {{"x", input}, {"pads", i64_vector({-1, 1}), true},
                                           {"value", Tensor::from_vector<int32_t>(DType::i32, {}, {9}), true}},
                                   {})[0];
  EXPECT_EQ(i32_values(cropped), (std::vector<int32_t>{2, 3, 9}));
}

TEST(RefDataMovement, TileAndDepthSpaceRoundTripOnOddShapes) {
  Tensor input = iota_i32({1, 2, 3});
  Tensor tiled = run_single_node("Tile", {{"x", input}, {"repeats", i64_vector({2, 1, 3}), true}}, {})[0];
  ASSERT_EQ(tiled.shape(), (Shape{2, 2, 9}));
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 9; ++j) EXPECT_EQ(tiled.data<int32_t>()[(r * 2 + i) * 9 + j], i * 3 + j % 3);

  Tensor image = iota_i32({2, 3, 14, 6});
  Tensor depth = run_single_node("SpaceToDepth", {{"x", image}}, {{"blocksize", int_attribute(2)}})[0];
  ASSERT_EQ(depth.shape(), (Shape{2, 12, 7, 3}));
  // SpaceToDepth is the inverse of DepthToSpace in DCR mode.
  Tensor back = run_single_node("DepthToSpace", {{"x", depth}},
                                {{"blocksize", int_attribute(2)}, {"mode", string_attribute("DCR")}})[0];
  EXPECT_EQ(i32_values(back), i32_values(image));
}

TEST(RefDataMovement, ConcatAndSplitAlongMiddleAxis) {
  Tensor a = iota_i32({2, 1, 3});
  Tensor b = iota_i32({2, 4, 3});
  ir::Attribute axis = int_attribute(1);
  Tensor joined = run_single_node("Concat", {{"a", a}, {"b", b}}, {{"axis", axis}})[0];
  ASSERT_EQ(joined.shape(), (Shape{2, 5, 3}));
  std::vector<Tensor> parts =
      run_single_node("Split", {{"x", joined}, {"split", i64_vector({1, 4}), true}}, {{"axis", axis}}, 2);
  EXPECT_EQ(i32_values(parts[0]), i32_values(a));
  EXPECT_EQ(i32_values(parts[1]), i32_values(b));
  // 5 does not split into 2 equal parts before opset 18.
  EXPECT_EQ(error_kind_of([&] { run_single_node("Split", {{"x", joined}}, {{"axis", axis}}, 2); }),
            ErrorKind::invalid_argument);
}

TEST(RefDataMovement, BadShapesAreInvalidArgument) {
  Tensor input = iota_i32({2, 3});
  EXPECT_EQ(error_kind_of([&] { run_single_node("Reshape", {{"x", input}, {"shape", i64_vector({4, -1}), true}}, {}); }),
            ErrorKind::invalid_argument);
  EXPECT_EQ(error_kind_of([&] { run_single_node("Squeeze", {{"x", input}, {"axes", i64_vector({1}), true}}, {}); }),
            ErrorKind::invalid_argument);
  EXPECT_EQ(error_kind_of([&] { run_single_node("Gather", {{"x", input}, {"i", i64_vector({2}), true}}, {}); }),
            ErrorKind::invalid_argument);
  EXPECT_EQ(error_kind_of([&] {
              run_single_node("Expand", {{"x", input}, {"shape", i64_vector({4, 3}), true}}, {});
            }),
            ErrorKind::invalid_argument);
}

TEST(RefIndexing, GatherNegativeIndicesAndGatherNDBatch) {
  Tensor input = iota_i32({3, 5});
  Tensor rows = run_single_node("Gather", {{"x", input}, {"i", i64_vector({-1, 0}), true}}, {})[0];
  EXPECT_EQ(i32_values(rows), (std::vector<int32_t>{10, 11, 12, 13, 14, 0, 1, 2, 3, 4}));
  Tensor columns =
      run_single_node("Gather", {{"x", input}, {"i", i64_vector({4, -5}), true}}, {{"axis", int_attribute(1)}})[0];
  EXPECT_EQ(i32_values(columns), (std::vector<int32_t>{4, 0, 9, 5, 14, 10}));
  Tensor indices = Tensor::from_vector<int64_t>(DType::i64, {3, 1}, {4, 0, 2});
  Tensor picked = run_single_node("GatherND", {{"x", input}, {"i", indices, true}}, {{"batch_dims", int_attribute(1)}})[0];
  EXPECT_EQ(i32_values(picked), (std::vector<int32_t>{4, 5, 12}));
}

TEST(RefIndexing, ScatterElementsReductionsWithDuplicates) {
  Tensor data = Tensor::from_vector<float>(DType::f32, {1, 4}, {1, 2, 3, 4});
  Tensor indices = Tensor::from_vector<int64_t>(DType::i64, {1, 3}, {1, 1, -1});
  Tensor updates = Tensor::from_vector<float>(DType::f32, {1, 3}, {5, 6, 7});
  ir::Attribute axis = int_attribute(1);
  auto run = [&](const std::string& reduction) {
    return run_single_node("ScatterElements", {{"d", data}, {"i", indices, true}, {"u", updates}},
                           {{"axis", axis}, {"reduction", string_attribute(reduction)}}, 1, 18)[0]
        .to_float_vector();
  };
  EXPECT_EQ(run("add"), (std::vector<float>{1, 13, 3, 11}));
  EXPECT_EQ(run("mul"), (std::vector<float>{1, 60, 3, 28}));
  EXPECT_EQ(run("max"), (std::vector<float>{1, 6, 3, 7}));
  EXPECT_EQ(run("min"), (std::vector<float>{1, 2, 3, 4}));
}

TEST(RefIndexing, UniqueUnsortedKeepsFirstOccurrenceOrder) {
  Tensor input = Tensor::from_vector<int32_t>(DType::i32, {7}, {5, 3, 5, 9, 3, 3, 1});
  std::vector<Tensor> outputs = run_single_node("Unique", {{"x", input}}, {{"sorted", int_attribute(0)}}, 4);
  EXPECT_EQ(i32_values(outputs[0]), (std::vector<int32_t>{5, 3, 9, 1}));
  EXPECT_EQ(outputs[1].to_int64_vector(), (std::vector<int64_t>{0, 1, 3, 6}));
  EXPECT_EQ(outputs[2].to_int64_vector(), (std::vector<int64_t>{0, 1, 0, 2, 1, 1, 3}));
  EXPECT_EQ(outputs[3].to_int64_vector(), (std::vector<int64_t>{2, 3, 1, 1}));
}

TEST(RefIndexing, NonZeroAndOneHotOnOddShapes) {
  Tensor input = Tensor::from_vector<int32_t>(DType::i32, {3, 1}, {0, 7, 2});
  Tensor positions = run_single_node("NonZero", {{"x", input}}, {})[0];
  ASSERT_EQ(positions.shape(), (Shape{2, 2}));
  EXPECT_EQ(positions.to_int64_vector(), (std::vector<int64_t>{1, 2, 0, 0}));
  Tensor hot = run_single_node("OneHot",
                               {{"i", i64_vector({2, -1, 7}), true},
                                {"depth", Tensor::from_vector<int64_t>(DType::i64, {}, {3}), true},
                                {"values", Tensor::from_vector<float>(DType::f32, {2}, {0, 1}), true}},
                               {{"axis", int_attribute(0)}})[0];
  ASSERT_EQ(hot.shape(), (Shape{3, 3}));
  // Column k is the one-hot of index k; 7 is out of range and stays all-off.
  EXPECT_EQ(hot.to_float_vector(), (std::vector<float>{0, 0, 0, 0, 0, 0, 1, 1, 0}));
}

}  // namespace
}  // namespace npukit::testing
