// The two forms of `npukit inspect` output: a report for people and JSON for programs. The CLI and
// npukit::inspect_model (include/npukit/inspect.h) both build them here, so they print the same figures.
//
// JSON keys are stable (scripts depend on them); add keys, never rename or remove one. Sizes are plain
// integers (bytes, element counts, MACs); an unknown figure is null, never 0.
#pragma once

#include <cstddef>
#include <ostream>

#include <nlohmann/json.hpp>

#include "inspect/model_statistics.h"
#include "npukit/inspect.h"
#include "preparation/model_preparation.h"

namespace npukit::report {

struct InspectReportOptions {
  bool every_layer = false;   // --per-layer: every node in graph order
  size_t heaviest_layers = 10;  // --layers N: otherwise the N nodes with the most MACs
};

void print_inspect_report(std::ostream& out, const inspect::ModelStatistics& statistics,
                          const InspectReportOptions& options);

// The statistics of a prepared model, with what preparation assumed first among the notes (the figures depend
// on it). `source` names the model as the user gave it.
inspect::ModelStatistics inspect_statistics(const preparation::PreparedModel& prepared, const std::string& source);

InspectReport inspect_report(const inspect::ModelStatistics& statistics, const preparation::PreparedModel& prepared);

nlohmann::json inspect_report_json(const InspectReport& report);

}  // namespace npukit::report
