// One model-only measurement of `npukit bench`: load, warm up, time N runs (or a time budget), optionally profile
// every node, and the figures as `bench --json` gives them. Shared by the single run (bench_command.cpp) and the
// sweep (bench_sweep.h), so a sweep record holds exactly what one `bench --json` would.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "benchmark/measurement_conditions.h"
#include "cli/bench_conditions.h"

namespace npukit::cli {

struct BenchSettings {
  std::string model;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
  std::vector<std::string> inputs;  // NAME=FILE.npy; the other inputs get random data
  std::string backend = "cpu";
  std::string target;  // --backend sim: the simulated target (built-in id or profile file)
  int threads = 1;
  int warmup = 5;
  int iterations = 0;       // 0: run for `seconds`
  double seconds = 10;
  int min_iterations = 10;  // even when the budget runs out
  uint64_t seed = 0;
  bool profile = false;
  bool print_notes = true;  // the preparation notes on stderr (a sweep keeps them in its records instead)
};

struct ProfileRow {
  std::string node, op_type, backend;
  double milliseconds = 0;
  std::optional<double> gflops;
};

// Per op type: how many nodes, their summed median times, and their share of the profiled total.
struct OpTypeRow {
  std::string op_type;
  size_t count = 0;
  double milliseconds = 0;
};

// The timed runs summed up. The standard deviation is the sample one (n - 1); one run has none.
struct LatencySummary {
  double mean = 0;
  std::optional<double> standard_deviation;
  double throughput = 0;  // inferences per second of the timed phase, wall clock, runs back to back
};

struct BenchMeasurement {
  nlohmann::json preparation;
  std::vector<std::pair<std::string, std::string>> input_shapes_used;  // name, "f32[1, 3, 640, 640]"
  benchmark::ModelConditions model_conditions;
  std::map<std::string, std::string> inputs_from_files;  // input name -> .npy path
  double load_seconds = 0;
  std::vector<double> sorted_latencies;  // seconds, ascending
  LatencySummary summary;
  BenchRun run;
  size_t activation_arena_bytes = 0;
  size_t activation_arena_values = 0;
  std::vector<ProfileRow> profile;        // slowest first (with --profile)
  std::vector<double> profiled_runs;      // whole-run seconds while profiling, ascending
  std::vector<OpTypeRow> op_types;        // slowest first
  double profiled_total_milliseconds = 0;
};

// Throws Error naming the model for what cannot be loaded or run, and for bad settings.
BenchMeasurement measure_model(const BenchSettings& settings);

double percentile(const std::vector<double>& sorted, double fraction);

// The figures as `bench --json` prints them. `with_process_figures`: the process's peak RSS, which only means
// something when the process measured this model alone (a sweep's process measures many).
nlohmann::json measurement_json(const BenchSettings& settings, const BenchMeasurement& measurement, bool with_process_figures);

double peak_rss_mib();

}  // namespace npukit::cli
