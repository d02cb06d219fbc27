// npukit check --input-sizes: one model at several square input sizes, per target. A size "passes" when no node
// is refused by a limit that depends on tensor sizes (dims, elements, input dims, a MatMul's K): those are the
// rules a larger input can break. Beside that, the MACs and transfer bytes at each size, and the memory the
// model needs at int8 (weights, largest activation) against the profile's on-chip memory, with its source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check/target_check.h"
#include "ir/graph.h"
#include "targets/target_profile.h"

namespace npukit::check {

struct SizeFit {
  int64_t size = 0;                       // H = W
  bool passes_rules = true;               // no node refused by a size-dependent limit
  std::vector<std::string> size_refusals;  // "node 'x' (Softmax): … elements: EDGETPU allows at most 16000"
  int64_t macs_total = 0;
  int64_t macs_accelerator = 0;
  int64_t macs_off_optimized_path = 0;
  bool macs_known = true;
  std::optional<int64_t> transfer_bytes;  // between the accelerator and the host per inference, unknown when a shape is
  size_t nodes_off_accelerator = 0;
  int64_t weight_bytes_int8 = 0;          // one byte per weight element (int8), biases included
  std::optional<int64_t> largest_activation_bytes_int8;
  // Whether weights + the largest activation fit the on-chip memory: "yes", "no", or "unknown" (not published).
  std::string within_on_chip_memory = "unknown";
};

struct InputSizeFit {
  std::string target_id;
  std::string target_name;
  std::vector<SizeFit> sizes;
  std::optional<int64_t> largest_passing;  // the largest size that passes every size-dependent rule
  std::string on_chip_memory;              // the profile's figure, or "unknown"
  std::string on_chip_memory_source;
  std::string dram;                        // what the profile says about external memory
};

// The checks whose refusal depends on the tensor sizes, so on the input size.
bool is_size_dependent_check(const std::string& check);

// One SizeFit from a check of the model prepared at that size.
SizeFit fit_at_size(int64_t size, const ir::Model& model, const CheckResult& result,
                    const targets::TargetProfile& profile);

// Fills largest_passing and the memory facts of `fit` from its sizes and the profile.
void summarize_input_size_fit(InputSizeFit& fit, const targets::TargetProfile& profile);

// "320,480,640" or "320:1280:160" (first:last:step, last included when the steps reach it). Throws
// npukit::Error(invalid_argument) naming the argument on anything else, a size < 1 or > 65536, or more than 64 sizes.
std::vector<int64_t> parse_input_sizes(const std::string& argument);

}  // namespace npukit::check
