// What `npukit bench` declares beside its figures (src/benchmark/measurement_conditions.h), with the library
// versions this binary was built with. Kept apart from bench_command.cpp so the command only calls it.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "benchmark/measurement_conditions.h"

namespace npukit::cli {

struct BenchRun {
  std::string backend;
  int threads = 1;
  int warmup = 0;
  size_t iterations = 0;
  double duration_seconds = 0;
  std::map<std::string, std::string> inputs_from_files;  // input name -> .npy path; the others are random
  uint64_t seed = 0;
};

nlohmann::json bench_conditions_json(const benchmark::ModelConditions& model, const BenchRun& run);
void print_bench_conditions(std::ostream& out, const benchmark::ModelConditions& model, const BenchRun& run);

}  // namespace npukit::cli
