// Target profiles: every built-in one loads and says what the shared reference says; broken profiles are
// refused with the file and the field named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "npukit/error.h"
#include "targets/embedded_profiles.h"
#include "targets/profile_loader.h"

namespace npukit::targets {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(TargetProfiles, EveryBuiltinProfileLoadsAndValidates) {
  const std::vector<TargetProfile>& profiles = builtin_target_profiles();
  std::vector<std::string> ids;
  for (const TargetProfile& profile : profiles) ids.push_back(profile.id);
  for (const char* required : {"rk3588", "rk3566", "hailo8", "hailo8l", "edgetpu", "jetson-orin-dla", "qualcomm-htp",
                               "ax620a", "esp32s3", "a311d", "jetson-orin-gpu", "axelera-metis"}) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), required), ids.end()) << required;
  }
  // One embedded source per file in targets/, and the embedded text is the file's text.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(NPUKIT_TARGETS_DIR)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    TargetProfile from_file = load_target_profile_file(entry.path().string());
    EXPECT_EQ(&find_builtin_target(from_file.id) != nullptr, true);
    EXPECT_EQ(find_builtin_target(from_file.id).ops.size(), from_file.ops.size()) << entry.path();
  }
  EXPECT_EQ(files, profiles.size());
  EXPECT_EQ(embedded_profile_sources().size(), profiles.size());
  for (const TargetProfile& profile : profiles) {
    EXPECT_FALSE(profile.ops.empty()) << profile.id;
    EXPECT_FALSE(profile.nms.text.empty()) << profile.id;
    // Every known fact carries a citation.
    for (const Fact* fact : {&profile.compute.tops_int8, &profile.memory.on_chip_sram_bytes, &profile.nms,
                             &profile.quantization.rounding, &profile.quantization.weight_granularity}) {
      if (fact->known) EXPECT_FALSE(fact->source.empty()) << profile.id;
    }
  }
}

TEST(TargetProfiles, HeadlineFactsMatchTheSharedReference) {
  EXPECT_EQ(find_builtin_target("rk3588").compute.tops_int8.number.value_or(0), 6);
  EXPECT_EQ(find_builtin_target("rk3588").compute.cores.number.value_or(0), 3);
  EXPECT_EQ(find_builtin_target("rk3588").memory.on_chip_sram_bytes.number.value_or(0), 956 * 1024);
  EXPECT_EQ(find_builtin_target("hailo8").compute.tops_int8.number.value_or(0), 26);
  EXPECT_EQ(find_builtin_target("hailo8l").compute.tops_int8.number.value_or(0), 13);
  EXPECT_EQ(find_builtin_target("edgetpu").compute.tops_int8.number.value_or(0), 4);
  EXPECT_EQ(find_builtin_target("ax620a").compute.tops_int8.number.value_or(0), 3.6);
  // Unknown stays unknown: Hailo's on-chip memory size and rounding are not public.
  EXPECT_FALSE(find_builtin_target("hailo8").memory.on_chip_sram_bytes.known);
  EXPECT_FALSE(find_builtin_target("hailo8").quantization.rounding.known);
  // Fallback policies.
  EXPECT_EQ(find_builtin_target("edgetpu").fallback_policy, FallbackPolicy::after_first_unsupported);
  EXPECT_EQ(find_builtin_target("rk3588").fallback_policy, FallbackPolicy::per_segment);
  EXPECT_EQ(find_builtin_target("jetson-orin-dla").fallback_device, "GPU");
  EXPECT_EQ(find_builtin_target("esp32s3").fallback_policy, FallbackPolicy::none);
  // Softmax: on the RK3588 NPU, not on the RK3566 one.
  EXPECT_TRUE(find_builtin_target("rk3588").ops.count("Softmax"));
  EXPECT_FALSE(find_builtin_target("rk3566").ops.count("Softmax"));
  // NMS is never an RKNN NPU op.
  for (const char* rockchip : {"rk3588", "rk3566"}) {
    const TargetProfile& profile = find_builtin_target(rockchip);
    EXPECT_FALSE(profile.ops.count("NonMaxSuppression"));
    EXPECT_NE(std::find(profile.rejected_ops.begin(), profile.rejected_ops.end(), "NonMaxSuppression"),
              profile.rejected_ops.end());
  }
  // Aliases: RK3568 is the RK3566 profile.
  EXPECT_EQ(find_builtin_target("RK3568").id, "rk3566");
}

