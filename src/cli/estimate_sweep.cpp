#include "cli/estimate_sweep.h"

#include <filesystem>
#include <fstream>

#include "benchmark/measurement_conditions.h"
#include "check/target_check.h"
#include "cli/file_digest.h"
#include "cli/model_arguments.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "estimate/estimate_json.h"
#include "estimate/host_cpu_timing.h"
#include "estimate/model_estimate.h"
#include "npukit/error.h"
#include "npukit/version.h"
#include "sweep/sweep_document.h"

namespace npukit::cli {

namespace {

std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// A builtin:NAME model is defined by the npukit build (in the conditions); its "hash" is the reference's.
std::string model_hash(const std::string& reference) {
  if (reference.rfind("builtin:", 0) == 0) return sha256_of_text(reference);
  return sha256_of_file(reference);
}

nlohmann::json record_settings(const EstimateSweepSettings& settings) {
  nlohmann::json json;
  json["cores"] = settings.cores > 0 ? nlohmann::json(settings.cores) : nlohmann::json("target default");
  json["cpu_slowdown"] = settings.cpu_slowdown > 0 ? nlohmann::json(settings.cpu_slowdown) : nlohmann::json("target assumption");
  json["cpu_timing"] = !settings.no_cpu_timing;
  json["input_shapes"] = settings.input_shapes;
  json["input_values"] = settings.input_values;
  return json;
}

// What every figure of the sweep depends on besides the model and the settings: a shard made under other
// conditions does not merge with this one.
nlohmann::json sweep_conditions(const EstimateSweepSettings& settings) {
  const estimate::FittedParameters& fitted = estimate::builtin_fitted_parameters();
  nlohmann::json json;
  json["npukit"] = npukit::build_description();
  json["fitted_parameters"] = fitted.present ? fitted.provenance : "none (no fit)";
  json["figure"] = "INT8, batch 1, the graph as given (no pre-processing or NMS outside it)";
  // Fallback nodes are timed on this host: the host is a condition then, and only then.
  json["host_cpu"] = settings.no_cpu_timing ? "not used (--no-cpu-timing: fallback nodes are not timed)"
                                            : benchmark::read_machine_conditions().cpu;
  return json;
}

}  // namespace

std::vector<std::string> read_model_list(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw Error(ErrorKind::io, "cannot open the model list (does it exist?)", path);
  std::vector<std::string> models;
  std::string line;
  size_t number = 0;
  while (std::getline(file, line)) {
    ++number;
    const std::string entry = trimmed(line);
    if (entry.empty() || entry[0] == '#') continue;
    if (entry.find('\0') != std::string::npos) {
      throw Error(ErrorKind::invalid_argument, "line " + std::to_string(number) + " has a NUL byte: not a text list of models", path);
    }
    models.push_back(entry);
  }
  if (file.bad()) throw Error(ErrorKind::io, "read error in the model list", path);
  if (models.empty()) throw Error(ErrorKind::invalid_argument, "the model list names no model (one path per line, # for comments)", path);
  return models;
}

nlohmann::json run_estimate_sweep(const EstimateSweepSettings& settings) {
  if (settings.models.empty()) throw Error(ErrorKind::invalid_argument, "give at least one MODEL or --model-list FILE");
  const size_t target_count = settings.profiles.size();
  const size_t items = settings.models.size() * target_count;
  // Hash every model (not only this shard's): the sweep's identity covers all of them, so shards of a sweep
  // whose files changed in between are refused at merge.
  std::vector<std::string> hashes;
  std::string identity = "estimate\n" + record_settings(settings).dump() + "\n";
  for (const std::string& model : settings.models) {
    hashes.push_back(model_hash(model));
    identity += model + " " + hashes.back() + "\n";
  }
  for (const targets::TargetProfile& profile : settings.profiles) identity += "target " + profile.id + "\n";
  const nlohmann::json settings_json = record_settings(settings);
  const nlohmann::json conditions = sweep_conditions(settings);

  size_t mine = 0;
  for (size_t item = 0; item < items; ++item) mine += settings.shard.takes(item) ? 1 : 0;
  Progress progress("estimating shard " + settings.shard.text(), static_cast<int64_t>(mine));
  size_t done = 0;
  std::vector<nlohmann::json> records;
  for (size_t m = 0; m < settings.models.size(); ++m) {
    std::vector<size_t> targets_here;
    for (size_t t = 0; t < target_count; ++t) {
      if (settings.shard.takes(m * target_count + t)) targets_here.push_back(t);
    }
    if (targets_here.empty()) continue;
    const std::string& model = settings.models[m];
    progress.update(static_cast<int64_t>(done), model);
    try {
      preparation::PreparedModel prepared = load_model_argument(model, settings.input_shapes, settings.input_values);
      preparation::require_static_inputs(prepared.model, "estimate");
      std::vector<check::CheckResult> checks;
      bool any_fallback = false;
      for (size_t t : targets_here) {
        checks.push_back(check::check_model(prepared.model, settings.profiles[t]));
        any_fallback = any_fallback || estimate::has_fallback_nodes(checks.back());
      }
      estimate::HostCpuTimes cpu_times;
      cpu_times.description = !any_fallback ? "not needed: no node falls back" : "not measured (--no-cpu-timing)";
      if (any_fallback && !settings.no_cpu_timing) cpu_times = estimate::time_nodes_on_host(prepared.model);
      estimate::ModelEstimateOptions options;
      options.cores = settings.cores;
      if (settings.cpu_slowdown > 0) options.cpu_slowdown = settings.cpu_slowdown;
      for (size_t k = 0; k < targets_here.size(); ++k) {
        const estimate::Estimate estimate = estimate::estimate_model(prepared.model, checks[k], settings.profiles[targets_here[k]], cpu_times,
                                                                     estimate::builtin_fitted_parameters(),
                                                                     estimate::builtin_estimator_inputs(), options);
        nlohmann::json record;
        record["model"] = model;
        record["model_sha256"] = hashes[m];
        record["target"] = settings.profiles[targets_here[k]].id;
        record["settings"] = settings_json;
        record["preparation"] = preparation_json(prepared);
        record["result"] = estimate::estimate_json(estimate, false);  // segments, no per-layer list: a sweep's records stay small
        records.push_back(std::move(record));
        progress.update(static_cast<int64_t>(++done), model);
      }
    } catch (const Error& error) {
      throw Error(error.kind(), "sweep item " + model + ": " + error.reason() + " (fix or remove it from the list; nothing was written)",
                  error.file().empty() ? model : error.file(), error.node());
    }
  }
  progress.finish();
  return sweep::make_document({"estimate", items, sha256_of_text(identity)}, settings.shard, conditions, std::move(records));
}

void print_sweep_table(std::ostream& out, const nlohmann::json& document) {
  Table table({{"model"}, {"target"}, {"latency", Align::right}, {"FPS", Align::right}, {"band (leave-one-out)", Align::right},
               {"bottleneck"}});
  bool any_pipelined = false;
  for (const nlohmann::json& record : document["records"]) {
    const nlohmann::json& result = record["result"];
    const std::string target = record["target"].get<std::string>();
    if (!result.value("available", false)) {
      table.add_row({record["model"].get<std::string>(), target, "unknown", "unknown", "", result.value("reason", std::string())});
      continue;
    }
    const bool pipelined = result.value("pipelined", false);
    any_pipelined = any_pipelined || pipelined;
    const nlohmann::json& band = result["error_band"];
    const bool has_band = band.value("points", 0) > 0;
    table.add_row({record["model"].get<std::string>(), target + (pipelined ? " *" : ""),
                   format_seconds(result["latency_ms"].get<double>() * 1e-3), format_number(result["fps"].get<double>(), 4),
                   has_band ? format_seconds(band["low_ms"].get<double>() * 1e-3) + " - " + format_seconds(band["high_ms"].get<double>() * 1e-3)
                            : "unknown (no fit)",
                   result.value("bottleneck", std::string())});
  }
  table.print(out);
  if (any_pipelined) out << "* pipelined (dataflow) device: time per frame at full throughput, not single-frame latency\n";
}

}  // namespace npukit::cli
