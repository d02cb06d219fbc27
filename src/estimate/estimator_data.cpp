#include "estimate/estimator_data.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "estimate/embedded_estimator_data.h"
#include "npukit/error.h"

namespace npukit::estimate {

namespace {

[[noreturn]] void data_error(const std::string& file, const std::string& message) {
  throw Error(ErrorKind::invalid_argument, message, file);
}

const nlohmann::json& required(const nlohmann::json& object, const char* key, const std::string& file,
                               const std::string& where) {
  if (!object.is_object() || !object.contains(key)) data_error(file, "field '" + where + key + "' is missing");
  return object.at(key);
}

double number_field(const nlohmann::json& object, const char* key, const std::string& file, const std::string& where) {
  const nlohmann::json& value = required(object, key, file, where);
  if (!value.is_number()) data_error(file, "field '" + where + key + "' must be a number");
  const double number = value.get<double>();
  if (!std::isfinite(number)) data_error(file, "field '" + where + key + "' must be finite");
  return number;
}

std::string text_field(const nlohmann::json& object, const char* key, const std::string& file, const std::string& where) {
  const nlohmann::json& value = required(object, key, file, where);
  if (!value.is_string()) data_error(file, "field '" + where + key + "' must be a string");
  return value.get<std::string>();
}

std::string_view embedded_text(std::string_view name) {
  for (const auto& [file, text] : embedded_estimator_data()) {
    if (file == name) return text;
  }
  return {};
}

ModelParameters parse_parameters(const nlohmann::json& object, const std::string& file, const std::string& where) {
  ModelParameters parameters;
  parameters.efficiency = number_field(object, "efficiency", file, where);
  parameters.layer_overhead_seconds = number_field(object, "layer_overhead_us", file, where) * 1e-6;
  parameters.depthwise_efficiency = number_field(object, "depthwise_efficiency", file, where);
  parameters.other_op_efficiency = number_field(object, "other_op_efficiency", file, where);
  parameters.invoke_overhead_seconds = number_field(object, "invoke_overhead_us", file, where) * 1e-6;
  if (!(parameters.efficiency > 0) || !(parameters.depthwise_efficiency > 0) || !(parameters.other_op_efficiency > 0) ||
      parameters.layer_overhead_seconds < 0 || parameters.invoke_overhead_seconds < 0) {
    data_error(file, "field '" + where + "': efficiencies must be > 0 and overheads >= 0");
  }
  return parameters;
}

nlohmann::json parameters_json(const ModelParameters& parameters) {
  return {{"efficiency", parameters.efficiency},
          {"layer_overhead_us", parameters.layer_overhead_seconds * 1e6},
          {"depthwise_efficiency", parameters.depthwise_efficiency},
          {"other_op_efficiency", parameters.other_op_efficiency},
          {"invoke_overhead_us", parameters.invoke_overhead_seconds * 1e6}};
}

ErrorSummary parse_summary(const nlohmann::json& object, const std::string& file, const std::string& where) {
  ErrorSummary summary;
  summary.count = static_cast<size_t>(number_field(object, "count", file, where));
  summary.median_error = number_field(object, "median_error", file, where);
  summary.max_ratio = number_field(object, "max_ratio", file, where);
  summary.min_signed_log = std::log(number_field(object, "lowest_published_over_predicted", file, where));
  summary.max_signed_log = std::log(number_field(object, "highest_published_over_predicted", file, where));
  return summary;
}

nlohmann::json summary_json(const ErrorSummary& summary) {
  return {{"count", summary.count},
          {"median_error", summary.median_error},
          {"max_ratio", summary.max_ratio},
          {"lowest_published_over_predicted", std::exp(summary.min_signed_log)},
          {"highest_published_over_predicted", std::exp(summary.max_signed_log)}};
}

nlohmann::json point_json(const CalibrationPoint& point) {
  nlohmann::json json = {{"target", point.target}, {"model", point.model}, {"published_model", point.published_model},
                         {"ms", point.milliseconds}, {"basis", point.basis}, {"source", point.source}};
  if (!point.input_shape.empty()) json["input_shape"] = point.input_shape;
  if (point.parallel_instances != 1) json["parallel_instances"] = point.parallel_instances;
  if (point.batch != 1) json["batch"] = point.batch;
  if (!point.derived.empty()) json["derived"] = point.derived;
  if (point.held_out) {
    json["role"] = "held_out";
    json["reason"] = point.held_out_reason;
  }
  return json;
}

CalibrationPoint parse_point(const nlohmann::json& object, const std::string& file, const std::string& where) {
  CalibrationPoint point;
  point.target = text_field(object, "target", file, where);
  point.model = text_field(object, "model", file, where);
  point.published_model = text_field(object, "published_model", file, where);
  point.milliseconds = number_field(object, "ms", file, where);
  point.basis = text_field(object, "basis", file, where);
  point.source = text_field(object, "source", file, where);
  if (point.basis != "latency" && point.basis != "throughput") data_error(file, "field '" + where + "basis' must be latency or throughput");
  if (!(point.milliseconds > 0)) data_error(file, "field '" + where + "ms' must be > 0");
  if (object.contains("input_shape")) {
    for (const nlohmann::json& dim : object.at("input_shape")) {
      if (!dim.is_number_integer() || dim.get<int64_t>() <= 0) data_error(file, "field '" + where + "input_shape' must hold positive integers");
      point.input_shape.push_back(dim.get<int64_t>());
    }
  }
  if (object.contains("derived")) point.derived = text_field(object, "derived", file, where);
  if (object.contains("parallel_instances")) point.parallel_instances = static_cast<int>(number_field(object, "parallel_instances", file, where));
  if (object.contains("batch")) {
    const double batch = number_field(object, "batch", file, where);
    if (batch < 1 || batch > 4096 || batch != std::floor(batch)) data_error(file, "field '" + where + "batch' must be a whole number from 1 to 4096");
    point.batch = static_cast<int>(batch);
  }
  if (point.parallel_instances < 1) data_error(file, "field '" + where + "parallel_instances' must be >= 1");
  if (object.contains("role")) {
    const std::string role = text_field(object, "role", file, where);
    if (role != "held_out" && role != "fit") data_error(file, "field '" + where + "role' must be fit or held_out");
    point.held_out = role == "held_out";
    if (point.held_out) point.held_out_reason = text_field(object, "reason", file, where);
  }
  return point;
}

// A profile fact as a Figure when it is a known number.
std::optional<Figure> profile_number(const targets::Fact& fact, const std::string& what) {
  if (!fact.known || !fact.number) return std::nullopt;
  return Figure{*fact.number, false, "profile: " + what + (fact.source.empty() ? "" : " (" + fact.source + ")")};
}

}  // namespace

double TargetFacts::peak_macs_per_second() const {
  const double cores = std::max(1.0, cores_in_tops.value);
  return tops_int8.value * dense_share_of_tops.value * 1e12 / 2.0 / cores * std::max(1.0, cores_used.value);
}

ModelParameters FittedParameters::for_target(const std::string& target_id, const std::string& family) const {
  auto found = per_target.find(target_id);
  if (found != per_target.end()) return found->second;
  ModelParameters parameters = shared;
  auto family_value = family_depthwise_efficiency.find(family);
  if (family_value != family_depthwise_efficiency.end()) parameters.depthwise_efficiency = family_value->second;
  return parameters;
}

EstimatorInputs parse_estimator_inputs(std::string_view json_text, const std::string& file) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {
    data_error(file, std::string("not valid JSON: ") + error.what());
  }
  EstimatorInputs inputs;
  const nlohmann::json& assumptions = required(json, "assumptions", file, "");
  if (!assumptions.is_object()) data_error(file, "field 'assumptions' must be an object");
  for (const auto& [target, facts] : assumptions.items()) {
    if (!facts.is_object()) data_error(file, "field 'assumptions." + target + "' must be an object");
    for (const auto& [name, fact] : facts.items()) {
      const std::string where = "assumptions." + target + "." + name + ".";
      // A misspelled fact would be ignored in silence and the default used: refuse it.
      static const std::set<std::string> known = {"activation_bytes_per_element", "channel_alignment", "dram_bytes_per_second",
                                                   "link_efficiency", "link_latency_us", "on_soc_transfer_us", "cores_used",
                                                   "cores_in_tops", "cpu_slowdown_vs_host", "slow_path_efficiency", "tops_int8",
                                                   "on_chip_bytes", "pipelined", "stream_weights_over_link", "dense_share_of_tops"};
      if (!known.count(name)) data_error(file, "field 'assumptions." + target + "." + name + "' is not a fact the estimator reads");
      inputs.assumptions[target][name] = {number_field(fact, "value", file, where), text_field(fact, "reason", file, where)};
    }
  }
  if (json.contains("architecture_families")) {
    const nlohmann::json& families = json.at("architecture_families");
    if (!families.is_object()) data_error(file, "field 'architecture_families' must be an object");
    for (const auto& [family, entry] : families.items()) {
      const std::string where = "architecture_families." + family + ".";
      const std::string reason = text_field(entry, "reason", file, where);
      const nlohmann::json& members = required(entry, "targets", file, where);
      if (!members.is_array() || members.empty()) data_error(file, "field '" + where + "targets' must be a non-empty list of target ids");
      for (const nlohmann::json& member : members) {
        if (!member.is_string()) data_error(file, "field '" + where + "targets' must hold target ids (strings)");
        const std::string target = member.get<std::string>();
        if (inputs.families.count(target)) {
          data_error(file, "target '" + target + "' is in two architecture families (" + inputs.families[target].first + " and " + family + ")");
        }
        inputs.families[target] = {family, reason};
      }
    }
  }
  const nlohmann::json& points = required(json, "calibration_points", file, "");
  for (size_t i = 0; i < points.size(); ++i) {
    inputs.points.push_back(parse_point(points[i], file, "calibration_points[" + std::to_string(i) + "]."));
  }
  if (json.contains("left_out")) {
    for (const nlohmann::json& left : json.at("left_out")) {
      inputs.left_out.push_back({text_field(left, "target", file, "left_out[]."), text_field(left, "published_model", file, "left_out[]."),
                                 text_field(left, "reason", file, "left_out[].")});
    }
  }
  return inputs;
}

