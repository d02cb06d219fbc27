// Engine: runs one prepared ir::Model on the backends a caller names. It is what npukit::Session (the sealed
// public API, include/npukit/session.h) wraps, and what the CLI and the tests use when they hold an ir::Model
// already (a model built in code, a prepared or patched model) or need to see the graph that runs.
//
// Layering (docs/architecture.md): the engine sits above runtime/ (executor, kernels) and passes/ (the cpu
// backend's pass list), and below preparation/ (which runs a model once on ref to measure shapes) and the
// public Session.
//
// An Engine is not meant to be shared between threads while running; create one per thread.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "npukit/session.h"
#include "npukit/tensor.h"
#include "runtime/kernels/cpu/blocked_layout_plan.h"

namespace npukit::runtime {
class Executor;
class CpuBackend;
}  // namespace npukit::runtime
namespace npukit::sim {
class SimBackend;
struct LoweringReport;
}  // namespace npukit::sim

namespace npukit::engine {

struct EngineOptions {
  // "cpu": oneDNN and own vectorized kernels, ref for the ops it does not cover, after the cpu backend's
  // preparation (its pass list and its blocked-layout plan) on a private copy of the model.
  // "ref": the plain reference kernels, the model as given.
  // "sim": a QDQ model lowered to the integer graph `target` runs, on the integer reference kernels
  // (sim/lowering.h); needs `target`.
  std::string backend = "cpu";
  int threads = 1;  // intra-op threads of the cpu backend (0: all cores); ref is single-threaded
  // "sim" only: the target whose integer arithmetic is simulated (a built-in profile name such as "rk3588",
  // or a profile file's path). Other backends ignore it.
  std::string target;
  // Intermediate values to hand back after each run besides the outputs (see npukit::SessionOptions).
  std::vector<std::string> keep_values;
};

// The backends a session can run on, in the words EngineOptions::backend takes.
std::vector<std::string> available_backends();

class Engine {
 public:
  // The caller's model is shared and const: a backend that rewrites the graph (cpu) works on a clone.
  static std::unique_ptr<Engine> from_model(std::shared_ptr<const ir::Model> model, const EngineOptions& options = {});
  // Like from_model, but the engine takes the model over: the cpu passes rewrite it in place instead of a
  // copy. The caller must not use or share `model` afterwards.
  static std::unique_ptr<Engine> adopt(std::shared_ptr<ir::Model> model, const EngineOptions& options = {});
  ~Engine();

  const std::vector<ValueInfo>& inputs() const;
  const std::vector<ValueInfo>& outputs() const;
  // Checks dtype and static dimensions against the declaration; throws Error(invalid_argument) otherwise.
  void set_input(const std::string& name, Tensor tensor);
  // Runs with the inputs set so far; every input must have been set.
  void run();
  // Output (or kept value) of the last run(), by name.
  const Tensor& output(const std::string& name) const;
  const std::vector<ValueInfo>& kept_values() const;
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs);

  // The model the engine runs (after the backend's preparation).
  const ir::Model& model() const;
  const EngineOptions& options() const;
  // The cpu backend's layout plan for model() (which values it holds blocked); null on ref.
  const runtime::cpu::BlockedLayoutPlan* blocked_layouts() const;
  // The sim backend's lowering: what runs in integer, what stayed float and why; null on other backends.
  const sim::LoweringReport* simulation_report() const;

  using NodeTiming = Session::NodeTiming;
  void set_profiling(bool enabled);
  const std::vector<NodeTiming>& last_profile() const;
  // The top-level nodes the engine runs (same order as last_profile()).
  std::vector<const ir::Node*> executed_nodes() const;
  // The activation arena planned at creation: bytes one run needs, and how many intermediate values it holds
  // (the rest live on the heap: graph outputs, values of unknown size, subgraph values).
  size_t activation_arena_bytes() const;
  size_t activation_arena_values() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  static std::unique_ptr<Engine> create(std::shared_ptr<const ir::Model> model, const EngineOptions& options,
                                        const std::set<std::string>& names_before_passes,
                                        std::unique_ptr<runtime::CpuBackend> cpu,
                                        std::unique_ptr<sim::SimBackend> sim);
  std::unique_ptr<Impl> impl_;
};

}  // namespace npukit::engine
