// The walk: nodes in topological order, each one's rule found by op type, its findings merged into the
// output values; plus the context and helpers every rule shares.
#include "ir/shape_inference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "ir/shape_inference_rules.h"
#include "npukit/error.h"

namespace npukit::ir {

// ---- helpers -------------------------------------------------------------------------------------------

Dims fixed_dims(const std::vector<int64_t>& sizes) {
  Dims dims;
  dims.reserve(sizes.size());
  for (int64_t size : sizes) dims.push_back(Dim::fixed(size));
  return dims;
}

std::string dims_to_string(const Dims& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + dims[i].to_string();
  return text + "]";
}

Dims unknown_dims(size_t rank) { return Dims(rank, unknown_dim()); }

Dim dims_product(const Dims& dims, size_t begin, size_t end) {
  int64_t product = 1;
  for (size_t i = begin; i < end && i < dims.size(); ++i) {
    if (!dims[i].is_static()) return unknown_dim();
    if (__builtin_mul_overflow(product, dims[i].value, &product)) return unknown_dim();
  }
  return Dim::fixed(product);
}

std::optional<int64_t> static_element_count(const ShapeInferenceContext& context, const Dims& dims) {
  // A zero dim makes the count 0 whatever the others are (and an intermediate product must not overflow).
  if (std::any_of(dims.begin(), dims.end(), [](const Dim& dim) { return dim.is_static() && dim.value == 0; })) {
    return std::all_of(dims.begin(), dims.end(), [](const Dim& dim) { return dim.is_static(); }) ? std::optional<int64_t>(0)
                                                                                                 : std::nullopt;
  }
  int64_t product = 1;
  bool all_static = true;
  for (const Dim& dim : dims) {
    if (!dim.is_static()) {
      all_static = false;
      continue;
    }
    if (__builtin_mul_overflow(product, dim.value, &product)) {
      context.fail("the element count of shape " + dims_to_string(dims) + " overflows 64 bits");
    }
  }
  if (!all_static) return std::nullopt;
  return product;
}

int64_t narrow_size(const ShapeInferenceContext& context, WideSize size) {
  if (size > std::numeric_limits<int64_t>::max() || size < std::numeric_limits<int64_t>::min()) {
    context.fail("a size computed from the attributes and input dims overflows 64 bits");
  }
  return static_cast<int64_t>(size);
}

std::optional<int64_t> integral_value(double value) {
  if (!(value >= -4.0e18 && value <= 4.0e18) || value != std::floor(value)) return std::nullopt;
  return static_cast<int64_t>(value);
}

bool same_dim(const Dim& first, const Dim& second) {
  if (first.is_static() || second.is_static()) return first.value == second.value;
  return !first.symbol.empty() && first.symbol == second.symbol;
}

// ---- context -------------------------------------------------------------------------------------------

ShapeInferenceContext::ShapeInferenceContext(const Graph& graph, const Node& node, SubgraphInference infer_subgraph,
                                             KnownValues& known_values)
    : graph_(graph),
      node_(node),
      infer_subgraph_(std::move(infer_subgraph)),
      known_values_(known_values),
      constant_values_(node.inputs.size()),
      results_(node.outputs.size()) {}

const Value* ShapeInferenceContext::input(size_t index) const {
  const Value* value = node_.input(index);
  if (!value || !value->outer_scope) return value;
  // A subgraph reads an enclosing graph's value through a placeholder of the same name; its data are on the
  // definition.
  for (const Graph* scope = graph_.parent; scope; scope = scope->parent) {
    const Value* definition = scope->find_value(value->name);
    if (definition && !definition->outer_scope) return definition;
  }
  return value;
}

DType ShapeInferenceContext::input_dtype(size_t index) const {
  const Value* value = input(index);
  if (!value) return DType::undefined;
  if (value->initializer && value->type.dtype == DType::undefined) return value->initializer->dtype();
  return value->type.dtype;
}

const Dims* ShapeInferenceContext::input_shape(size_t index) const {
  const Value* value = input(index);
  if (!value || !value->type.shape) return nullptr;
  return &*value->type.shape;
}

std::optional<int64_t> ShapeInferenceContext::input_rank(size_t index) const {
  const Dims* shape = input_shape(index);
  if (!shape) return std::nullopt;
  return static_cast<int64_t>(shape->size());
}

const Tensor* ShapeInferenceContext::constant_input(size_t index) const {
  const Value* value = input(index);
  if (!value || !value->initializer || value->is_graph_input) return nullptr;
  return &*value->initializer;
}

std::optional<std::vector<int64_t>> ShapeInferenceContext::constant_ints(size_t index) const {
  if (const Tensor* data = constant_input(index)) {
    if (!dtype_is_integer(data->dtype())) fail("input " + std::to_string(index) + " must hold integers");
    return data->to_int64_vector();
  }
  const Value* value = input(index);
  auto found = value ? known_values_.find(value) : known_values_.end();
  if (found == known_values_.end()) return std::nullopt;
  std::vector<int64_t> values;
  for (const ShapeValue& element : found->second) {
    if (!element.number) return std::nullopt;
    values.push_back(*element.number);
  }
  return values;
}

const ShapeValues* ShapeInferenceContext::known_values(size_t index) const {
  const Value* value = input(index);
  if (!value) return nullptr;
  if (const Tensor* data = constant_input(index)) {
    if (data->rank() > 1 || data->element_count() > largest_tracked_tensor) return nullptr;
    if (!constant_values_[index]) {
      ShapeValues values;
      for (int64_t i = 0; i < data->element_count(); ++i) {
        // Float data qualifies when it holds integers (shape arithmetic done in float after a Cast).
        std::optional<int64_t> element = integral_value(data->value_as_double(i));
        if (!element) return nullptr;
        values.push_back(ShapeValue::of(*element));
      }
      constant_values_[index] = std::move(values);
    }
    return &*constant_values_[index];
  }
  auto found = known_values_.find(value);
  return found == known_values_.end() ? nullptr : &found->second;
}

void ShapeInferenceContext::set_output_values(size_t index, ShapeValues values) {
  if (!has_output(index) || static_cast<int64_t>(values.size()) > largest_tracked_tensor) return;
  known_values_[node_.outputs[index]] = std::move(values);
}

void ShapeInferenceContext::set_output(size_t index, DType dtype, std::optional<Dims> shape) {
  if (index >= results_.size()) return;
  results_[index].dtype = dtype;
  results_[index].shape = std::move(shape);
}

void ShapeInferenceContext::set_output_like_input(size_t output_index, size_t input_index) {
  const Dims* shape = input_shape(input_index);
  set_output(output_index, input_dtype(input_index), shape ? std::optional<Dims>(*shape) : std::nullopt);
}

void same_as_first_input(ShapeInferenceContext& context) {
  context.require_inputs(1);
  context.set_output_like_input(0, 0);
}

void ShapeInferenceContext::fail(const std::string& reason) const {
  throw Error(ErrorKind::invalid_model, reason, {}, node_.describe());
}

int64_t ShapeInferenceContext::normalize_axis(int64_t axis, int64_t rank, const std::string& what) const {
  if (axis < -rank || axis >= rank) {
    fail(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

void ShapeInferenceContext::require_inputs(size_t count) const {
  for (size_t i = 0; i < count; ++i) {
    if (!node_.input(i)) {
      fail("needs at least " + std::to_string(count) + " inputs, input " + std::to_string(i) + " is missing");
    }
  }
}

std::optional<size_t> ShapeInferenceContext::rank_from_length(size_t index) const {
  const Dims* shape = input_shape(index);
  if (!shape || shape->size() != 1 || !(*shape)[0].is_static()) return std::nullopt;
  if ((*shape)[0].value > largest_rank) {
    fail("input " + std::to_string(index) + " would give a rank of " + std::to_string((*shape)[0].value));
  }
  return static_cast<size_t>((*shape)[0].value);
}

Dims ShapeInferenceContext::broadcast(const std::vector<const Dims*>& shapes) const {
  size_t rank = 0;
  for (const Dims* shape : shapes) rank = std::max(rank, shape->size());
  Dims result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t static_size = 1;
    bool any_unknown = false;
    std::optional<std::string> symbol;
    bool symbols_agree = true;
    for (const Dims* shape : shapes) {
      if (i + shape->size() < rank) continue;  // the shorter shape is padded with 1 on the left
      const Dim& dim = (*shape)[i + shape->size() - rank];
      if (dim.is_static()) {
        if (dim.value == 1) continue;
        if (static_size != 1 && static_size != dim.value) {
          std::string listed;
          for (const Dims* each : shapes) listed += (listed.empty() ? "" : " and ") + dims_to_string(*each);
          fail("cannot broadcast shapes " + listed + ": dim " + std::to_string(static_size) + " against " +
               std::to_string(dim.value));
        }
        static_size = dim.value;
      } else if (dim.symbol.empty()) {
        any_unknown = true;
      } else if (!symbol) {
        symbol = dim.symbol;
      } else if (*symbol != dim.symbol) {
        symbols_agree = false;
      }
    }
    if (static_size != 1) {
      result[i] = Dim::fixed(static_size);
    } else if (!symbol && !any_unknown) {
      result[i] = Dim::fixed(1);
    } else if (symbol && symbols_agree && !any_unknown) {
      result[i] = Dim::symbolic(*symbol);  // every non-1 dim is the same symbol
    } else {
      result[i] = unknown_dim();
    }
  }
  return result;
}

// ---- the walk ------------------------------------------------------------------------------------------

namespace {

const ShapeRuleTable& rule_table() {
  static const ShapeRuleTable table = [] {
    ShapeRuleTable built;
    register_elementwise_shape_rules(built);
    register_convolution_shape_rules(built);
    register_linear_algebra_shape_rules(built);
    register_reduction_shape_rules(built);
    register_data_movement_shape_rules(built);
    register_resize_shape_rules(built);
    register_indexing_shape_rules(built);
    register_generator_shape_rules(built);
    register_control_flow_shape_rules(built);
    return built;
  }();
  return table;
}

const ShapeRuleTable& value_rule_table() {
  static const ShapeRuleTable table = [] {
    ShapeRuleTable built;
    register_value_rules(built);
    return built;
  }();
  return table;
}

const ShapeRule* find_in(const ShapeRuleTable& table, const std::string& domain, const std::string& op_type) {
  auto found = table.find(domain.empty() || domain == "ai.onnx" ? op_type : domain + ":" + op_type);
  return found == table.end() ? nullptr : &found->second;
}

const ShapeRule* find_rule(const std::string& domain, const std::string& op_type) {
  return find_in(rule_table(), domain, op_type);
}

size_t known_facts(const TensorType& type) {
  size_t facts = type.dtype == DType::undefined ? 0 : 1;
  if (!type.shape) return facts;
  facts += 1;
  for (const Dim& dim : *type.shape) facts += dim.is_static() ? 2 : (dim.symbol.empty() ? 0 : 1);
  return facts;
}

bool types_disagree(const TensorType& declared, const TensorType& inferred) {
  if (declared.dtype != DType::undefined && inferred.dtype != DType::undefined && declared.dtype != inferred.dtype) {
    return true;
  }
  if (!declared.shape || !inferred.shape) return false;
  if (declared.shape->size() != inferred.shape->size()) return true;
  for (size_t i = 0; i < declared.shape->size(); ++i) {
    const Dim& before = (*declared.shape)[i];
    const Dim& after = (*inferred.shape)[i];
    if (before.is_static() && after.is_static() && before.value != after.value) return true;
  }
  return false;
}

class Walk {
 public:
  explicit Walk(ShapeInferenceReport& report) : report_(report) {}

  void infer_graph(Graph& graph) {
    refresh_outer_scope_types(graph);
    for (const auto& node : graph.nodes()) infer_node(graph, *node);
  }

  void finish() {
    report_.ops_without_rule.assign(without_rule_.begin(), without_rule_.end());
  }

 private:
  // A subgraph's placeholders for enclosing values copy the enclosing type at import; it may have changed.
  static void refresh_outer_scope_types(Graph& graph) {
    for (const auto& value : graph.values()) {
      if (!value->outer_scope) continue;
      for (Graph* scope = graph.parent; scope; scope = scope->parent) {
        const Value* definition = scope->find_value(value->name);
        if (!definition || definition->outer_scope) continue;
        if (definition->type.dtype != DType::undefined || definition->type.shape) value->type = definition->type;
        break;
      }
    }
  }

  void infer_node(const Graph& graph, Node& node) {
    const ShapeRule* rule = find_rule(node.domain, node.op_type);
    if (!rule) {
      without_rule_.insert(node.domain.empty() ? node.op_type : node.domain + ":" + node.op_type);
      return;
    }
    ShapeInferenceContext context(graph, node, [this](Graph& subgraph) { infer_graph(subgraph); }, known_values_);
    try {
      (*rule)(context);
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        if (node.outputs[i]) apply(context, *node.outputs[i], context.results()[i]);
      }
      // Values next: their rules read the output shapes just set.
      if (const ShapeRule* value_rule = find_in(value_rule_table(), node.domain, node.op_type)) (*value_rule)(context);
    } catch (const Error& error) {
      throw error.node().empty() ? error.with_node(node.describe()) : error;
    }
  }

  void apply(const ShapeInferenceContext& context, Value& output, const InferredType& inferred) {
    if (inferred.shape) {
      for (const Dim& dim : *inferred.shape) {
        if (dim.value < -1) context.fail("output '" + output.name + "' would have a negative size " + std::to_string(dim.value));
      }
      static_element_count(context, *inferred.shape);  // fails on overflow
    }
    TensorType merged = output.type;
    if (inferred.dtype != DType::undefined) merged.dtype = inferred.dtype;
    if (inferred.shape) {
      if (merged.shape && merged.shape->size() == inferred.shape->size()) {
        for (size_t i = 0; i < inferred.shape->size(); ++i) {
          if (dim_known((*inferred.shape)[i])) (*merged.shape)[i] = (*inferred.shape)[i];
        }
      } else {
        merged.shape = inferred.shape;
      }
    }
    if (types_disagree(output.type, merged)) {
      report_.conflicts.push_back("node " + context.node().describe() + ": '" + output.name + "' declared " +
                                  output.type.to_string() + ", inferred " + merged.to_string());
    }
    if (known_facts(merged) > known_facts(output.type)) ++report_.values_learned;
    output.type = std::move(merged);
  }

  ShapeInferenceReport& report_;
  std::set<std::string> without_rule_;
  KnownValues known_values_;
};

}  // namespace

ShapeInferenceReport infer_shapes(Graph& graph) {
  ShapeInferenceReport report;
  Walk walk(report);
  walk.infer_graph(graph);
  walk.finish();
  return report;
}

bool has_shape_rule(const std::string& domain, const std::string& op_type) {
  return find_rule(domain, op_type) != nullptr;
}

}  // namespace npukit::ir