FittedParameters parse_fitted_parameters(std::string_view json_text, const std::string& file) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {
    data_error(file, std::string("not valid JSON: ") + error.what());
  }
  FittedParameters fitted;
  fitted.present = true;
  fitted.provenance = text_field(json, "provenance", file, "");
  fitted.shrinkage = number_field(json, "shrinkage", file, "");
  fitted.shared = parse_parameters(required(json, "shared", file, ""), file, "shared.");
  if (json.contains("families")) {
    for (const auto& [family, object] : json.at("families").items()) {
      fitted.family_depthwise_efficiency[family] = number_field(object, "depthwise_efficiency", file, "families." + family + ".");
    }
  }
  for (const auto& [target, object] : required(json, "targets", file, "").items()) {
    fitted.per_target[target] = parse_parameters(object, file, "targets." + target + ".");
    fitted.points_per_target[target] = static_cast<size_t>(number_field(object, "points", file, "targets." + target + "."));
  }
  fitted.fit_error = parse_summary(required(json, "fit_error", file, ""), file, "fit_error.");
  fitted.leave_one_out_error = parse_summary(required(json, "leave_one_out_error", file, ""), file, "leave_one_out_error.");
  for (const auto& [target, object] : required(json, "leave_one_out_by_target", file, "").items()) {
    fitted.leave_one_out_by_target[target] = parse_summary(object, file, "leave_one_out_by_target." + target + ".");
  }
  if (json.contains("nested_leave_one_out")) {
    const nlohmann::json& nested = json.at("nested_leave_one_out");
    fitted.nested_leave_one_out_error = parse_summary(nested, file, "nested_leave_one_out.");
    for (const nlohmann::json& value : required(nested, "shrinkage_candidates", file, "nested_leave_one_out.")) {
      fitted.shrinkage_candidates.push_back(value.get<double>());
    }
    for (const auto& [shrinkage, count] : required(nested, "chosen", file, "nested_leave_one_out.").items()) {
      fitted.nested_choices[shrinkage] = count.get<size_t>();
    }
  }
  for (const nlohmann::json& object : required(json, "points", file, "")) {
    PointResult result;
    result.point = parse_point(object, file, "points[].");
    result.fitted_milliseconds = number_field(object, "fitted_ms", file, "points[].");
    result.leave_one_out_milliseconds = number_field(object, "leave_one_out_ms", file, "points[].");
    if (object.contains("nested_leave_one_out_ms")) {
      result.nested_leave_one_out_milliseconds = number_field(object, "nested_leave_one_out_ms", file, "points[].");
    }
    result.bottleneck = text_field(object, "bottleneck", file, "points[].");
    fitted.points.push_back(std::move(result));
  }
  if (json.contains("held_out_points")) {
    for (const nlohmann::json& object : json.at("held_out_points")) {
      PointResult result;
      result.point = parse_point(object, file, "held_out_points[].");
      result.fitted_milliseconds = number_field(object, "predicted_ms", file, "held_out_points[].");
      result.leave_one_out_milliseconds = result.fitted_milliseconds;
      result.bottleneck = text_field(object, "bottleneck", file, "held_out_points[].");
      fitted.held_out_points.push_back(std::move(result));
    }
  }
  if (json.contains("excluded")) {
    for (const nlohmann::json& text : json.at("excluded")) fitted.excluded.push_back(text.get<std::string>());
  }
  return fitted;
}

