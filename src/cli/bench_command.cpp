// npukit bench MODEL: latency of one model on one backend, as trtexec / benchmark_model report it —
// warm-up runs, then N iterations or a time budget, mean and standard deviation, percentiles, throughput,
// peak memory, the machine — and with --profile the time per node, sorted, with the GFLOP/s of the nodes
// that do dot products, and the time per op type. Inputs are random unless --input gives them from .npy
// files (as trtexec's --loadInputs), for models whose control inputs (lengths, states) need real values.
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "benchmark/measurement_conditions.h"
#include "cli/bench_conditions.h"
#include "cli/bench_end_to_end.h"
#include "cli/bench_measurement.h"
#include "cli/bench_sweep.h"
#include "cli/commands.h"
#include "cli/estimate_sweep.h"
#include "cli/model_arguments.h"
#include "cli/table.h"
#include "npukit/error.h"
#include "sweep/sweep_document.h"

namespace npukit::cli {

namespace {

struct BenchArguments {
  std::vector<std::string> models;  // one: the full single-model output; several (or a list, threads, --shard, -o): a sweep
  std::string model_list;
  std::string shard;
  std::string output;
  std::vector<std::string> input_shapes;
  std::vector<std::string> input_values;
  std::vector<std::string> inputs;  // NAME=FILE.npy; the other inputs get random data
  std::string backend = "cpu";
  std::string target;  // --backend sim: the simulated target (built-in id or profile file)
  std::vector<int> threads{1};  // several: a sweep over them
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

BenchSettings settings_for(const BenchArguments& arguments, const std::string& model, int threads) {
  BenchSettings settings;
  settings.model = model;
  settings.input_shapes = arguments.input_shapes;
  settings.input_values = arguments.input_values;
  settings.inputs = arguments.inputs;
  settings.backend = arguments.backend;
  settings.target = arguments.target;
  settings.threads = threads;
  settings.warmup = arguments.warmup;
  settings.iterations = arguments.iterations;
  settings.seconds = arguments.seconds;
  settings.min_iterations = arguments.min_iterations;
  settings.seed = arguments.seed;
  settings.profile = arguments.profile;
  return settings;
}

void bench_pipeline(const BenchArguments& arguments) {
  if (arguments.models.empty()) throw Error(ErrorKind::invalid_argument, "give the MODEL whose pipeline to measure");
  if (arguments.models.size() != 1 || !arguments.model_list.empty() || !arguments.shard.empty() || !arguments.output.empty() ||
      arguments.threads.size() != 1) {
    throw Error(ErrorKind::invalid_argument, "--end-to-end measures one model at one thread count per worker; sweeps (several models, "
                                             "--model-list, several --threads, --shard, -o) are for the model-only bench");
  }
  EndToEndBenchArguments end_to_end;
  end_to_end.model = arguments.models.front();
  end_to_end.source = arguments.end_to_end_source;
  end_to_end.workers = arguments.workers.empty() ? std::vector<int>{1} : arguments.workers;
  end_to_end.threads_per_worker = arguments.threads.front();
  end_to_end.backend = arguments.backend;
  end_to_end.warmup = arguments.warmup;
  end_to_end.frames = arguments.iterations;
  end_to_end.report = arguments.report;
  end_to_end.json = arguments.json;
  end_to_end.input_shapes = arguments.input_shapes;
  end_to_end.input_values = arguments.input_values;
  bench_end_to_end(end_to_end);
}

void bench_model(const BenchArguments& arguments) {
  const BenchSettings settings = settings_for(arguments, arguments.models.front(), arguments.threads.front());
  const BenchMeasurement measurement = measure_model(settings);
  if (arguments.json) {
    std::cout << measurement_json(settings, measurement, true).dump(2) << "\n";
    return;
  }
  const std::vector<double>& sorted = measurement.sorted_latencies;
  const LatencySummary& summary = measurement.summary;
  const benchmark::MachineConditions machine = benchmark::read_machine_conditions();
  const double rss = peak_rss_mib();
  auto share_of_profile = [&](double milliseconds) {
    return measurement.profiled_total_milliseconds > 0 ? milliseconds / measurement.profiled_total_milliseconds : 0.0;
  };
  std::string flags;
  for (const std::string& flag : machine.flags) flags += (flags.empty() ? "" : " ") + flag;
  std::string inputs_text;
  for (const auto& [name, type] : measurement.input_shapes_used) {
    const auto file = measurement.inputs_from_files.find(name);
    inputs_text += (inputs_text.empty() ? "" : ", ") + name + " " + type +
                   (file != measurement.inputs_from_files.end() ? " (from " + file->second + ")"
                                                                : " (random, seed " + std::to_string(settings.seed) + ")");
  }
  std::cout << "model       " << settings.model << "\ninputs      " << inputs_text << "\nbackend     " << settings.backend << ", " << settings.threads
            << " thread(s)\nmachine     " << machine.cpu << ", " << machine.hardware_threads
            << " hardware threads\ncpu flags   " << flags << "\nruns        " << settings.warmup << " warm-up, "
            << sorted.size() << " timed\nsession     created in " << format_seconds(measurement.load_seconds)
            << "\nactivations " << format_number(static_cast<double>(measurement.activation_arena_bytes) / (1 << 20), 4)
            << " MiB arena, " << measurement.activation_arena_values << " values planned by lifetime\n";
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
  print_bench_conditions(std::cout, measurement.model_conditions, measurement.run);
  if (settings.profile) {
    std::cout << "profile (median per node, slowest first)\n";
    Table rows({{"node"}, {"op"}, {"backend"}, {"ms", Align::right}, {"share", Align::right}, {"GFLOP/s", Align::right}});
    for (const ProfileRow& row : measurement.profile) {
      rows.add_row({row.node, row.op_type, row.backend, format_number(row.milliseconds, 4),
                    format_percent(share_of_profile(row.milliseconds)), row.gflops ? format_number(*row.gflops, 4) : "-"});
    }
    rows.print(std::cout, 2);
    std::cout << "profile by op type (the nodes above summed, slowest first)\n";
    Table types({{"op"}, {"nodes", Align::right}, {"total ms", Align::right}, {"share", Align::right}});
    for (const OpTypeRow& row : measurement.op_types) {
      types.add_row({row.op_type, std::to_string(row.count), format_number(row.milliseconds, 4),
                     format_percent(share_of_profile(row.milliseconds))});
    }
    types.print(std::cout, 2);
  }
}

// Several models, thread counts, a model list, a shard or an output file: the sweep form (bench_sweep.h).
void bench_sweep(const BenchArguments& arguments) {
  if (arguments.profile) throw Error(ErrorKind::invalid_argument, "--profile is for one model at one thread count, not a sweep");
  BenchSweepSettings sweep;
  sweep.models = arguments.models;
  if (!arguments.model_list.empty()) {
    const std::vector<std::string> listed = read_model_list(arguments.model_list);
    sweep.models.insert(sweep.models.end(), listed.begin(), listed.end());
  }
  sweep.threads = arguments.threads;
  sweep.base = settings_for(arguments, "", 1);
  sweep.base.print_notes = false;
  sweep.shard = arguments.shard.empty() ? sweep::Shard{} : sweep::parse_shard(arguments.shard);
  if (!arguments.output.empty()) {
    // Refuse an unwritable destination before the sweep, not after it.
    const std::filesystem::path folder = std::filesystem::path(arguments.output).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder)) throw Error(ErrorKind::io, "the folder for -o does not exist", arguments.output);
  }
  const nlohmann::json document = run_bench_sweep(sweep);
  if (!arguments.output.empty()) sweep::write_document(arguments.output, document);
  if (arguments.json) {
    std::cout << document.dump(2) << "\n";
    return;
  }
  std::cout << "model-only latency, shard " << sweep.shard.text() << " of a sweep of " << document["sweep"]["items"].get<size_t>()
            << " items (model x threads), " << document["records"].size() << " in this shard\n\n";
  print_bench_sweep_table(std::cout, document);
  if (!arguments.output.empty()) std::cout << "written to " << arguments.output << " (npukit merge joins the shards)\n";
}

}  // namespace

