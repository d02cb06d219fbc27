// npukit's intermediate representation: Model → Graph → Node / Value / Attribute.
//
// Ownership: a Graph owns its Nodes and Values (stable addresses, held by unique_ptr). Nodes point at
// Values; Values point back at their producer and consumers. Subgraphs (If/Loop/Scan bodies) are Graphs
// owned by an Attribute; a name a subgraph uses but does not define is a Value marked `outer_scope`,
// resolved by name against the enclosing graphs at run time, as ONNX specifies.
//
// Nodes are kept in topological order; passes that insert nodes call Graph::sort_topologically() or insert
// at the right place, and verify() checks it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/quant_params.h"
#include "npukit/dtype.h"
#include "npukit/tensor.h"

namespace npukit::ir {

class Graph;
struct Node;

// A dimension: a fixed size, or a named symbol ("batch", "height"), or unknown (no value, no symbol).
struct Dim {
  int64_t value = -1;
  std::string symbol;

  static Dim fixed(int64_t size) { return Dim{size, {}}; }
  static Dim symbolic(std::string name) { return Dim{-1, std::move(name)}; }
  bool is_static() const { return value >= 0; }
  std::string to_string() const { return is_static() ? std::to_string(value) : (symbol.empty() ? "?" : symbol); }
};

struct TensorType {
  DType dtype = DType::undefined;
  std::optional<std::vector<Dim>> shape;  // nullopt: rank unknown

  bool has_static_shape() const;
  Shape static_shape() const;  // requires has_static_shape()
  std::string to_string() const;  // "f32[1, 3, batch, ?]"
};

struct Value {
  std::string name;
  TensorType type;
  Node* producer = nullptr;            // null for graph inputs, initializers and outer-scope names
  std::vector<Node*> consumers;        // one entry per use (a node using it twice appears twice)
  std::optional<Tensor> initializer;   // constant data (ONNX initializer or folded Constant)
  std::optional<QuantParams> quant;    // see ir/quant_params.h: storage params (integer value) or a quantization point (float value)
  bool is_graph_input = false;
  bool is_graph_output = false;
  bool outer_scope = false;            // defined by an enclosing graph
};

struct Attribute {
  enum class Kind { floating, integer, string, tensor, graph, floats, integers, strings, tensors, graphs };
  Kind kind = Kind::integer;
  double float_value = 0;
  int64_t int_value = 0;
  std::string string_value;
  Tensor tensor_value;
  std::shared_ptr<Graph> graph_value;
  std::vector<double> float_values;
  std::vector<int64_t> int_values;
  std::vector<std::string> string_values;
  std::vector<Tensor> tensor_values;
  std::vector<std::shared_ptr<Graph>> graph_values;

  static std::string_view kind_name(Kind kind);
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;                 // "" is the default ONNX domain ("ai.onnx")
  std::vector<Value*> inputs;         // nullptr for an omitted optional input
  std::vector<Value*> outputs;        // nullptr for an omitted optional output
  std::map<std::string, Attribute> attributes;

  // Index in its graph's node list at the time of the last renumber(); used in error messages.
  size_t index = 0;

  bool has_attribute(const std::string& key) const { return attributes.count(key) != 0; }
  const Attribute* find_attribute(const std::string& key) const;
  // Typed getters with defaults. They throw Error(invalid_model) naming the node when the attribute
  // exists with another kind.
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_float(const std::string& key, double fallback) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& key, const std::vector<int64_t>& fallback = {}) const;
  std::vector<double> get_floats(const std::string& key, const std::vector<double>& fallback = {}) const;

  Value* input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  Value* output(size_t i) const { return i < outputs.size() ? outputs[i] : nullptr; }
  // "'conv_3' (Conv)" for messages.
  std::string describe() const;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  std::string name;
  std::vector<Value*> inputs;   // in declared order; initializers are not listed here
  std::vector<Value*> outputs;
  Graph* parent = nullptr;      // enclosing graph for subgraphs

  // Creates a new value; names must be unique in this graph (Error otherwise).
  Value* add_value(const std::string& name, TensorType type = {});
  Value* find_value(const std::string& name) const;
  // Returns the existing value or creates it.
  Value* get_or_add_value(const std::string& name);
  Value* add_initializer(const std::string& name, Tensor data);

  Node* add_node(std::string op_type, std::vector<Value*> inputs, std::vector<Value*> outputs,
                 std::string name = {}, std::string domain = {});
  // Removes a node; its outputs keep existing but lose their producer.
  void remove_node(Node* node);
  void remove_value(Value* value);
  // Points every use of `from` at `to` (node inputs and graph outputs).
  void replace_all_uses(Value* from, Value* to);

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  const std::vector<std::unique_ptr<Value>>& values() const { return values_; }

  // Reorders nodes topologically (stable: keeps the current order where it is valid). Throws
  // Error(invalid_model) naming a node on a cycle.
  void sort_topologically();
  // Refreshes Node::index after edits.
  void renumber();

  // Every value read by this graph or its nested subgraphs but defined outside it.
  std::vector<Value*> outer_scope_values() const;

  // A copy that shares nothing mutable with this graph: new Nodes and Values (and subgraphs, whose parent is
  // the copy), linked the same way, in the same order. Initializers and tensor attributes share their bytes
  // with the original: tensors in a graph are never written in place (a pass that changes a constant makes a
  // new tensor), so sharing is safe and a clone of a large model costs no weight copy.
  std::shared_ptr<Graph> clone(Graph* parent = nullptr) const;

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  std::unordered_map<std::string, Value*> value_by_name_;
};

// The bodies a node holds (If branches, Loop and Scan bodies), in attribute order; empty for other nodes.
std::vector<Graph*> subgraphs_of(const Node& node);

// A value's dims when every one is known; nullopt for a null value, an unknown rank or any dynamic dim.
std::optional<std::vector<int64_t>> static_dims_of(const Value* value);

struct Model {
  std::shared_ptr<Graph> graph = std::make_shared<Graph>();
  std::map<std::string, int64_t> opset_imports;  // domain ("" = ai.onnx) -> version
  int64_t ir_version = 8;
  std::string producer_name;
  std::string producer_version;
  std::map<std::string, std::string> metadata;
  std::string source_path;  // file it was loaded from, for error messages

  int64_t opset(const std::string& domain = "") const;
  // A copy whose graph is Graph::clone of this one (initializer bytes shared); copying a Model shares the graph.
  Model clone() const;
};

}  // namespace npukit::ir
