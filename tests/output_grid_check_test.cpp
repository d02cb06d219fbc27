// The detection-aware check of quantize (output_grid_check.h): a graph output's scale group that joins boxes in
// pixels with scores in 0..1 is noted with the ratio; groups of like ranges, or not read by an output, are not.
#include <gtest/gtest.h>

#include "quantization/output_grid_check.h"

namespace npukit::testing {
namespace {

using namespace npukit::quantization;

PlannedPoint activation(const std::string& value, const std::string& group) {
  PlannedPoint point;
  point.value = value;
  point.role = PointRole::activation;
  point.scale_group = group;
  return point;
}

TEST(OutputGridCheck, BoxesAndScoresOnOneOutputGridAreNotedWithTheRatio) {
  QuantizationPlan plan;
  plan.points = {activation("boxes", "boxes"), activation("scores", "boxes"), activation("joined", "boxes"),
                 activation("hidden_a", "hidden"), activation("hidden_b", "hidden")};
  const std::map<std::string, Range> ranges = {{"boxes", {0, 320}},   {"scores", {0, 1}},    {"joined", {0, 320}},
                                               {"hidden_a", {0, 400}}, {"hidden_b", {0, 1}}};
  const std::vector<std::string> notes = mixed_output_grid_notes(plan, {"joined"}, ranges);
  ASSERT_EQ(notes.size(), 1u);  // the hidden group is as mixed but no output reads it
  EXPECT_NE(notes[0].find("'boxes' (span 320) and 'scores' (span 1), 320x apart"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("about 1 of 256 levels"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("npukit patch"), std::string::npos) << notes[0];
}

TEST(OutputGridCheck, LikeRangesAndSeparateGroupsGiveNoNote) {
  QuantizationPlan plan;
  plan.points = {activation("boxes", "boxes"), activation("scores", "scores"), activation("a", "a"),
                 activation("b", "a")};
  const std::map<std::string, Range> ranges = {{"boxes", {0, 320}}, {"scores", {0, 1}}, {"a", {-8, 8}}, {"b", {0, 2}}};
  EXPECT_TRUE(mixed_output_grid_notes(plan, {"boxes", "scores", "a"}, ranges).empty());  // 16 / 2 = 8: alike enough
}

}  // namespace
}  // namespace npukit::testing
