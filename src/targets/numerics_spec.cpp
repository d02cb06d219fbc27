#include "targets/numerics_spec.h"

#include <nlohmann/json.hpp>

#include "npukit/error.h"

namespace npukit::targets {

namespace {

using Json = nlohmann::json;

constexpr const char* kSection = "numerics";

template <typename Enum>
struct Named {
  const char* name;
  Enum value;
};

constexpr Named<StorageGrid> kGrids[] = {
    {"int8", StorageGrid::int8},   {"int8_narrow", StorageGrid::int8_narrow}, {"uint8", StorageGrid::uint8},
    {"int16", StorageGrid::int16}, {"uint16", StorageGrid::uint16},           {"int4", StorageGrid::int4},
    {"uint4", StorageGrid::uint4}, {"int32", StorageGrid::int32}};
constexpr Named<Requantization> kRequantizations[] = {
    {"float_scale", Requantization::float_scale},
    {"fixed_point_double_rounding", Requantization::fixed_point_double_rounding},
    {"fixed_point_single_rounding", Requantization::fixed_point_single_rounding},
    {"fixed_point_upward", Requantization::fixed_point_upward},
    {"fixed_point_to_nearest", Requantization::fixed_point_to_nearest},
    {"power_of_two", Requantization::power_of_two}};
constexpr Named<ir::RoundingMode> kRoundings[] = {{"half_to_even", ir::RoundingMode::half_to_even},
                                                  {"half_away_from_zero", ir::RoundingMode::half_away_from_zero},
                                                  {"half_up", ir::RoundingMode::half_up}};
constexpr Named<ir::ClampOrder> kClampOrders[] = {{"round_then_clamp", ir::ClampOrder::round_then_clamp},
                                                  {"clamp_then_round", ir::ClampOrder::clamp_then_round}};
constexpr Named<ir::QuantGranularity> kGranularities[] = {{"per_tensor", ir::QuantGranularity::per_tensor},
                                                          {"per_channel", ir::QuantGranularity::per_channel},
                                                          {"per_group", ir::QuantGranularity::per_group}};

template <typename Enum, size_t N>
std::string_view name_of(const Named<Enum> (&table)[N], Enum value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

// Reads facts of the form {"value": X, "source": key, "note": text} or {"assumed": X, "unknown": why, "note": text},
// naming the field's path in every error.
class SectionReader {
 public:
  SectionReader(const std::map<std::string, std::string>& sources, std::string file)
      : sources_(sources), file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& why) const {
    throw Error(ErrorKind::invalid_model, "field '" + path + "': " + why, file_);
  }

  void only_keys(const Json& object, const std::string& path, std::initializer_list<const char*> keys) const {
    if (!object.is_object()) fail(path, "expected an object, found " + std::string(object.type_name()));
    for (auto item = object.begin(); item != object.end(); ++item) {
      const std::string key = item.key();
      bool listed = false;
      for (const char* known : keys) listed = listed || key == known;
      if (!listed) {
        std::string known_list;
        for (const char* known : keys) known_list += (known_list.empty() ? "" : ", ") + std::string(known);
        fail(path + "." + key, "unknown field (known here: " + known_list + ")");
      }
    }
  }

  const Json& member(const Json& object, const std::string& path, const char* key) const {
    auto found = object.find(key);
    if (found == object.end()) fail(path + "." + key, "missing (required)");
    return *found;
  }

  // The fact's value (under "value" or "assumed") and its provenance.
  std::pair<const Json*, Provenance> fact(const Json& object, const std::string& path) const {
    only_keys(object, path, {"value", "source", "assumed", "unknown", "note"});
    Provenance provenance;
    if (object.contains("value")) {
      if (object.contains("assumed") || object.contains("unknown")) {
        fail(path, "has 'value' and 'assumed'/'unknown'; a fact is either sourced or an assumption");
      }
      auto key = object.find("source");
      if (key == object.end() || !key->is_string()) fail(path + ".source", "a stated value needs a source key");
      auto citation = sources_.find(key->get<std::string>());
      if (citation == sources_.end()) {
        fail(path + ".source", "source '" + key->get<std::string>() + "' is not defined in 'sources' or 'numerics.sources'");
      }
      provenance.known = true;
      provenance.source = citation->second;
      return {&object["value"], provenance};
    }
    if (!object.contains("assumed")) fail(path, "needs 'value' with a 'source', or 'assumed' with an 'unknown' reason");
    auto why = object.find("unknown");
    if (why == object.end() || !why->is_string() || why->get<std::string>().empty()) {
      fail(path + ".unknown", "an assumption needs the reason the sources are silent");
    }
    if (object.contains("source")) fail(path + ".source", "an assumption has no source; say why in 'unknown'");
    provenance.source = why->get<std::string>();
    return {&object["assumed"], provenance};
  }

  template <typename Enum, size_t N>
  Stated<Enum> named(const Json& parent, const std::string& parent_path, const char* key,
                     const Named<Enum> (&table)[N]) const {
    const std::string path = parent_path + "." + key;
    auto [value, provenance] = fact(member(parent, parent_path, key), path);
    std::string allowed;
    for (const auto& entry : table) allowed += (allowed.empty() ? "" : ", ") + std::string(entry.name);
    if (!value->is_string()) fail(path, "expected one of " + allowed);
    for (const auto& entry : table) {
      if (value->get<std::string>() == entry.name) return {entry.value, provenance};
    }
    fail(path, "'" + value->get<std::string>() + "' is not one of " + allowed);
  }

  Stated<int64_t> integer(const Json& parent, const std::string& parent_path, const char* key, int64_t minimum,
                          int64_t maximum) const {
    const std::string path = parent_path + "." + key;
    auto [value, provenance] = fact(member(parent, parent_path, key), path);
    if (!value->is_number_integer()) fail(path, "expected an integer");
    const int64_t number = value->get<int64_t>();
    if (number < minimum || number > maximum) {
      fail(path, std::to_string(number) + " is outside [" + std::to_string(minimum) + ", " + std::to_string(maximum) + "]");
    }
    return {number, provenance};
  }

  Stated<bool> boolean(const Json& parent, const std::string& parent_path, const char* key) const {
    const std::string path = parent_path + "." + key;
    auto [value, provenance] = fact(member(parent, parent_path, key), path);
    if (!value->is_boolean()) fail(path, "expected true or false");
    return {value->get<bool>(), provenance};
  }

  std::vector<std::string> strings(const Json& value, const std::string& path) const {
    if (!value.is_array()) fail(path, "expected a list of ONNX op names");
    std::vector<std::string> items;
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string() || value[i].get<std::string>().empty()) {
        fail(path + "[" + std::to_string(i) + "]", "expected an ONNX op name");
      }
      items.push_back(value[i].get<std::string>());
    }
    return items;
  }

