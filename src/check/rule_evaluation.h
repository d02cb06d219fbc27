// Evaluates one profile rule on one node, generically: the rule names a property (kernel, stride, axis …)
// and its bounds; this file knows how to measure each property on an ONNX node, and how to say in words what
// failed ("depthwise Conv kernel 9×9: RK3566 allows 1–8").
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ir/graph.h"
#include "targets/target_profile.h"

namespace npukit::check {

struct RuleFinding {
  bool refuses = true;      // false: the node stays on the accelerator with this condition
  bool off_optimized_path = false;  // the node stays on the accelerator, off the path its compiler optimizes
  std::string explanation;  // the failed limit, or the condition, in words
  std::string fix;          // from the profile; may be empty
  std::string source;       // citation of the limit
  std::string check;        // the rule's check ("dim", "kernel" …): which refusals depend on the input size
};

// True for values known before the model runs (initializers, outputs of nodes folded at compile time).
using ConstantPredicate = std::function<bool(const ir::Value*)>;

// A finding when the rule fails (or, for a condition, applies); nullopt when the node passes or the rule
// does not concern it (a depthwise-only rule on a regular Conv). A property the rule needs but the model
// does not give (an unknown shape) is reported as a refusal that says so, never assumed to pass.
std::optional<RuleFinding> evaluate_rule(const targets::Rule& rule, const ir::Node& node,
                                         const targets::TargetProfile& profile,
                                         const ConstantPredicate& is_constant);

// "depthwise Conv", "grouped Conv", or the op type.
std::string describe_op_kind(const ir::Node& node);

}  // namespace npukit::check
