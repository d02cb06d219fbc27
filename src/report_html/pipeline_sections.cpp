#include "report_html/pipeline_sections.h"

#include <cstdio>

namespace npukit::report_html {

const char* const worker_scaling_color = "#17a2b8";
const char* const model_only_color = "#9467bd";
const std::vector<std::string> pipeline_stage_colors = {"#8c8c8c", "#e07b39", "#d4a017", "#2f6fb0", "#3a9d5d", "#7b3fa0"};

namespace {

std::string format(const char* pattern, double value) {
  char text[48];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string ms(double seconds) { return format(seconds * 1e3 >= 100 ? "%.0f ms" : "%.3g ms", seconds * 1e3); }
std::string per_second(double value) { return format("%.4g/s", value); }
std::string workers_label(const WorkerScalingRun& run) {
  return std::to_string(run.workers) + (run.workers == 1 ? " worker" : " workers");
}

Section scaling_section(const std::vector<WorkerScalingRun>& runs) {
  Section section{"Worker scaling", {}};
  BarChart chart{"End-to-end throughput per worker count (frames/s); beside each: per-frame latency p50 / p99", "frames/s", {}, false};
  TableBlock data{{"workers", "threads/worker", "frames", "throughput", "speed-up", "latency p50", "p90", "p99", "cores used", "failed"},
                  {},
                  {true, true, true, true, true, true, true, true, true, true}};
  const double first = runs.empty() ? 0 : runs.front().end_to_end.throughput;
  for (const WorkerScalingRun& run : runs) {
    const pipeline::PipelineStatistics& e2e = run.end_to_end;
    Bar bar;
    bar.label = workers_label(run);
    bar.value = e2e.throughput;
    bar.color = worker_scaling_color;
    bar.annotation = per_second(e2e.throughput) + ", p50 " + ms(e2e.latency.p50) + ", p99 " + ms(e2e.latency.p99);
    chart.bars.push_back(bar);
    data.rows.push_back({std::to_string(run.workers), std::to_string(run.threads_per_worker), std::to_string(e2e.frames_completed),
                         per_second(e2e.throughput), first > 0 ? format("%.2fx", e2e.throughput / first) : "unknown",
                         ms(e2e.latency.p50), ms(e2e.latency.p90), ms(e2e.latency.p99),
                         e2e.wall_seconds > 0 ? format("%.2f", e2e.cpu_seconds / e2e.wall_seconds) : "unknown",
                         std::to_string(e2e.frames_failed)});
  }
  section.blocks.push_back(Paragraph{"Batch 1: every throughput here is frames of one picture each, and its per-frame latency stands beside it. "
                                     "Latency runs from the source starting a frame to the sink finishing it, queue waits included. Cores used: the "
                                     "process's CPU time over the run's wall time; below the worker count when other work shared the cores."});
  section.blocks.push_back(Chart{render_svg(chart), data});
  return section;
}

Section gap_section(const std::vector<WorkerScalingRun>& runs) {
  Section section{"Model only against end to end", {}};
  BarChart chart{"Throughput: model only (inference alone) and end to end (decode, pre-process, inference, NMS)", "frames/s", {}, false};
  TableBlock data{{"workers", "model only", "model-only latency p50", "end to end", "end-to-end latency p50", "end to end / model only"},
                  {},
                  {true, true, true, true, true, true}};
  for (const WorkerScalingRun& run : runs) {
    Bar model;
    model.label = workers_label(run) + ", model only";
    model.value = run.model_only.throughput;
    model.color = model_only_color;
    model.annotation = per_second(run.model_only.throughput) + ", p50 " + ms(run.model_only.latency.p50);
    Bar e2e;
    e2e.label = workers_label(run) + ", end to end";
    e2e.value = run.end_to_end.throughput;
    e2e.color = worker_scaling_color;
    e2e.annotation = per_second(run.end_to_end.throughput) + ", p50 " + ms(run.end_to_end.latency.p50);
    chart.bars.push_back(model);
    chart.bars.push_back(e2e);
    data.rows.push_back({std::to_string(run.workers), per_second(run.model_only.throughput), ms(run.model_only.latency.p50),
                         per_second(run.end_to_end.throughput), ms(run.end_to_end.latency.p50),
                         run.model_only.throughput > 0 ? format("%.0f%%", 100 * run.end_to_end.throughput / run.model_only.throughput)
                                                       : "unknown"});
  }
  section.blocks.push_back(Paragraph{"The gap is what a model-only figure leaves out: picture decoding, letterboxing, YOLO decode and NMS, "
                                     "and the hand-offs between them."});
  section.blocks.push_back(Chart{render_svg(chart), data});
  return section;
}

Section stage_section(const std::vector<WorkerScalingRun>& runs) {
  Section section{"Where a frame's time goes", {}};
  std::vector<std::string> categories;
  for (int stage = 0; stage < pipeline::stage_count; ++stage) categories.push_back(pipeline::stage_name(static_cast<pipeline::Stage>(stage)));
  StackedBarChart chart{"Mean time per frame in each stage (busy time, waits not included)", "ms", categories, pipeline_stage_colors, {}};
  std::vector<std::string> header = {"workers"};
  for (const std::string& category : categories) header.push_back(category);
  header.push_back("inference busy");
  TableBlock data{header, {}, std::vector<bool>(header.size(), true)};
  data.right_aligned[0] = false;
  for (const WorkerScalingRun& run : runs) {
    StackedBar bar{workers_label(run), {}};
    std::vector<std::string> row = {workers_label(run)};
    double inference_utilization = 0;
    for (const pipeline::StageStatistics& stage : run.end_to_end.stages) {
      bar.values.push_back(stage.time.mean * 1e3);
      row.push_back(stage.frames > 0 ? ms(stage.time.mean) : "-");
      if (stage.stage == pipeline::Stage::inference) inference_utilization = stage.utilization;
    }
    row.push_back(format("%.0f%%", inference_utilization * 100));
    chart.bars.push_back(bar);
    data.rows.push_back(row);
  }
  section.blocks.push_back(Chart{render_svg(chart), data});
  return section;
}

}  // namespace

std::vector<Section> pipeline_sections(const std::vector<WorkerScalingRun>& runs,
                                       const std::vector<std::pair<std::string, std::string>>& conditions) {
  std::vector<Section> sections = {scaling_section(runs), gap_section(runs), stage_section(runs)};
  Section declared{"Conditions", {}};
  TableBlock table{{"condition", "value"}, {}, {false, false}};
  for (const auto& [name, value] : conditions) table.rows.push_back({name, value});
  declared.blocks.push_back(Paragraph{"Every figure above holds only under these."});
  declared.blocks.push_back(table);
  sections.push_back(declared);
  return sections;
}

}  // namespace npukit::report_html
