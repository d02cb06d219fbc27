// Which `npukit patch` pass fixes a refused node. Generic: a pass is suggested when the ops it writes in
// place of the node are ones the target runs on its accelerator; the profile decides, not the vendor.
#pragma once

#include <string>

#include "ir/graph.h"
#include "targets/target_profile.h"

namespace npukit::check {

// True when the profile lists `op` (directly or through an equivalent) for its accelerator.
bool target_lists_op(const targets::TargetProfile& profile, const std::string& op);

// The pass name ("decompose-hardswish") and a sentence, or empty when no pass applies. `refusal_check`
// is the check that refused the node ("" when the op itself is missing from the profile).
struct PatchSuggestion {
  std::string pass;
  std::string text;
};
PatchSuggestion suggest_patch(const ir::Node& node, const targets::TargetProfile& profile,
                              const std::string& refusal_check, bool in_yolo_postprocess);

}  // namespace npukit::check
