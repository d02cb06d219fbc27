// The activation memory of one graph, planned by lifetime at session creation (see arena_placement.h).
//
// Every intermediate value with a static shape gets a slot in one arena; a run takes an arena from the
// executor's pool and kernels write their outputs straight into their slots, so the run path allocates
// nothing for them. What stays outside the arena: graph inputs and outputs (the caller owns them),
// initializers, values of unknown shape or size, and everything inside subgraphs.
//
// Two kinds of values share a slot with another value (they form one buffer with the union of their
// lifetimes):
//  - views: Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout return their input's storage, so
//    their output lives in the input's buffer, which then stays alive as long as the view is read;
//  - in place: a kernel that declares it (NodeExecutable::in_place_inputs) writes output 0 over an input
//    whose buffer dies at that node (the residual of a fused convolution, an elementwise operand);
//  - parts of a Concat (NodeExecutable::inputs_may_live_in_output) whose parts are contiguous ranges of its
//    output: each part is planned at its place inside the output's buffer, so its producer writes it there
//    and the Concat has nothing to copy (YOLO necks concatenate large maps at every scale).
// Anything a kernel returns that points into the arena but not into its own buffer (an alias the plan did
// not foresee, from a control-flow or reduction kernel) is copied out by the executor, so a later node can
// never overwrite a value still in use.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace npukit::runtime {

struct ArenaSlot {
  size_t offset = 0;
  size_t bytes = 0;  // capacity: the largest value of the buffer
  bool planned = false;
};

struct MemoryPlan {
  size_t arena_bytes = 0;
  // node_outputs[i][j]: where output j of node i (graph order) is written; unplanned = the heap.
  std::vector<std::vector<ArenaSlot>> node_outputs;
  // node_buffers[i][j]: the bytes output j of node i may point into: its own slot, or for a view the slot of
  // the value it views. Tells a foreseen alias from one the executor must copy out; indexed like
  // node_outputs so the run path needs no lookup.
  std::vector<std::vector<ArenaSlot>> node_buffers;
  size_t planned_values = 0;
};

// What the plan may do around one node, as its kernel declares it (NodeExecutable).
struct NodeMemoryTraits {
  std::vector<size_t> in_place_inputs;     // inputs whose buffer output 0 may take over, by preference
  bool inputs_may_live_in_output = false;  // Concat: inputs may already sit at their place in the output
};

// last_use: for every value read in the graph, the index of the last node that reads it (subgraph reads
// count for the node that owns the subgraph). traits_of(i): what node i's kernel allows.
MemoryPlan plan_memory(const ir::Graph& graph, const std::unordered_map<const ir::Value*, size_t>& last_use,
                       const std::function<NodeMemoryTraits(size_t)>& traits_of);

// Arenas for concurrent runs of one plan: a run borrows one and gives it back, so a session run from several
// threads at once uses one arena per thread, and a single-threaded caller allocates exactly one, once.
class ArenaPool {
 public:
  explicit ArenaPool(size_t bytes) : bytes_(bytes) {}
  ArenaPool(const ArenaPool&) = delete;
  ArenaPool& operator=(const ArenaPool&) = delete;

  class Lease {
   public:
    Lease(ArenaPool& pool, std::unique_ptr<std::byte[], void (*)(std::byte*)> arena)
        : pool_(&pool), arena_(std::move(arena)) {}
    Lease(Lease&&) = default;
    ~Lease();
    std::byte* data() const { return arena_.get(); }

   private:
    ArenaPool* pool_;
    std::unique_ptr<std::byte[], void (*)(std::byte*)> arena_;
  };

  Lease borrow();
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<std::byte[], void (*)(std::byte*)>> free_;
};

}  // namespace npukit::runtime
