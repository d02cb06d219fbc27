#include "cli/bench_measurement.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <random>

#include "cli/input_files.h"
#include "cli/model_arguments.h"
#include "cli/tensor_values.h"
#include "engine/engine.h"
#include "inspect/node_cost.h"
#include "ir/graph.h"
#include "npukit/error.h"
#include "npukit/session.h"

namespace npukit::cli {

namespace {

// MACs of a node as inspect counts them; a fused convolution costs what its Conv does.
std::optional<int64_t> node_macs(const ir::Node& node) {
  if (node.op_type == "FusedConv") {
    ir::Node as_conv = node;
    as_conv.op_type = "Conv";
    as_conv.domain.clear();
    return inspect::estimate_node_cost(as_conv).macs;
  }
  return inspect::estimate_node_cost(node).macs;
}

LatencySummary summarize_latencies(const std::vector<double>& latencies, double timed_phase_seconds) {
  LatencySummary summary;
  const double count = static_cast<double>(latencies.size());
  double sum = 0;
  for (double latency : latencies) sum += latency;
  summary.mean = sum / count;
  if (latencies.size() > 1) {
    double squares = 0;
    for (double latency : latencies) squares += (latency - summary.mean) * (latency - summary.mean);
    summary.standard_deviation = std::sqrt(squares / (count - 1));
  }
  summary.throughput = timed_phase_seconds > 0 ? count / timed_phase_seconds : 0;
  return summary;
}

std::vector<OpTypeRow> summarize_op_types(const std::vector<ProfileRow>& profile) {
  std::map<std::string, OpTypeRow> by_type;
  for (const ProfileRow& row : profile) {
    OpTypeRow& entry = by_type[row.op_type];
    entry.op_type = row.op_type;
    ++entry.count;
    entry.milliseconds += row.milliseconds;
  }
  std::vector<OpTypeRow> rows;
  for (auto& [op_type, row] : by_type) rows.push_back(row);
  std::stable_sort(rows.begin(), rows.end(),
                   [](const OpTypeRow& a, const OpTypeRow& b) { return a.milliseconds > b.milliseconds; });
  return rows;
}

}  // namespace

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const double position = fraction * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(position);
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - static_cast<double>(below));
}

BenchMeasurement measure_model(const BenchSettings& settings) {
  if (settings.threads < 0) throw Error(ErrorKind::invalid_argument, "--threads must be 0 (all cores) or more");
  if (!settings.target.empty() && settings.backend != "sim") {
    throw Error(ErrorKind::invalid_argument, "--target chooses the simulated target of --backend sim; add --backend sim");
  }
  BenchMeasurement measurement;
  preparation::PreparationOptions preparation_options;
  preparation_options.run_reference_for_unknown_shapes = false;  // the session's own passes learn the rest
  preparation::PreparedModel prepared =
      load_model_argument(settings.model, settings.input_shapes, settings.input_values, preparation_options);
  if (settings.print_notes) print_preparation_notes(std::cerr, prepared.report);
  // A latency is a latency at one input size: never at a size guessed for dims the model leaves open.
  preparation::require_static_inputs(prepared.model, "bench");
  measurement.preparation = preparation_json(prepared);
  for (const ir::Value* input : prepared.model.graph->inputs) {
    if (!input->initializer) measurement.input_shapes_used.emplace_back(input->name, input->type.to_string());
  }
  measurement.model_conditions = benchmark::describe_model(*prepared.model.graph);
  auto model = std::make_shared<ir::Model>(std::move(prepared.model));
  engine::EngineOptions options;
  options.backend = settings.backend;
  options.threads = settings.threads;
  options.target = settings.target;
  const auto load_started = std::chrono::steady_clock::now();
  std::unique_ptr<engine::Engine> session = engine::Engine::adopt(std::move(model), options);
  measurement.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_started).count();

  for (InputFile& file : read_input_files(settings.inputs, session->inputs(), settings.model)) {
    measurement.inputs_from_files[file.name] = file.path;
    session->set_input(file.name, std::move(file.tensor));
  }
  std::mt19937_64 generator(settings.seed);
  for (const ValueInfo& input : session->inputs()) {
    if (measurement.inputs_from_files.count(input.name)) continue;
    session->set_input(input.name, random_tensor(input.dtype, Shape(input.shape.begin(), input.shape.end()), generator));
  }
  for (int i = 0; i < settings.warmup; ++i) session->run();

  std::vector<double> latencies;
  const auto budget_started = std::chrono::steady_clock::now();
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    session->run();
    const auto finished = std::chrono::steady_clock::now();
    latencies.push_back(std::chrono::duration<double>(finished - started).count());
    const int done = static_cast<int>(latencies.size());
    if (settings.iterations > 0) {
      if (done >= settings.iterations) break;
    } else if (done >= settings.min_iterations &&
               std::chrono::duration<double>(finished - budget_started).count() >= settings.seconds) {
      break;
    }
  }
  const double timed_phase_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - budget_started).count();
  measurement.summary = summarize_latencies(latencies, timed_phase_seconds);
  measurement.run = BenchRun{settings.backend, settings.threads, settings.warmup, latencies.size(), timed_phase_seconds,
                             measurement.inputs_from_files, settings.seed};
  measurement.sorted_latencies = latencies;
  std::sort(measurement.sorted_latencies.begin(), measurement.sorted_latencies.end());

  if (settings.profile) {
    // Per-node times: the median over as many runs as were timed (at most 50), so one slow run does not
    // decide a row.
    session->set_profiling(true);
    const size_t runs = std::min<size_t>(latencies.size(), 50);
    std::vector<std::vector<double>> samples;
    for (size_t run = 0; run < runs; ++run) {
      const auto started = std::chrono::steady_clock::now();
      session->run();
      measurement.profiled_runs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      const auto& timings = session->last_profile();
      samples.resize(timings.size());
      for (size_t i = 0; i < timings.size(); ++i) samples[i].push_back(timings[i].seconds);
    }
    session->set_profiling(false);
    std::sort(measurement.profiled_runs.begin(), measurement.profiled_runs.end());
    const auto& timings = session->last_profile();
    const std::vector<const ir::Node*> nodes = session->executed_nodes();
    for (size_t i = 0; i < timings.size(); ++i) {
      std::sort(samples[i].begin(), samples[i].end());
      ProfileRow row{timings[i].node, timings[i].op_type, timings[i].backend, percentile(samples[i], 0.5) * 1e3, {}};
      std::optional<int64_t> macs = node_macs(*nodes[i]);
      if (macs && *macs > 0 && row.milliseconds > 0) row.gflops = 2.0 * static_cast<double>(*macs) / (row.milliseconds * 1e6);
      measurement.profile.push_back(row);
    }
    std::stable_sort(measurement.profile.begin(), measurement.profile.end(),
                     [](const ProfileRow& a, const ProfileRow& b) { return a.milliseconds > b.milliseconds; });
  }
  measurement.activation_arena_bytes = session->activation_arena_bytes();
  measurement.activation_arena_values = session->activation_arena_values();
  measurement.op_types = summarize_op_types(measurement.profile);
  for (const ProfileRow& row : measurement.profile) measurement.profiled_total_milliseconds += row.milliseconds;
  return measurement;
}

