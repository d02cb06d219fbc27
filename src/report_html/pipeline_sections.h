// The pipeline benchmark's sections of a report (`npukit bench --end-to-end --workers ... --report`): throughput
// and latency per worker count (worker scaling), model-only beside end to end (the gap), and where a frame's time
// goes per stage, with the conditions every figure holds under.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "pipeline/pipeline_statistics.h"
#include "report_html/report.h"

namespace npukit::report_html {

// Colours of the charts, also used by the tests to find them in a screenshot.
extern const char* const worker_scaling_color;  // end-to-end throughput bars
extern const char* const model_only_color;      // model-only throughput bars
extern const std::vector<std::string> pipeline_stage_colors;  // one per pipeline::Stage

struct WorkerScalingRun {
  int workers = 1;
  int threads_per_worker = 1;
  pipeline::PipelineStatistics end_to_end;
  pipeline::PipelineStatistics model_only;
};

std::vector<Section> pipeline_sections(const std::vector<WorkerScalingRun>& runs,
                                       const std::vector<std::pair<std::string, std::string>>& conditions);

}  // namespace npukit::report_html
