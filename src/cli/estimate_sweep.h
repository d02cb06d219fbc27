// `npukit estimate MODEL... --target T|all [--model-list FILE] [--shard i/N] [-o FILE]`: the estimate over many
// models and targets as a sweep whose work items (model × target, models in the order given, targets in profile
// order) are split into shards, each writing a mergeable document (sweep/sweep_document.h) that `npukit merge`
// joins. A Slurm array job runs one shard per task (docs/sweeps.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/shard.h"
#include "targets/target_profile.h"

namespace npukit::cli {

struct EstimateSweepSettings {
  std::vector<std::string> models;              // files or builtin:NAME, in sweep order
  std::vector<targets::TargetProfile> profiles; // in sweep order
  int cores = 0;
  double cpu_slowdown = 0;                      // 0: each target's assumption
  bool no_cpu_timing = false;
  std::vector<std::string> input_shapes, input_values;
  sweep::Shard shard;
};

// Reads a model list: one model per line; blank lines and lines starting with '#' are skipped; surrounding spaces
// are trimmed; a relative path is taken from the current folder (as if given on the command line). Throws
// Error naming the file and line for an empty list or an unreadable file.
std::vector<std::string> read_model_list(const std::string& path);

// Runs this shard's items and returns its document. A model that cannot be loaded or estimated stops the shard
// with an Error naming the model: a sweep table with a silent hole would be wrong.
nlohmann::json run_estimate_sweep(const EstimateSweepSettings& settings);

// The records of a document (one shard's or a merged one) as a table: model, target, latency, FPS, band,
// bottleneck.
void print_sweep_table(std::ostream& out, const nlohmann::json& document);

}  // namespace npukit::cli
