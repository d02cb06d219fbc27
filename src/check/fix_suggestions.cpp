#include "check/fix_suggestions.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "check/conv_combinations.h"
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
      {"Softmax", "decompose-softmax", {"ReduceMax", "Sub", "Exp", "ReduceSum", "Div"}},
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
  if (node.op_type == "Gelu") {
    const bool tanh_form = node.get_string("approximate", "none") == "tanh";
    const std::vector<const char*> writes =
        tanh_form ? std::vector<const char*>{"Mul", "Add", "Tanh"} : std::vector<const char*>{"Mul", "Erf", "Add"};
    if (std::all_of(writes.begin(), writes.end(), [&](const char* op) { return target_lists_op(profile, op); })) {
      return {"decompose-gelu", std::string("npukit patch writes it exactly as ") +
                                    (tanh_form ? "Mul, Add, Tanh" : "Mul, Erf, Add") + ", which the target runs"};
    }
    return {};
  }
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

std::optional<std::vector<int64_t>> plan_kept_stride(const ir::Node& node, const targets::TargetProfile& profile) {
  if (node.op_type != "Conv" || !target_lists_op(profile, "MaxPool")) return std::nullopt;
  auto support = profile.ops.find("Conv");
  if (support == profile.ops.end()) return std::nullopt;
  std::optional<ConvParameters> parameters = conv_parameters(node);
  if (!parameters) return std::nullopt;
  const std::string auto_pad = node.get_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") return std::nullopt;  // the pass keeps explicit pads only
  std::vector<const targets::Rule*> tables;
  for (const targets::Rule& rule : support->second.rules) {
    if (rule.check == "conv_combinations" && rule.effect == targets::RuleEffect::slow &&
        (rule.spatial_rank == 0 || rule.spatial_rank == static_cast<int64_t>(parameters->kernel.size()))) {
      tables.push_back(&rule);
    }
  }
  if (tables.empty()) return std::nullopt;
  // Every stride t with t | s on each axis, largest product first (fewest extra MACs).
  std::vector<std::vector<int64_t>> candidates{{}};
  for (int64_t stride : parameters->strides) {
    std::vector<std::vector<int64_t>> longer;
    for (const std::vector<int64_t>& prefix : candidates) {
      for (int64_t t = 1; t <= stride; ++t) {
        if (stride % t) continue;
        std::vector<int64_t> next = prefix;
        next.push_back(t);
        longer.push_back(std::move(next));
      }
    }
    candidates = std::move(longer);
  }
  auto product = [](const std::vector<int64_t>& values) {
    int64_t total = 1;
    for (int64_t value : values) total *= value;
    return total;
  };
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](const auto& a, const auto& b) { return product(a) > product(b); });
  for (const std::vector<int64_t>& kept : candidates) {
    if (kept == parameters->strides) continue;
    ConvParameters changed = *parameters;
    changed.strides = kept;
    bool holds = std::all_of(tables.begin(), tables.end(),
                             [&](const targets::Rule* rule) { return any_combination_holds(*rule, changed); });
    if (holds) return kept;
  }
  return std::nullopt;
}

PatchSuggestion suggest_optimized_path_rewrite(const ir::Node& node, const targets::TargetProfile& profile) {
  if (std::optional<std::vector<int64_t>> kept = plan_kept_stride(node, profile)) {
    return {"conv-stride-to-pool", "npukit patch --optimized-path runs it at stride " + format_dims_text(*kept) +
                                       " and subsamples with a 1×1 MaxPool (exact; more MACs, on the optimized path)"};
  }
  return {"", "no meaning-keeping rewrite in npukit puts it on the optimized path (its kernel is not optimized at a "
              "stride dividing its own, with these pads)"};
}

}  // namespace npukit::check
