#include "ir/graph.h"

#include <algorithm>
#include <queue>
#include <set>
#include <unordered_map>

#include "npukit/error.h"

namespace npukit::ir {

bool TensorType::has_static_shape() const {
  if (!shape) return false;
  return std::all_of(shape->begin(), shape->end(), [](const Dim& dim) { return dim.is_static(); });
}

Shape TensorType::static_shape() const {
  Shape result;
  if (shape) {
    for (const Dim& dim : *shape) result.push_back(dim.value);
  }
  return result;
}

std::string TensorType::to_string() const {
  std::string text(dtype_name(dtype));
  if (!shape) return text + "[?]";
  text += "[";
  for (size_t i = 0; i < shape->size(); ++i) {
    if (i) text += ", ";
    text += (*shape)[i].to_string();
  }
  return text + "]";
}

std::string_view Attribute::kind_name(Kind kind) {
  switch (kind) {
    case Kind::floating: return "float";
    case Kind::integer: return "int";
    case Kind::string: return "string";
    case Kind::tensor: return "tensor";
    case Kind::graph: return "graph";
    case Kind::floats: return "floats";
    case Kind::integers: return "ints";
    case Kind::strings: return "strings";
    case Kind::tensors: return "tensors";
    case Kind::graphs: return "graphs";
  }
  return "?";
}

const Attribute* Node::find_attribute(const std::string& key) const {
  auto found = attributes.find(key);
  return found == attributes.end() ? nullptr : &found->second;
}

namespace {
const Attribute* checked_attribute(const Node& node, const std::string& key, Attribute::Kind kind) {
  const Attribute* attribute = node.find_attribute(key);
  if (attribute && attribute->kind != kind) {
    throw Error(ErrorKind::invalid_model,
                "attribute '" + key + "' is " + std::string(Attribute::kind_name(attribute->kind)) + ", expected " +
                    std::string(Attribute::kind_name(kind)),
                {}, node.describe());
  }
  return attribute;
}
}  // namespace

int64_t Node::get_int(const std::string& key, int64_t fallback) const {
  const Attribute* attribute = checked_attribute(*this, key, Attribute::Kind::integer);
  return attribute ? attribute->int_value : fallback;
}

double Node::get_float(const std::string& key, double fallback) const {
  const Attribute* attribute = checked_attribute(*this, key, Attribute::Kind::floating);
  return attribute ? attribute->float_value : fallback;
}

std::string Node::get_string(const std::string& key, const std::string& fallback) const {
  const Attribute* attribute = checked_attribute(*this, key, Attribute::Kind::string);
  return attribute ? attribute->string_value : fallback;
}

std::vector<int64_t> Node::get_ints(const std::string& key, const std::vector<int64_t>& fallback) const {
  const Attribute* attribute = checked_attribute(*this, key, Attribute::Kind::integers);
  return attribute ? attribute->int_values : fallback;
}

std::vector<double> Node::get_floats(const std::string& key, const std::vector<double>& fallback) const {
  const Attribute* attribute = checked_attribute(*this, key, Attribute::Kind::floats);
  return attribute ? attribute->float_values : fallback;
}

std::string Node::describe() const { return describe_node(name, op_type, index); }

Value* Graph::add_value(const std::string& value_name, TensorType type) {
  if (value_by_name_.count(value_name)) {
    throw Error(ErrorKind::invalid_model, "value '" + value_name + "' is defined more than once in graph '" + name + "'");
  }
  auto value = std::make_unique<Value>();
  value->name = value_name;
  value->type = std::move(type);
  Value* raw = value.get();
  values_.push_back(std::move(value));
  value_by_name_[value_name] = raw;
  return raw;
}

Value* Graph::find_value(const std::string& value_name) const {
  auto found = value_by_name_.find(value_name);
  return found == value_by_name_.end() ? nullptr : found->second;
}

Value* Graph::get_or_add_value(const std::string& value_name) {
  Value* existing = find_value(value_name);
  return existing ? existing : add_value(value_name);
}

Value* Graph::add_initializer(const std::string& value_name, Tensor data) {
  TensorType type;
  type.dtype = data.dtype();
  std::vector<Dim> dims;
  for (int64_t size : data.shape()) dims.push_back(Dim::fixed(size));
  type.shape = std::move(dims);
  Value* value = add_value(value_name, std::move(type));
  value->initializer = std::move(data);
  return value;
}

Node* Graph::add_node(std::string op_type, std::vector<Value*> node_inputs, std::vector<Value*> node_outputs,
                      std::string node_name, std::string domain) {
  auto node = std::make_unique<Node>();
  node->op_type = std::move(op_type);
  node->name = std::move(node_name);
  node->domain = std::move(domain);
  node->inputs = std::move(node_inputs);
  node->outputs = std::move(node_outputs);
  node->index = nodes_.size();
  Node* raw = node.get();
  for (Value* input : raw->inputs) {
    if (input) input->consumers.push_back(raw);
  }
  for (Value* output : raw->outputs) {
    if (!output) continue;
    if (output->producer) {
      throw Error(ErrorKind::invalid_model, "value '" + output->name + "' is produced by more than one node", {},
                  raw->describe());
    }
    output->producer = raw;
  }
  nodes_.push_back(std::move(node));
  return raw;
}

void Graph::remove_node(Node* node) {
  for (Value* input : node->inputs) {
    if (!input) continue;
    auto& consumers = input->consumers;
    auto position = std::find(consumers.begin(), consumers.end(), node);
    if (position != consumers.end()) consumers.erase(position);
  }
  for (Value* output : node->outputs) {
    if (output && output->producer == node) output->producer = nullptr;
  }
  nodes_.erase(std::remove_if(nodes_.begin(), nodes_.end(),
                              [node](const std::unique_ptr<Node>& owned) { return owned.get() == node; }),
               nodes_.end());
}

void Graph::remove_value(Value* value) {
  value_by_name_.erase(value->name);
  values_.erase(std::remove_if(values_.begin(), values_.end(),
                               [value](const std::unique_ptr<Value>& owned) { return owned.get() == value; }),
                values_.end());
}

void Graph::replace_all_uses(Value* from, Value* to) {
  for (Node* consumer : from->consumers) {
    for (Value*& input : consumer->inputs) {
      if (input == from) input = to;
    }
    to->consumers.push_back(consumer);
  }
  from->consumers.clear();
  for (Value*& output : outputs) {
    if (output == from) {
      output = to;
      from->is_graph_output = false;
      to->is_graph_output = true;
    }
  }
}

void Graph::renumber() {
  for (size_t i = 0; i < nodes_.size(); ++i) nodes_[i]->index = i;
}

namespace {
// Values a node reads, including the outer-scope values its subgraphs read (the node must run after
// their producers too).
void collect_node_reads(const Node& node, std::vector<Value*>& reads);

void collect_subgraph_reads(const Graph& graph, std::vector<Value*>& reads) {
  for (Value* value : graph.outer_scope_values()) reads.push_back(value);
}

void collect_node_reads(const Node& node, std::vector<Value*>& reads) {
  for (Value* input : node.inputs) {
    if (input) reads.push_back(input);
  }
  for (const auto& [key, attribute] : node.attributes) {
    if (attribute.graph_value) collect_subgraph_reads(*attribute.graph_value, reads);
    for (const auto& subgraph : attribute.graph_values) collect_subgraph_reads(*subgraph, reads);
  }
}
}  // namespace

std::vector<Graph*> subgraphs_of(const Node& node) {
  std::vector<Graph*> bodies;
  for (const auto& [key, attribute] : node.attributes) {
    if (attribute.graph_value) bodies.push_back(attribute.graph_value.get());
    for (const auto& body : attribute.graph_values) bodies.push_back(body.get());
  }
  return bodies;
}

std::vector<Value*> Graph::outer_scope_values() const {
  // A subgraph's outer-scope placeholder values carry the name only; resolve them to this graph's parent
  // chain by name so the caller can order nodes. Nested subgraphs contribute their own outer reads that
  // this graph does not define.
  std::vector<Value*> result;
  std::set<std::string> seen;
  auto add_by_name = [&](const std::string& value_name) {
    if (find_value(value_name) && !find_value(value_name)->outer_scope) return;
    if (!seen.insert(value_name).second) return;
    for (Graph* scope = parent; scope; scope = scope->parent) {
      if (Value* outer = scope->find_value(value_name); outer && !outer->outer_scope) {
        result.push_back(outer);
        return;
      }
    }
  };
  for (const auto& value : values_) {
    if (value->outer_scope) add_by_name(value->name);
  }
  for (const auto& node : nodes_) {
    for (const Graph* subgraph : subgraphs_of(*node)) {
      for (Value* nested : subgraph->outer_scope_values()) add_by_name(nested->name);
    }
  }
  return result;
}

void Graph::sort_topologically() {
  // Kahn's algorithm with a min-heap on the current position, so a valid order is kept as it is.
  std::unordered_map<const Node*, size_t> position;
  for (size_t i = 0; i < nodes_.size(); ++i) position[nodes_[i].get()] = i;
  std::vector<size_t> pending(nodes_.size(), 0);
  std::vector<std::vector<size_t>> dependents(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    std::vector<Value*> reads;
    collect_node_reads(*nodes_[i], reads);
    std::set<size_t> producers;
    for (Value* read : reads) {
      if (read->producer && position.count(read->producer)) producers.insert(position[read->producer]);
    }
    for (size_t producer : producers) {
      dependents[producer].push_back(i);
      ++pending[i];
    }
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t next = ready.top();
    ready.pop();
    order.push_back(next);
    for (size_t dependent : dependents[next]) {
      if (--pending[dependent] == 0) ready.push(dependent);
    }
  }
  if (order.size() != nodes_.size()) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (pending[i] != 0) {
        nodes_[i]->index = i;
        throw Error(ErrorKind::invalid_model,
                    "the graph has a cycle: this node depends (directly or indirectly) on its own output", {},
                    nodes_[i]->describe());
      }
    }
  }
  std::vector<std::unique_ptr<Node>> sorted;
  sorted.reserve(nodes_.size());
  for (size_t i : order) sorted.push_back(std::move(nodes_[i]));
  nodes_ = std::move(sorted);
  renumber();
}

