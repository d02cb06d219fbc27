#include "cli/bench_end_to_end.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include <oneapi/tbb/version.h>

#include <nlohmann/json.hpp>

#include "api/build_versions.h"
#include "benchmark/measurement_conditions.h"
#include "cli/model_arguments.h"
#include "cli/progress.h"
#include "cli/table.h"
#include "cli/yolo_detector.h"
#include "ir/graph.h"
#include "pipeline/detection_pipeline.h"
#include "pipeline/frame_sources.h"
#include "pipeline/statistics_json.h"
#include "report_html/pipeline_sections.h"

namespace npukit::cli {

namespace {

// /proc/loadavg's 1, 5 and 15 minute figures, or "unknown (why)".
std::string load_average() {
  std::ifstream file("/proc/loadavg");
  double one = 0, five = 0, fifteen = 0;
  if (!(file >> one >> five >> fifteen)) return "unknown (/proc/loadavg not readable)";
  char text[96];
  std::snprintf(text, sizeof text, "%.2f, %.2f, %.2f (1, 5, 15 min) on %u hardware threads", one, five, fifteen,
                std::thread::hardware_concurrency());
  return text;
}

std::string joined_workers(const std::vector<int>& workers) {
  std::string text;
  for (int count : workers) text += (text.empty() ? "" : ", ") + std::to_string(count);
  return text;
}

}  // namespace

void bench_end_to_end(const EndToEndBenchArguments& arguments) {
  if (arguments.workers.empty()) throw Error(ErrorKind::invalid_argument, "--workers needs at least one count, e.g. --workers 1,2,4");
  if (arguments.warmup < 0) throw Error(ErrorKind::invalid_argument, "--warmup must be 0 or more");
  if (arguments.frames < 0) throw Error(ErrorKind::invalid_argument, "--iterations must be 0 (200 frames) or more");
  if (arguments.threads_per_worker < 1) {
    throw Error(ErrorKind::invalid_argument, "--threads is the threads per worker with --end-to-end: 1 or more");
  }
  if (!arguments.report.empty() && !report_html::is_report_path(arguments.report)) {
    throw Error(ErrorKind::invalid_argument, "--report takes a .html or .md file", arguments.report);
  }
  const int64_t frames = arguments.frames > 0 ? arguments.frames : 200;
  const std::string source_name = arguments.source.empty() ? "synthetic" : arguments.source;
  // Opened once first so a bad source is reported before any model work; each run opens its own below.
  std::string source_description = pipeline::open_frame_source(source_name, frames, true)->description();

  preparation::PreparedModel prepared = load_model_argument(arguments.model, arguments.input_shapes, arguments.input_values);
  if (!arguments.json) print_preparation_notes(std::cerr, prepared.report);
  preparation::require_static_inputs(prepared.model, "bench");
  const benchmark::ModelConditions model_conditions = benchmark::describe_model(*prepared.model.graph);
  auto model = std::make_shared<const ir::Model>(std::move(prepared.model));
  YoloDetectorOptions sidecar_lookup;
  sidecar_lookup.model = arguments.model;

  std::vector<report_html::WorkerScalingRun> runs;
  std::string head, nms;
  double wall_seconds = 0;
  {
    Progress progress("bench", static_cast<int64_t>(arguments.workers.size()), !arguments.json);
    for (size_t run_index = 0; run_index < arguments.workers.size(); ++run_index) {
      const int workers = arguments.workers[run_index];
      progress.update(static_cast<int64_t>(run_index), std::to_string(workers) + " worker(s)");
      pipeline::DetectionPipelineOptions options;
      options.model_name = arguments.model;
      options.sidecar_path = find_sidecar(sidecar_lookup);
      options.backend = arguments.backend;
      options.workers = workers;
      options.threads_per_worker = arguments.threads_per_worker;
      pipeline::DetectionPipeline detector(model, options);
      head = detector.postprocessor().description();
      char thresholds[128];
      std::snprintf(thresholds, sizeof thresholds, "on: confidence %.2f, IoU %.2f, at most %d boxes, per class", options.detection.confidence,
                    options.detection.nms.iou_threshold, options.detection.nms.max_detections);
      nms = thresholds;
      report_html::WorkerScalingRun run;
      run.workers = workers;
      run.threads_per_worker = arguments.threads_per_worker;
      if (arguments.warmup > 0) detector.run_model_only(arguments.warmup);
      run.model_only = detector.run_model_only(frames);
      if (arguments.warmup > 0) {
        std::unique_ptr<pipeline::FrameSource> warmup = pipeline::open_frame_source(source_name, arguments.warmup, true);
        pipeline::CountingSink discard;
        detector.run(*warmup, discard);
      }
      std::unique_ptr<pipeline::FrameSource> source = pipeline::open_frame_source(source_name, frames, true);
      source_description = source->description();
      pipeline::CountingSink sink;
      run.end_to_end = detector.run(*source, sink);
      wall_seconds += run.end_to_end.wall_seconds;
      if (run.end_to_end.first_failure) {
        throw Error(ErrorKind::io, "the end-to-end run with " + std::to_string(workers) + " worker(s) stopped at frame " +
                                       std::to_string(run.end_to_end.first_failed_frame) + ": " + run.end_to_end.first_failure->message);
      }
      runs.push_back(std::move(run));
    }
  }

  benchmark::RunConditions run_conditions;
  run_conditions.backend = arguments.backend;
  run_conditions.threads = arguments.threads_per_worker;
  run_conditions.workers = arguments.workers.front();
  run_conditions.timed =
      "end to end: decode (from pictures in memory) → letterbox → inference → YOLO decode + NMS, each frame from the source "
      "starting it to the sink receiving its boxes (nothing drawn or written); model only: the same workers running the model "
      "on one pre-processed input";
  run_conditions.scenario = "offline (frames as fast as the source gives them, at most 2 × workers + 2 in flight; throughput is "
                            "its MLPerf metric), latency percentiles per frame beside it";
  run_conditions.warmup = arguments.warmup;
  run_conditions.iterations = static_cast<size_t>(frames);
  run_conditions.duration_seconds = wall_seconds;
  run_conditions.inputs = source_description;
  std::vector<std::pair<std::string, std::string>> conditions =
      benchmark::condition_rows(model_conditions, run_conditions, benchmark::read_machine_conditions(), api::build_versions());
  for (auto& [name, value] : conditions) {
    if (name == "threads") value = std::to_string(arguments.threads_per_worker) + " intra-op per worker; stages run on one thread per worker";
    if (name == "workers") value = joined_workers(arguments.workers) + " (one run each; every worker its own engine, the weights shared)";
    if (name == "warm-up") value = std::to_string(arguments.warmup) + " frames through each pipeline before its timed run, untimed";
    if (name == "iterations") value = std::to_string(frames) + " timed frames per run, model only and end to end; " + value.substr(value.find(" in ") + 4) + " end to end in all";
  }
  conditions.push_back({"head and NMS", head + "; NMS " + nms});
  conditions.push_back({"pipeline library", std::string("oneTBB ") + TBB_VERSION_STRING + " flow graph"});
  conditions.push_back({"load on the machine", "not controlled: other processes may share the cores; load average at the end " +
                                                   load_average() + "; see cores used per run"});

  if (!arguments.report.empty()) {
    report_html::Report report("npukit bench --end-to-end: " + arguments.model, "Worker scaling of the detection pipeline");
    for (report_html::Section& section : report_html::pipeline_sections(runs, conditions)) report.add_section(std::move(section));
    report_html::write_report(report, arguments.report);
  }

  const double first = runs.front().end_to_end.throughput;
  if (arguments.json) {
    nlohmann::json json_runs = nlohmann::json::array();
    for (const report_html::WorkerScalingRun& run : runs) {
      json_runs.push_back({{"workers", run.workers},
                           {"threads_per_worker", run.threads_per_worker},
                           {"end_to_end", pipeline::statistics_json(run.end_to_end)},
                           {"model_only", pipeline::statistics_json(run.model_only)},
                           {"speedup_vs_first", first > 0 ? nlohmann::json(run.end_to_end.throughput / first) : nlohmann::json(nullptr)},
                           {"end_to_end_over_model_only", run.model_only.throughput > 0
                                                              ? nlohmann::json(run.end_to_end.throughput / run.model_only.throughput)
                                                              : nlohmann::json(nullptr)}});
    }
    nlohmann::json declared = nlohmann::json::object();
    for (const auto& [name, value] : conditions) declared[name] = value;
    std::cout << nlohmann::json({{"model", arguments.model}, {"end_to_end", true}, {"source", source_description}, {"batch", 1},
                                 {"runs", json_runs}, {"conditions", declared},
                                 {"report", arguments.report.empty() ? nlohmann::json(nullptr) : nlohmann::json(arguments.report)}})
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << "model   " << arguments.model << " (" << head << ")\nsource  " << source_description << "\n\n";
  Table table({{"workers", Align::right}, {"e2e frames/s", Align::right}, {"speed-up", Align::right}, {"p50", Align::right},
               {"p90", Align::right}, {"p99", Align::right}, {"cores used", Align::right}, {"frames/CPU-s", Align::right},
               {"model-only frames/s", Align::right},
               {"model-only p50", Align::right}, {"e2e / model only", Align::right}});
  for (const report_html::WorkerScalingRun& run : runs) {
    const pipeline::PipelineStatistics& e2e = run.end_to_end;
    table.add_row({std::to_string(run.workers), format_number(e2e.throughput, 4),
                   first > 0 ? format_number(e2e.throughput / first, 3) + "x" : "unknown", format_seconds(e2e.latency.p50),
                   format_seconds(e2e.latency.p90), format_seconds(e2e.latency.p99),
                   e2e.wall_seconds > 0 ? format_number(e2e.cpu_seconds / e2e.wall_seconds, 3) : "unknown",
                   e2e.cpu_seconds > 0 ? format_number(static_cast<double>(e2e.frames_completed) / e2e.cpu_seconds, 4) : "unknown",
                   format_number(run.model_only.throughput, 4),
                   format_seconds(run.model_only.latency.p50),
                   run.model_only.throughput > 0 ? format_percent(e2e.throughput / run.model_only.throughput) : "unknown"});
  }
  table.print(std::cout, 2);
  std::cout << "  batch 1: frames/s are single pictures; p50/p90/p99: per-frame end-to-end latency, source start to boxes, queue waits included\n"
               "  cores used: the process's CPU time over the end-to-end run's wall time (below the worker count when other work shares the cores);\n"
               "  frames/CPU-s: frames per second of CPU the process got (equal across worker counts when nothing but the cores limits scaling)\n"
               "  load average at the end: " << load_average() << "\n\n";
  for (const report_html::WorkerScalingRun& run : runs) {
    std::cout << "stages with " << run.workers << " worker" << (run.workers == 1 ? "" : "s") << " (end to end)\n";
    pipeline::print_stage_table(std::cout, run.end_to_end);
    std::cout << "\n";
  }
  std::cout << "conditions (every figure above holds only under these)\n";
  Table declared({{"condition"}, {"value"}});
  for (const auto& [name, value] : conditions) declared.add_row({name, value});
  declared.print(std::cout, 2, 100);
  if (!arguments.report.empty()) std::cout << "\nreport written to " << arguments.report << "\n";
}

}  // namespace npukit::cli
