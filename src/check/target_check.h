// npukit check: places every node of a model on a target's accelerator or its fallback device, says why,
// names the patch that would fix a refusal, and cuts the graph into accelerator and fallback segments with
// the tensors that cross between them at the model's input size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check/rule_evaluation.h"
#include "ir/graph.h"
#include "targets/target_profile.h"

namespace npukit::check {

enum class Placement {
  accelerator,                // on the NPU
  accelerator_with_condition, // on the NPU, with a condition the user must know (fp16 only, one core …)
  accelerator_slow,           // on the NPU, but off the path its compiler optimizes (supported, slower): the
                              // profile's "slow" rules (Hailo's "any other" convolution) say why
  unverified,                 // the profile's op list is incomplete: cannot say (counted with the NPU side)
  fallback,                   // refused by the NPU: runs on the fallback device (CPU, GPU)
  fallback_after_first,       // supported, but after the first unsupported op on an all-after-fallback target
  rejected,                   // the toolkit refuses the model because of this node
  folded,                     // computed at compile time (constants, shapes of static tensors, no-ops)
};

std::string_view placement_name(Placement placement);  // "npu", "npu-condition", "npu-slow", "fallback", …
bool on_accelerator(Placement placement);  // the NPU side: npu, npu-condition, npu-slow, unverified

struct NodeVerdict {
  std::string name;
  std::string op_type;
  size_t index = 0;
  Placement placement = Placement::accelerator;
  std::vector<RuleFinding> findings;   // refusals first, then off-the-optimized-path findings, then conditions
  std::string reason;                  // one line: the first refusal, or why the op is not placed
  std::string patch;                   // the npukit patch pass that fixes it, when there is one
  std::string fix;                     // otherwise what the profile says the user can do (may be empty)
  std::optional<int64_t> macs;
  bool in_yolo_postprocess = false;
  // For a node inside an If/Loop/Scan body: where, "'vad_if' (If) then_branch"; empty at the top level.
  std::string inside;
};

struct Segment {
  bool on_accelerator = true;
  std::string device;
  size_t first_node = 0;  // indices into CheckResult::nodes
  size_t last_node = 0;
  size_t node_count = 0;
  int64_t macs = 0;          // over the nodes whose MACs are known
  bool macs_known = true;    // false when a node of the segment has an unknown shape: `macs` is then a lower bound
};

struct Transfer {
  std::string value;
  std::string from_device;
  std::string to_device;
  std::optional<int64_t> bytes;  // at the model's dtype and input size
};

struct CheckResult {
  std::string target_id;
  std::string target_name;
  std::string accelerator;
  std::string fallback_device;
  std::string fallback_policy;   // "per_segment", "after_first_unsupported", "none"
  std::string nms;
  std::vector<NodeVerdict> nodes;
  // Every node of every If/Loop/Scan body, at any depth. A body runs where its control-flow node runs: when that
  // node leaves the accelerator, its bodies go with it (their MACs are in the holder's `macs`, counted once).
  std::vector<NodeVerdict> subgraph_nodes;
  std::vector<Segment> segments;
  std::vector<Transfer> transfers;
  int64_t transfer_bytes = 0;
  bool transfer_bytes_known = true;
  int64_t macs_total = 0;
  int64_t macs_accelerator = 0;   // placed on the accelerator, verified or with a condition
  int64_t macs_unverified = 0;
  // Of macs_accelerator, the MACs of nodes placed `accelerator_slow`: on the NPU but off its optimized path. A
  // latency estimate should not cost them at the optimized rate; how much slower they run is not published.
  int64_t macs_off_optimized_path = 0;
  bool macs_known = true;         // false when some MAC node has an unknown shape
  bool compiles = true;           // false when a node is rejected by the toolkit
  bool has_yolo_postprocess = false;

  double accelerator_mac_share() const {
    return macs_total > 0 ? static_cast<double>(macs_accelerator) / static_cast<double>(macs_total) : 1.0;
  }
  // The share of all MACs on the accelerator's optimized path (accelerator minus off-optimized-path).
  double optimized_mac_share() const {
    return macs_total > 0 ? static_cast<double>(macs_accelerator - macs_off_optimized_path) / static_cast<double>(macs_total)
                          : 1.0;
  }
  size_t count(Placement placement) const;
};

CheckResult check_model(const ir::Model& model, const targets::TargetProfile& profile);

}  // namespace npukit::check
