#include "pipeline/pipeline_statistics.h"

#include <time.h>

#include <algorithm>
#include <cmath>

namespace npukit::pipeline {

namespace {

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::source: return "source";
    case Stage::decode: return "decode";
    case Stage::preprocess: return "pre-process";
    case Stage::inference: return "inference";
    case Stage::postprocess: return "post-process + NMS";
    case Stage::sink: return "sink";
  }
  return "unknown";
}

const char* stage_key(Stage stage) {
  switch (stage) {
    case Stage::source: return "source";
    case Stage::decode: return "decode";
    case Stage::preprocess: return "preprocess";
    case Stage::inference: return "inference";
    case Stage::postprocess: return "postprocess";
    case Stage::sink: return "sink";
  }
  return "unknown";
}

double process_cpu_seconds() {
  timespec now{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now) != 0) return 0;
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

double percentile_of_sorted(const std::vector<double>& sorted, double fraction) {
  const double position = fraction * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(position);
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - static_cast<double>(below));
}

LatencyStatistics summarize_latencies(std::vector<double> seconds) {
  LatencyStatistics statistics;
  statistics.samples = seconds.size();
  if (seconds.empty()) return statistics;
  std::sort(seconds.begin(), seconds.end());
  double sum = 0;
  for (double value : seconds) sum += value;
  const double count = static_cast<double>(seconds.size());
  statistics.mean = sum / count;
  statistics.min = seconds.front();
  statistics.max = seconds.back();
  statistics.p50 = percentile_of_sorted(seconds, 0.5);
  statistics.p90 = percentile_of_sorted(seconds, 0.9);
  statistics.p99 = percentile_of_sorted(seconds, 0.99);
  if (seconds.size() > 1) {
    double squares = 0;
    for (double value : seconds) squares += (value - statistics.mean) * (value - statistics.mean);
    statistics.standard_deviation = std::sqrt(squares / (count - 1));
  }
  return statistics;
}

PipelineStatistics summarize_pipeline(const std::vector<FrameTiming>& frames, Clock::time_point started,
                                      Clock::time_point finished, const PipelineRunSettings& settings) {
  PipelineStatistics statistics;
  statistics.settings = settings;
  statistics.wall_seconds = seconds_between(started, finished);
  statistics.worker_busy_seconds.assign(static_cast<size_t>(settings.workers), 0.0);
  std::vector<double> latencies;
  std::array<std::vector<double>, stage_count> stage_times;
  std::array<double, stage_count> waits{};
  std::array<int64_t, stage_count> waited_frames{};
  for (const FrameTiming& frame : frames) {
    ++statistics.frames_started;
    if (frame.failed) ++statistics.frames_failed;
    else ++statistics.frames_completed;
    for (int stage = 0; stage < stage_count; ++stage) {
      // A stage a failed frame skipped has no times (both left at the epoch).
      if (frame.started[stage] == Clock::time_point{} || frame.finished[stage] == Clock::time_point{}) continue;
      const double busy = seconds_between(frame.started[stage], frame.finished[stage]);
      stage_times[stage].push_back(busy);
      if (stage == static_cast<int>(Stage::inference) && frame.worker >= 0 && frame.worker < settings.workers) {
        statistics.worker_busy_seconds[static_cast<size_t>(frame.worker)] += busy;
      }
      if (stage > 0 && frame.finished[stage - 1] != Clock::time_point{}) {
        waits[stage] += seconds_between(frame.finished[stage - 1], frame.started[stage]);
        ++waited_frames[stage];
      }
    }
    const Clock::time_point sink_end = frame.finished[static_cast<int>(Stage::sink)];
    if (!frame.failed && sink_end != Clock::time_point{}) {
      latencies.push_back(seconds_between(frame.started[static_cast<int>(Stage::source)], sink_end));
    }
  }
  statistics.latency = summarize_latencies(latencies);
  statistics.throughput = statistics.wall_seconds > 0 ? static_cast<double>(statistics.frames_completed) / statistics.wall_seconds : 0;
  for (int stage = 0; stage < stage_count; ++stage) {
    StageStatistics row;
    row.stage = static_cast<Stage>(stage);
    row.frames = static_cast<int64_t>(stage_times[stage].size());
    for (double busy : stage_times[stage]) row.busy_seconds += busy;
    row.time = summarize_latencies(stage_times[stage]);
    row.mean_wait_seconds = waited_frames[stage] > 0 ? waits[stage] / static_cast<double>(waited_frames[stage]) : 0;
    row.capacity = row.stage == Stage::source || row.stage == Stage::sink ? 1
                   : row.stage == Stage::inference                      ? settings.workers
                                                                        : settings.threads;
    if (statistics.wall_seconds > 0) {
      row.utilization = row.busy_seconds / (statistics.wall_seconds * row.capacity);
      row.share_of_threads = row.busy_seconds / (statistics.wall_seconds * settings.threads);
    }
    statistics.stages.push_back(row);
  }
  return statistics;
}

}  // namespace npukit::pipeline
