// Internal to shape inference: what a rule sees (ShapeInferenceContext), the helpers rules share
// (broadcasting, axes, constant inputs, checked sizes) and the registration function of each op family.
//
// Two kinds of rules, both keyed by op type: shape rules give each output's dtype and dims; value rules
// (shape_inference_values.cpp) then give the contents of small integer outputs computed from shapes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace npukit::ir {

using Dims = std::vector<Dim>;

// What a rule found for one output: dtype undefined or shape nullopt mean "not known, leave as it is";
// a Dim with neither value nor symbol inside a known shape means the same for that dim.
struct InferredType {
  DType dtype = DType::undefined;
  std::optional<Dims> shape;
};

class ShapeInferenceContext;
// Infers a node's outputs for the nodes of nested graphs too: If, Loop and Scan rules call it on their bodies.
using SubgraphInference = std::function<void(Graph&)>;

// One element of a small integer tensor computed from shapes: a number (negative ones too: a Reshape's
// -1), a symbolic dim's name (read by Shape off a symbolic dim), or unknown.
struct ShapeValue {
  std::optional<int64_t> number;
  std::string symbol;

  static ShapeValue of(int64_t value) { return ShapeValue{value, {}}; }
  static ShapeValue of(const Dim& dim) {
    return dim.is_static() ? of(dim.value) : ShapeValue{std::nullopt, dim.symbol};
  }
  bool is(int64_t value) const { return number && *number == value; }
  // As a dim: a negative number is not a size, so unknown.
  Dim to_dim() const { return number ? (*number >= 0 ? Dim::fixed(*number) : Dim{}) : Dim{-1, symbol}; }
};
using ShapeValues = std::vector<ShapeValue>;

// The contents of the small integer tensors that models compute from shapes (Shape → Gather → Concat →
// Reshape), filled by the value rules (shape_inference_values.cpp) as the walk goes, so a Reshape target
// computed at run time is known here.
using KnownValues = std::unordered_map<const Value*, ShapeValues>;
// Tensors larger than this are not tracked: shape computations are small.
inline constexpr int64_t largest_tracked_tensor = 64;
// A rank read off the declared length of a shape input that is not constant; a larger one is refused before
// anything allocates that many dims (a hostile file may declare a shape input of length 2^40).
inline constexpr int64_t largest_rank = 1024;

class ShapeInferenceContext {
 public:
  ShapeInferenceContext(const Graph& graph, const Node& node, SubgraphInference infer_subgraph,
                        KnownValues& known_values);

  const Node& node() const { return node_; }
  size_t input_count() const { return node_.inputs.size(); }
  size_t output_count() const { return node_.outputs.size(); }
  bool has_input(size_t index) const { return input(index) != nullptr; }
  bool has_output(size_t index) const { return index < node_.outputs.size() && node_.outputs[index]; }

  // The value behind input `index`, resolved through outer scopes to its definition; nullptr when omitted.
  const Value* input(size_t index) const;
  DType input_dtype(size_t index) const;
  // nullptr when the input is omitted or its rank is unknown.
  const Dims* input_shape(size_t index) const;
  // nullopt when the input is omitted or its rank is unknown.
  std::optional<int64_t> input_rank(size_t index) const;
  // Constant data of input `index` (an initializer that is not also a graph input, which callers may
  // replace), or nullptr.
  const Tensor* constant_input(size_t index) const;
  // The integers input `index` holds: constant data, or values computed from static shapes; nullopt when
  // any is not known.
  std::optional<std::vector<int64_t>> constant_ints(size_t index) const;
  // The elements of a small (at most largest_tracked_tensor) integer or integral input, possibly symbolic:
  // an initializer's data or what the value rules computed. nullptr when not known.
  const ShapeValues* known_values(size_t index) const;
  void set_output_values(size_t index, ShapeValues values);

  void set_output(size_t index, DType dtype, std::optional<Dims> shape);
  void set_output_like_input(size_t output_index, size_t input_index);
  const std::vector<InferredType>& results() const { return results_; }

  // Throws Error(invalid_model) naming the node.
  [[noreturn]] void fail(const std::string& reason) const;
  // Axis in [-rank, rank) made non-negative; fails otherwise.
  int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& what = "axis") const;
  // Fails naming the node when fewer than `count` inputs are given (the first `count` must be present).
  void require_inputs(size_t count) const;
  // The rank a 1-D shape-like input (a Reshape target, an Expand shape) gives when its values are not known:
  // its static length. nullopt when that is not static either; fails beyond largest_rank.
  std::optional<size_t> rank_from_length(size_t index) const;

  // Multidirectional (numpy) broadcasting; a static dim other than 1 wins, equal symbols stay, other mixes
  // are unknown. Fails on two different static dims other than 1.
  Dims broadcast(const std::vector<const Dims*>& shapes) const;

  void infer_subgraph(Graph& graph) const { infer_subgraph_(graph); }

 private:
  const Graph& graph_;  // the graph holding the node (outer-scope reads resolve through its parents)
  const Node& node_;
  SubgraphInference infer_subgraph_;
  KnownValues& known_values_;
  mutable std::vector<std::optional<ShapeValues>> constant_values_;  // initializer data as read, by input
  std::vector<InferredType> results_;
};

// Dims helpers.
inline Dim unknown_dim() { return Dim{}; }
inline bool dim_known(const Dim& dim) { return dim.is_static() || !dim.symbol.empty(); }
Dims fixed_dims(const std::vector<int64_t>& sizes);
Dims unknown_dims(size_t rank);
std::string dims_to_string(const Dims& dims);  // "[1, batch, ?]"
// Product of dims when all are static, else unknown.
Dim dims_product(const Dims& dims, size_t begin, size_t end);
// Product of static dims with overflow checks (fails naming the node); nullopt if any is not static.
std::optional<int64_t> static_element_count(const ShapeInferenceContext& context, const Dims& dims);
bool same_dim(const Dim& first, const Dim& second);

// Sizes computed from attributes and dims a hostile file may set are computed in 128 bits and narrowed here:
// fails naming the node when the result does not fit 64 bits.
using WideSize = __int128;
int64_t narrow_size(const ShapeInferenceContext& context, WideSize size);
// A tensor element read as an integer: nullopt unless finite, integral and well inside 64 bits.
std::optional<int64_t> integral_value(double value);

// The rule of ops whose output has input 0's dtype and shape (activations, normalizations, Identity ...).
void same_as_first_input(ShapeInferenceContext& context);

using ShapeRule = std::function<void(ShapeInferenceContext&)>;
// Key: "op" for the default domain, "domain:op" for others.
using ShapeRuleTable = std::unordered_map<std::string, ShapeRule>;

void register_elementwise_shape_rules(ShapeRuleTable& table);
void register_convolution_shape_rules(ShapeRuleTable& table);
void register_linear_algebra_shape_rules(ShapeRuleTable& table);
void register_reduction_shape_rules(ShapeRuleTable& table);
void register_data_movement_shape_rules(ShapeRuleTable& table);
void register_resize_shape_rules(ShapeRuleTable& table);
void register_indexing_shape_rules(ShapeRuleTable& table);
void register_generator_shape_rules(ShapeRuleTable& table);
void register_control_flow_shape_rules(ShapeRuleTable& table);
// Value rules: they run after the shape rule and fill KnownValues for the outputs.
void register_value_rules(ShapeRuleTable& table);

}  // namespace npukit::ir