std::string fitted_parameters_json(const FittedParameters& fitted) {
  nlohmann::ordered_json json;
  json["schema"] = "npukit-estimator-fit/1";
  json["provenance"] = fitted.provenance;
  json["shrinkage"] = fitted.shrinkage;
  json["shared"] = parameters_json(fitted.shared);
  json["families"] = nlohmann::json::object();
  for (const auto& [family, value] : fitted.family_depthwise_efficiency) json["families"][family] = {{"depthwise_efficiency", value}};
  json["targets"] = nlohmann::json::object();
  for (const auto& [target, parameters] : fitted.per_target) {
    nlohmann::ordered_json entry = parameters_json(parameters);
    auto count = fitted.points_per_target.find(target);
    entry["points"] = count == fitted.points_per_target.end() ? 0 : count->second;
    json["targets"][target] = entry;
  }
  json["fit_error"] = summary_json(fitted.fit_error);
  json["leave_one_out_error"] = summary_json(fitted.leave_one_out_error);
  json["leave_one_out_by_target"] = nlohmann::json::object();
  for (const auto& [target, summary] : fitted.leave_one_out_by_target) json["leave_one_out_by_target"][target] = summary_json(summary);
  if (fitted.nested_leave_one_out_error.count > 0) {
    nlohmann::ordered_json nested = summary_json(fitted.nested_leave_one_out_error);
    nested["shrinkage_candidates"] = fitted.shrinkage_candidates;
    nested["chosen"] = fitted.nested_choices;
    json["nested_leave_one_out"] = nested;
  }
  json["points"] = nlohmann::json::array();
  for (const PointResult& result : fitted.points) {
    nlohmann::ordered_json entry = point_json(result.point);
    entry["fitted_ms"] = result.fitted_milliseconds;
    entry["leave_one_out_ms"] = result.leave_one_out_milliseconds;
    if (result.nested_leave_one_out_milliseconds > 0) entry["nested_leave_one_out_ms"] = result.nested_leave_one_out_milliseconds;
    entry["bottleneck"] = result.bottleneck;
    json["points"].push_back(entry);
  }
  json["held_out_points"] = nlohmann::json::array();
  for (const PointResult& result : fitted.held_out_points) {
    nlohmann::ordered_json entry = point_json(result.point);
    entry["predicted_ms"] = result.fitted_milliseconds;
    entry["bottleneck"] = result.bottleneck;
    json["held_out_points"].push_back(entry);
  }
  json["excluded"] = fitted.excluded;
  return json.dump(2) + "\n";
}

