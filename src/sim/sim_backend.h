// The `sim` backend: runs a QDQ model the way a target's integer hardware computes it (bit for bit where the
// target's NumericsSpec is known). prepare_model lowers the model (sim/lowering.h); the integer ops run on
// this backend's kernels; DequantizeLinear / QuantizeLinear of 8-bit grids and MaxPool of bytes on kernels
// that give ref's bytes exactly (sim/exact_onnx_kernels.h); everything else (what stayed
// float) on ref.
#pragma once

#include <string>

#include "runtime/backend.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"
#include "sim/lowering.h"
#include "targets/target_profile.h"

namespace npukit::sim {

// The target a sim run simulates: a built-in profile's id or alias, or the path of a profile file (a name
// ending in .json, or one that exists as a file). Throws Error(invalid_argument) for an empty or unknown name
// and for a profile without a `numerics` section.
targets::TargetProfile resolve_sim_target(const std::string& target);

class SimBackend : public runtime::Backend {
 public:
  explicit SimBackend(targets::TargetProfile profile);

  std::string_view name() const override { return "sim"; }
  std::optional<std::string> unsupported_reason(const ir::Node& node, int64_t opset) const override;
  std::unique_ptr<runtime::NodeExecutable> prepare(const ir::Node& node, int64_t opset) const override;
  void prepare_model(ir::Model& model) override;
  bool rewrites_model() const override { return true; }

  const targets::TargetProfile& target() const { return profile_; }
  // What prepare_model lowered and what stayed float (and why).
  const LoweringReport& report() const { return report_; }
  // The 8-bit values of the prepared model held channels-last (sim/channels_last_plan.h; empty before
  // prepare_model): the engine turns kept ones back to NCHW.
  const runtime::cpu::BlockedLayoutPlan& layouts() const { return channels_last_; }

 private:
  targets::TargetProfile profile_;
  LoweringReport report_;
  runtime::cpu::BlockedLayoutPlan channels_last_;
};

}  // namespace npukit::sim
