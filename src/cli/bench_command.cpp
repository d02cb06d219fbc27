// npukit bench MODEL: latency of one model on one backend, as trtexec / benchmark_model report it —
// warm-up runs, then N iterations or a time budget, mean and standard deviation, percentiles, throughput,
// peak memory, the machine — and with --profile the time per node, sorted, with the GFLOP/s of the nodes
// that do dot products, and the time per op type. Inputs are random unless --input gives them from .npy
// files (as trtexec's --loadInputs), for models whose control inputs (lengths, states) need real values.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <random>

#include <nlohmann/json.hpp>

#include "benchmark/measurement_conditions.h"
#include "cli/bench_conditions.h"
#include "cli/bench_end_to_end.h"
#include "cli/commands.h"
#include "cli/input_files.h"
#include "cli/model_arguments.h"
#include "cli/table.h"
#include "cli/tensor_values.h"
#include "inspect/node_cost.h"
#include "ir/graph.h"
#include "engine/engine.h"
#include "npukit/session.h"

namespace npukit::cli {

namespace {

struct BenchArguments {
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
  bool json = false;
  // --end-to-end [SOURCE] --workers 1,2,4 [--report FILE]: the detection pipeline instead (bench_end_to_end.h).
  std::string end_to_end_source;
  std::vector<int> workers;
  std::string report;
};

void bench_pipeline(const BenchArguments& arguments) {
  EndToEndBenchArguments end_to_end;
  end_to_end.model = arguments.model;
  end_to_end.source = arguments.end_to_end_source;
  end_to_end.workers = arguments.workers.empty() ? std::vector<int>{1} : arguments.workers;
  end_to_end.threads_per_worker = arguments.threads;
  end_to_end.backend = arguments.backend;
  end_to_end.warmup = arguments.warmup;
  end_to_end.frames = arguments.iterations;
  end_to_end.report = arguments.report;
  end_to_end.json = arguments.json;
  end_to_end.input_shapes = arguments.input_shapes;
  end_to_end.input_values = arguments.input_values;
  bench_end_to_end(end_to_end);
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double percentile(std::vector<double> sorted, double fraction) {
  if (sorted.empty()) return 0;
  const double position = fraction * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(position);
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - static_cast<double>(below));
}

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

struct ProfileRow {
  std::string node, op_type, backend;
  double milliseconds = 0;
  std::optional<double> gflops;
};

// The timed runs summed up. The standard deviation is the sample one (n - 1); one run has none.
struct LatencySummary {
  double mean = 0;
  std::optional<double> standard_deviation;
  double throughput = 0;  // inferences per second of the timed phase, wall clock, runs back to back
};

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

// Per op type: how many nodes, their summed median times, and their share of the profiled total.
struct OpTypeRow {
  std::string op_type;
  size_t count = 0;
  double milliseconds = 0;
};

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

void bench_model(const BenchArguments& arguments) {
  if (arguments.threads < 0) throw Error(ErrorKind::invalid_argument, "--threads must be 0 (all cores) or more");
  if (!arguments.target.empty() && arguments.backend != "sim") {
    throw Error(ErrorKind::invalid_argument, "--target chooses the simulated target of --backend sim; add --backend sim");
  }
  preparation::PreparationOptions preparation_options;
  preparation_options.run_reference_for_unknown_shapes = false;  // the session's own passes learn the rest
  preparation::PreparedModel prepared =
      load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values, preparation_options);
  if (!arguments.json) print_preparation_notes(std::cerr, prepared.report);
  // A latency is a latency at one input size: never at a size guessed for dims the model leaves open.
  preparation::require_static_inputs(prepared.model, "bench");
  const nlohmann::json preparation = preparation_json(prepared);
  std::vector<std::pair<std::string, std::string>> input_shapes_used;  // name, "f32[1, 3, 640, 640]"
  for (const ir::Value* input : prepared.model.graph->inputs) {
    if (!input->initializer) input_shapes_used.emplace_back(input->name, input->type.to_string());
  }
  const benchmark::ModelConditions model_conditions = benchmark::describe_model(*prepared.model.graph);
  auto model = std::make_shared<ir::Model>(std::move(prepared.model));
  engine::EngineOptions options;
  options.backend = arguments.backend;
  options.threads = arguments.threads;
  options.target = arguments.target;
  const auto load_started = std::chrono::steady_clock::now();
  std::unique_ptr<engine::Engine> session = engine::Engine::adopt(std::move(model), options);
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_started).count();

