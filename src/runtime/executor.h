// Executor: runs a model's graph node by node on the backends chosen at construction.
//
// Construction binds every node (and every node of every subgraph) to the first backend that supports it
// and fails with one error listing every unsupported node, so a user learns all of them at once.
// run() is const and keeps its state on the stack: one Executor may serve several threads at once.
// Intermediate tensors of the top-level graph live in one arena planned by lifetime (memory_plan.h); a run
// borrows an arena from a pool, so concurrent runs never share one and a steady run allocates nothing for
// its activations. Other tensors are released after their last use.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/memory_plan.h"

namespace npukit::runtime {

class Executor {
 public:
  Executor(std::shared_ptr<const ir::Model> model, std::vector<const Backend*> backends);

  // Inputs by name (graph inputs; an input with an initializer may be overridden). Returns the graph
  // outputs in declared order.
  // When `node_seconds` is given, it receives the wall time of each top-level node, in node order.
  // When `kept` is given, it receives a copy of each value named by keep_values(), in that order.
  std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs, std::vector<double>* node_seconds = nullptr,
                          std::vector<Tensor>* kept = nullptr) const;

  // Intermediate values of the top-level graph that run() copies out as they are produced (values produced
  // by a node; see runtime/kept_values.h). Observing changes nothing in how the graph runs: no fusion,
  // layout or arena decision depends on it. Call before the first run; not while runs are in flight.
  void keep_values(const std::vector<const ir::Value*>& values);

  const ir::Model& model() const { return *model_; }
  // Name of the backend each top-level node runs on, in node order.
  std::vector<std::string> node_backends() const;
  // The top-level nodes, in the order they run (after the passes the session applied).
  std::vector<const ir::Node*> nodes() const;
  // The activation arena of the top-level graph: bytes per concurrent run, and how many values it holds.
  size_t arena_bytes() const;
  size_t arena_values() const;

 private:
  struct PreparedNode {
    const ir::Node* node = nullptr;
    int64_t opset = 0;
    const Backend* backend = nullptr;
    std::unique_ptr<NodeExecutable> executable;
    std::vector<const ir::Value*> release_after;  // values whose last use is this node
    std::vector<ArenaSlot> slots;                  // per output: its place in the arena (top-level graph only)
    std::vector<ArenaSlot> buffers;                // per output: the bytes it may point into (views included)
    bool zero_fill = true;                         // the kernel may leave output elements unwritten
    std::vector<std::pair<size_t, size_t>> kept;   // (output index, position in run()'s `kept`)
  };
  struct PreparedGraph {
    std::vector<PreparedNode> nodes;
    MemoryPlan memory;                    // top-level graph only; empty for subgraphs
    std::unique_ptr<ArenaPool> arenas;    // null when nothing is planned
  };
  struct Scope;

  void prepare_graph(const ir::Graph& graph, std::vector<std::string>& unsupported);
  std::vector<Tensor> run_graph(const ir::Graph& graph, const std::vector<Tensor>& inputs, const Scope* outer) const;
  std::vector<Tensor> run_graph_with_scope(const ir::Graph& graph, Scope& scope,
                                           std::vector<double>* node_seconds = nullptr,
                                           std::vector<Tensor>* kept = nullptr) const;
  // Copies `tensor` to the heap when it points into `arena` outside `own` (the buffer the plan gave it;
  // unplanned: anywhere in the arena is outside).
  void copy_out_of_arena(Tensor& tensor, const std::byte* arena, size_t arena_bytes, const ArenaSlot& own) const;

  std::shared_ptr<const ir::Model> model_;
  std::vector<const Backend*> backends_;
  std::unordered_map<const ir::Graph*, PreparedGraph> prepared_;
  size_t kept_count_ = 0;
};

}  // namespace npukit::runtime
