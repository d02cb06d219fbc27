// npukit bench MODEL --end-to-end [SOURCE] --workers 1,2,4: the detection pipeline (src/pipeline/) measured per
// worker count — throughput, per-frame latency p50/p90/p99, the time of every stage — beside the same workers
// running the model alone, with every condition declared; optionally an HTML/Markdown report with the charts.
#pragma once

#include <string>
#include <vector>

namespace npukit::cli {

struct EndToEndBenchArguments {
  std::string model;
  std::string source;                 // empty: synthetic 640x480
  std::vector<int> workers{1};
  int threads_per_worker = 1;
  std::string backend = "cpu";
  int warmup = 5;                     // frames through the pipeline before each timed run
  int frames = 0;                     // timed frames per run; 0: 200
  std::string report;                 // .html / .md; empty: none
  bool json = false;
  std::vector<std::string> input_shapes, input_values;
};

void bench_end_to_end(const EndToEndBenchArguments& arguments);

}  // namespace npukit::cli
