// `quantize --budget-latency`: the estimated latency of a model on a target with some layers kept float, composed
// at the command line from the int8 estimate of src/estimate (which knows one precision only).
//
// Composition: the int8 estimate's total, plus, for every accelerator layer kept float, its int8 layer time once
// more. That is an ASSUMPTION, stated in every figure's basis: a float16 layer takes twice its int8 time (half the
// MACs per cycle and twice the bytes). A 16-bit layer (--keep-int16: 16-bit activations, 8-bit weights) adds half
// its int8 time: ASSUMED 1.5x (twice the activation bytes, the 16 x 8-bit products at half the int8 rate on part of
// the work; no vendor states the ratio). No profile in npukit has a measured float16 or 16-bit rate yet; on a
// pipelined target (Hailo) the per-frame time is approximated the same way.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "ir/graph.h"
#include "targets/target_profile.h"

namespace npukit::cli {

struct PrecisionLatency {
  // Milliseconds for `model` with `float_nodes` in float and `sixteen_bit_nodes` in 16-bit; the int8 estimate is
  // computed once per model and cached.
  std::function<double(const ir::Model& model, const std::set<std::string>& float_nodes,
                       const std::set<std::string>& sixteen_bit_nodes)>
      milliseconds;
  std::string basis;
};

PrecisionLatency precision_latency(const targets::TargetProfile& profile);

}  // namespace npukit::cli
