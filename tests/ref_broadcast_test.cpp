#include <gtest/gtest.h>

#include "runtime/kernels/ref/broadcast.h"

namespace npukit::runtime::ref {
namespace {

// The slow, obvious mapping: decompose the output index and re-compose it in the input's shape.
int64_t naive_input_index(const Shape& input, const Shape& output, int64_t output_index) {
  std::vector<int64_t> coordinates(output.size());
  for (size_t axis = output.size(); axis-- > 0;) {
    coordinates[axis] = output_index % output[axis];
    output_index /= output[axis];
  }
  int64_t index = 0;
  size_t missing = output.size() - input.size();
  for (size_t axis = 0; axis < input.size(); ++axis) {
    int64_t coordinate = input[axis] == 1 ? 0 : coordinates[axis + missing];
    index = index * input[axis] + coordinate;
  }
  return index;
}

void expect_mapping_matches_naive(const std::vector<Shape>& inputs) {
  Shape output = broadcast_shapes(inputs, "Test");
  BroadcastMapper mapper(inputs, output);
  std::vector<int64_t> seen(static_cast<size_t>(shape_element_count(output)), 0);
  mapper.for_each_run([&](int64_t output_offset, const int64_t* offsets, int64_t length) {
    for (int64_t i = 0; i < length; ++i) {
      seen[static_cast<size_t>(output_offset + i)]++;
      for (size_t k = 0; k < inputs.size(); ++k) {
        int64_t expected = naive_input_index(inputs[k], output, output_offset + i);
        ASSERT_EQ(offsets[k] + i * mapper.step(k), expected) << "input " << k << " at " << output_offset + i;
        ASSERT_EQ(mapper.input_index(k, output_offset + i), expected);
      }
    }
  });
  for (int64_t count : seen) EXPECT_EQ(count, 1);
}

TEST(RefBroadcast, OutputShapeFollowsNumpy) {
  EXPECT_EQ(broadcast_shapes({{2, 3, 4}, {4}}, "Add"), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcast_shapes({{7, 1, 13}, {1, 5, 1}, {13}}, "Sum"), (Shape{7, 5, 13}));
  EXPECT_EQ(broadcast_shapes({{}, {3, 1}}, "Mul"), (Shape{3, 1}));
  EXPECT_EQ(broadcast_shapes({{0, 3}, {1, 3}}, "Mul"), (Shape{0, 3}));
}

TEST(RefBroadcast, IncompatibleShapesAreInvalidArgument) {
  try {
    broadcast_shapes({{2, 3}, {4}}, "Add");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(error.reason().find("Add"), std::string::npos);
  }
  EXPECT_THROW(BroadcastMapper({{3}}, {2, 4}), Error);
}

TEST(RefBroadcast, MapperMatchesNaiveIndexing) {
  expect_mapping_matches_naive({{2, 3, 4}, {2, 3, 4}});
  expect_mapping_matches_naive({{2, 3, 4}, {4}});
  expect_mapping_matches_naive({{2, 3, 4}, {3, 1}});
  expect_mapping_matches_naive({{7, 1, 13}, {1, 5, 1}, {13}});
  expect_mapping_matches_naive({{1, 127}, {13, 1}});
  expect_mapping_matches_naive({{}, {5, 1, 3}});
  expect_mapping_matches_naive({{}, {}});
  expect_mapping_matches_naive({{2, 1, 1, 3, 1}, {1, 4, 1, 3, 5}});
  expect_mapping_matches_naive({{0, 3}, {3}});
}

TEST(RefBroadcast, BinaryHelperAppliesOperation) {
  std::vector<float> a = {1, 2, 3, 4, 5, 6};  // [2, 3]
  std::vector<float> b = {10, 20};            // [2, 1]
  BroadcastMapper mapper({{2, 3}, {2, 1}}, {2, 3});
  std::vector<float> out(6);
  broadcast_binary(mapper, a.data(), b.data(), out.data(), [](float x, float y) { return x + y; });
  EXPECT_EQ(out, (std::vector<float>{11, 12, 13, 24, 25, 26}));
}

}  // namespace
}  // namespace npukit::runtime::ref
