// The `numerics` section of target profiles (targets/numerics_spec.h): every built-in profile has one with a
// source or an "unknown - assumed" reason on every fact, the facts match the shared reference, and hostile
// sections are refused naming the file and the field.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "npukit/error.h"
#include "targets/profile_loader.h"

namespace npukit::targets {
namespace {

TEST(TargetNumerics, EveryBuiltinProfileStatesItsArithmetic) {
  for (const TargetProfile& profile : builtin_target_profiles()) {
    SCOPED_TRACE(profile.id);
    const NumericsSpec& spec = profile.numerics;
    ASSERT_TRUE(spec.present);
    for (const Provenance* provenance :
         {&spec.weights.storage.provenance, &spec.activations.granularity.provenance, &spec.bias_storage.provenance,
          &spec.quantize_rounding.provenance, &spec.requantization.provenance, &spec.fusion_groups.provenance,
          &spec.lookup_table_ops.provenance}) {
      EXPECT_FALSE(provenance->source.empty());  // a citation, or why the sources are silent
    }
    EXPECT_EQ(spec.bias_storage.value, StorageGrid::int32);
    EXPECT_FALSE(summarize(spec).empty());
  }
}

TEST(TargetNumerics, EdgeTpuFollowsTheTfliteInt8Spec) {
  const NumericsSpec& spec = find_builtin_target("edgetpu").numerics;
  EXPECT_EQ(spec.weights.storage.value, StorageGrid::int8_narrow);  // [-127, 127]
  EXPECT_TRUE(spec.weights.storage.provenance.known);
  EXPECT_EQ(spec.weights.granularity.value, ir::QuantGranularity::per_channel);
  EXPECT_EQ(spec.weights.channel_axis.value, 0);
  EXPECT_TRUE(spec.weights.symmetric.value);
  EXPECT_EQ(spec.activations.storage.value, StorageGrid::int8);
  EXPECT_FALSE(spec.activations.symmetric.value);
  EXPECT_EQ(spec.requantization.value, Requantization::fixed_point_double_rounding);
  EXPECT_EQ(spec.multiplier_bits.value, 31);
  EXPECT_TRUE(spec.requantization.provenance.known);
  EXPECT_EQ(storage_dtype(spec.weights.storage.value), DType::i8);
  EXPECT_TRUE(storage_is_narrow(spec.weights.storage.value));
}

TEST(TargetNumerics, WhatVendorsDoNotPublishIsAnAssumptionSaidAsSuch) {
  const NumericsSpec& rockchip = find_builtin_target("rk3588").numerics;
  EXPECT_EQ(rockchip.activations.storage.value, StorageGrid::int8);
  EXPECT_FALSE(rockchip.activations.symmetric.value);  // asymmetric int8 activations (rknn_api)
  EXPECT_TRUE(rockchip.activations.symmetric.provenance.known);
  EXPECT_EQ(rockchip.weights.granularity.value, ir::QuantGranularity::per_channel);
  EXPECT_FALSE(rockchip.quantize_rounding.provenance.known);
  EXPECT_EQ(rockchip.quantize_rounding.display("half_to_even"), "unknown - assumed half_to_even");
  const NumericsSpec& hailo = find_builtin_target("hailo8").numerics;
  EXPECT_EQ(hailo.activations.storage.value, StorageGrid::uint8);  // unsigned activations
  EXPECT_TRUE(hailo.activations.storage.provenance.known);
  EXPECT_FALSE(hailo.weights.granularity.provenance.known);
  EXPECT_EQ(find_builtin_target("esp32s3").numerics.quantize_rounding.value, ir::RoundingMode::half_up);
  EXPECT_EQ(find_builtin_target("esp32s3").numerics.requantization.value, Requantization::power_of_two);
  EXPECT_EQ(find_builtin_target("jetson-orin-dla").numerics.clamp_order.value, ir::ClampOrder::clamp_then_round);
  EXPECT_TRUE(find_builtin_target("jetson-orin-dla").numerics.activations.symmetric.value);
}

// The edgetpu profile's JSON with `edit` applied to its numerics section.
std::string edited_profile(const std::function<void(nlohmann::json&)>& edit) {
  const std::string path = std::string(NPUKIT_TARGETS_DIR) + "/edgetpu.json";
  std::ifstream file(path);
  nlohmann::json document = nlohmann::json::parse(file);
  edit(document["numerics"]);
  return document.dump();
}

std::string load_error(const std::function<void(nlohmann::json&)>& edit) {
  try {
    parse_target_profile(edited_profile(edit), "mine.json");
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid_model);
    EXPECT_EQ(error.file(), "mine.json");
    return error.reason();
  }
  return "";
}

TEST(TargetNumerics, HostileSectionsAreRefusedNamingTheField) {
  EXPECT_NE(load_error([](auto& n) { n["weights"]["storage"]["value"] = "int7"; })
                .find("field 'numerics.weights.storage': 'int7' is not one of int8, int8_narrow"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["requantization"]["source"] = "nowhere"; })
                .find("field 'numerics.requantization.source': source 'nowhere' is not defined"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["requantization"]["assumed"] = "float_scale"; }).find("either sourced or an assumption"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["lookup_table_ops"].erase("unknown"); })
                .find("field 'numerics.lookup_table_ops.unknown': an assumption needs the reason"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["activations"]["channel_axis"] = {{"value", 0}, {"source", "tflite_spec"}}; })
                .find("numerics.activations.channel_axis"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["weights"].erase("channel_axis"); }).find("numerics.weights.channel_axis': missing"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["multiplier_bits"]["value"] = 0; }).find("needs a multiplier of 2 to 32 bits"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["multiplier_bits"]["value"] = 99; }).find("99 is outside [0, 32]"), std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["rounding"] = "half_to_even"; }).find("field 'numerics.rounding': unknown field"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["fusion_groups"]["assumed"] = nlohmann::json::array({nlohmann::json::array({"Conv"})}); }).find("at least two ops"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["requantizing_ops"]["value"].push_back("Concat"); }).find("also in shared_scale_ops"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n["weights"]["symmetric"]["value"] = "yes"; }).find("expected true or false"),
            std::string::npos);
  EXPECT_NE(load_error([](auto& n) { n.erase("bias"); }).find("'numerics.bias': missing"), std::string::npos);
}

TEST(TargetNumerics, UserProfileMayCarryItsOwnSpecOrNone) {
  TargetProfile without = parse_target_profile(edited_profile([](auto&) {}), "mine.json");
  EXPECT_TRUE(without.numerics.present);
  nlohmann::json document = nlohmann::json::parse(edited_profile([](auto&) {}));
  document.erase("numerics");
  TargetProfile no_section = parse_target_profile(document.dump(), "bare.json");
  EXPECT_FALSE(no_section.numerics.present);
  EXPECT_EQ(summarize(no_section.numerics).front().second, "unknown - the profile has no numerics section");
  // A spec of one's own: TVM-style requantization with ties toward +infinity.
  TargetProfile own = parse_target_profile(edited_profile([](auto& n) {
                                             n["requantization"] = {{"value", "fixed_point_upward"}, {"source", "mine"}};
                                             n["sources"]["mine"] = "my chip's manual, section 4";
                                           }),
                                           "mine.json");
  EXPECT_EQ(own.numerics.requantization.value, Requantization::fixed_point_upward);
  EXPECT_EQ(own.numerics.requantization.provenance.source, "my chip's manual, section 4");
}

}  // namespace
}  // namespace npukit::targets
