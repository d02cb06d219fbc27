#include "runtime/memory_plan.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <set>
#include <string>

#include "runtime/arena_placement.h"

namespace npukit::runtime {

namespace {

// Ops whose reference kernel returns its input's storage under a new shape (shape_ops.cpp).
bool returns_view_of_input(const ir::Node& node) {
  static const std::set<std::string> views{"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"};
  return node.domain.empty() && views.count(node.op_type) > 0;
}

// A value the arena can hold: computed by a node of this graph, not handed to the caller, of static size.
bool is_plannable(const ir::Value* value) {
  if (!value || value->name.empty() || !value->producer || value->initializer || value->is_graph_output ||
      value->is_graph_input || value->outer_scope) {
    return false;
  }
  if (value->type.dtype == DType::undefined || !value->type.has_static_shape()) return false;
  return dtype_size(value->type.dtype) > 0;
}

size_t value_bytes(const ir::Value* value) {
  return static_cast<size_t>(shape_element_count(value->type.static_shape())) * dtype_size(value->type.dtype);
}

// Union-find over values: one set per buffer.
struct Buffers {
  std::unordered_map<const ir::Value*, const ir::Value*> parent;
  const ir::Value* root(const ir::Value* value) {
    while (parent[value] != value) value = parent[value] = parent[parent[value]];
    return value;
  }
};

// True when every input of a Concat is one contiguous range of its output: all dims before the axis are 1
// (plain), which with batch 1 also holds for blocked tensors (whole blocks of channels, blocked_layout.h).
bool concat_parts_are_contiguous(const ir::Node& node) {
  const ir::Value* output = node.output(0);
  if (!output || !output->type.has_static_shape()) return false;
  const Shape shape = output->type.static_shape();
  const int64_t rank = static_cast<int64_t>(shape.size());
  int64_t axis = node.get_int("axis", 0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return false;
  for (int64_t d = 0; d < axis; ++d) {
    if (shape[static_cast<size_t>(d)] != 1) return false;
  }
  return true;
}

}  // namespace

MemoryPlan plan_memory(const ir::Graph& graph, const std::unordered_map<const ir::Value*, size_t>& last_use,
                       const std::function<NodeMemoryTraits(size_t)>& traits_of) {
  const auto& nodes = graph.nodes();
  Buffers buffers;
  std::unordered_map<const ir::Value*, size_t> member_count;      // per buffer root: values in the buffer
  std::unordered_map<const ir::Value*, size_t> offset_in_buffer;  // per value, where it starts in its buffer
  std::set<const ir::Value*> exact_size;                          // Concat parts: no room past their own bytes
  std::unordered_map<const ir::Value*, size_t> first_of, last_of;  // per value
  std::vector<const ir::Value*> planned_in_order;                  // graph order, for a reproducible layout
  std::set<const ir::Value*> view_outputs;                         // live in their input's buffer, never written
  auto last_read = [&](const ir::Value* value, size_t producer_index) {
    auto found = last_use.find(value);
    return found == last_use.end() ? producer_index : std::max(found->second, producer_index);
  };
  // The latest read of any value in the buffer `root` heads, over the values seen so far.
  std::unordered_map<const ir::Value*, size_t> buffer_last;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node& node = *nodes[i];
    for (size_t j = 0; j < node.outputs.size(); ++j) {
      const ir::Value* output = node.outputs[j];
      if (!is_plannable(output)) continue;
      buffers.parent[output] = output;
      member_count[output] = 1;
      planned_in_order.push_back(output);
      first_of[output] = i;
      last_of[output] = last_read(output, i);
      buffer_last[output] = last_of[output];
    }
    const ir::Value* output = node.output(0);
    if (!output || !buffers.parent.count(output)) continue;
    const NodeMemoryTraits traits = traits_of(i);
    if (traits.inputs_may_live_in_output && concat_parts_are_contiguous(node)) {
      // Each input that has a buffer of its own is planned at its place inside the output's buffer, so its
      // producer writes it there and the Concat copies nothing for it.
      size_t offset = 0;
      for (size_t k = 0; k < node.inputs.size(); ++k) {
        const ir::Value* input = node.inputs[k];
        if (!input || !input->type.has_static_shape() || dtype_size(input->type.dtype) == 0) break;  // offsets unknown
        const bool own_buffer = buffers.parent.count(input) && buffers.root(input) == input && member_count[input] == 1 &&
                                !exact_size.count(input);
        const bool once = std::count(node.inputs.begin(), node.inputs.end(), input) == 1;
        if (own_buffer && once) {
          buffers.parent[input] = output;
          member_count[output] += 1;
          member_count.erase(input);
          offset_in_buffer[input] = offset;
          exact_size.insert(input);
          buffer_last[output] = std::max(buffer_last[output], buffer_last[input]);
          buffer_last.erase(input);
        }
        offset += value_bytes(input);
      }
      continue;
    }
    const ir::Value* source = nullptr;
    if (returns_view_of_input(node)) {
      view_outputs.insert(output);
      const ir::Value* input = node.input(0);
      if (input && buffers.parent.count(input)) source = input;
    } else {
      for (size_t k : traits.in_place_inputs) {
        const ir::Value* input = node.input(k);
        if (!input || !buffers.parent.count(input) || value_bytes(input) < value_bytes(output)) continue;
        const ir::Value* root = buffers.root(input);
        if (buffer_last[root] != i) continue;  // the input (or a view of it) is still read after this node
        bool read_twice = false;               // another input of this node in the same buffer
        for (size_t other = 0; other < node.inputs.size(); ++other) {
          const ir::Value* candidate = node.inputs[other];
          if (other != k && candidate && buffers.parent.count(candidate) && buffers.root(candidate) == root) {
            read_twice = true;
          }
        }
        if (read_twice) continue;
        source = input;
        break;
      }
    }
    if (!source) continue;
    const ir::Value* root = buffers.root(source);
    buffers.parent[output] = root;
    member_count[root] += 1;
    member_count.erase(output);
    if (offset_in_buffer.count(source)) offset_in_buffer[output] = offset_in_buffer[source];
    if (exact_size.count(source)) exact_size.insert(output);
    buffer_last[root] = std::max(buffer_last[root], buffer_last[output]);
    buffer_last.erase(output);
  }

