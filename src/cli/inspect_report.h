// The two forms of `npukit inspect` output: a report for people and JSON for programs.
//
// JSON keys are stable (scripts depend on them); add keys, never rename or remove one. Sizes are plain
// integers (bytes, element counts, MACs); an unknown figure is null, never 0.
#pragma once

#include <cstddef>
#include <ostream>

#include <nlohmann/json.hpp>

#include "inspect/model_statistics.h"

namespace npukit::cli {

struct InspectReportOptions {
  bool every_layer = false;   // --per-layer: every node in graph order
  size_t heaviest_layers = 10;  // --layers N: otherwise the N nodes with the most MACs
};

void print_inspect_report(std::ostream& out, const inspect::ModelStatistics& statistics,
                          const InspectReportOptions& options);

nlohmann::json inspect_report_json(const inspect::ModelStatistics& statistics);

}  // namespace npukit::cli
