// Times every node of a model on this host's cpu backend (one thread, per-node profile), so the estimate can
// charge the nodes that fall back to a board's CPU with a measured time (scaled by the board's CPU slowdown)
// instead of a guess. Inputs are deterministic pseudo-random values (zeros for integer inputs).
#pragma once

#include <functional>

#include "estimate/latency_model.h"
#include "ir/graph.h"

namespace npukit::estimate {

// Runs `warmup` + `runs` inferences and keeps each node's fastest time (the run least disturbed by other work on a
// shared machine). `progress(done, total)` is called after
// each run. Throws npukit::Error when the model cannot run on the cpu backend.
HostCpuTimes time_nodes_on_host(const ir::Model& model, int runs = 3, int warmup = 1,
                                const std::function<void(int, int)>& progress = {});

}  // namespace npukit::estimate
