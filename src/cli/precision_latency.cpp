#include "cli/precision_latency.h"

#include <memory>

#include "check/target_check.h"
#include "estimate/host_cpu_timing.h"
#include "estimate/model_estimate.h"
#include "npukit/error.h"

namespace npukit::cli {

namespace {

// The assumed cost of a float16 layer relative to its int8 time (see the header).
constexpr double kFloatToInt8TimeRatio = 2.0;
// The assumed cost of a 16-bit-activation layer relative to its int8 time (see the header).
constexpr double kSixteenBitToInt8TimeRatio = 1.5;

}  // namespace

PrecisionLatency precision_latency(const targets::TargetProfile& profile) {
  struct Cache {
    const ir::Model* model = nullptr;
    estimate::Estimate estimate;
  };
  auto cache = std::make_shared<Cache>();
  PrecisionLatency latency;
  latency.basis = "npukit's int8 estimate for " + profile.id +
                  " plus, for each accelerator layer kept float, its int8 time once more (assumed: a float16 layer "
                  "takes 2x its int8 time; no measured float16 rate), and for each kept 16-bit (a16w8) half its int8 time more "
                  "(assumed: 1.5x; no measured 16-bit rate)";
  latency.milliseconds = [cache, profile](const ir::Model& model, const std::set<std::string>& float_nodes,
                                          const std::set<std::string>& sixteen_bit_nodes) {
    if (cache->model != &model) {
      const check::CheckResult check = check::check_model(model, profile);
      estimate::HostCpuTimes cpu_times;
      cpu_times.description = "not needed: no node falls back";
      if (estimate::has_fallback_nodes(check)) cpu_times = estimate::time_nodes_on_host(model, 3, 1, {});
      cache->estimate = estimate::estimate_model(model, check, profile, cpu_times);
      cache->model = &model;
      if (!cache->estimate.available) {
        throw Error(ErrorKind::unsupported, "--budget-latency: no latency estimate for " + profile.id + ": " +
                                                cache->estimate.unavailable_reason);
      }
    }
    double seconds = cache->estimate.seconds;
    for (const estimate::LayerEstimate& layer : cache->estimate.layers) {
      if (layer.on_accelerator && float_nodes.count(layer.name)) seconds += (kFloatToInt8TimeRatio - 1) * layer.seconds;
      else if (layer.on_accelerator && sixteen_bit_nodes.count(layer.name)) {
        seconds += (kSixteenBitToInt8TimeRatio - 1) * layer.seconds;
      }
    }
    return seconds * 1000.0;
  };
  return latency;
}

}  // namespace npukit::cli