  Stated<std::vector<std::string>> op_list(const Json& parent, const std::string& parent_path, const char* key) const {
    const std::string path = parent_path + "." + key;
    auto [value, provenance] = fact(member(parent, parent_path, key), path);
    return {strings(*value, path), provenance};
  }

  Stated<std::vector<std::vector<std::string>>> op_groups(const Json& parent, const std::string& parent_path,
                                                          const char* key) const {
    const std::string path = parent_path + "." + key;
    auto [value, provenance] = fact(member(parent, parent_path, key), path);
    if (!value->is_array()) fail(path, "expected a list of op sequences ([[\"Conv\", \"Relu\"], ...])");
    std::vector<std::vector<std::string>> groups;
    for (size_t i = 0; i < value->size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      groups.push_back(strings((*value)[i], item_path));
      if (groups.back().size() < 2) fail(item_path, "a fusion group has at least two ops");
    }
    return {groups, provenance};
  }

 private:
  const std::map<std::string, std::string>& sources_;
  std::string file_;
};

TensorNumerics read_tensor_numerics(const SectionReader& reader, const Json& section, const char* kind) {
  const std::string path = std::string(kSection) + "." + kind;
  const Json& object = reader.member(section, kSection, kind);
  reader.only_keys(object, path, {"storage", "granularity", "channel_axis", "group_size", "symmetric"});
  TensorNumerics numerics;
  numerics.storage = reader.named(object, path, "storage", kGrids);
  numerics.granularity = reader.named(object, path, "granularity", kGranularities);
  numerics.symmetric = reader.boolean(object, path, "symmetric");
  const ir::QuantGranularity granularity = numerics.granularity.value;
  // The axis and group size belong to per-channel / per-group grids: required there, refused elsewhere.
  numerics.channel_axis = {-1, numerics.granularity.provenance};
  numerics.group_size = {0, numerics.granularity.provenance};
  if (granularity == ir::QuantGranularity::per_tensor) {
    for (const char* key : {"channel_axis", "group_size"}) {
      if (object.contains(key)) reader.fail(path + "." + key, "only per_channel / per_group grids have it");
    }
  } else {
    numerics.channel_axis = reader.integer(object, path, "channel_axis", 0, 7);
  }
  if (granularity == ir::QuantGranularity::per_group) {
    numerics.group_size = reader.integer(object, path, "group_size", 1, 1 << 20);
  } else if (object.contains("group_size")) {
    reader.fail(path + ".group_size", "only per_group grids have a group size");
  }
  if (numerics.storage.value == StorageGrid::int32) reader.fail(path + ".storage", "int32 is the bias grid only");
  return numerics;
}

}  // namespace

