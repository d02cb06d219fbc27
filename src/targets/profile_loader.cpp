#include "targets/profile_loader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "npukit/error.h"
#include "targets/embedded_profiles.h"

namespace npukit::targets {

namespace {

using Json = nlohmann::json;

constexpr const char* kSchema = "npukit-target-profile/1";

// The checks rule evaluation knows; a profile naming another one is refused at load, not ignored at check.
const std::set<std::string> kKnownChecks = {
    "kernel", "stride", "dilation", "pad", "same_dilation", "group", "channels", "rank", "non_unit_dims",
    "dim", "input_dims", "elements", "axis", "attribute", "resize_scale", "batch", "constant_input",
    "constant_input_values", "reduction_dim", "kernel_fan_in", "producer_op", "dtype", "static_shape",
    "conv_combinations", "always"};

// "3x3", "1xW", "anyx3x3": parts that are positive integers, "any", or (kernels) "W"; a stride may be "kernel".
bool valid_dims_text(const std::string& text, bool kernel, bool stride) {
  if (stride && text == "kernel") return true;
  size_t start = 0;
  while (true) {
    size_t end = text.find('x', start);
    std::string part = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const bool number = !part.empty() && part.size() < 6 && part.find_first_not_of("0123456789") == std::string::npos &&
                        part.front() != '0';
    if (!number && part != "any" && !(kernel && part == "W")) return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Walks a JSON document keeping the path of the field being read, so every error names it.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& why) const {
    throw Error(ErrorKind::invalid_model, "field '" + path + "': " + why, file_);
  }

  const Json& member(const Json& object, const std::string& path, const std::string& key) const {
    auto found = object.find(key);
    if (found == object.end()) fail(join(path, key), "missing (required)");
    return *found;
  }

  void expect_object(const Json& value, const std::string& path) const {
    if (!value.is_object()) fail(path, "expected an object, found " + std::string(value.type_name()));
  }

  // Refuses keys the schema does not define: a misspelled "max_" would otherwise silently drop a limit.
  void only_keys(const Json& object, const std::string& path, std::initializer_list<const char*> keys) const {
    expect_object(object, path);
    for (auto item = object.begin(); item != object.end(); ++item) {
      // A named copy: clang 14 cannot capture a structured binding in the lambda below.
      const std::string& key = item.key();
      if (std::none_of(keys.begin(), keys.end(), [&](const char* known) { return key == known; })) {
        std::string known_list;
        for (const char* known : keys) known_list += (known_list.empty() ? "" : ", ") + std::string(known);
        fail(join(path, key), "unknown field (known here: " + known_list + ")");
      }
    }
  }

  std::string string_field(const Json& object, const std::string& path, const std::string& key,
                            bool required = true) const {
    auto found = object.find(key);
    if (found == object.end()) {
      if (required) fail(join(path, key), "missing (required)");
      return {};
    }
    if (!found->is_string()) fail(join(path, key), "expected a string, found " + std::string(found->type_name()));
    return found->get<std::string>();
  }

  std::optional<double> number_field(const Json& object, const std::string& path, const std::string& key) const {
    auto found = object.find(key);
    if (found == object.end()) return std::nullopt;
    if (!found->is_number()) fail(join(path, key), "expected a number, found " + std::string(found->type_name()));
    return found->get<double>();
  }

  std::vector<std::string> string_list(const Json& value, const std::string& path) const {
    if (!value.is_array()) fail(path, "expected a list of strings, found " + std::string(value.type_name()));
    std::vector<std::string> items;
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) fail(path + "[" + std::to_string(i) + "]", "expected a string");
      items.push_back(value[i].get<std::string>());
    }
    return items;
  }

