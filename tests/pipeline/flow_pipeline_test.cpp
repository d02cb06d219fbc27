// The flow-graph pipeline with stages written here (no model): order, backpressure, one frame per worker at a
// time, and the faults of issue 13 §6 (a source that fails mid-stream, a worker that throws on one input, a sink
// that cannot write), each stopping cleanly, keeping every result already computed and leaving no thread.
// Also built alone under ThreadSanitizer (npukit_pipeline_tests in build-tsan, `make test`).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "npukit/error.h"
#include "pipeline/flow_pipeline.h"

namespace npukit::pipeline {
namespace {

struct TestFrame {
  int64_t value = -1;
  int64_t doubled = -1;
  int64_t squared = -1;
  int worker = -1;
};

size_t thread_count() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++count;
  return count;
}

// Busy work of about `microseconds`, different per frame so frames finish out of order.
void spin(int microseconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(microseconds);
  while (std::chrono::steady_clock::now() < until) {
  }
}

struct Written {
  int64_t index;
  TestFrame frame;
  bool failed;
  Stage failed_stage;
  std::string message;
};

// Stages over `frames` frames: decode copies the index, inference doubles it (on a worker that must be free),
// post-processing squares it; the sink records what it got, in the order it got it.
struct TestStages {
  int64_t frames = 40;
  int64_t fail_source_at = -1, fail_worker_at = -1, fail_sink_at = -1;
  int workers = 2;
  std::vector<std::atomic<int>> worker_busy;
  std::atomic<bool> worker_overlap{false};
  std::atomic<int64_t> in_flight{0}, most_in_flight{0};
  std::vector<Written> written;  // the sink is serial

  explicit TestStages(int worker_count) : workers(worker_count), worker_busy(static_cast<size_t>(worker_count)) {}