std::string_view storage_grid_name(StorageGrid grid) { return name_of(kGrids, grid); }
std::string_view requantization_name(Requantization requantization) { return name_of(kRequantizations, requantization); }

DType storage_dtype(StorageGrid grid) {
  switch (grid) {
    case StorageGrid::int8: case StorageGrid::int8_narrow: return DType::i8;
    case StorageGrid::uint8: return DType::u8;
    case StorageGrid::int16: return DType::i16;
    case StorageGrid::uint16: return DType::u16;
    case StorageGrid::int4: return DType::i4;
    case StorageGrid::uint4: return DType::u4;
    case StorageGrid::int32: return DType::i32;
  }
  return DType::undefined;
}

bool storage_is_narrow(StorageGrid grid) { return grid == StorageGrid::int8_narrow; }

NumericsSpec parse_numerics_spec(std::string_view section_json, const std::map<std::string, std::string>& profile_sources,
                                 const std::string& file) {
  Json section;
  try {
    section = Json::parse(section_json.begin(), section_json.end());
  } catch (const Json::parse_error& error) {
    throw Error(ErrorKind::invalid_model, std::string("field 'numerics': not valid JSON: ") + error.what(), file);
  }
  std::map<std::string, std::string> sources = profile_sources;
  SectionReader reader(sources, file);
  reader.only_keys(section, kSection,
                   {"sources", "weights", "activations", "bias", "quantize_rounding", "clamp_order", "requantization",
                    "multiplier_bits", "fused_activation_clamp", "fused_activations", "shared_scale_ops",
                    "requantizing_ops", "lookup_table_ops", "fusion_groups"});
  if (section.contains("sources")) {
    const Json& own = section["sources"];
    if (!own.is_object()) reader.fail("numerics.sources", "expected an object of key -> citation");
    for (auto item = own.begin(); item != own.end(); ++item) {
      if (!item->is_string() || item->get<std::string>().empty()) {
        reader.fail("numerics.sources." + item.key(), "expected a non-empty citation string");
      }
      sources[item.key()] = item->get<std::string>();
    }
  }
  NumericsSpec spec;
  spec.present = true;
  spec.weights = read_tensor_numerics(reader, section, "weights");
  spec.activations = read_tensor_numerics(reader, section, "activations");
  const Json& bias = reader.member(section, kSection, "bias");
  reader.only_keys(bias, "numerics.bias", {"storage"});
  spec.bias_storage = reader.named(bias, "numerics.bias", "storage", kGrids);
  spec.quantize_rounding = reader.named(section, kSection, "quantize_rounding", kRoundings);
  spec.clamp_order = reader.named(section, kSection, "clamp_order", kClampOrders);
  spec.requantization = reader.named(section, kSection, "requantization", kRequantizations);
  spec.multiplier_bits = reader.integer(section, kSection, "multiplier_bits", 0, 32);
  const bool fixed_point = spec.requantization.value != Requantization::float_scale &&
                           spec.requantization.value != Requantization::power_of_two;
  if (fixed_point && spec.multiplier_bits.value < 2) {
    reader.fail("numerics.multiplier_bits", "a fixed-point requantization needs a multiplier of 2 to 32 bits");
  }
  if (!fixed_point && spec.multiplier_bits.value != 0) {
    reader.fail("numerics.multiplier_bits", "is 0 for " + std::string(requantization_name(spec.requantization.value)) +
                                                " (no fixed-point multiplier)");
  }
  spec.fused_activation_clamp = reader.boolean(section, kSection, "fused_activation_clamp");
  spec.fused_activations = reader.op_list(section, kSection, "fused_activations");
  spec.shared_scale_ops = reader.op_list(section, kSection, "shared_scale_ops");
  spec.requantizing_ops = reader.op_list(section, kSection, "requantizing_ops");
  spec.lookup_table_ops = reader.op_list(section, kSection, "lookup_table_ops");
  spec.fusion_groups = reader.op_groups(section, kSection, "fusion_groups");
  for (const std::string& op : spec.shared_scale_ops.value) {
    for (const std::string& other : spec.requantizing_ops.value) {
      if (op == other) reader.fail("numerics.requantizing_ops", "'" + op + "' is also in shared_scale_ops; it is one or the other");
    }
  }
  return spec;
}