  // A source key must name an entry of "sources": the citation is resolved here, once.
  std::string resolve_source(const std::string& key, const std::string& path) const {
    auto found = sources_.find(key);
    if (found == sources_.end()) {
      fail(path, "source '" + key + "' is not defined in 'sources'");
    }
    return found->second;
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::map<std::string, std::string> sources_;

 private:
  std::string file_;
};

Fact read_fact(const Reader& reader, const Json& object, const std::string& path) {
  reader.only_keys(object, path, {"value", "source", "note", "unknown"});
  Fact fact;
  if (object.contains("unknown")) {
    if (object.contains("value")) reader.fail(path, "has both 'value' and 'unknown'; a fact is one or the other");
    fact.known = false;
    fact.text = reader.string_field(object, path, "unknown");
    return fact;
  }
  const Json& value = reader.member(object, path, "value");
  fact.known = true;
  if (value.is_number()) {
    fact.number = value.get<double>();
    // Byte counts and rates print as whole numbers (8388608, not 8.38861e+06).
    std::ostringstream text;
    text.precision(12);
    text << value.get<double>();
    fact.text = value.is_number_integer() ? std::to_string(value.get<int64_t>()) : text.str();
  } else if (value.is_string()) {
    fact.text = value.get<std::string>();
  } else {
    reader.fail(Reader::join(path, "value"), "expected a number or a string, found " + std::string(value.type_name()));
  }
  std::string note = reader.string_field(object, path, "note", false);
  if (!note.empty()) fact.text += " (" + note + ")";
  fact.source = reader.resolve_source(reader.string_field(object, path, "source"), Reader::join(path, "source"));
  return fact;
}

Fact read_fact_member(const Reader& reader, const Json& object, const std::string& path, const std::string& key) {
  return read_fact(reader, reader.member(object, path, key), Reader::join(path, key));
}

Rule read_rule(const Reader& reader, const Json& object, const std::string& path, const std::string& default_source) {
  reader.only_keys(object, path,
                   {"check", "effect", "applies_to", "min", "max", "allowed", "attribute", "default", "axes",
                    "input_index", "text", "fix", "source", "multiple_of", "spatial_rank", "combinations"});
  Rule rule;
  rule.field = path;
  rule.check = reader.string_field(object, path, "check");
  if (!kKnownChecks.count(rule.check)) {
    std::string known;
    for (const std::string& check : kKnownChecks) known += (known.empty() ? "" : ", ") + check;
    reader.fail(Reader::join(path, "check"), "unknown check '" + rule.check + "' (known: " + known + ")");
  }
  std::string effect = reader.string_field(object, path, "effect", false);
  if (effect.empty() || effect == "refuse") {
    rule.effect = RuleEffect::refuse;
  } else if (effect == "condition") {
    rule.effect = RuleEffect::condition;
  } else if (effect == "slow") {
    rule.effect = RuleEffect::slow;
  } else {
    reader.fail(Reader::join(path, "effect"), "expected 'refuse', 'condition' or 'slow', found '" + effect + "'");
  }
  rule.applies_to = reader.string_field(object, path, "applies_to", false);
  if (rule.applies_to.empty()) rule.applies_to = "all";
  if (rule.applies_to != "all" && rule.applies_to != "regular" && rule.applies_to != "depthwise") {
    reader.fail(Reader::join(path, "applies_to"), "expected 'all', 'regular' or 'depthwise'");
  }
  rule.minimum = reader.number_field(object, path, "min");
  rule.maximum = reader.number_field(object, path, "max");
  if (rule.minimum && rule.maximum && *rule.minimum > *rule.maximum) {
    reader.fail(Reader::join(path, "min"), "is larger than 'max'");
  }
  if (object.contains("allowed")) {
    const Json& allowed = object["allowed"];
    if (!allowed.is_array() || allowed.empty()) reader.fail(Reader::join(path, "allowed"), "expected a non-empty list");
    for (size_t i = 0; i < allowed.size(); ++i) {
      if (allowed[i].is_number()) {
        rule.allowed_numbers.push_back(allowed[i].get<double>());
      } else if (allowed[i].is_string()) {
        rule.allowed_strings.push_back(allowed[i].get<std::string>());
      } else {
        reader.fail(Reader::join(path, "allowed") + "[" + std::to_string(i) + "]", "expected a number or a string");
      }
    }
  }
  rule.attribute = reader.string_field(object, path, "attribute", false);
  if (object.contains("default")) {
    const Json& fallback = object["default"];
    if (fallback.is_number()) {
      rule.default_number = fallback.get<double>();
    } else if (fallback.is_string()) {
      rule.default_string = fallback.get<std::string>();
    } else {
      reader.fail(Reader::join(path, "default"), "expected a number or a string");
    }
  }
  if (object.contains("axes")) {
    const Json& axes = object["axes"];
    if (!axes.is_array()) reader.fail(Reader::join(path, "axes"), "expected a list of integers");
    for (const Json& axis : axes) {
      if (!axis.is_number_integer()) reader.fail(Reader::join(path, "axes"), "expected a list of integers");
      rule.axes.push_back(axis.get<int64_t>());
    }
  }
  if (auto index = reader.number_field(object, path, "input_index")) rule.input_index = static_cast<int64_t>(*index);
  rule.multiple_of = reader.number_field(object, path, "multiple_of");
  if (rule.multiple_of && (*rule.multiple_of < 1 || *rule.multiple_of != static_cast<int64_t>(*rule.multiple_of))) {
    reader.fail(Reader::join(path, "multiple_of"), "expected a positive integer");
  }
  if (auto rank = reader.number_field(object, path, "spatial_rank")) {
    if (*rank < 1 || *rank > 3 || *rank != static_cast<int64_t>(*rank)) {
      reader.fail(Reader::join(path, "spatial_rank"), "expected 1, 2 or 3");
    }
    rule.spatial_rank = static_cast<int64_t>(*rank);
  }
  if (object.contains("combinations")) {
    const Json& table = object["combinations"];
    const std::string table_path = Reader::join(path, "combinations");
    if (!table.is_array() || table.empty()) reader.fail(table_path, "expected a non-empty list of combinations");
    for (size_t i = 0; i < table.size(); ++i) {
      const std::string row_path = table_path + "[" + std::to_string(i) + "]";
      reader.only_keys(table[i], row_path, {"kernel", "stride", "dilation", "padding"});
      ParameterCombination row;
      auto dims_list = [&](const char* key, bool kernel, bool stride) {
        std::vector<std::string> items = reader.string_list(reader.member(table[i], row_path, key), Reader::join(row_path, key));
        if (items.empty()) reader.fail(Reader::join(row_path, key), "expected at least one value");
        for (const std::string& item : items) {
          if (!valid_dims_text(item, kernel, stride)) {
            reader.fail(Reader::join(row_path, key), "'" + item + "' is not dims like \"3x3\" (parts: numbers, any" +
                                                         std::string(kernel ? ", W" : "") + ")" +
                                                         std::string(stride ? " or \"kernel\"" : ""));
          }
        }
        return items;
      };
      row.kernels = dims_list("kernel", true, false);
      row.strides = dims_list("stride", false, true);
      row.dilations = dims_list("dilation", false, false);
      row.paddings = reader.string_list(reader.member(table[i], row_path, "padding"), Reader::join(row_path, "padding"));
      for (const std::string& padding : row.paddings) {
        if (padding != "VALID" && padding != "SAME" && padding != "SAME_TENSORFLOW") {
          reader.fail(Reader::join(row_path, "padding"), "'" + padding + "': expected VALID, SAME or SAME_TENSORFLOW");
        }
      }
      rule.combinations.push_back(std::move(row));
    }
  }
  rule.text = reader.string_field(object, path, "text", false);
  rule.fix = reader.string_field(object, path, "fix", false);
  std::string source_key = reader.string_field(object, path, "source", false);
  rule.source = source_key.empty() ? default_source : reader.resolve_source(source_key, Reader::join(path, "source"));

  // What each check needs to be evaluated at all.
  const bool has_bound = rule.minimum || rule.maximum;
  const bool has_allowed = !rule.allowed_numbers.empty() || !rule.allowed_strings.empty();
  if (rule.check == "attribute") {
    if (rule.attribute.empty()) reader.fail(Reader::join(path, "attribute"), "missing (required by check 'attribute')");
    if (!has_allowed) reader.fail(Reader::join(path, "allowed"), "missing (required by check 'attribute')");
  } else if (rule.check == "axis" || rule.check == "group" || rule.check == "producer_op" || rule.check == "dtype" ||
             rule.check == "constant_input_values") {
    if (!has_allowed) reader.fail(Reader::join(path, "allowed"), "missing (required by check '" + rule.check + "')");
  } else if (rule.check == "input_dims") {
    if (rule.axes.empty()) reader.fail(Reader::join(path, "axes"), "missing (required by check 'input_dims')");
    if (!has_bound) reader.fail(Reader::join(path, "max"), "'min' or 'max' required by check 'input_dims'");
  } else if (rule.check == "stride") {
    if (!has_bound && !has_allowed) reader.fail(Reader::join(path, "max"), "'min', 'max' or 'allowed' required");
  } else if (rule.check == "conv_combinations") {
    if (rule.combinations.empty()) reader.fail(Reader::join(path, "combinations"), "missing (required by check 'conv_combinations')");
  } else if (rule.check == "always") {
    if (rule.text.empty()) reader.fail(Reader::join(path, "text"), "missing (required by check 'always')");
  } else if (rule.check == "channels" && rule.multiple_of) {
  } else if (rule.check != "same_dilation" && rule.check != "static_shape" && rule.check != "constant_input") {
    if (!has_bound) reader.fail(Reader::join(path, "max"), "'min' or 'max' required by check '" + rule.check + "'");
  }
  return rule;
}

std::vector<Rule> read_rules(const Reader& reader, const Json& value, const std::string& path,
                             const std::string& default_source) {
  if (!value.is_array()) reader.fail(path, "expected a list of rules, found " + std::string(value.type_name()));
  std::vector<Rule> rules;
  for (size_t i = 0; i < value.size(); ++i) {
    rules.push_back(read_rule(reader, value[i], path + "[" + std::to_string(i) + "]", default_source));
  }
  return rules;
}

std::pair<std::vector<std::string>, std::string> read_op_list(const Reader& reader, const Json& object,
                                                              const std::string& path) {
  reader.only_keys(object, path, {"ops", "source", "note"});
  std::vector<std::string> ops = reader.string_list(reader.member(object, path, "ops"), Reader::join(path, "ops"));
  std::string source = reader.resolve_source(reader.string_field(object, path, "source"), Reader::join(path, "source"));
  return {ops, source};
}

TargetProfile read_profile(const Json& document, const std::string& file) {
  Reader reader(file);
  reader.only_keys(document, "",
                   {"schema", "id", "aliases", "name", "vendor", "toolkit", "accelerator", "fallback", "unlisted_ops",
                    "rejected_ops", "fallback_ops", "ops_basis", "ops_source", "op_equivalents", "general_rules",
                    "ops", "dtypes", "quantization", "memory", "compute", "nms", "published_latency_ms", "sources"});
  std::string schema = reader.string_field(document, "", "schema");
  if (schema != kSchema) reader.fail("schema", "expected '" + std::string(kSchema) + "', found '" + schema + "'");

  // Sources first: every other fact points into them.
  const Json& sources = reader.member(document, "", "sources");
  reader.expect_object(sources, "sources");
  for (const auto& [key, citation] : sources.items()) {
    if (!citation.is_string() || citation.get<std::string>().empty()) {
      reader.fail("sources." + key, "expected a non-empty citation string");
    }
    reader.sources_[key] = citation.get<std::string>();
  }

  TargetProfile profile;
  profile.file = file;
  profile.sources = reader.sources_;
  profile.id = reader.string_field(document, "", "id");
  if (profile.id.empty() || profile.id != lowercase(profile.id) ||
      profile.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos) {
    reader.fail("id", "'" + profile.id + "' must be lower-case letters, digits, '-' or '_'");
  }
  if (document.contains("aliases")) profile.aliases = reader.string_list(document["aliases"], "aliases");
  profile.name = reader.string_field(document, "", "name");
  profile.vendor = reader.string_field(document, "", "vendor");
  profile.toolkit = reader.string_field(document, "", "toolkit");
  profile.accelerator_name = reader.string_field(document, "", "accelerator");

  const Json& fallback = reader.member(document, "", "fallback");
  reader.only_keys(fallback, "fallback", {"device", "policy", "source", "note"});
  profile.fallback_device = reader.string_field(fallback, "fallback", "device");
  std::string policy = reader.string_field(fallback, "fallback", "policy");
  if (policy == "per_segment") {
    profile.fallback_policy = FallbackPolicy::per_segment;
  } else if (policy == "after_first_unsupported") {
    profile.fallback_policy = FallbackPolicy::after_first_unsupported;
  } else if (policy == "none") {
    profile.fallback_policy = FallbackPolicy::none;
  } else {
    reader.fail("fallback.policy", "expected 'per_segment', 'after_first_unsupported' or 'none', found '" + policy + "'");
  }
  profile.fallback_source = reader.resolve_source(reader.string_field(fallback, "fallback", "source"), "fallback.source");

  const Json& unlisted = reader.member(document, "", "unlisted_ops");
  reader.only_keys(unlisted, "unlisted_ops", {"treatment", "source", "note"});
  std::string treatment = reader.string_field(unlisted, "unlisted_ops", "treatment");
  if (treatment == "fallback") {
    profile.unlisted_ops = UnlistedOps::fallback;
  } else if (treatment == "rejected") {
    profile.unlisted_ops = UnlistedOps::rejected;
  } else if (treatment == "unverified") {
    profile.unlisted_ops = UnlistedOps::unverified;
  } else {
    reader.fail("unlisted_ops.treatment", "expected 'fallback', 'rejected' or 'unverified', found '" + treatment + "'");
  }
  profile.unlisted_ops_source =
      reader.resolve_source(reader.string_field(unlisted, "unlisted_ops", "source"), "unlisted_ops.source");

  profile.rejected_ops = read_op_list(reader, reader.member(document, "", "rejected_ops"), "rejected_ops").first;
  auto [fallback_ops, fallback_ops_source] =
      read_op_list(reader, reader.member(document, "", "fallback_ops"), "fallback_ops");
  profile.ops_basis = read_fact_member(reader, document, "", "ops_basis");

  const std::string ops_source =
      reader.resolve_source(reader.string_field(document, "", "ops_source"), "ops_source");
  if (document.contains("op_equivalents")) {
    const Json& equivalents = document["op_equivalents"];
    reader.expect_object(equivalents, "op_equivalents");
    for (const auto& [op, equivalent] : equivalents.items()) {
      if (!equivalent.is_string()) reader.fail("op_equivalents." + op, "expected an op name");
      profile.op_equivalents[op] = equivalent.get<std::string>();
    }
  }
  profile.general_rules = read_rules(reader, reader.member(document, "", "general_rules"), "general_rules", ops_source);

  const Json& ops = reader.member(document, "", "ops");
  reader.expect_object(ops, "ops");
  if (ops.empty()) reader.fail("ops", "lists no op; a profile without ops cannot place any node");
  for (const auto& [op, entry] : ops.items()) {
    const std::string path = "ops." + op;
    reader.only_keys(entry, path, {"rules", "conditions", "source", "note"});
    OpSupport support;
    std::string source_key = reader.string_field(entry, path, "source", false);
    support.source = source_key.empty() ? ops_source : reader.resolve_source(source_key, path + ".source");
    support.note = reader.string_field(entry, path, "note", false);
    if (entry.contains("rules")) support.rules = read_rules(reader, entry["rules"], path + ".rules", support.source);
    if (entry.contains("conditions")) {
      for (const std::string& condition : reader.string_list(entry["conditions"], path + ".conditions")) {
        Rule rule;
        rule.check = "always";
        rule.effect = RuleEffect::condition;
        rule.text = condition;
        rule.source = support.source;
        rule.field = path + ".conditions";
        support.rules.push_back(std::move(rule));
      }
    }
    profile.ops[op] = std::move(support);
  }
  for (const auto& [op, equivalent] : profile.op_equivalents) {
    if (!profile.ops.count(equivalent)) {
      reader.fail("op_equivalents." + op, "names '" + equivalent + "', which is not in 'ops'");
    }
  }
  for (const std::string& op : profile.rejected_ops) {
    if (profile.ops.count(op)) reader.fail("rejected_ops", "'" + op + "' is also listed in 'ops'");
  }
  for (const std::string& op : fallback_ops) {
    if (profile.ops.count(op)) reader.fail("fallback_ops", "'" + op + "' is also listed in 'ops'");
  }

  const Json& dtypes = reader.member(document, "", "dtypes");
  reader.only_keys(dtypes, "dtypes", {"values", "source"});
  profile.dtypes = reader.string_list(reader.member(dtypes, "dtypes", "values"), "dtypes.values");
  profile.dtypes_source = reader.resolve_source(reader.string_field(dtypes, "dtypes", "source"), "dtypes.source");

  const Json& quantization = reader.member(document, "", "quantization");
  reader.only_keys(quantization, "quantization",
                   {"weight_granularity", "weight_symmetry", "weight_grid", "activation_granularity",
                    "activation_symmetry", "activation_grid", "rounding", "requantization", "bias_dtype", "algorithms"});
  QuantizationSpec& spec = profile.quantization;
  spec.weight_granularity = read_fact_member(reader, quantization, "quantization", "weight_granularity");
  spec.weight_symmetry = read_fact_member(reader, quantization, "quantization", "weight_symmetry");
  spec.weight_grid = read_fact_member(reader, quantization, "quantization", "weight_grid");
  spec.activation_granularity = read_fact_member(reader, quantization, "quantization", "activation_granularity");
  spec.activation_symmetry = read_fact_member(reader, quantization, "quantization", "activation_symmetry");
  spec.activation_grid = read_fact_member(reader, quantization, "quantization", "activation_grid");
  spec.rounding = read_fact_member(reader, quantization, "quantization", "rounding");
  spec.requantization = read_fact_member(reader, quantization, "quantization", "requantization");
  spec.bias_dtype = read_fact_member(reader, quantization, "quantization", "bias_dtype");
  spec.algorithms = read_fact_member(reader, quantization, "quantization", "algorithms");

  const Json& memory = reader.member(document, "", "memory");
  reader.only_keys(memory, "memory", {"on_chip_sram_bytes", "dram", "link", "link_bytes_per_second"});
  profile.memory.on_chip_sram_bytes = read_fact_member(reader, memory, "memory", "on_chip_sram_bytes");
  profile.memory.dram = read_fact_member(reader, memory, "memory", "dram");
  profile.memory.link = read_fact_member(reader, memory, "memory", "link");
  profile.memory.link_bytes_per_second = read_fact_member(reader, memory, "memory", "link_bytes_per_second");
  for (const Fact* numeric : {&profile.memory.on_chip_sram_bytes, &profile.memory.link_bytes_per_second}) {
    if (numeric->known && !numeric->number) reader.fail("memory", "byte figures must be numbers");
  }

  const Json& compute = reader.member(document, "", "compute");
  reader.only_keys(compute, "compute", {"tops_int8", "cores", "note"});
  profile.compute.tops_int8 = read_fact_member(reader, compute, "compute", "tops_int8");
  profile.compute.cores = read_fact_member(reader, compute, "compute", "cores");
  profile.compute.note = read_fact_member(reader, compute, "compute", "note");
  if (profile.compute.tops_int8.known && !profile.compute.tops_int8.number) {
    reader.fail("compute.tops_int8.value", "expected a number");
  }

  profile.nms = read_fact_member(reader, document, "", "nms");
  const Json& latencies = reader.member(document, "", "published_latency_ms");
  reader.expect_object(latencies, "published_latency_ms");
  for (const auto& [model, fact] : latencies.items()) {
    PublishedLatency latency{model, read_fact(reader, fact, "published_latency_ms." + model)};
    if (latency.milliseconds.known && !latency.milliseconds.number) {
      reader.fail("published_latency_ms." + model + ".value", "expected a number of milliseconds");
    }
    profile.published_latencies.push_back(std::move(latency));
  }
  (void)fallback_ops_source;
  profile.fallback_ops = fallback_ops;
  return profile;
}

}  // namespace