  PipelineStages<TestFrame> stages() {
    PipelineStages<TestFrame> stages;
    stages.read = [this](int64_t index, TestFrame& frame) {
      if (index >= frames) return false;
      if (index == fail_source_at) throw Error(ErrorKind::io, "truncated stream at frame " + std::to_string(index), "test.stream");
      const int64_t now = ++in_flight;
      int64_t most = most_in_flight.load();
      while (now > most && !most_in_flight.compare_exchange_weak(most, now)) {
      }
      frame.value = index;
      return true;
    };
    stages.decode = [](TestFrame& frame) { spin(static_cast<int>(50 + (frame.value * 37) % 200)); };
    stages.infer = [this](int worker, TestFrame& frame) {
      if (worker_busy[static_cast<size_t>(worker)].fetch_add(1) != 0) worker_overlap.store(true);
      spin(static_cast<int>(100 + (frame.value * 53) % 300));
      frame.worker = worker;
      worker_busy[static_cast<size_t>(worker)].fetch_sub(1);
      if (frame.value == fail_worker_at) throw std::runtime_error("the model failed on frame " + std::to_string(frame.value));
      frame.doubled = frame.value * 2;
    };
    stages.postprocess = [](TestFrame& frame) { frame.squared = frame.doubled * frame.doubled; };
    stages.write = [this](int64_t index, TestFrame& frame, const StageFailure* failure) {
      --in_flight;
      written.push_back({index, frame, failure != nullptr, failure ? failure->stage : Stage::sink,
                         failure ? failure->message : std::string()});
      if (index == fail_sink_at) throw Error(ErrorKind::io, "no space left on device", "out/frame.jpg");
    };
    return stages;
  }
};

TEST(FlowPipeline, EveryFrameArrivesInOrderWithItsResults) {
  for (int workers : {1, 2, 4}) {
    TestStages test(workers);
    PipelineOptions options;
    options.workers = workers;
    FlowPipeline<TestFrame> pipeline(test.stages(), options);
    const PipelineStatistics statistics = pipeline.run();
    ASSERT_EQ(test.written.size(), 40u) << workers << " workers";
    for (size_t i = 0; i < test.written.size(); ++i) {
      EXPECT_EQ(test.written[i].index, static_cast<int64_t>(i));
      EXPECT_FALSE(test.written[i].failed);
      EXPECT_EQ(test.written[i].frame.value, static_cast<int64_t>(i));
      EXPECT_EQ(test.written[i].frame.squared, static_cast<int64_t>(4 * i * i));
      EXPECT_GE(test.written[i].frame.worker, 0);
      EXPECT_LT(test.written[i].frame.worker, workers);
    }
    EXPECT_FALSE(test.worker_overlap.load()) << "a worker ran two frames at once";
    EXPECT_EQ(statistics.frames_started, 40);
    EXPECT_EQ(statistics.frames_completed, 40);
    EXPECT_EQ(statistics.frames_failed, 0);
    EXPECT_FALSE(statistics.first_failure.has_value());
    EXPECT_EQ(statistics.latency.samples, 40u);
    EXPECT_GT(statistics.throughput, 0);
    EXPECT_GE(statistics.latency.p99, statistics.latency.p50);
    // Inference busy time is at least 100 µs per frame, and the workers' busy times add up to it.
    const StageStatistics& inference = statistics.stages[static_cast<int>(Stage::inference)];
    EXPECT_EQ(inference.frames, 40);
    EXPECT_GE(inference.busy_seconds, 40 * 100e-6);
    double workers_busy = 0;
    for (double busy : statistics.worker_busy_seconds) workers_busy += busy;
    EXPECT_NEAR(workers_busy, inference.busy_seconds, 1e-9);
    EXPECT_GT(inference.utilization, 0);
    EXPECT_LE(inference.utilization, 1.0 + 1e-9);
  }
}

TEST(FlowPipeline, BackpressureBoundsTheFramesInFlight) {
  TestStages test(2);
  test.frames = 60;
  PipelineOptions options;
  options.workers = 2;
  options.queue_capacity = 3;
  FlowPipeline<TestFrame> pipeline(test.stages(), options);
  pipeline.run();
  ASSERT_EQ(test.written.size(), 60u);
  // Past the limiter at most 3, plus the one the source has read and holds back.
  EXPECT_LE(test.most_in_flight.load(), 4);
  EXPECT_GE(test.most_in_flight.load(), 2);
}

TEST(FlowPipeline, ASourceThatFailsMidStreamStopsWithEveryEarlierFrameKept) {
  TestStages test(2);
  test.fail_source_at = 7;
  PipelineOptions options;
  options.workers = 2;
  FlowPipeline<TestFrame> pipeline(test.stages(), options);
  const PipelineStatistics statistics = pipeline.run();
  ASSERT_EQ(test.written.size(), 8u);  // 0..6 with results, 7 reported in its place
  for (int64_t i = 0; i < 7; ++i) {
    EXPECT_FALSE(test.written[static_cast<size_t>(i)].failed);
    EXPECT_EQ(test.written[static_cast<size_t>(i)].frame.squared, 4 * i * i);
  }
  EXPECT_TRUE(test.written[7].failed);
  EXPECT_EQ(test.written[7].failed_stage, Stage::source);
  EXPECT_NE(test.written[7].message.find("truncated stream at frame 7"), std::string::npos);
  EXPECT_NE(test.written[7].message.find("test.stream"), std::string::npos);
  EXPECT_EQ(statistics.frames_completed, 7);
  EXPECT_EQ(statistics.frames_failed, 1);
  ASSERT_TRUE(statistics.first_failure.has_value());
  EXPECT_EQ(statistics.first_failure->stage, Stage::source);
  EXPECT_EQ(statistics.first_failed_frame, 7);
}

TEST(FlowPipeline, AWorkerErrorStopsTheSourceAndKeepsFramesAlreadyInFlight) {
  TestStages test(2);
  test.frames = 1000;
  test.fail_worker_at = 5;
  PipelineOptions options;
  options.workers = 2;
  FlowPipeline<TestFrame> pipeline(test.stages(), options);
  const PipelineStatistics statistics = pipeline.run();
  // The source stopped soon after frame 5 failed: no more than the frames in flight followed it.
  ASSERT_GE(test.written.size(), 6u);
  EXPECT_LE(test.written.size(), 6u + static_cast<size_t>(2 * 2 + 2) + 1);
  for (size_t i = 0; i < test.written.size(); ++i) {
    EXPECT_EQ(test.written[i].index, static_cast<int64_t>(i));
    if (i == 5) {
      EXPECT_TRUE(test.written[i].failed);
      EXPECT_EQ(test.written[i].failed_stage, Stage::inference);
      EXPECT_NE(test.written[i].message.find("the model failed on frame 5"), std::string::npos);
    } else {
      // Computed before or beside the failure: kept, with its result.
      EXPECT_FALSE(test.written[i].failed) << i;
      EXPECT_EQ(test.written[i].frame.squared, static_cast<int64_t>(4 * i * i));
    }
  }
  EXPECT_EQ(statistics.frames_failed, 1);
  EXPECT_EQ(statistics.frames_completed, static_cast<int64_t>(test.written.size()) - 1);
  ASSERT_TRUE(statistics.first_failure.has_value());
  EXPECT_EQ(statistics.first_failure->stage, Stage::inference);
  EXPECT_EQ(statistics.first_failed_frame, 5);
}

TEST(FlowPipeline, ASinkThatCannotWriteStopsThePipeline) {
  TestStages test(2);
  test.frames = 1000;
  test.fail_sink_at = 3;
  PipelineOptions options;
  options.workers = 2;
  FlowPipeline<TestFrame> pipeline(test.stages(), options);
  const PipelineStatistics statistics = pipeline.run();
  ASSERT_GE(test.written.size(), 4u);
  EXPECT_LE(test.written.size(), 4u + static_cast<size_t>(2 * 2 + 2) + 1);
  ASSERT_TRUE(statistics.first_failure.has_value());
  EXPECT_EQ(statistics.first_failure->stage, Stage::sink);
  EXPECT_NE(statistics.first_failure->message.find("no space left on device"), std::string::npos);
  EXPECT_EQ(statistics.first_failed_frame, 3);
  EXPECT_EQ(statistics.frames_failed, 1);
}

TEST(FlowPipeline, LeavesNoThreadBehind) {
  const size_t before = thread_count();
  for (int workers : {1, 3}) {
    TestStages test(workers);
    test.fail_worker_at = 9;
    PipelineOptions options;
    options.workers = workers;
    options.threads = workers + 1;
    FlowPipeline<TestFrame> pipeline(test.stages(), options);
    const PipelineStatistics statistics = pipeline.run();
    EXPECT_TRUE(statistics.threads_joined);
  }
  EXPECT_LE(thread_count(), before);
}

TEST(FlowPipeline, AbsurdOptionsAreRefused) {
  for (int workers : {0, -1, 100000}) {
    PipelineOptions options;
    options.workers = workers;
    EXPECT_THROW(resolve_pipeline_options(options), Error) << workers;
  }
  PipelineOptions options;
  options.queue_capacity = -3;
  EXPECT_THROW(resolve_pipeline_options(options), Error);
  options = {};
  options.workers = 3;
  const PipelineRunSettings settings = resolve_pipeline_options(options);
  EXPECT_EQ(settings.threads, 3);
  EXPECT_EQ(settings.queue_capacity, 8);
}

TEST(PipelineStatistics, PercentilesAndSpreadOfKnownSamples) {
  const LatencyStatistics statistics = summarize_latencies({4, 1, 3, 2, 5});
  EXPECT_EQ(statistics.samples, 5u);
  EXPECT_DOUBLE_EQ(statistics.mean, 3);
  EXPECT_DOUBLE_EQ(statistics.p50, 3);
  EXPECT_DOUBLE_EQ(statistics.p90, 4.6);
  EXPECT_DOUBLE_EQ(statistics.min, 1);
  EXPECT_DOUBLE_EQ(statistics.max, 5);
  ASSERT_TRUE(statistics.standard_deviation.has_value());
  EXPECT_NEAR(*statistics.standard_deviation, 1.5811388300841898, 1e-12);
  EXPECT_FALSE(summarize_latencies({2}).standard_deviation.has_value());
}

}  // namespace
}  // namespace npukit::pipeline