namespace {

std::string tensor_summary(const TensorNumerics& numerics) {
  std::string text = std::string(storage_grid_name(numerics.storage.value)) + " " +
                     std::string(ir::granularity_name(numerics.granularity.value));
  if (numerics.granularity.value != ir::QuantGranularity::per_tensor) {
    text += "(axis " + std::to_string(numerics.channel_axis.value);
    if (numerics.group_size.value > 0) text += ", groups of " + std::to_string(numerics.group_size.value);
    text += ")";
  }
  text += numerics.symmetric.value ? " symmetric" : " asymmetric";
  const bool known = numerics.storage.provenance.known && numerics.granularity.provenance.known &&
                     numerics.symmetric.provenance.known;
  return known ? text : "partly unknown - assumed " + text;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text.empty() ? "none" : text;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> summarize(const NumericsSpec& spec) {
  if (!spec.present) return {{"numerics", "unknown - the profile has no numerics section"}};
  std::string requantization(requantization_name(spec.requantization.value));
  if (spec.multiplier_bits.value > 0) requantization += ", " + std::to_string(spec.multiplier_bits.value) + "-bit multiplier";
  return {
      {"weights", tensor_summary(spec.weights)},
      {"activations", tensor_summary(spec.activations)},
      {"bias", spec.bias_storage.display(std::string(storage_grid_name(spec.bias_storage.value)) + " at s_x*s_w")},
      {"quantize rounding", spec.quantize_rounding.display(std::string(ir::rounding_mode_name(spec.quantize_rounding.value)) +
                                                           ", " + std::string(ir::clamp_order_name(spec.clamp_order.value)))},
      {"requantization", spec.requantization.display(requantization)},
      {"lookup tables", spec.lookup_table_ops.display(join(spec.lookup_table_ops.value))},
  };
}

}  // namespace npukit::targets