bool TargetProfile::matches(const std::string& wanted) const {
  const std::string key = lowercase(wanted);
  if (key == id) return true;
  return std::any_of(aliases.begin(), aliases.end(), [&](const std::string& alias) { return lowercase(alias) == key; });
}

TargetProfile parse_target_profile(std::string_view json_text, const std::string& file) {
  Json document;
  try {
    document = Json::parse(json_text.begin(), json_text.end());
  } catch (const Json::parse_error& error) {
    throw Error(ErrorKind::invalid_model, std::string("not valid JSON: ") + error.what(), file);
  }
  if (!document.is_object()) throw Error(ErrorKind::invalid_model, "expected a JSON object at the top level", file);
  return read_profile(document, file);
}

TargetProfile load_target_profile_file(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream || std::filesystem::is_directory(path)) {
    throw Error(ErrorKind::io, "cannot read the target profile (does the file exist?)", path);
  }
  std::stringstream buffer;
  buffer << stream.rdbuf();
  return parse_target_profile(buffer.str(), path);
}

const std::vector<TargetProfile>& builtin_target_profiles() {
  static std::once_flag once;
  static std::vector<TargetProfile> profiles;
  static std::optional<Error> failure;
  std::call_once(once, [] {
    try {
      std::set<std::string> names;
      for (const auto& [file, text] : embedded_profile_sources()) {
        TargetProfile profile = parse_target_profile(text, "builtin:" + std::string(file));
        if (!names.insert(profile.id).second) {
          throw Error(ErrorKind::invalid_model, "id '" + profile.id + "' is used by two built-in profiles", profile.file);
        }
        for (const std::string& alias : profile.aliases) {
          if (!names.insert(lowercase(alias)).second) {
            throw Error(ErrorKind::invalid_model, "alias '" + alias + "' is used twice among built-in profiles",
                        profile.file);
          }
        }
        profiles.push_back(std::move(profile));
      }
      std::sort(profiles.begin(), profiles.end(),
                [](const TargetProfile& a, const TargetProfile& b) { return a.id < b.id; });
    } catch (const Error& error) {
      failure = error;
      profiles.clear();
    }
  });
  if (failure) throw *failure;
  return profiles;
}

const TargetProfile& find_builtin_target(const std::string& name) {
  const std::vector<TargetProfile>& profiles = builtin_target_profiles();
  for (const TargetProfile& profile : profiles) {
    if (profile.matches(name)) return profile;
  }
  std::string known;
  for (const TargetProfile& profile : profiles) known += (known.empty() ? "" : ", ") + profile.id;
  throw Error(ErrorKind::invalid_argument,
              "unknown target '" + name + "' (built-in: " + known +
                  "; or give your own profile with --target-file PATH; `npukit targets` lists them)");
}

}  // namespace npukit::targets