  std::map<std::string, std::string> inputs_from_files;  // input name → .npy path
  for (InputFile& file : read_input_files(arguments.inputs, session->inputs(), arguments.model)) {
    inputs_from_files[file.name] = file.path;
    session->set_input(file.name, std::move(file.tensor));
  }
  std::mt19937_64 generator(arguments.seed);
  for (const ValueInfo& input : session->inputs()) {
    if (inputs_from_files.count(input.name)) continue;
    session->set_input(input.name, random_tensor(input.dtype, Shape(input.shape.begin(), input.shape.end()), generator));
  }
  for (int i = 0; i < arguments.warmup; ++i) session->run();

  std::vector<double> latencies;
  const auto budget_started = std::chrono::steady_clock::now();
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    session->run();
    const auto finished = std::chrono::steady_clock::now();
    latencies.push_back(std::chrono::duration<double>(finished - started).count());
    const int done = static_cast<int>(latencies.size());
    if (arguments.iterations > 0) {
      if (done >= arguments.iterations) break;
    } else if (done >= arguments.min_iterations &&
               std::chrono::duration<double>(finished - budget_started).count() >= arguments.seconds) {
      break;
    }
  }
  const double timed_phase_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - budget_started).count();
  const LatencySummary summary = summarize_latencies(latencies, timed_phase_seconds);
  const BenchRun run{arguments.backend, arguments.threads, arguments.warmup, latencies.size(), timed_phase_seconds, inputs_from_files,
                     arguments.seed};
  std::vector<double> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());

  std::vector<ProfileRow> profile;
  std::vector<double> profiled_runs;  // whole-run times while profiling, to compare with the node sum
  if (arguments.profile) {
    // Per-node times: the median over as many runs as were timed (at most 50), so one slow run does not
    // decide a row.
    session->set_profiling(true);
    const size_t runs = std::min<size_t>(latencies.size(), 50);
    std::vector<std::vector<double>> samples;
    for (size_t run = 0; run < runs; ++run) {
      const auto started = std::chrono::steady_clock::now();
      session->run();
      profiled_runs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      const auto& timings = session->last_profile();
      samples.resize(timings.size());
      for (size_t i = 0; i < timings.size(); ++i) samples[i].push_back(timings[i].seconds);
    }
    session->set_profiling(false);
    const auto& timings = session->last_profile();
    const std::vector<const ir::Node*> nodes = session->executed_nodes();
    for (size_t i = 0; i < timings.size(); ++i) {
      std::sort(samples[i].begin(), samples[i].end());
      ProfileRow row{timings[i].node, timings[i].op_type, timings[i].backend, percentile(samples[i], 0.5) * 1e3, {}};
      std::optional<int64_t> macs = node_macs(*nodes[i]);
      if (macs && *macs > 0 && row.milliseconds > 0) row.gflops = 2.0 * static_cast<double>(*macs) / (row.milliseconds * 1e6);
      profile.push_back(row);
    }
    std::stable_sort(profile.begin(), profile.end(),
                     [](const ProfileRow& a, const ProfileRow& b) { return a.milliseconds > b.milliseconds; });
  }

  const benchmark::MachineConditions machine = benchmark::read_machine_conditions();
  const double rss = peak_rss_mib();
  const std::vector<OpTypeRow> op_types = summarize_op_types(profile);
  double profiled_total = 0;
  for (const ProfileRow& row : profile) profiled_total += row.milliseconds;
  auto share_of_profile = [&](double milliseconds) {
    return profiled_total > 0 ? milliseconds / profiled_total : 0.0;
  };
  if (arguments.json) {
    nlohmann::json json;
    json["model"] = arguments.model;
    json["inputs"] = preparation["inputs"];
    json["preparation_notes"] = preparation["notes"];
    json["backend"] = arguments.backend;
    json["threads"] = arguments.threads;
    json["warmup"] = arguments.warmup;
    json["iterations"] = latencies.size();
    json["session_creation_ms"] = load_seconds * 1e3;
    json["latency_ms"] = {{"min", sorted.front() * 1e3},        {"p50", percentile(sorted, 0.5) * 1e3},
                          {"p90", percentile(sorted, 0.9) * 1e3}, {"p99", percentile(sorted, 0.99) * 1e3},
                          {"max", sorted.back() * 1e3},         {"mean", summary.mean * 1e3},
                          {"stddev", summary.standard_deviation ? nlohmann::json(*summary.standard_deviation * 1e3)
                                                                : nlohmann::json(nullptr)}};
    json["throughput_per_second"] = summary.throughput;
    json["inputs_from_files"] = inputs_from_files;
    json["peak_rss_mib"] = rss;
    json["activation_arena_mib"] = static_cast<double>(session->activation_arena_bytes()) / (1 << 20);
    json["activation_arena_values"] = session->activation_arena_values();
    json["machine"] = {{"cpu", machine.cpu}, {"hardware_threads", machine.hardware_threads}, {"flags", machine.flags}};
    json["conditions"] = bench_conditions_json(model_conditions, run);
    if (arguments.profile) {
      std::sort(profiled_runs.begin(), profiled_runs.end());
      json["profiled_run_p50_ms"] = percentile(profiled_runs, 0.5) * 1e3;
      json["profile"] = nlohmann::json::array();
      for (const ProfileRow& row : profile) {
        json["profile"].push_back({{"node", row.node},
                                   {"op_type", row.op_type},
                                   {"backend", row.backend},
                                   {"ms", row.milliseconds},
                                   {"gflops", row.gflops ? nlohmann::json(*row.gflops) : nlohmann::json(nullptr)}});
      }
      json["profile_by_op_type"] = nlohmann::json::array();
      for (const OpTypeRow& row : op_types) {
        json["profile_by_op_type"].push_back({{"op_type", row.op_type},
                                              {"count", row.count},
                                              {"ms", row.milliseconds},
                                              {"share", share_of_profile(row.milliseconds)}});
      }
    }
    std::cout << json.dump(2) << "\n";
    return;
  }
  std::string flags;
  for (const std::string& flag : machine.flags) flags += (flags.empty() ? "" : " ") + flag;
  std::string inputs_text;
  for (const auto& [name, type] : input_shapes_used) {
    const auto file = inputs_from_files.find(name);
    inputs_text += (inputs_text.empty() ? "" : ", ") + name + " " + type +
                   (file != inputs_from_files.end() ? " (from " + file->second + ")"
                                                    : " (random, seed " + std::to_string(arguments.seed) + ")");
  }
  std::cout << "model       " << arguments.model << "\ninputs      " << inputs_text << "\nbackend     " << arguments.backend << ", " << arguments.threads
            << " thread(s)\nmachine     " << machine.cpu << ", " << machine.hardware_threads
            << " hardware threads\ncpu flags   " << flags << "\nruns        " << arguments.warmup << " warm-up, "
            << latencies.size() << " timed\nsession     created in " << format_seconds(load_seconds)
            << "\nactivations " << format_number(static_cast<double>(session->activation_arena_bytes()) / (1 << 20), 4)
            << " MiB arena, " << session->activation_arena_values() << " values planned by lifetime\n";
  Table table({{"mean", Align::right}, {"std dev", Align::right}, {"min", Align::right}, {"p50", Align::right},
               {"p90", Align::right}, {"p99", Align::right}, {"max", Align::right}, {"throughput", Align::right},
               {"peak RSS", Align::right}});
  table.add_row({format_seconds(summary.mean),
                 summary.standard_deviation ? format_seconds(*summary.standard_deviation) : "unknown (1 run)",
                 format_seconds(sorted.front()), format_seconds(percentile(sorted, 0.5)),
                 format_seconds(percentile(sorted, 0.9)), format_seconds(percentile(sorted, 0.99)),
                 format_seconds(sorted.back()), format_number(summary.throughput, 4) + " /s",
                 format_number(rss, 4) + " MiB"});
  table.print(std::cout, 2);
  std::cout << "throughput: inferences per second over the timed runs, one after another on one session\n";
  print_bench_conditions(std::cout, model_conditions, run);
  if (arguments.profile) {
    std::cout << "profile (median per node, slowest first)\n";
    Table rows({{"node"}, {"op"}, {"backend"}, {"ms", Align::right}, {"share", Align::right}, {"GFLOP/s", Align::right}});
    for (const ProfileRow& row : profile) {
      rows.add_row({row.node, row.op_type, row.backend, format_number(row.milliseconds, 4),
                    format_percent(share_of_profile(row.milliseconds)), row.gflops ? format_number(*row.gflops, 4) : "-"});
    }
    rows.print(std::cout, 2);
    std::cout << "profile by op type (the nodes above summed, slowest first)\n";
    Table types({{"op"}, {"nodes", Align::right}, {"total ms", Align::right}, {"share", Align::right}});
    for (const OpTypeRow& row : op_types) {
      types.add_row({row.op_type, std::to_string(row.count), format_number(row.milliseconds, 4),
                     format_percent(share_of_profile(row.milliseconds))});
    }
    types.print(std::cout, 2);
  }
}

}  // namespace

