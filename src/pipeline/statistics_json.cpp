#include "pipeline/statistics_json.h"

#include "report/table.h"

namespace npukit::pipeline {

nlohmann::json latency_json(const LatencyStatistics& latency) {
  return {{"samples", latency.samples},
          {"mean", latency.mean * 1e3},
          {"stddev", latency.standard_deviation ? nlohmann::json(*latency.standard_deviation * 1e3) : nlohmann::json(nullptr)},
          {"min", latency.min * 1e3},
          {"p50", latency.p50 * 1e3},
          {"p90", latency.p90 * 1e3},
          {"p99", latency.p99 * 1e3},
          {"max", latency.max * 1e3}};
}

nlohmann::json statistics_json(const PipelineStatistics& statistics) {
  nlohmann::json stages = nlohmann::json::array();
  for (const StageStatistics& stage : statistics.stages) {
    stages.push_back({{"stage", stage_key(stage.stage)},
                      {"frames", stage.frames},
                      {"busy_s", stage.busy_seconds},
                      {"time_ms", latency_json(stage.time)},
                      {"mean_wait_before_ms", stage.mean_wait_seconds * 1e3},
                      {"capacity", stage.capacity},
                      {"utilization", stage.utilization},
                      {"share_of_threads", stage.share_of_threads}});
  }
  nlohmann::json failure = nullptr;
  if (statistics.first_failure) {
    failure = {{"frame", statistics.first_failed_frame},
               {"stage", stage_key(statistics.first_failure->stage)},
               {"message", statistics.first_failure->message}};
  }
  return {{"workers", statistics.settings.workers},
          {"threads", statistics.settings.threads},
          {"queue_capacity", statistics.settings.queue_capacity},
          {"frames_started", statistics.frames_started},
          {"frames_completed", statistics.frames_completed},
          {"frames_failed", statistics.frames_failed},
          {"stopped_by", failure},
          {"wall_s", statistics.wall_seconds},
          {"throughput_per_second", statistics.throughput},
          {"latency_ms", latency_json(statistics.latency)},
          {"latency_measures", "from the source starting a frame to the sink finishing it, queue waits included"},
          {"stages", stages},
          {"worker_busy_s", statistics.worker_busy_seconds},
          {"threads_joined", statistics.threads_joined},
          {"cpu_s", statistics.cpu_seconds},
          {"frames_per_cpu_second", statistics.cpu_seconds > 0 ? nlohmann::json(static_cast<double>(statistics.frames_completed) / statistics.cpu_seconds)
                                                              : nlohmann::json(nullptr)},
          {"cores_used", statistics.wall_seconds > 0 ? nlohmann::json(statistics.cpu_seconds / statistics.wall_seconds) : nlohmann::json(nullptr)}};
}

void print_stage_table(std::ostream& out, const PipelineStatistics& statistics) {
  using report::Align;
  using report::format_number;
  using report::format_percent;
  using report::format_seconds;
  report::Table table({{"stage"}, {"frames", Align::right}, {"mean", Align::right}, {"p90", Align::right},
                       {"wait before", Align::right}, {"busy", Align::right}, {"of threads", Align::right}});
  for (const StageStatistics& stage : statistics.stages) {
    if (stage.frames == 0) {
      table.add_row({stage_name(stage.stage), "0", "-", "-", "-", "-", "-"});
      continue;
    }
    const std::string capacity = stage.capacity == 1 ? "1 thread" : std::to_string(stage.capacity) +
                                 (stage.stage == Stage::inference ? " workers" : " threads");
    table.add_row({stage_name(stage.stage), std::to_string(stage.frames), format_seconds(stage.time.mean), format_seconds(stage.time.p90),
                   stage.stage == Stage::source ? "-" : format_seconds(stage.mean_wait_seconds),
                   format_percent(stage.utilization) + " of " + capacity, format_percent(stage.share_of_threads)});
  }
  table.print(out, 2);
  out << "  busy: the stage's summed time over the wall time of what may run it at once; of threads: over all "
      << statistics.settings.threads << " pipeline thread" << (statistics.settings.threads == 1 ? "" : "s") << "\n";
  out << "  " << statistics.frames_completed << " frames in " << format_seconds(statistics.wall_seconds) << ": "
      << format_number(statistics.throughput, 4) << " frames/s; latency (source start to sink end, queue waits included) p50 "
      << format_seconds(statistics.latency.p50) << ", p90 " << format_seconds(statistics.latency.p90) << ", p99 "
      << format_seconds(statistics.latency.p99) << "\n";
  if (statistics.wall_seconds > 0) {
    out << "  CPU: " << format_seconds(statistics.cpu_seconds) << " over the run, " << format_number(statistics.cpu_seconds / statistics.wall_seconds, 3)
        << " cores on average of the " << statistics.settings.threads << " thread" << (statistics.settings.threads == 1 ? "" : "s")
        << " asked for (less: other work on the machine took the rest)\n";
  }
  if (statistics.first_failure) {
    out << "  stopped at frame " << statistics.first_failed_frame << " (" << stage_name(statistics.first_failure->stage)
        << "): " << statistics.first_failure->message << "\n";
  }
}

}  // namespace npukit::pipeline
