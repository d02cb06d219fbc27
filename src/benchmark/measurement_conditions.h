// Every condition a benchmark figure depends on, declared next to it (issue 13: "a benchmark that declares
// everything"): the model's input sizes, dtype and quantization, batch, what is timed, warm-up, iterations and
// duration, the machine (CPU, flags, frequency governor and clocks where readable), the kernel and the library
// versions. What cannot be read is written "unknown" with the reason.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ir/graph.h"

namespace npukit::benchmark {

struct MachineConditions {
  std::string cpu;
  unsigned hardware_threads = 0;
  std::vector<std::string> flags;        // the SIMD features that matter to the kernels
  std::string frequency_governor;        // "performance", or "unknown (why)"
  std::string frequency;                 // "current 2.4 GHz, max 3.5 GHz", or "unknown (why)"
  std::string frequency_boost;           // "on", "off", or "unknown (why)"
  std::string kernel;                    // uname: system, release, machine
};

// Reads /proc/cpuinfo, /sys/devices/system/cpu/cpufreq and uname. `cpufreq_root` is for tests.
MachineConditions read_machine_conditions(const std::string& cpufreq_root = "/sys/devices/system/cpu");

struct ModelConditions {
  std::string input_sizes;   // "images f32[1, 3, 640, 640]"
  std::string batch;         // "1", or "unknown (why)"
  std::string precision;     // "float32, not quantized" / "QDQ int8: 12 QuantizeLinear, 30 DequantizeLinear"
};

ModelConditions describe_model(const ir::Graph& graph);

struct RunConditions {
  std::string backend;
  int threads = 1;
  int workers = 1;
  std::string timed;             // what one timed sample covers
  std::string scenario;          // MLPerf name
  int warmup = 0;
  size_t iterations = 0;
  double duration_seconds = 0;   // of the timed phase
  std::string inputs;            // random (seed) or files
};

// One (condition, value) row per declared condition, in print order.
std::vector<std::pair<std::string, std::string>> condition_rows(const ModelConditions& model, const RunConditions& run,
                                                                const MachineConditions& machine,
                                                                const std::map<std::string, std::string>& library_versions);
nlohmann::json conditions_json(const ModelConditions& model, const RunConditions& run, const MachineConditions& machine,
                               const std::map<std::string, std::string>& library_versions);

}  // namespace npukit::benchmark