void register_bench_command(CLI::App& app) {
  auto arguments = std::make_shared<BenchArguments>();
  CLI::App* command = app.add_subcommand("bench", "Measure a model's latency on a backend (random inputs)");
  command->add_option("model", arguments->model, model_argument_help())->required()->type_name("MODEL");
  command->add_option("--backend", arguments->backend, "Backend: cpu (default), ref, or sim (with --target)")->type_name("NAME");
  command->add_option("--target", arguments->target,
                      "With --backend sim: the target whose integer arithmetic to simulate (id or profile file)")
      ->type_name("NAME|FILE");
  command->add_option("--threads,-t", arguments->threads, "Intra-op threads (default 1; 0 = all cores)")->type_name("N");
  command->add_option("--warmup", arguments->warmup, "Untimed runs first (default 5)")->type_name("N");
  command->add_option("--iterations,-n", arguments->iterations, "Timed runs (default: as many as --time allows)")
      ->type_name("N");
  command->add_option("--time", arguments->seconds, "Time budget of the timed runs in seconds (default 10)")
      ->type_name("SECONDS");
  command->add_option("--min-iterations", arguments->min_iterations, "Timed runs even past the budget (default 10)")
      ->type_name("N");
  command->add_option("--seed", arguments->seed, "Seed of the random inputs (default 0)")->type_name("N");
  command->add_option("--input,-i", arguments->inputs,
                      "An input from a .npy file or a picture (letterboxed, /255, RGB) instead of random data: NAME=FILE.npy|PICTURE.jpg (repeat per input)")
      ->type_name("NAME=FILE")
      ->take_all()
      ->allow_extra_args(false);
  command->add_flag("--profile", arguments->profile, "Time every node and print them, slowest first");
  command->add_flag("--json", arguments->json, "Print JSON for programs");
  command->add_option("--end-to-end", arguments->end_to_end_source,
                      "Measure the detection pipeline (decode, pre-process, inference, NMS) on SOURCE: a picture directory, "
                      "a video or synthetic[:WxH] (default: synthetic 640x480); -n is then frames per run (default 200)")
      ->expected(0, 1)
      ->type_name("[SOURCE]");
  command->add_option("--workers", arguments->workers, "With --end-to-end: worker counts to compare, e.g. 1,2,4 (default 1)")
      ->delimiter(',')
      ->type_name("N,N,...");
  command->add_option("--report", arguments->report, "With --end-to-end: also write the charts and tables to FILE.html or FILE.md")
      ->type_name("FILE");
  add_input_shape_option(*command, arguments->input_shapes, arguments->input_values);
  command->callback([arguments, command] {
    if (command->count("--end-to-end") > 0) {
      bench_pipeline(*arguments);
      return;
    }
    if (!arguments->workers.empty()) throw Error(ErrorKind::invalid_argument, "--workers measures the pipeline: add --end-to-end [SOURCE]");
    if (!arguments->report.empty()) throw Error(ErrorKind::invalid_argument, "--report goes with --end-to-end (the pipeline's charts)");
    bench_model(*arguments);
  });
}

}  // namespace npukit::cli
