#include "estimate/host_cpu_timing.h"

#include <algorithm>
#include <map>
#include <memory>

#include "benchmark/measurement_conditions.h"
#include "engine/engine.h"
#include "npukit/session.h"

namespace npukit::estimate {

namespace {

Tensor input_tensor(const ValueInfo& input) {
  Shape shape(input.shape.begin(), input.shape.end());
  for (int64_t& dim : shape) dim = std::max<int64_t>(dim, 1);
  Tensor tensor(input.dtype, shape);
  if (input.dtype == DType::f32) {
    float* data = tensor.data<float>();
    uint32_t state = 12345;
    for (int64_t i = 0; i < tensor.element_count(); ++i) {
      state = state * 1664525u + 1013904223u;  // a fixed LCG: the same inputs on every run and machine
      data[i] = static_cast<float>(state >> 8) / static_cast<float>(1u << 24);
    }
  }
  return tensor;
}

}  // namespace

HostCpuTimes time_nodes_on_host(const ir::Model& model, int runs, int warmup, const std::function<void(int, int)>& progress) {
  engine::EngineOptions options;
  options.backend = "cpu";
  options.threads = 1;
  // The engine's cpu passes work on their own copy of the model; this one is not changed.
  auto session = engine::Engine::from_model(std::make_shared<const ir::Model>(model), options);
  for (const ValueInfo& input : session->inputs()) session->set_input(input.name, input_tensor(input));
  std::map<std::string, std::vector<double>> samples;
  const int total = warmup + runs;
  for (int run = 0; run < total; ++run) {
    session->set_profiling(run >= warmup);
    session->run();
    if (run >= warmup) {
      for (const Session::NodeTiming& timing : session->last_profile()) samples[timing.node].push_back(timing.seconds);
    }
    if (progress) progress(run + 1, total);
  }
  HostCpuTimes times;
  times.measured = true;
  for (auto& [node, values] : samples) {
    std::sort(values.begin(), values.end());
    times.seconds_by_node[node] = values.front();
  }
  times.description = "cpu backend on this host (" + benchmark::read_machine_conditions().cpu + "), 1 thread, fastest of " + std::to_string(runs) +
                      " runs after " + std::to_string(warmup) + " warm-up";
  return times;
}

}  // namespace npukit::estimate
