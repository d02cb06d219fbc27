// What a pipeline run measured: per frame, when each stage started and finished; summed up into time per stage,
// the share of the pipeline's threads each stage kept busy, the wait in front of each stage, throughput, and the
// latency of a frame from the source starting it to the sink finishing it (queue waits included).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace npukit::pipeline {

using Clock = std::chrono::steady_clock;

enum class Stage { source, decode, preprocess, inference, postprocess, sink };
constexpr int stage_count = 6;
// "source", "decode", "pre-process", "inference", "post-process + NMS", "sink".
const char* stage_name(Stage stage);
// "source", "decode", "preprocess", "inference", "postprocess", "sink" (JSON keys).
const char* stage_key(Stage stage);

// Why a frame did not come through: the stage and the error's text (which names the file and frame).
struct StageFailure {
  Stage stage = Stage::source;
  std::string message;
};

struct FrameTiming {
  int64_t index = 0;
  std::array<Clock::time_point, stage_count> started{}, finished{};
  int worker = -1;        // the inference worker that ran it; -1 when it never reached one
  bool failed = false;
};

struct LatencyStatistics {
  size_t samples = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, min = 0, max = 0;  // seconds
  std::optional<double> standard_deviation;                       // sample (n - 1); none for one sample
};

LatencyStatistics summarize_latencies(std::vector<double> seconds);
// Linear interpolation between closest ranks (numpy's default); `sorted` ascending, not empty.
double percentile_of_sorted(const std::vector<double>& sorted, double fraction);

struct StageStatistics {
  Stage stage = Stage::source;
  int64_t frames = 0;
  double busy_seconds = 0;        // summed over frames
  LatencyStatistics time;         // per frame
  double mean_wait_seconds = 0;   // in front of the stage: from the previous stage finishing to this one starting
  int capacity = 1;               // threads that may run it at once (1 for source and sink, workers for inference)
  double utilization = 0;         // busy / (wall × capacity)
  double share_of_threads = 0;    // busy / (wall × the pipeline's threads)
};

struct PipelineRunSettings {
  int workers = 1;
  int threads = 1;         // threads that run the stages
  int queue_capacity = 1;  // frames in flight at most
};

struct PipelineStatistics {
  PipelineRunSettings settings;
  int64_t frames_started = 0;     // frames the source began
  int64_t frames_completed = 0;   // reached the sink without a failure
  int64_t frames_failed = 0;
  std::optional<StageFailure> first_failure;  // in frame order
  int64_t first_failed_frame = -1;
  double wall_seconds = 0;        // from activating the graph to the last frame leaving the sink
  double throughput = 0;          // completed frames per second of wall time
  LatencyStatistics latency;      // completed frames, source start to sink end
  std::vector<StageStatistics> stages;
  std::vector<double> worker_busy_seconds;
  bool threads_joined = false;    // oneTBB's worker threads were all joined at the end (none left running)
  // CPU time the whole process used during the run (all threads): over wall_seconds, the cores it actually got.
  // On a machine other work shares, this says how much of the asked-for threads' time the run was given.
  double cpu_seconds = 0;
};

// CPU seconds this process has used so far, all threads (CLOCK_PROCESS_CPUTIME_ID).
double process_cpu_seconds();

// `frames` in frame order; `started` / `finished` bound the run.
PipelineStatistics summarize_pipeline(const std::vector<FrameTiming>& frames, Clock::time_point started,
                                      Clock::time_point finished, const PipelineRunSettings& settings);

}  // namespace npukit::pipeline
