// Backend: something that can execute nodes. The executor asks each configured backend, in order of
// preference, whether it can run a node, and binds the node to the first that can; `ref` comes last as the
// fallback for every op it knows. A fast backend (kernels/cpu) or a vendor runtime plugs in here.
//
// A backend other than ref is an instance with its settings (cpu: threads, its pass list; a simulated target:
// its numerics) and what it decided for one model (cpu: its blocked-layout plan): one instance per session.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ir/graph.h"
#include "runtime/kernel.h"

namespace npukit::runtime {

// A node bound to a backend, ready to run (weights packed, algorithm chosen).
class NodeExecutable {
 public:
  virtual ~NodeExecutable() = default;
  virtual void run(KernelContext& context) const = 0;
  // True when run() writes every element of every output it allocates, so the executor may hand it
  // uninitialised arena memory; otherwise its outputs are zero-filled first (reference kernels may
  // accumulate into them).
  virtual bool writes_whole_outputs() const { return false; }
  // Inputs whose storage output 0 may reuse when the input is read by no later node (in-place execution),
  // in order of preference. The kernel must then be correct with output 0 and that input at one address.
  virtual std::vector<size_t> in_place_inputs() const { return {}; }
  // True for a Concat that finds an input already at its place in the output (same address) and then
  // leaves it; the executor may then plan inputs inside the output's buffer.
  virtual bool inputs_may_live_in_output() const { return false; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // Empty when the backend can run the node; otherwise the reason in words ("no kernel for Foo at opset 9").
  virtual std::optional<std::string> unsupported_reason(const ir::Node& node, int64_t opset) const = 0;
  virtual std::unique_ptr<NodeExecutable> prepare(const ir::Node& node, int64_t opset) const = 0;
  // Once per model, before any of its nodes is bound: rewrites the model for this backend (its passes) and plans
  // what its kernels will need (layouts). The caller owns `model` and runs this model with this instance only.
  // A backend that takes the model as it is (ref) keeps the default.
  virtual void prepare_model(ir::Model& model) {}
  // True when prepare_model changes the graph (a caller holding a shared model must hand it a copy).
  virtual bool rewrites_model() const { return false; }
};

// The reference backend: plain C++ kernels, every supported op and dtype, the oracle for all others.
const Backend& reference_backend();

}  // namespace npukit::runtime
