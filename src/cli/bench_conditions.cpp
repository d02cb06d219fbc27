#include "cli/bench_conditions.h"

#include "api/build_versions.h"
#include "cli/table.h"

namespace npukit::cli {

namespace {

benchmark::RunConditions run_conditions(const BenchRun& run) {
  benchmark::RunConditions conditions;
  conditions.backend = run.backend;
  conditions.threads = run.threads;
  conditions.workers = 1;
  conditions.timed = "model only: one Session::run with the inputs already set (no decode, pre-processing, post-processing or NMS)";
  conditions.scenario = "single-stream (one query at a time, back to back; p90 is its MLPerf metric)";
  conditions.warmup = run.warmup;
  conditions.iterations = run.iterations;
  conditions.duration_seconds = run.duration_seconds;
  std::string files;
  for (const auto& [name, path] : run.inputs_from_files) files += (files.empty() ? "" : ", ") + name + " from " + path;
  conditions.inputs = files.empty() ? "random, seed " + std::to_string(run.seed) : files + "; the others random, seed " + std::to_string(run.seed);
  return conditions;
}

}  // namespace

nlohmann::json bench_conditions_json(const benchmark::ModelConditions& model, const BenchRun& run) {
  return benchmark::conditions_json(model, run_conditions(run), benchmark::read_machine_conditions(), api::build_versions());
}

void print_bench_conditions(std::ostream& out, const benchmark::ModelConditions& model, const BenchRun& run) {
  out << "conditions (every figure above holds only under these)\n";
  Table table({{"condition"}, {"value"}});
  for (const auto& [name, value] : benchmark::condition_rows(model, run_conditions(run), benchmark::read_machine_conditions(),
                                                             api::build_versions())) {
    table.add_row({name, value});
  }
  table.print(out, 2, 100);
}

}  // namespace npukit::cli
