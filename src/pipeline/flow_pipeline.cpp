#include "pipeline/flow_pipeline.h"

namespace npukit::pipeline {

PipelineRunSettings resolve_pipeline_options(const PipelineOptions& options) {
  // Limits keep an absurd argument from starting thousands of threads or engines.
  constexpr int most_workers = 256, most_threads = 1024, most_in_flight = 4096;
  if (options.workers < 1 || options.workers > most_workers) {
    throw Error(ErrorKind::invalid_argument, "--workers must be between 1 and " + std::to_string(most_workers) + " (got " +
                                                 std::to_string(options.workers) + ")");
  }
  if (options.threads < 0 || options.threads > most_threads) {
    throw Error(ErrorKind::invalid_argument, "the pipeline's threads must be between 0 (one per worker) and " +
                                                 std::to_string(most_threads) + " (got " + std::to_string(options.threads) + ")");
  }
  if (options.queue_capacity < 0 || options.queue_capacity > most_in_flight) {
    throw Error(ErrorKind::invalid_argument, "--queue must be between 0 (2 × workers + 2) and " +
                                                 std::to_string(most_in_flight) + " frames (got " +
                                                 std::to_string(options.queue_capacity) + ")");
  }
  PipelineRunSettings settings;
  settings.workers = options.workers;
  settings.threads = options.threads > 0 ? options.threads : options.workers;
  settings.queue_capacity = options.queue_capacity > 0 ? options.queue_capacity : 2 * options.workers + 2;
  return settings;
}

}  // namespace npukit::pipeline
