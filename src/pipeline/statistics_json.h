// A pipeline run's statistics as JSON (for --json, detections.json and bench) and as a table (for people).
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "pipeline/pipeline_statistics.h"

namespace npukit::pipeline {

nlohmann::json latency_json(const LatencyStatistics& latency);  // milliseconds
nlohmann::json statistics_json(const PipelineStatistics& statistics);
// The table per stage (frames, mean and p90 time, the wait in front, busy share of its capacity and of the
// threads), then throughput and latency; and the failure, when there was one.
void print_stage_table(std::ostream& out, const PipelineStatistics& statistics);

}  // namespace npukit::pipeline