void register_bench_command(CLI::App& app) {
  auto arguments = std::make_shared<BenchArguments>();
  CLI::App* command = app.add_subcommand("bench", "Measure a model's latency on a backend (random inputs)");
  command->add_option("model", arguments->models, model_argument_help() + " (several: a sweep, one record per model and thread count)")
      ->type_name("MODEL...");
  command->add_option("--model-list", arguments->model_list, "A sweep over the models listed in FILE (one per line, # comments)")
      ->type_name("FILE");
  command->add_option("--shard", arguments->shard,
                      "Run only shard i of N of the sweep (0-based, as SLURM_ARRAY_TASK_ID); npukit merge joins the files")
      ->type_name("i/N");
  command->add_option("-o,--output", arguments->output, "Write the sweep's mergeable JSON (npukit-sweep/1) to FILE")->type_name("FILE");
  command->add_option("--backend", arguments->backend, "Backend: cpu (default), ref, or sim (with --target)")->type_name("NAME");
  command->add_option("--target", arguments->target,
                      "With --backend sim: the target whose integer arithmetic to simulate (id or profile file)")
      ->type_name("NAME|FILE");
  command->add_option("--threads,-t", arguments->threads, "Intra-op threads (default 1; 0 = all cores); several, e.g. 1,2: a sweep")
      ->delimiter(',')
      ->type_name("N[,N...]");
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
    if (arguments->models.empty() && arguments->model_list.empty()) {
      throw Error(ErrorKind::invalid_argument, "give a MODEL (or several, or --model-list FILE for a sweep)");
    }
    if (arguments->threads.empty()) throw Error(ErrorKind::invalid_argument, "--threads needs a number (or several: 1,2)");
    if (arguments->models.size() > 1 || !arguments->model_list.empty() || arguments->threads.size() > 1 || !arguments->shard.empty() ||
        !arguments->output.empty()) {
      bench_sweep(*arguments);
      return;
    }
    bench_model(*arguments);
  });
}

}  // namespace npukit::cli
