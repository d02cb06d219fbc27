// The streaming pipeline on oneTBB's flow graph: source → decode → pre-process → N inference workers →
// post-process → sink, for any frame payload. The stages are functions the caller gives (detection_pipeline.h
// gives the YOLO ones; the tests give their own).
//
//   input_node (source, serial) → limiter_node (at most `queue_capacity` frames in flight: backpressure; the
//   sink decrements it) → decode, pre-process (function_nodes, any concurrency) → join_node with a buffer of
//   worker tokens (a frame waits there for a free worker: token passing, so one worker never runs two frames)
//   → inference (multifunction_node: the frame goes on, the token goes back) → post-process → sequencer_node
//   (frames leave in source order) → sink (serial).
//
// Messages are frame indices; a frame's data lives in a slot of a ring of queue_capacity + 1 slots. Frames
// leave the sink in order and at most queue_capacity are past the limiter, plus the one the source holds
// back, so the frames alive are always a run of consecutive indices no longer than the ring.
//
// Faults are values, not exceptions through the graph: a stage that throws marks its frame failed (stage and
// message); later stages pass a failed frame on untouched; the source stops reading once any frame failed;
// every frame already in flight still reaches the sink, in order, so no result already computed is lost. The
// run returns after the last frame left the sink, with oneTBB's worker threads joined.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <tuple>
#include <vector>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include "npukit/error.h"
#include "pipeline/pipeline_statistics.h"
#include "pipeline/thread_sanitizer_annotations.h"

namespace npukit::pipeline {

template <typename Payload>
struct PipelineStages {
  // Fills frame `index` (serial, in order); false when the stream has ended. Throws for a stream that fails.
  std::function<bool(int64_t index, Payload& frame)> read;
  std::function<void(Payload& frame)> decode;          // any of these may be empty: the stage then does nothing
  std::function<void(Payload& frame)> preprocess;
  std::function<void(int worker, Payload& frame)> infer;  // never called twice at once with the same worker
  std::function<void(Payload& frame)> postprocess;
  // Every frame the source started, in index order, serial; `failure` is null for a frame that came through.
  std::function<void(int64_t index, Payload& frame, const StageFailure* failure)> write;
};

struct PipelineOptions {
  int workers = 1;
  int threads = 0;          // threads that run the stages; 0: one per worker
  int queue_capacity = 0;   // frames in flight at most; 0: 2 × workers + 2
};

// Checks the options (Error(invalid_argument) saying the allowed range) and fills in the defaults.
PipelineRunSettings resolve_pipeline_options(const PipelineOptions& options);

template <typename Payload>
class FlowPipeline {
 public:
  FlowPipeline(PipelineStages<Payload> stages, const PipelineOptions& options)
      : stages_(std::move(stages)), settings_(resolve_pipeline_options(options)) {}

  // Runs the stream to its end or to its first failure. The statistics hold every frame the source started.
  PipelineStatistics run();

 private:
  struct Slot {
    Payload payload;
    FrameTiming timing;
    std::unique_ptr<StageFailure> failure;
  };

  Slot& slot(int64_t index) { return slots_[static_cast<size_t>(index % static_cast<int64_t>(slots_.size()))]; }

  // Runs one stage's function on a frame unless it already failed; an exception fails the frame.
  template <typename Function>
  void run_stage(Stage stage, int64_t index, Function&& function) {
    Slot& frame = slot(index);
    if (frame.failure) return;
    const int position = static_cast<int>(stage);
    frame.timing.started[position] = Clock::now();
    try {
      function(frame.payload);
    } catch (const std::exception& error) {
      fail(frame, stage, error.what());
    } catch (...) {
      fail(frame, stage, "unknown error");
    }
    frame.timing.finished[position] = Clock::now();
  }

  void fail(Slot& frame, Stage stage, std::string message) {
    frame.failure = std::make_unique<StageFailure>(StageFailure{stage, std::move(message)});
    stopping_.store(true);
  }

