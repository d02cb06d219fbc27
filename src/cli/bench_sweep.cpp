#include "cli/bench_sweep.h"

#include "api/build_versions.h"
#include "benchmark/measurement_conditions.h"
#include "cli/file_digest.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "npukit/error.h"
#include "npukit/version.h"
#include "sweep/sweep_document.h"

namespace npukit::cli {

namespace {

// A builtin:NAME model is defined by the npukit build (in the conditions); its "hash" is the reference's.
std::string model_hash(const std::string& reference) {
  if (reference.rfind("builtin:", 0) == 0) return sha256_of_text(reference);
  return sha256_of_file(reference);
}

// What a record's figure depends on besides its model and thread count: every run setting, so records of different
// budgets or backends never share a key.
nlohmann::json record_settings(const BenchSettings& base, int threads) {
  nlohmann::json json;
  json["backend"] = base.backend;
  json["target"] = base.target;
  json["threads"] = threads;
  json["warmup"] = base.warmup;
  json["iterations"] = base.iterations > 0 ? nlohmann::json(base.iterations) : nlohmann::json("as many as the time budget allows");
  json["time_budget_s"] = base.iterations > 0 ? nlohmann::json(nullptr) : nlohmann::json(base.seconds);
  json["min_iterations"] = base.iterations > 0 ? nlohmann::json(nullptr) : nlohmann::json(base.min_iterations);
  json["seed"] = base.seed;
  json["inputs"] = base.inputs;
  json["input_shapes"] = base.input_shapes;
  json["input_values"] = base.input_values;
  return json;
}

// The machine and build every timing of the sweep depends on: shards measured on other machines, kernels or builds
// do not merge into one table. The clock's current frequency is left out (it changes from second to second; each
// record's result keeps it in its own conditions); the governor and boost setting stay in.
nlohmann::json sweep_conditions() {
  const benchmark::MachineConditions machine = benchmark::read_machine_conditions();
  nlohmann::json json;
  json["npukit"] = npukit::build_description();
  json["libraries"] = api::build_versions();
  json["machine"] = {{"cpu", machine.cpu},
                     {"hardware_threads", machine.hardware_threads},
                     {"flags", machine.flags},
                     {"frequency_governor", machine.frequency_governor},
                     {"frequency_boost", machine.frequency_boost},
                     {"kernel", machine.kernel}};
  json["figure"] = "model only: one Session::run with the inputs set, single-stream, batch as the model declares it";
  return json;
}

// The target a record names: the backend, and for the simulator the simulated target.
std::string record_target(const BenchSettings& base) {
  return base.backend == "sim" && !base.target.empty() ? "sim:" + base.target : base.backend;
}

}  // namespace

nlohmann::json run_bench_sweep(const BenchSweepSettings& settings) {
  if (settings.models.empty()) throw Error(ErrorKind::invalid_argument, "give at least one MODEL or --model-list FILE");
  if (settings.threads.empty()) throw Error(ErrorKind::invalid_argument, "give at least one thread count (--threads 1,2)");
  for (int threads : settings.threads) {
    if (threads < 0) throw Error(ErrorKind::invalid_argument, "--threads must be 0 (all cores) or more, got " + std::to_string(threads));
  }
  const size_t thread_count = settings.threads.size();
  const size_t items = settings.models.size() * thread_count;
  // Hash every model (not only this shard's): the sweep's identity covers all of them, so shards of a sweep whose
  // files changed in between are refused at merge.
  std::vector<std::string> hashes;
  std::string identity = "bench\n" + record_settings(settings.base, 0).dump() + "\n";
  for (const std::string& model : settings.models) {
    hashes.push_back(model_hash(model));
    identity += model + " " + hashes.back() + "\n";
  }
  for (int threads : settings.threads) identity += "threads " + std::to_string(threads) + "\n";
  const nlohmann::json conditions = sweep_conditions();

  size_t mine = 0;
  for (size_t item = 0; item < items; ++item) mine += settings.shard.takes(item) ? 1 : 0;
  Progress progress("benchmarking shard " + settings.shard.text(), static_cast<int64_t>(mine));
  size_t done = 0;
  std::vector<nlohmann::json> records;
  for (size_t m = 0; m < settings.models.size(); ++m) {
    for (size_t t = 0; t < thread_count; ++t) {
      if (!settings.shard.takes(m * thread_count + t)) continue;
      const std::string& model = settings.models[m];
      progress.update(static_cast<int64_t>(done), model + ", " + std::to_string(settings.threads[t]) + " thread(s)");
      BenchSettings item = settings.base;
      item.model = model;
      item.threads = settings.threads[t];
      item.profile = false;
      item.print_notes = false;
      try {
        const BenchMeasurement measurement = measure_model(item);
        nlohmann::json record;
        record["model"] = model;
        record["model_sha256"] = hashes[m];
        record["target"] = record_target(item);
        record["settings"] = record_settings(item, item.threads);
        record["result"] = measurement_json(item, measurement, false);
        records.push_back(std::move(record));
      } catch (const Error& error) {
        throw Error(error.kind(), "sweep item " + model + " (" + std::to_string(item.threads) + " thread(s)): " + error.reason() +
                                      " (fix or remove it from the list; nothing was written)",
                    error.file().empty() ? model : error.file(), error.node());
      }
      progress.update(static_cast<int64_t>(++done), model);
    }
  }
  progress.finish();
  return sweep::make_document({"bench", items, sha256_of_text(identity)}, settings.shard, conditions, std::move(records));
}

void print_bench_sweep_table(std::ostream& out, const nlohmann::json& document) {
  Table table({{"model"}, {"backend"}, {"threads", Align::right}, {"runs", Align::right}, {"p50", Align::right}, {"p90", Align::right},
               {"mean", Align::right}, {"std dev", Align::right}, {"throughput", Align::right}});
  for (const nlohmann::json& record : document["records"]) {
    const nlohmann::json& result = record["result"];
    const nlohmann::json& latency = result["latency_ms"];
    table.add_row({record["model"].get<std::string>(), record["target"].get<std::string>(), std::to_string(result["threads"].get<int>()),
                   std::to_string(result["iterations"].get<size_t>()), format_seconds(latency["p50"].get<double>() * 1e-3),
                   format_seconds(latency["p90"].get<double>() * 1e-3), format_seconds(latency["mean"].get<double>() * 1e-3),
                   latency["stddev"].is_null() ? "unknown (1 run)" : format_seconds(latency["stddev"].get<double>() * 1e-3),
                   format_number(result["throughput_per_second"].get<double>(), 4) + " /s"});
  }
  table.print(out);
  out << "model only, single-stream (runs back to back on one session); the conditions of each figure are in the JSON\n";
}

}  // namespace npukit::cli