  // One lifetime per buffer: from its first write to its last read, as large as its largest value.
  std::unordered_map<const ir::Value*, size_t> index_of_root;
  std::vector<BufferLifetime> lifetimes;
  for (const ir::Value* value : planned_in_order) {
    const ir::Value* root = buffers.root(value);
    auto [found, inserted] = index_of_root.try_emplace(root, lifetimes.size());
    if (inserted) {
      lifetimes.push_back({0, first_of[value], last_of[value]});
    }
    BufferLifetime& lifetime = lifetimes[found->second];
    lifetime.bytes = std::max(lifetime.bytes, value_bytes(value));
    lifetime.first = std::min(lifetime.first, first_of[value]);
    lifetime.last = std::max(lifetime.last, last_of[value]);
  }
  const ArenaLayout layout = place_buffers(lifetimes);

  MemoryPlan plan;
  plan.arena_bytes = layout.total_bytes;
  std::unordered_map<const ir::Value*, ArenaSlot> buffer_of;  // where each planned value lives
  for (const ir::Value* value : planned_in_order) {
    const size_t buffer = index_of_root.at(buffers.root(value));
    const size_t offset = offset_in_buffer.count(value) ? offset_in_buffer.at(value) : 0;
    const size_t capacity = exact_size.count(value) ? value_bytes(value) : lifetimes[buffer].bytes - offset;
    buffer_of[value] = ArenaSlot{layout.offsets[buffer] + offset, capacity, true};
  }
  plan.node_outputs.resize(nodes.size());
  plan.node_buffers.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    plan.node_outputs[i].resize(nodes[i]->outputs.size());
    plan.node_buffers[i].resize(nodes[i]->outputs.size());
    for (size_t j = 0; j < nodes[i]->outputs.size(); ++j) {
      const ir::Value* output = nodes[i]->outputs[j];
      auto found = output ? buffer_of.find(output) : buffer_of.end();
      if (found == buffer_of.end()) continue;
      plan.node_buffers[i][j] = found->second;
      if (view_outputs.count(output)) continue;
      plan.node_outputs[i][j] = found->second;
      ++plan.planned_values;
    }
  }
  return plan;
}

namespace {
void free_arena(std::byte* data) { std::free(data); }
}  // namespace

ArenaPool::Lease::~Lease() {
  if (!arena_) return;
  std::lock_guard<std::mutex> lock(pool_->mutex_);
  pool_->free_.push_back(std::move(arena_));
}

ArenaPool::Lease ArenaPool::borrow() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      auto arena = std::move(free_.back());
      free_.pop_back();
      return Lease(*this, std::move(arena));
    }
  }
  // 64-byte aligned (cache lines, AVX-512 loads); at least one line so the pointer is never null.
  const size_t rounded = (std::max<size_t>(bytes_, 1) + 63) / 64 * 64;
  auto* data = static_cast<std::byte*>(std::aligned_alloc(64, rounded));
  if (!data) throw std::bad_alloc();
  return Lease(*this, std::unique_ptr<std::byte[], void (*)(std::byte*)>(data, free_arena));
}

}  // namespace npukit::runtime
