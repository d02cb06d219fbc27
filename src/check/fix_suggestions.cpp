#include "check/fix_suggestions.h"

#include <algorithm>
#include <vector>

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

}  // namespace

bool target_lists_op(const targets::TargetProfile& profile, const std::string& op) {
  if (profile.ops.count(op)) return true;
  auto equivalent = profile.op_equivalents.find(op);
  return equivalent != profile.op_equivalents.end() && profile.ops.count(equivalent->second);
}

PatchSuggestion suggest_patch(const ir::Node& node, const targets::TargetProfile& profile,
                              const std::string& refusal_check, bool in_yolo_postprocess) {
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
