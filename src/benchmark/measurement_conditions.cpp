#include "benchmark/measurement_conditions.h"

#include <sys/utsname.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace npukit::benchmark {

namespace {

// The first line of a small /sys or /proc file, or empty when it cannot be read.
std::string first_line(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line)) return {};
  return line;
}

std::string gigahertz_from_kilohertz(const std::string& text) {
  try {
    const double khz = std::stod(text);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f GHz", khz / 1e6);
    return buffer;
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace

MachineConditions read_machine_conditions(const std::string& cpufreq_root) {
  MachineConditions machine;
  machine.hardware_threads = std::thread::hardware_concurrency();
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  std::set<std::string> present;
  while (std::getline(cpuinfo, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && machine.cpu.empty()) machine.cpu = value;
    if ((key == "flags" || key == "Features") && present.empty()) {
      std::istringstream words(value);
      for (std::string word; words >> word;) present.insert(word);
    }
  }
  if (machine.cpu.empty()) machine.cpu = "unknown (no model name in /proc/cpuinfo)";
  for (const char* flag : {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile", "asimd",
                           "asimddp", "sve"}) {
    if (present.count(flag)) machine.flags.emplace_back(flag);
  }
  const std::string policy = cpufreq_root + "/cpu0/cpufreq/";
  const std::string governor = first_line(policy + "scaling_governor");
  const std::string why = "unknown (no " + policy + ": a VM or container hides the CPU's clock control)";
  machine.frequency_governor = governor.empty() ? why : governor;
  const std::string current = gigahertz_from_kilohertz(first_line(policy + "scaling_cur_freq"));
  const std::string maximum = gigahertz_from_kilohertz(first_line(policy + "cpuinfo_max_freq"));
  if (current.empty() && maximum.empty()) {
    machine.frequency = why;
  } else {
    machine.frequency = "cpu0 current " + (current.empty() ? "unknown" : current) + ", max " + (maximum.empty() ? "unknown" : maximum);
  }
  const std::string boost = first_line(cpufreq_root + "/cpufreq/boost");
  machine.frequency_boost = boost == "1" ? "on" : boost == "0" ? "off" : "unknown (no " + cpufreq_root + "/cpufreq/boost)";
  utsname name{};
  machine.kernel = uname(&name) == 0 ? std::string(name.sysname) + " " + name.release + " " + name.machine : "unknown (uname failed)";
  return machine;
}

ModelConditions describe_model(const ir::Graph& graph) {
  ModelConditions conditions;
  for (const ir::Value* input : graph.inputs) {
    if (input->initializer) continue;
    conditions.input_sizes += (conditions.input_sizes.empty() ? "" : ", ") + input->name + " " + input->type.to_string();
    if (conditions.batch.empty()) {
      auto dims = ir::static_dims_of(input);
      conditions.batch = dims && !dims->empty() ? std::to_string(dims->front()) + " (first dim of " + input->name + ")"
                                                : "unknown (" + input->name + " has no static first dim)";
    }
  }
  if (conditions.batch.empty()) conditions.batch = "unknown (no run-time input)";
  std::map<std::string, size_t> quantization_ops;
  std::set<std::string> weight_types;
  for (const auto& node : graph.nodes()) {
    static const std::set<std::string> quantized = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul",
                                                    "ConvInteger", "MatMulInteger", "DynamicQuantizeLinear"};
    if (quantized.count(node->op_type)) ++quantization_ops[node->op_type];
    for (const ir::Value* input : node->inputs) {
      if (input && input->initializer && input->initializer->element_count() > 1) weight_types.insert(std::string(dtype_name(input->type.dtype)));
    }
  }
  std::string weights;
  for (const std::string& type : weight_types) weights += (weights.empty() ? "" : "/") + type;
  if (quantization_ops.empty()) {
    conditions.precision = (weights.empty() ? "no weights" : weights + " weights") + ", not quantized";
  } else {
    std::string ops;
    for (const auto& [op, count] : quantization_ops) ops += (ops.empty() ? "" : ", ") + std::to_string(count) + " " + op;
    conditions.precision = "quantized (" + ops + "); weights " + (weights.empty() ? "none" : weights);
  }
  return conditions;
}

std::vector<std::pair<std::string, std::string>> condition_rows(const ModelConditions& model, const RunConditions& run,
                                                                const MachineConditions& machine,
                                                                const std::map<std::string, std::string>& library_versions) {
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.2f s", run.duration_seconds);
  std::string flags, libraries;
  for (const std::string& flag : machine.flags) flags += (flags.empty() ? "" : " ") + flag;
  for (const auto& [library, version] : library_versions) libraries += (libraries.empty() ? "" : ", ") + library + " " + version;
  return {{"input sizes", model.input_sizes},
          {"batch", model.batch},
          {"dtype / quantization", model.precision},
          {"inputs", run.inputs},
          {"backend", run.backend},
          {"threads", std::to_string(run.threads) + (run.threads == 0 ? " (all cores)" : "")},
          {"workers", std::to_string(run.workers)},
          {"timed", run.timed},
          {"scenario", run.scenario},
          {"warm-up", std::to_string(run.warmup) + " runs, untimed"},
          {"iterations", std::to_string(run.iterations) + " timed runs in " + duration},
          {"machine", machine.cpu + ", " + std::to_string(machine.hardware_threads) + " hardware threads"},
          {"cpu flags", flags.empty() ? "none of the SIMD flags the kernels use" : flags},
          {"frequency governor", machine.frequency_governor},
          {"frequency", machine.frequency},
          {"frequency boost", machine.frequency_boost},
          {"kernel", machine.kernel},
          {"libraries", libraries.empty() ? "unknown" : libraries}};
}

nlohmann::json conditions_json(const ModelConditions& model, const RunConditions& run, const MachineConditions& machine,
                               const std::map<std::string, std::string>& library_versions) {
  return {{"input_sizes", model.input_sizes},
          {"batch", model.batch},
          {"precision", model.precision},
          {"inputs", run.inputs},
          {"backend", run.backend},
          {"threads", run.threads},
          {"workers", run.workers},
          {"timed", run.timed},
          {"scenario", run.scenario},
          {"warmup_runs", run.warmup},
          {"iterations", run.iterations},
          {"duration_s", run.duration_seconds},
          {"machine", {{"cpu", machine.cpu}, {"hardware_threads", machine.hardware_threads}, {"flags", machine.flags},
                       {"frequency_governor", machine.frequency_governor}, {"frequency", machine.frequency},
                       {"frequency_boost", machine.frequency_boost}, {"kernel", machine.kernel}}},
          {"libraries", library_versions}};
}

}  // namespace npukit::benchmark