std::shared_ptr<Graph> Graph::clone(Graph* parent_of_copy) const {
  auto copy = std::make_shared<Graph>();
  copy->name = name;
  copy->parent = parent_of_copy;
  std::unordered_map<const Value*, Value*> value_copies;
  std::unordered_map<const Node*, Node*> node_copies;
  for (const auto& value : values_) {
    auto value_copy = std::make_unique<Value>(*value);  // the initializer's Tensor shares its bytes
    value_copies[value.get()] = value_copy.get();
    copy->value_by_name_[value_copy->name] = value_copy.get();
    copy->values_.push_back(std::move(value_copy));
  }
  auto copied_value = [&](const Value* value) -> Value* {
    if (!value) return nullptr;
    auto found = value_copies.find(value);
    if (found == value_copies.end()) {
      throw Error(ErrorKind::internal, "graph '" + name + "' refers to value '" + value->name + "' that it does not own");
    }
    return found->second;
  };
  for (const auto& node : nodes_) {
    auto node_copy = std::make_unique<Node>(*node);
    for (Value*& input : node_copy->inputs) input = copied_value(input);
    for (Value*& output : node_copy->outputs) output = copied_value(output);
    for (auto& [key, attribute] : node_copy->attributes) {
      if (attribute.graph_value) attribute.graph_value = attribute.graph_value->clone(copy.get());
      for (std::shared_ptr<Graph>& body : attribute.graph_values) body = body->clone(copy.get());
    }
    node_copies[node.get()] = node_copy.get();
    copy->nodes_.push_back(std::move(node_copy));
  }
  auto copied_node = [&](const Node* node) -> Node* {
    auto found = node_copies.find(node);
    if (found == node_copies.end()) {
      throw Error(ErrorKind::internal, "graph '" + name + "' links a value to a node that it does not own");
    }
    return found->second;
  };
  for (const auto& value_copy : copy->values_) {
    if (value_copy->producer) value_copy->producer = copied_node(value_copy->producer);
    for (Node*& consumer : value_copy->consumers) consumer = copied_node(consumer);
  }
  for (const Value* input : inputs) copy->inputs.push_back(copied_value(input));
  for (const Value* output : outputs) copy->outputs.push_back(copied_value(output));
  return copy;
}

Model Model::clone() const {
  Model copy = *this;
  copy.graph = graph->clone();
  return copy;
}

int64_t Model::opset(const std::string& domain) const {
  auto found = opset_imports.find(domain == "ai.onnx" ? "" : domain);
  return found == opset_imports.end() ? 0 : found->second;
}

std::optional<std::vector<int64_t>> static_dims_of(const Value* value) {
  if (!value || !value->type.shape) return std::nullopt;
  std::vector<int64_t> dims;
  for (const Dim& dim : *value->type.shape) {
    if (!dim.is_static()) return std::nullopt;
    dims.push_back(dim.value);
  }
  return dims;
}

}  // namespace npukit::ir