const EstimatorInputs& builtin_estimator_inputs() {
  static const EstimatorInputs inputs =
      parse_estimator_inputs(embedded_text("estimator_inputs.json"), "builtin:estimate/estimator_inputs.json");
  return inputs;
}

const FittedParameters& builtin_fitted_parameters() {
  static const FittedParameters fitted = [] {
    const std::string_view text = embedded_text("fitted_parameters.json");
    if (text.empty()) return FittedParameters{};
    return parse_fitted_parameters(text, "builtin:estimate/fitted_parameters.json");
  }();
  return fitted;
}

TargetFacts resolve_target_facts(const targets::TargetProfile& profile, const EstimatorInputs& inputs) {
  TargetFacts facts;
  facts.target_id = profile.id;
  auto assumption = [&](const std::string& name) -> std::optional<Figure> {
    for (const std::string& scope : {profile.id, std::string("default")}) {
      auto target = inputs.assumptions.find(scope);
      if (target == inputs.assumptions.end()) continue;
      auto fact = target->second.find(name);
      if (fact != target->second.end()) return Figure{fact->second.first, true, fact->second.second};
    }
    return std::nullopt;
  };
  // The profile's fact when it has the number, else the assumption; a fact neither has is listed as missing.
  auto resolve = [&](const std::string& name, std::optional<Figure> from_profile) {
    if (from_profile) return *from_profile;
    if (auto assumed = assumption(name)) return *assumed;
    facts.missing.push_back(name);
    return Figure{0, true, "unknown"};
  };
  facts.tops_int8 = resolve("tops_int8", profile_number(profile.compute.tops_int8, "compute.tops_int8"));
  if (!facts.missing.empty() && facts.missing.back() == "tops_int8") {
    facts.missing.back() = "a TOPS figure (profile: " + profile.compute.tops_int8.text + ")";
  }
  // A TOPS figure counted with structured sparsity (Jetson) is twice what dense INT8, as published figures run, reaches.
  if (auto dense = assumption("dense_share_of_tops")) {
    if (!(dense->value > 0 && dense->value <= 1)) facts.missing.push_back("a dense share of TOPS in (0, 1]");
    facts.dense_share_of_tops = *dense;
  } else {
    facts.dense_share_of_tops = Figure{1, false, "the TOPS figure is dense INT8"};
  }
  // An assumption about how many cores the TOPS covers overrides the profile's core count (Jetson: 2 DLAs).
  std::optional<Figure> cores_assumed = assumption("cores_in_tops");
  std::optional<Figure> cores_profile = profile_number(profile.compute.cores, "compute.cores");
  facts.cores_in_tops = cores_assumed   ? *cores_assumed
                        : cores_profile ? *cores_profile
                                        : Figure{1, true, "core count not in the profile: the TOPS figure is taken as one core's"};
  facts.cores_used = resolve("cores_used", std::nullopt);
  std::optional<Figure> sram = profile_number(profile.memory.on_chip_sram_bytes, "memory.on_chip_sram_bytes");
  std::optional<Figure> sram_assumed = assumption("on_chip_bytes");
  facts.on_chip_bytes = sram ? *sram : sram_assumed ? *sram_assumed : Figure{0, true, "on-chip memory not in the profile (" + profile.memory.on_chip_sram_bytes.display() +
                                                           "): every layer's activations assumed to go through DRAM"};
  facts.dram_bytes_per_second = resolve("dram_bytes_per_second", std::nullopt);
  std::optional<Figure> link = profile_number(profile.memory.link_bytes_per_second, "memory.link_bytes_per_second");
  facts.on_soc = !link;
  facts.link_bytes_per_second = link ? *link : Figure{0, false, "on-SoC: " + profile.memory.link_bytes_per_second.text};
  facts.link_name = profile.memory.link.display();
  facts.link_efficiency = resolve("link_efficiency", std::nullopt);
  Figure latency = resolve("link_latency_us", std::nullopt);
  facts.link_latency_seconds = Figure{latency.value * 1e-6, latency.assumed, latency.origin};
  Figure hand_over = resolve("on_soc_transfer_us", std::nullopt);
  facts.on_soc_transfer_seconds = Figure{hand_over.value * 1e-6, hand_over.assumed, hand_over.origin};
  facts.channel_alignment = resolve("channel_alignment", std::nullopt);
  facts.bytes_per_element = resolve("activation_bytes_per_element", std::nullopt);
  facts.cpu_slowdown_vs_host = resolve("cpu_slowdown_vs_host", std::nullopt);
  facts.slow_path_efficiency = resolve("slow_path_efficiency", std::nullopt);
  if (auto pipelined = assumption("pipelined"); pipelined && pipelined->value != 0) {
    facts.pipelined = true;
    facts.pipelined_reason = pipelined->origin;
  }
  if (auto stream = assumption("stream_weights_over_link"); stream && stream->value != 0) facts.stream_weights_over_link = true;
  if (auto family = inputs.families.find(profile.id); family != inputs.families.end()) {
    facts.family = family->second.first;
    facts.family_reason = family->second.second;
  }
  if (!(facts.tops_int8.value > 0) && facts.missing.empty()) facts.missing.push_back("a positive TOPS figure");
  return facts;
}

ErrorSummary summarize_errors(const std::vector<std::pair<double, double>>& predicted_published) {
  ErrorSummary summary;
  summary.count = predicted_published.size();
  if (predicted_published.empty()) return summary;
  std::vector<double> errors;
  summary.min_signed_log = 1e300;
  summary.max_signed_log = -1e300;
  for (const auto& [predicted, published] : predicted_published) {
    errors.push_back(std::abs(predicted - published) / published);
    const double signed_log = std::log(published / predicted);
    summary.min_signed_log = std::min(summary.min_signed_log, signed_log);
    summary.max_signed_log = std::max(summary.max_signed_log, signed_log);
    summary.max_ratio = std::max(summary.max_ratio, std::exp(std::abs(signed_log)));
  }
  std::sort(errors.begin(), errors.end());
  const size_t middle = errors.size() / 2;
  summary.median_error = errors.size() % 2 ? errors[middle] : (errors[middle - 1] + errors[middle]) / 2;
  return summary;
}

}  // namespace npukit::estimate