  PipelineStages<Payload> stages_;
  PipelineRunSettings settings_;
  std::vector<Slot> slots_;
  std::vector<FrameTiming> finished_frames_;
  std::atomic<bool> stopping_{false};
  int64_t next_index_ = 0;
  std::unique_ptr<StageFailure> first_failure_;  // of the first failed frame in index order (the sink's view)
  int64_t first_failed_frame_ = -1;
  char hand_off_ = 0;  // the sync object of thread_sanitizer_annotations.h
};

template <typename Payload>
PipelineStatistics FlowPipeline<Payload>::run() {
  namespace flow = oneapi::tbb::flow;
  using Token = std::tuple<int64_t, int>;  // frame index, worker
  slots_.clear();
  slots_.resize(static_cast<size_t>(settings_.queue_capacity) + 1);
  finished_frames_.clear();
  stopping_.store(false);
  next_index_ = 0;
  const int workers = settings_.workers;

  Clock::time_point started, finished;
  double cpu_started = 0, cpu_finished = 0;
  // Joins oneTBB's worker threads at the end (finalize), so a run leaves no thread behind.
  oneapi::tbb::task_scheduler_handle scheduler{oneapi::tbb::attach{}};
  {
    // More threads than cores is allowed when asked for (oneTBB caps at the core count otherwise).
    oneapi::tbb::global_control parallelism(oneapi::tbb::global_control::max_allowed_parallelism,
                                            static_cast<size_t>(settings_.threads));
    oneapi::tbb::task_arena arena(settings_.threads);
    arena.execute([&] {
      flow::graph graph;
      flow::input_node<int64_t> source(graph, [this](oneapi::tbb::flow_control& control) -> int64_t {
        HandOffScope scope(&hand_off_);
        if (stopping_.load()) {
          control.stop();
          return -1;
        }
        const int64_t index = next_index_;
        Slot& frame = slot(index);
        frame.payload = Payload{};
        frame.timing = FrameTiming{};
        frame.timing.index = index;
        frame.failure.reset();
        const int position = static_cast<int>(Stage::source);
        frame.timing.started[position] = Clock::now();
        bool more = false;
        try {
          more = stages_.read(index, frame.payload);
        } catch (const std::exception& error) {
          fail(frame, Stage::source, error.what());
          more = true;  // the failed frame goes through, so the sink reports it in its place
        } catch (...) {
          fail(frame, Stage::source, "unknown error");
          more = true;
        }
        frame.timing.finished[position] = Clock::now();
        if (!more) {
          control.stop();
          return -1;
        }
        ++next_index_;
        return index;
      });
      flow::limiter_node<int64_t> limiter(graph, static_cast<size_t>(settings_.queue_capacity));
      auto simple_stage = [this](Stage stage, const std::function<void(Payload&)>& function) {
        return [this, stage, &function](int64_t index) -> int64_t {
          HandOffScope scope(&hand_off_);
          if (function) run_stage(stage, index, function);
          return index;
        };
      };
      flow::function_node<int64_t, int64_t> decode(graph, flow::unlimited, simple_stage(Stage::decode, stages_.decode));
      flow::function_node<int64_t, int64_t> preprocess(graph, flow::unlimited,
                                                       simple_stage(Stage::preprocess, stages_.preprocess));
      flow::buffer_node<int> worker_tokens(graph);
      flow::join_node<Token, flow::queueing> wait_for_worker(graph);
      using InferenceNode = flow::multifunction_node<Token, std::tuple<int64_t, int>>;
      InferenceNode inference(graph, flow::unlimited, [this](const Token& token, typename InferenceNode::output_ports_type& ports) {
        // Plain variables, not a structured binding: clang 14 (the fuzz build) cannot capture those in a lambda.
        const int64_t index = std::get<0>(token);
        const int worker = std::get<1>(token);
        {
          HandOffScope scope(&hand_off_);
          run_stage(Stage::inference, index, [&](Payload& payload) {
            slot(index).timing.worker = worker;
            stages_.infer(worker, payload);
          });
        }
        std::get<1>(ports).try_put(worker);  // the worker is free again
        std::get<0>(ports).try_put(index);
      });
      flow::function_node<int64_t, int64_t> postprocess(graph, flow::unlimited,
                                                        simple_stage(Stage::postprocess, stages_.postprocess));
      flow::sequencer_node<int64_t> in_order(graph, [](const int64_t& index) { return static_cast<size_t>(index); });
      flow::function_node<int64_t, flow::continue_msg> sink(graph, flow::serial, [this](int64_t index) {
        HandOffScope scope(&hand_off_);
        Slot& frame = slot(index);
        const int position = static_cast<int>(Stage::sink);
        const bool failed_before = static_cast<bool>(frame.failure);
        frame.timing.started[position] = Clock::now();
        try {
          stages_.write(index, frame.payload, frame.failure.get());
        } catch (const std::exception& error) {
          if (!failed_before) fail(frame, Stage::sink, error.what());
        } catch (...) {
          if (!failed_before) fail(frame, Stage::sink, "unknown error");
        }
        frame.timing.finished[position] = Clock::now();
        frame.timing.failed = static_cast<bool>(frame.failure);
        finished_frames_.push_back(frame.timing);
        if (frame.failure && !first_failure_) {
          first_failure_ = std::make_unique<StageFailure>(*frame.failure);
          first_failed_frame_ = index;
        }
        frame.payload = Payload{};  // the frame's memory goes now, not when the slot is reused
        return flow::continue_msg();
      });
      flow::make_edge(source, limiter);
      flow::make_edge(limiter, decode);
      flow::make_edge(decode, preprocess);
      flow::make_edge(preprocess, flow::input_port<0>(wait_for_worker));
      flow::make_edge(worker_tokens, flow::input_port<1>(wait_for_worker));
      flow::make_edge(wait_for_worker, inference);
      flow::make_edge(flow::output_port<1>(inference), worker_tokens);
      flow::make_edge(flow::output_port<0>(inference), postprocess);
      flow::make_edge(postprocess, in_order);
      flow::make_edge(in_order, sink);
      flow::make_edge(sink, limiter.decrementer());
      for (int worker = 0; worker < workers; ++worker) worker_tokens.try_put(worker);
      annotate_release(&hand_off_);
      cpu_started = process_cpu_seconds();
      started = Clock::now();
      source.activate();
      graph.wait_for_all();
      finished = Clock::now();
      cpu_finished = process_cpu_seconds();
      annotate_acquire(&hand_off_);
    });
  }
  PipelineStatistics statistics = summarize_pipeline(finished_frames_, started, finished, settings_);
  statistics.cpu_seconds = cpu_finished - cpu_started;
  if (first_failure_) {
    statistics.first_failure = *first_failure_;
    statistics.first_failed_frame = first_failed_frame_;
  }
  first_failure_.reset();
  first_failed_frame_ = -1;
  statistics.threads_joined = oneapi::tbb::finalize(scheduler, std::nothrow);
  return statistics;
}

}  // namespace npukit::pipeline
