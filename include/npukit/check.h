// npukit::check_model: what `npukit check MODEL --target T --json` prints, as a struct. For each target: where every
// node runs (the accelerator, the fallback device, or nowhere), why, which patch fixes it, and the
// accelerator/fallback segments with the tensors that cross between them.
//
//   npukit::CheckOptions options;
//   options.target = "rk3588";               // or "all", or options.target_file = "my_board.json"
//   npukit::CheckReport report = npukit::check_model("yolov5s.onnx", options);
//   double share = report.targets[0].accelerator_mac_share;
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "npukit/preparation.h"

namespace npukit {

struct RuleFinding {
  bool refuses = true;       // false: the node stays on the accelerator with this condition
  bool off_optimized_path = false;  // it stays on the accelerator, off the path its compiler optimizes
  std::string explanation;
  std::string fix;
  std::string source;        // citation of the limit
};

struct NodePlacement {
  size_t index = 0;
  std::string name;
  std::string op;
  std::string placement;     // "npu", "npu-condition", "npu-slow", "unverified", "fallback", "fallback-after-first", "rejected", "folded"
  std::optional<int64_t> macs;
  std::string reason;
  std::string patch;         // the `npukit patch` pass that fixes it, when there is one
  std::string fix;
  bool in_yolo_postprocess = false;
  std::vector<RuleFinding> findings;
  std::string inside;        // for a node inside an If/Loop/Scan body: where ("'vad_if' (If) then_branch")
};

struct SegmentSummary {
  std::string device;
  bool on_accelerator = true;
  size_t first_node = 0;
  size_t last_node = 0;
  size_t nodes = 0;
  std::optional<int64_t> macs;   // nullopt when a node's shape is unknown; the lower bound beside it
  int64_t macs_lower_bound = 0;
};

struct TransferSummary {
  std::string value;
  std::string from;
  std::string to;
  std::optional<int64_t> bytes;
};

struct TargetCheck {
  std::string target;
  std::string target_name;
  std::string accelerator;
  std::string fallback_device;
  std::string fallback_policy;
  bool compiles = true;
  std::string nms;
  bool has_yolo_postprocess = false;
  int64_t macs_total = 0;
  int64_t macs_accelerator = 0;
  int64_t macs_unverified = 0;
  int64_t macs_off_optimized_path = 0;  // on the accelerator, off its compiler's optimized path (npu-slow)
  int64_t macs_optimized_path = 0;
  double optimized_mac_share = 1.0;
  bool macs_known = true;
  double accelerator_mac_share = 1.0;
  std::vector<NodePlacement> nodes;
  std::vector<NodePlacement> subgraph_nodes;
  std::vector<SegmentSummary> segments;
  std::vector<TransferSummary> transfers;
  std::optional<int64_t> transfer_bytes;

  std::string to_json() const;  // one element of the CLI's "targets" array
};

struct CheckOptions : ModelOptions {
  std::string target;        // a built-in id or alias (`npukit targets`), or "all"
  std::string target_file;   // or a profile of your own (docs/targets.md)
};

struct CheckReport {
  std::string model;
  PreparationSummary preparation;
  std::vector<TargetCheck> targets;

  // Exactly the text `npukit check MODEL --target T --json` prints (without its final newline).
  std::string to_json() const;
};

CheckReport check_model(const std::string& model, const CheckOptions& options);

}  // namespace npukit
