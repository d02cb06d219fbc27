#include "runtime/executor.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

namespace npukit::runtime {

// Tensors alive in one graph invocation; outer-scope names are looked up in the enclosing scopes.
struct Executor::Scope {
  const ir::Graph* graph = nullptr;
  const Scope* parent = nullptr;
  std::unordered_map<const ir::Value*, Tensor> tensors;

  const Tensor* find(const ir::Value* value) const {
    if (!value->outer_scope) {
      auto found = tensors.find(value);
      if (found != tensors.end()) return &found->second;
      if (value->initializer) return &*value->initializer;
      return nullptr;
    }
    for (const Scope* scope = parent; scope; scope = scope->parent) {
      const ir::Value* outer = scope->graph->find_value(value->name);
      if (outer && !outer->outer_scope) return scope->find(outer);
    }
    return nullptr;
  }
};

namespace {
void append_subgraph_reads(const ir::Node& node, const ir::Graph& graph, std::vector<const ir::Value*>& reads) {
  for (const auto& [key, attribute] : node.attributes) {
    std::vector<std::shared_ptr<ir::Graph>> subgraphs = attribute.graph_values;
    if (attribute.graph_value) subgraphs.push_back(attribute.graph_value);
    for (const auto& subgraph : subgraphs) {
      for (const ir::Value* outer : subgraph->outer_scope_values()) {
        // Only values of this graph matter for releasing; deeper ancestors are released by their own graph.
        if (graph.find_value(outer->name) == outer) reads.push_back(outer);
      }
    }
  }
}
}  // namespace

Executor::Executor(std::shared_ptr<const ir::Model> model, std::vector<const Backend*> backends)
    : model_(std::move(model)), backends_(std::move(backends)) {
  if (backends_.empty()) backends_.push_back(&reference_backend());
  std::vector<std::string> unsupported;
  prepare_graph(*model_->graph, unsupported);
  if (!unsupported.empty()) {
    std::string reason = std::to_string(unsupported.size()) + " node(s) cannot run on any configured backend:";
    for (const std::string& line : unsupported) reason += "\n  " + line;
    throw Error(ErrorKind::unsupported, reason, model_->source_path);
  }
}

void Executor::prepare_graph(const ir::Graph& graph, std::vector<std::string>& unsupported) {
  PreparedGraph prepared;
  std::unordered_map<const ir::Value*, size_t> last_use;
  const auto& nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::vector<const ir::Value*> reads(nodes[i]->inputs.begin(), nodes[i]->inputs.end());
    append_subgraph_reads(*nodes[i], graph, reads);
    for (const ir::Value* read : reads) {
      if (read) last_use[read] = i;
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ir::Node& node = *nodes[i];
    PreparedNode entry;
    entry.node = &node;
    entry.opset = model_->opset(node.domain);
    if (entry.opset == 0) {
      unsupported.push_back(node.describe() + ": domain '" + node.domain + "' is not in the model's opset imports");
    } else {
      std::string reasons;
      for (const Backend* backend : backends_) {
        std::optional<std::string> reason = backend->unsupported_reason(node, entry.opset);
        if (!reason) {
          // A backend may still refuse while preparing (oneDNN has no primitive for these shapes): then the
          // next backend gets the node, as if the check had said no.
          try {
            entry.executable = backend->prepare(node, entry.opset);
            entry.backend = backend;
            break;
          } catch (const Error& error) {
            if (error.kind() != ErrorKind::unsupported || backend == backends_.back()) throw;
            reason = error.what();
          }
        }
        reasons += (reasons.empty() ? "" : "; ") + *reason;
      }
      if (!entry.backend) unsupported.push_back(node.describe() + ": " + reasons);
    }
    prepared.nodes.push_back(std::move(entry));
    for (const auto& [key, attribute] : node.attributes) {
      if (attribute.graph_value) prepare_graph(*attribute.graph_value, unsupported);
      for (const auto& subgraph : attribute.graph_values) prepare_graph(*subgraph, unsupported);
    }
  }
  std::set<const ir::Value*> graph_outputs(graph.outputs.begin(), graph.outputs.end());
  for (const auto& [value, index] : last_use) {
    if (!graph_outputs.count(value) && !value->initializer && !value->outer_scope) {
      prepared.nodes[index].release_after.push_back(value);
    }
  }
  if (&graph == model_->graph.get() && unsupported.empty()) {
    prepared.memory = plan_memory(graph, last_use, [&prepared](size_t node_index) {
      const PreparedNode& entry = prepared.nodes[node_index];
      NodeMemoryTraits traits;
      if (entry.executable) {
        traits.in_place_inputs = entry.executable->in_place_inputs();
        traits.inputs_may_live_in_output = entry.executable->inputs_may_live_in_output();
      }
      return traits;
    });
    for (size_t i = 0; i < prepared.nodes.size(); ++i) {
      prepared.nodes[i].slots = prepared.memory.node_outputs[i];
      prepared.nodes[i].buffers = prepared.memory.node_buffers[i];
      prepared.nodes[i].zero_fill = !prepared.nodes[i].executable->writes_whole_outputs();
    }
    if (prepared.memory.planned_values > 0) prepared.arenas = std::make_unique<ArenaPool>(prepared.memory.arena_bytes);
  }
  prepared_[&graph] = std::move(prepared);
}

void Executor::keep_values(const std::vector<const ir::Value*>& values) {
  PreparedGraph& prepared = prepared_.at(model_->graph.get());
  for (PreparedNode& entry : prepared.nodes) entry.kept.clear();
  for (size_t position = 0; position < values.size(); ++position) {
    const ir::Value* value = values[position];
    bool found = false;
    for (PreparedNode& entry : prepared.nodes) {
      for (size_t i = 0; i < entry.node->outputs.size() && !found; ++i) {
        if (entry.node->outputs[i] == value) {
          entry.kept.emplace_back(i, position);
          found = true;
        }
      }
      if (found) break;
    }
    if (!found) {
      throw Error(ErrorKind::invalid_argument,
                  "value '" + (value ? value->name : std::string("?")) + "' is produced by no node of the graph",
                  model_->source_path);
    }
  }
  kept_count_ = values.size();
}

std::vector<Tensor> Executor::run(const std::map<std::string, Tensor>& inputs, std::vector<double>* node_seconds,
                                  std::vector<Tensor>* kept) const {
  const ir::Graph& graph = *model_->graph;
  Scope scope;
  scope.graph = &graph;
  for (const auto& [name, tensor] : inputs) {
    const ir::Value* value = graph.find_value(name);
    if (!value || !value->is_graph_input) {
      throw Error(ErrorKind::invalid_argument, "the model has no input named '" + name + "'", model_->source_path);
    }
    scope.tensors[value] = tensor;
  }
  for (const ir::Value* input : graph.inputs) {
    if (!scope.tensors.count(input) && !input->initializer) {
      throw Error(ErrorKind::invalid_argument, "input '" + input->name + "' was not given", model_->source_path);
    }
  }
  if (kept) kept->assign(kept_count_, Tensor());
  return run_graph_with_scope(graph, scope, node_seconds, kept);
}

std::vector<Tensor> Executor::run_graph(const ir::Graph& graph, const std::vector<Tensor>& inputs,
                                        const Scope* outer) const {
  if (inputs.size() > graph.inputs.size()) {
    throw Error(ErrorKind::invalid_model, "subgraph '" + graph.name + "' takes " + std::to_string(graph.inputs.size()) +
                                              " inputs but was given " + std::to_string(inputs.size()));
  }
  Scope scope;
  scope.graph = &graph;
  scope.parent = outer;
  for (size_t i = 0; i < inputs.size(); ++i) scope.tensors[graph.inputs[i]] = inputs[i];
  return run_graph_with_scope(graph, scope);
}

std::vector<Tensor> Executor::run_graph_with_scope(const ir::Graph& graph, Scope& scope, std::vector<double>* node_seconds,
                                                   std::vector<Tensor>* kept) const {
  const PreparedGraph& prepared = prepared_.at(&graph);
  if (node_seconds) node_seconds->assign(prepared.nodes.size(), 0.0);
  // The arena for this run (top-level graph with a plan): borrowed here, given back on every exit.
  std::optional<ArenaPool::Lease> lease;
  if (prepared.arenas) lease.emplace(prepared.arenas->borrow());
  std::byte* const arena = lease ? lease->data() : nullptr;
  const size_t arena_bytes = prepared.arenas ? prepared.arenas->bytes() : 0;
  constexpr size_t max_placed_outputs = 8;  // outputs beyond these (rare) go to the heap
  OutputPlacement placements[max_placed_outputs];
  for (size_t node_index = 0; node_index < prepared.nodes.size(); ++node_index) {
    const PreparedNode& entry = prepared.nodes[node_index];
    const auto started = node_seconds ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    const ir::Node& node = *entry.node;
    std::vector<const Tensor*> inputs;
    inputs.reserve(node.inputs.size());
    for (const ir::Value* value : node.inputs) {
      if (!value || value->name.empty()) {
        inputs.push_back(nullptr);
        continue;
      }
      const Tensor* tensor = scope.find(value);
      if (!tensor) {
        throw Error(ErrorKind::invalid_model, "input '" + value->name + "' has no value (no producer, initializer or graph input)",
                    model_->source_path, node.describe());
      }
      inputs.push_back(tensor);
    }
    std::vector<Tensor> outputs(node.outputs.size());
    KernelContext::SubgraphRunner runner = [this, &scope](const ir::Graph& subgraph, const std::vector<Tensor>& sub_inputs) {
      return run_graph(subgraph, sub_inputs, &scope);
    };
    KernelContext context(node, entry.opset, std::move(inputs), outputs, std::move(runner));
    if (arena) {
      const size_t count = std::min(entry.slots.size(), max_placed_outputs);
      for (size_t i = 0; i < count; ++i) {
        const ArenaSlot& slot = entry.slots[i];
        placements[i] = OutputPlacement{slot.planned ? arena + slot.offset : nullptr, slot.bytes, entry.zero_fill};
      }
      context.place_outputs(placements, count);
    }
    try {
      entry.executable->run(context);
    } catch (const Error& error) {
      throw error.with_node(node.describe()).with_file(model_->source_path);
    } catch (const std::bad_alloc&) {
      throw Error(ErrorKind::resource_limit, "out of memory", model_->source_path, node.describe());
    } catch (const std::exception& error) {
      throw Error(ErrorKind::internal, std::string("unexpected failure: ") + error.what(), model_->source_path,
                  node.describe());
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const ir::Value* value = node.outputs[i];
      if (!value || value->name.empty()) continue;
      if (outputs[i].empty()) {
        throw Error(ErrorKind::internal, "kernel produced no tensor for output '" + value->name + "'",
                    model_->source_path, node.describe());
      }
      if (arena) copy_out_of_arena(outputs[i], arena, arena_bytes, entry.buffers[i]);
      scope.tensors[value] = std::move(outputs[i]);
    }
    // A deep copy: the arena bytes are reused by later nodes, and in-place kernels overwrite inputs.
    if (kept) {
      for (const auto& [output_index, position] : entry.kept) (*kept)[position] = scope.tensors[node.outputs[output_index]].clone();
    }
    for (const ir::Value* value : entry.release_after) scope.tensors.erase(value);
    if (node_seconds) {
      (*node_seconds)[node_index] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }
  }
  std::vector<Tensor> results;
  results.reserve(graph.outputs.size());
  for (const ir::Value* output : graph.outputs) {
    const Tensor* tensor = scope.find(output);
    if (!tensor) {
      throw Error(ErrorKind::invalid_model, "graph output '" + output->name + "' was never computed", model_->source_path);
    }
    results.push_back(*tensor);
    // The arena goes back to the pool when this function returns: nothing handed out may point into it.
    if (arena) copy_out_of_arena(results.back(), arena, arena_bytes, ArenaSlot{});
  }
  return results;
}

void Executor::copy_out_of_arena(Tensor& tensor, const std::byte* arena, size_t arena_bytes, const ArenaSlot& own) const {
  const auto* data = static_cast<const std::byte*>(tensor.raw_data());
  if (!data || data < arena || data >= arena + arena_bytes) return;
  if (own.planned && data >= arena + own.offset && data + tensor.byte_size() <= arena + own.offset + own.bytes) {
    return;  // in its own buffer: a planned slot or a view the plan foresaw
  }
  tensor = tensor.clone();
}

size_t Executor::arena_bytes() const {
  const PreparedGraph& prepared = prepared_.at(model_->graph.get());
  return prepared.arenas ? prepared.arenas->bytes() : 0;
}

size_t Executor::arena_values() const { return prepared_.at(model_->graph.get()).memory.planned_values; }

std::vector<std::string> Executor::node_backends() const {
  std::vector<std::string> names;
  for (const PreparedNode& entry : prepared_.at(model_->graph.get()).nodes) names.emplace_back(entry.backend->name());
  return names;
}

std::vector<const ir::Node*> Executor::nodes() const {
  std::vector<const ir::Node*> result;
  for (const PreparedNode& entry : prepared_.at(model_->graph.get()).nodes) result.push_back(entry.node);
  return result;
}

}  // namespace npukit::runtime
