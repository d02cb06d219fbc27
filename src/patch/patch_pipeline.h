// npukit patch: the named list of passes that take a model to a target, in order.
//
// Passes that keep the model's meaning run by default; the ones that change it (SiLU → ReLU) run only when
// the user allows retraining. Target-dependent rewrites (decompositions, Resize modes, Gemm → Conv) run
// only on the nodes the target refuses, as `check` reports them, so a target that has an op keeps it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/fold_input_normalization.h"
#include "passes/pass.h"
#include "targets/target_profile.h"

namespace npukit::patch {

struct PatchOptions {
  std::map<std::string, std::vector<int64_t>> input_shapes;  // for static-shapes
  bool cut_yolo_postprocess = true;
  bool allow_retraining = false;      // enables every pass that changes the model
  bool silu_to_relu = false;          // enables that one pass
  // Enables conv-stride-to-pool on the nodes `check` places off the optimized path: exact, but the Conv then
  // computes more MACs, and whether that beats the slow path is not published, so the user decides.
  bool optimized_path = false;
  // --fold-normalization: the host's (x − mean) / std moves into the first Conv before every other pass.
  std::optional<passes::InputNormalization> fold_normalization;
};

struct PatchReport {
  // One entry per pass in the order they first ran, skipped ones included with 0 rewrites; when the list ran
  // more than once, each entry sums its rewrites and notes over the rounds.
  std::vector<passes::PassResult> passes;
  int rounds = 0;                          // how often the whole list ran until a round changed nothing
  bool converged = false;                  // false: the last allowed round still rewrote (the passes fight)
  std::string yolo_sidecar_json;           // empty when no YOLO head was cut
  bool needs_retraining = false;           // a pass that changes meaning rewrote something
  std::optional<passes::NormalizationFold> normalization;  // what --fold-normalization did
  // The input the patched model expects, as JSON (docs/sidecar.md, "input contract"); empty without a fold.
  std::string input_contract_json;
};

// The names of the default passes, in order (for help texts and the README).
std::vector<std::string> default_pass_names();

// Runs the pass list again and again until a round rewrites nothing (at most `max_patch_rounds`), so the result
// does not depend on which pass happened to enable which: patching the output again changes nothing.
inline constexpr int max_patch_rounds = 8;
PatchReport patch_model(ir::Model& model, const targets::TargetProfile& profile, const PatchOptions& options);

}  // namespace npukit::patch
