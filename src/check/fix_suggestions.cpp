#include "check/fix_suggestions.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "passes/batchnorm_folding.h"
#include "passes/batchnorm_to_scale.h"
#include "passes/div_to_mul.h"
#include "passes/pow_to_mul.h"

namespace npukit::check {

namespace {

// Each decomposition pass of src/passes, the op it removes and the ops it writes instead.
struct Decomposition {
  const char* op;
  const char* pass;
  std::vector<const char*> writes;
};

const std::vector<Decomposition>& decompositions() {
  static const std::vector<Decomposition> table = {
      {"HardSwish", "decompose-hardswish", {"HardSigmoid", "Mul"}},
      {"LayerNormalization", "decompose-layernorm", {"ReduceMean", "Sub", "Mul", "Add", "Sqrt", "Div"}},
      {"Gemm", "gemm-to-conv", {"Reshape", "Conv"}},
  };
  return table;
}

// The meaning-keeping rewrites of one node whose pattern needs more than the op name (a constant divisor,
// a constant exponent, a producer to fold into), or empty.
PatchSuggestion suggest_pattern_rewrite(const ir::Node& node, const targets::TargetProfile& profile,
                                        const std::string& refusal_check) {
  if (node.op_type == "BatchNormalization" && (refusal_check.empty() || refusal_check == "producer_op")) {
    if (passes::batchnorm_fold_target(node)) {
      return {"fold-batchnorm", "npukit patch folds it into the Conv/ConvTranspose/Gemm before it (exact up to rounding)"};
    }
    if (passes::batchnorm_becomes_scale(node) && target_lists_op(profile, "Mul") && target_lists_op(profile, "Add")) {
      return {"batchnorm-to-scale", "npukit patch rewrites it as a per-channel Mul and Add, which the target runs"};
    }
  }
  if (!refusal_check.empty()) return {};
  if (node.op_type == "Div" && passes::constant_divisor_reciprocals(node) && target_lists_op(profile, "Mul")) {
    return {"div-to-mul", "npukit patch multiplies by the constant's reciprocal instead (within 1 ulp; exact for powers of two)"};
  }
  if (node.op_type == "Pow") {
    std::optional<double> exponent = passes::rewritable_pow_exponent(node);
    const bool written_ops_listed = exponent && (*exponent == 1.0 || (*exponent == 0.5 ? target_lists_op(profile, "Sqrt")
                                                                                       : target_lists_op(profile, "Mul")));
    if (written_ops_listed) {
      return {"pow-to-mul", "npukit patch writes the constant power as Mul (Sqrt for 0.5), which the target runs"};
    }
  }
  return {};
}

}  // namespace

passes::GlobalPoolLimits global_pool_limits(const targets::TargetProfile& profile, const std::string& global_op) {
  passes::GlobalPoolLimits limits;
  const std::string windowed_op = global_op == "GlobalMaxPool" ? "MaxPool" : "AveragePool";
  auto windowed = profile.ops.find(windowed_op);
  if (windowed == profile.ops.end()) return limits;
  const int64_t unlimited = std::numeric_limits<int32_t>::max();
  limits.max_window = unlimited;
  for (const targets::Rule& rule : windowed->second.rules) {
    if ((rule.check == "kernel" || rule.check == "stride") && rule.effect == targets::RuleEffect::refuse && rule.maximum) {
      limits.max_window = std::min(limits.max_window, static_cast<int64_t>(*rule.maximum));
    }
  }
  limits.max_global = unlimited;
  auto global = profile.ops.find(global_op);
  if (global != profile.ops.end()) {
    for (const targets::Rule& rule : global->second.rules) {
      if (rule.check == "input_dims" && rule.effect == targets::RuleEffect::refuse && rule.maximum) {
        limits.max_global = std::min(limits.max_global, static_cast<int64_t>(*rule.maximum));
      }
    }
  }
  return limits;
}

bool target_lists_op(const targets::TargetProfile& profile, const std::string& op) {
  if (profile.ops.count(op)) return true;
  auto equivalent = profile.op_equivalents.find(op);
  return equivalent != profile.op_equivalents.end() && profile.ops.count(equivalent->second);
}

PatchSuggestion suggest_patch(const ir::Node& node, const targets::TargetProfile& profile,
                              const std::string& refusal_check, bool in_yolo_postprocess,
                              bool in_written_layernorm) {
  if (in_yolo_postprocess) {
    return {"cut-yolo-postprocess",
            "npukit patch cuts the YOLO decode/DFL/NMS off the graph; the sidecar JSON drives the CPU post-processing"};
  }
  if (refusal_check == "static_shape") {
    return {"static-shapes", "npukit patch fixes dynamic dims (give --input-shape NAME=DIMS)"};
  }
  if (node.op_type == "Resize" && refusal_check == "attribute") {
    return {"resize-half-pixel",
            "npukit patch rewrites an integer-scale nearest Resize to half_pixel, which selects the same pixels"};
  }
  if (node.op_type == "Resize" && refusal_check == "resize_scale") {
    return {"split-resize-scale", "npukit patch splits an integer nearest Resize into two the target accepts"};
  }
  if (node.op_type == "MatMul" && refusal_check == "reduction_dim") {
    return {"split-matmul-k", "npukit patch splits K into chunks the target accepts and adds the partial products"};
  }
  if ((node.op_type == "GlobalAveragePool" || node.op_type == "GlobalMaxPool") && refusal_check == "input_dims") {
    const passes::GlobalPoolLimits limits = global_pool_limits(profile, node.op_type);
    std::optional<std::pair<int64_t, int64_t>> size = passes::global_pool_map_size(node);
    if (size && limits.max_window > 0 &&
        passes::plan_global_pool_chain(size->first, size->second, limits.max_window, limits.max_global,
                                       node.op_type == "GlobalMaxPool")) {
      return {"split-global-pool", "npukit patch pools down in exact steps the target accepts, then pools globally"};
    }
    return {};
  }
  if (in_written_layernorm && target_lists_op(profile, "LayerNormalization")) {
    return {"fuse-layernorm", "npukit patch folds the written-out LayerNorm into one LayerNormalization, which the target runs"};
  }
  if (PatchSuggestion rewrite = suggest_pattern_rewrite(node, profile, refusal_check); !rewrite.pass.empty()) return rewrite;
  if (!refusal_check.empty()) return {};
  for (const Decomposition& decomposition : decompositions()) {
    if (node.op_type != decomposition.op) continue;
    bool all_listed = std::all_of(decomposition.writes.begin(), decomposition.writes.end(),
                                  [&](const char* op) { return target_lists_op(profile, op); });
    if (all_listed) {
      std::string ops;
      for (const char* op : decomposition.writes) ops += (ops.empty() ? "" : ", ") + std::string(op);
      return {decomposition.pass, "npukit patch rewrites it exactly as " + ops + ", which the target runs"};
    }
  }
  return {};
}

}  // namespace npukit::check
