// The fast cpu backend (oneDNN + own vectorized kernels); see cpu_backend.cpp.
//
// An instance carries its settings (threads, the graph rewrites it wants) and, once it has prepared a model,
// its blocked-layout plan for that model (blocked_layout.h), which every kernel it prepares reads.
#pragma once

#include <functional>

#include "runtime/backend.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"

namespace npukit::runtime {

namespace cpu {
// Intra-op threads for kernels run from the calling thread (dnnl_runtime.h).
void set_intra_op_threads(int n);
}  // namespace cpu

struct CpuSettings {
  int threads = 1;  // intra-op threads (0: all cores)
  // The graph rewrites prepare_model runs before planning layouts: the cpu pass list (passes/pass_lists.h),
  // handed in by the engine, since the passes sit above the runtime. Empty: the model as given.
  std::function<void(ir::Model&)> rewrite;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(CpuSettings settings);

  std::string_view name() const override { return "cpu"; }
  std::optional<std::string> unsupported_reason(const ir::Node& node, int64_t opset) const override;
  std::unique_ptr<NodeExecutable> prepare(const ir::Node& node, int64_t opset) const override;
  // Runs the rewrites, then decides the layouts, which must see the final graph.
  void prepare_model(ir::Model& model) override;
  bool rewrites_model() const override { return static_cast<bool>(settings_.rewrite); }

  const CpuSettings& settings() const { return settings_; }
  // The values of the prepared model held blocked (empty before prepare_model).
  const cpu::BlockedLayoutPlan& layouts() const { return layouts_; }
  // OpenMP's thread count is a per-thread setting: the thread that prepares or runs calls this first.
  void use_threads_on_this_thread() const { cpu::set_intra_op_threads(settings_.threads); }

 private:
  CpuSettings settings_;
  cpu::BlockedLayoutPlan layouts_;
};

}  // namespace npukit::runtime
