// Which `npukit patch` pass fixes a refused node. Generic: a pass is suggested when the ops it writes in
// place of the node are ones the target runs on its accelerator; the profile decides, not the vendor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/split_global_pool.h"
#include "targets/target_profile.h"

namespace npukit::check {

// True when the profile lists `op` (directly or through an equivalent) for its accelerator.
bool target_lists_op(const targets::TargetProfile& profile, const std::string& op);

// How far `global_op` (GlobalAveragePool / GlobalMaxPool) pools on this target and how large a window its
// windowed counterpart (AveragePool / MaxPool) takes, from the profile's rules; zeros when the target does
// not run the windowed op. split-global-pool plans its chain with these.
passes::GlobalPoolLimits global_pool_limits(const targets::TargetProfile& profile, const std::string& global_op);

// The pass name ("decompose-hardswish") and a sentence, or empty when no pass applies. `refusal_check`
// is the check that refused the node ("" when the op itself is missing from the profile).
// `in_written_layernorm`: the node is a piece of a LayerNorm written out by hand (passes/layernorm_pattern.h).
struct PatchSuggestion {
  std::string pass;
  std::string text;
};
PatchSuggestion suggest_patch(const ir::Node& node, const targets::TargetProfile& profile,
                              const std::string& refusal_check, bool in_yolo_postprocess,
                              bool in_written_layernorm = false);

// For a node off the optimized path (placement npu-slow): the meaning-keeping rewrite that puts it on the path
// ("conv-stride-to-pool" when the target's table has its kernel at a smaller stride that divides its own), or an
// empty pass and a sentence that says no rewrite npukit knows does.
PatchSuggestion suggest_optimized_path_rewrite(const ir::Node& node, const targets::TargetProfile& profile);

// The stride conv-stride-to-pool should keep for this Conv on this target: the largest (by product) stride
// dividing the Conv's own at which every "slow" conv_combinations rule of the profile holds; nullopt when none.
std::optional<std::vector<int64_t>> plan_kept_stride(const ir::Node& node, const targets::TargetProfile& profile);

}  // namespace npukit::check
