// `npukit bench MODEL... [--model-list FILE] [--threads 1,2,...] [--shard i/N] [-o FILE]`: the model-only bench over
// many models and thread counts as a sweep whose work items (model × threads, models in the order given, thread
// counts in the order given) are split into shards, each writing the same mergeable document as `estimate --shard`
// (sweep/sweep_document.h), so `npukit merge` joins bench shards too. A Slurm array job runs one shard per task
// (docs/sweeps.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/bench_measurement.h"
#include "sweep/shard.h"

namespace npukit::cli {

struct BenchSweepSettings {
  std::vector<std::string> models;  // files or builtin:NAME, in sweep order
  std::vector<int> threads;         // in sweep order
  BenchSettings base;               // every other setting, the same for each item (model and threads are set per item)
  sweep::Shard shard;
};

// Runs this shard's items and returns its document. Each record's result is what `bench --json` prints for that
// model and thread count, less the process's peak RSS (a sweep process measures many models). A model that cannot be
// loaded or run stops the shard with an Error naming it: a table with a silent hole would be wrong.
nlohmann::json run_bench_sweep(const BenchSweepSettings& settings);

// The records of a bench document (one shard's or a merged one) as a table: model, backend, threads, p50, p90,
// mean, throughput.
void print_bench_sweep_table(std::ostream& out, const nlohmann::json& document);

}  // namespace npukit::cli