TEST(TargetProfiles, UnknownTargetNamesTheBuiltinOnes) {
  try {
    find_builtin_target("rk9999");
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("rk3588"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("--target-file"), std::string::npos);
  }
}

// Breaks a valid profile in one place and expects the error to name the file and that field.
class BrokenProfile : public ::testing::Test {
 protected:
  nlohmann::json valid() { return nlohmann::json::parse(read_text(std::string(NPUKIT_TARGETS_DIR) + "/rk3588.json")); }

  void expect_refused(const nlohmann::json& document, const std::string& field, const std::string& why) {
    try {
      parse_target_profile(document.dump(), "broken.json");
      FAIL() << "accepted a profile with a broken " << field;
    } catch (const Error& error) {
      const std::string message = error.what();
      EXPECT_EQ(error.file(), "broken.json");
      EXPECT_NE(message.find("broken.json"), std::string::npos) << message;
      EXPECT_NE(message.find("'" + field + "'"), std::string::npos) << message;
      EXPECT_NE(message.find(why), std::string::npos) << message;
    }
  }
};

TEST_F(BrokenProfile, MissingRequiredField) {
  nlohmann::json document = valid();
  document.erase("fallback");
  expect_refused(document, "fallback", "missing");
}

TEST_F(BrokenProfile, WrongTypeInARule) {
  nlohmann::json document = valid();
  document["ops"]["Conv"]["rules"][1]["max"] = "eight";
  expect_refused(document, "ops.Conv.rules[1].max", "expected a number");
}

TEST_F(BrokenProfile, MisspelledFieldIsNotIgnored) {
  nlohmann::json document = valid();
  document["ops"]["Conv"]["rules"][0]["maximum"] = 4;
  expect_refused(document, "ops.Conv.rules[0].maximum", "unknown field");
}

TEST_F(BrokenProfile, UnknownCheck) {
  nlohmann::json document = valid();
  document["ops"]["MaxPool"]["rules"][0]["check"] = "kernal";
  expect_refused(document, "ops.MaxPool.rules[0].check", "unknown check 'kernal'");
}

TEST_F(BrokenProfile, SourceKeyThatIsNotDefined) {
  nlohmann::json document = valid();
  document["nms"]["source"] = "nowhere";
  expect_refused(document, "nms.source", "not defined");
}

TEST_F(BrokenProfile, FactWithoutSourceOrUnknown) {
  nlohmann::json document = valid();
  document["compute"]["tops_int8"] = nlohmann::json{{"value", 6}};
  expect_refused(document, "compute.tops_int8.source", "missing");
}

TEST_F(BrokenProfile, BadPolicyAndBounds) {
  nlohmann::json document = valid();
  document["fallback"]["policy"] = "sometimes";
  expect_refused(document, "fallback.policy", "per_segment");
  document = valid();
  document["ops"]["Conv"]["rules"][0]["min"] = 40;
  expect_refused(document, "ops.Conv.rules[0].min", "larger than 'max'");
  document = valid();
  document["schema"] = "npukit-target-profile/9";
  expect_refused(document, "schema", "expected 'npukit-target-profile/1'");
  document = valid();
  document["op_equivalents"]["Flatten"] = "Collapse";
  expect_refused(document, "op_equivalents.Flatten", "not in 'ops'");
}

TEST(TargetProfiles, NotJsonAndMissingFileAreErrors) {
  try {
    parse_target_profile("{\"schema\": ", "truncated.json");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.file(), "truncated.json");
    EXPECT_NE(std::string(error.what()).find("not valid JSON"), std::string::npos);
  }
  try {
    load_target_profile_file("/nonexistent/profile.json");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::io);
    EXPECT_EQ(error.file(), "/nonexistent/profile.json");
  }
}

}  // namespace
}  // namespace npukit::targets
