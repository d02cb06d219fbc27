// A target profile: what one NPU (and the toolkit that compiles for it) accepts, as data.
//
// Profiles live in targets/*.json (schema: docs/targets.md); this header is their in-memory form. The
// checker (src/check) reads only these fields, so adding or correcting a chip is a JSON edit, never a C++
// one: no vendor name appears in a condition anywhere in the code.
//
// Facts that the public record does not give are kept as `Fact` with `known == false` and the reason, so a
// report can say "not found" instead of printing a guess.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace npukit::targets {

// One documented number or sentence with its source, or the statement that it is unknown.
struct Fact {
  bool known = false;
  std::optional<double> number;  // when the value is a number
  std::string text;              // the value as written (numbers too), or why it is unknown
  std::string source;            // the full citation (resolved from the profile's source keys)

  std::string display() const { return known ? text : "unknown"; }
};

// How a rule's failure is treated: the node leaves the NPU, it stays with a condition the user must know, or it
// stays on the NPU but off the path the compiler optimizes (supported, slower: Hailo's "any other" convolution).
enum class RuleEffect { refuse, condition, slow };

// One combination of convolution parameters a toolkit documents (a row, or part of a row, of a table such as
// Hailo's optimized 2D convolutions). Each list holds the allowed values, "H×W" written "3x3" in the ONNX spatial
// order (3-D: D×H×W); a part "any" matches every value, a kernel part "W" the full input width, and the stride
// "kernel" a stride equal to the kernel. Paddings are "VALID", "SAME" (symmetric, (k−1)/2 on each side) and
// "SAME_TENSORFLOW" (the TensorFlow split: the odd pixel at the end).
struct ParameterCombination {
  std::vector<std::string> kernels;
  std::vector<std::string> strides;
  std::vector<std::string> dilations;
  std::vector<std::string> paddings;
};

// One constraint on a node, evaluated generically by src/check/rule_evaluation.cpp. `check` names the
// property measured (kernel, stride, pad, dilation, group, channels, rank, non_unit_dims, dim, input_dims,
// elements, axis, attribute, resize_scale, batch, constant_input, constant_input_values, reduction_dim,
// kernel_fan_in, producer_op, dtype, same_dilation, static_shape, conv_combinations), or "always" for an op's
// unconditional "conditions"; the other fields bound it.
struct Rule {
  std::string check;
  RuleEffect effect = RuleEffect::refuse;
  std::string applies_to = "all";            // Conv family: "all", "regular", "depthwise"
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::vector<double> allowed_numbers;       // exact values allowed (stride 1, 2, 4, 8)
  std::vector<std::string> allowed_strings;  // attribute strings, dtypes, producer ops
  std::string attribute;                     // for check "attribute": its name
  std::optional<double> default_number;      // the attribute's ONNX default when absent
  std::string default_string;
  std::vector<int64_t> axes;                 // for check "input_dims": which axes of input 0
  std::optional<double> multiple_of;         // for "channels": the count must be a multiple of this
  int64_t spatial_rank = 0;                  // when set, the rule concerns only Conv/pooling of that spatial rank
  std::vector<ParameterCombination> combinations;  // for check "conv_combinations": the documented table
  int64_t input_index = 0;                   // for "constant_input" and "constant_input_values"
  std::string text;                          // a condition in words ("runs in float16 only")
  std::string fix;                           // what the user can do when it fails
  std::string source;
  std::string field;                         // "ops.Conv.rules[2]", for error messages about the rule itself
};

struct OpSupport {
  std::vector<Rule> rules;
  std::string source;
  std::string note;
};

// What happens to a node the NPU cannot run.
enum class FallbackPolicy {
  per_segment,              // that node runs on the fallback device; the graph is cut into segments
  after_first_unsupported,  // everything after the first such node (in graph order) runs on the fallback device
  none,                     // no fallback: the toolkit refuses the model
};

// What an op the profile does not list means for this target.
enum class UnlistedOps {
  fallback,    // runs on the fallback device
  rejected,    // the toolkit refuses the model
  unverified,  // the public op list is incomplete: the profile cannot say
};

struct QuantizationSpec {
  Fact weight_granularity;    // per-tensor, per-channel, per-group
  Fact weight_symmetry;       // symmetric / asymmetric
  Fact weight_grid;           // [-128, 127], [-127, 127], [0, 255]
  Fact activation_granularity;
  Fact activation_symmetry;
  Fact activation_grid;
  Fact rounding;              // half-even, half-away, half-up
  Fact requantization;        // float multiply, fixed-point multiplier + shift, power-of-two shift
  Fact bias_dtype;
  Fact algorithms;            // calibration algorithms the toolkit offers
};

struct MemorySpec {
  Fact on_chip_sram_bytes;
  Fact dram;
  Fact link;                      // "on-SoC", "PCIe Gen3 x4", "USB 3.0"
  Fact link_bytes_per_second;
};

struct ComputeSpec {
  Fact tops_int8;
  Fact cores;
  Fact note;
};

struct PublishedLatency {
  std::string model;      // "mobilenetv2", "resnet50", "yolov5s", "yolov8n"
  Fact milliseconds;      // batch 1 latency, or throughput converted (the text says which)
};

struct TargetProfile {
  std::string id;                     // "rk3588": what --target takes
  std::vector<std::string> aliases;   // "rk3568"
  std::string name;                   // "Rockchip RK3588 / RK3588S"
  std::string vendor;
  std::string toolkit;
  std::string accelerator_name = "NPU";  // what the report calls the accelerator ("DLA", "SIMD")
  std::string fallback_device = "CPU";   // "GPU" on Jetson DLA
  FallbackPolicy fallback_policy = FallbackPolicy::per_segment;
  std::string fallback_source;
  UnlistedOps unlisted_ops = UnlistedOps::fallback;
  std::string unlisted_ops_source;
  std::map<std::string, OpSupport> ops;             // ONNX op name -> support on the accelerator
  std::map<std::string, std::string> op_equivalents;  // "Flatten" -> "Reshape": checked as that op
  std::vector<std::string> rejected_ops;            // ops the toolkit refuses outright (cut them off)
  std::vector<std::string> fallback_ops;            // ops the toolkit accepts but runs on the fallback device
  std::vector<Rule> general_rules;                  // checked on every node
  Fact ops_basis;                                   // where the op list comes from, and how complete it is
  std::vector<std::string> dtypes;
  std::string dtypes_source;
  QuantizationSpec quantization;
  MemorySpec memory;
  ComputeSpec compute;
  Fact nms;                                         // where non-maximum suppression runs
  std::vector<PublishedLatency> published_latencies;
  std::map<std::string, std::string> sources;       // key -> citation
  std::string file;                                 // where it was loaded from ("builtin:rk3588.json")

  bool matches(const std::string& name) const;  // id or an alias, case-insensitive
};

}  // namespace npukit::targets