nlohmann::json measurement_json(const BenchSettings& settings, const BenchMeasurement& measurement, bool with_process_figures) {
  const std::vector<double>& sorted = measurement.sorted_latencies;
  const LatencySummary& summary = measurement.summary;
  const benchmark::MachineConditions machine = benchmark::read_machine_conditions();
  auto share_of_profile = [&](double milliseconds) {
    return measurement.profiled_total_milliseconds > 0 ? milliseconds / measurement.profiled_total_milliseconds : 0.0;
  };
  nlohmann::json json;
  json["model"] = settings.model;
  json["inputs"] = measurement.preparation["inputs"];
  json["preparation_notes"] = measurement.preparation["notes"];
  json["backend"] = settings.backend;
  json["threads"] = settings.threads;
  json["warmup"] = settings.warmup;
  json["iterations"] = sorted.size();
  json["session_creation_ms"] = measurement.load_seconds * 1e3;
  json["latency_ms"] = {{"min", sorted.front() * 1e3},        {"p50", percentile(sorted, 0.5) * 1e3},
                        {"p90", percentile(sorted, 0.9) * 1e3}, {"p99", percentile(sorted, 0.99) * 1e3},
                        {"max", sorted.back() * 1e3},         {"mean", summary.mean * 1e3},
                        {"stddev", summary.standard_deviation ? nlohmann::json(*summary.standard_deviation * 1e3)
                                                              : nlohmann::json(nullptr)}};
  json["throughput_per_second"] = summary.throughput;
  json["inputs_from_files"] = measurement.inputs_from_files;
  if (with_process_figures) json["peak_rss_mib"] = peak_rss_mib();
  json["activation_arena_mib"] = static_cast<double>(measurement.activation_arena_bytes) / (1 << 20);
  json["activation_arena_values"] = measurement.activation_arena_values;
  json["machine"] = {{"cpu", machine.cpu}, {"hardware_threads", machine.hardware_threads}, {"flags", machine.flags}};
  json["conditions"] = bench_conditions_json(measurement.model_conditions, measurement.run);
  if (settings.profile) {
    json["profiled_run_p50_ms"] = percentile(measurement.profiled_runs, 0.5) * 1e3;
    json["profile"] = nlohmann::json::array();
    for (const ProfileRow& row : measurement.profile) {
      json["profile"].push_back({{"node", row.node},
                                 {"op_type", row.op_type},
                                 {"backend", row.backend},
                                 {"ms", row.milliseconds},
                                 {"gflops", row.gflops ? nlohmann::json(*row.gflops) : nlohmann::json(nullptr)}});
    }
    json["profile_by_op_type"] = nlohmann::json::array();
    for (const OpTypeRow& row : measurement.op_types) {
      json["profile_by_op_type"].push_back(
          {{"op_type", row.op_type}, {"count", row.count}, {"ms", row.milliseconds}, {"share", share_of_profile(row.milliseconds)}});
    }
  }
  return json;
}

}  // namespace npukit::cli
