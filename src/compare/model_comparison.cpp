#include "compare/model_comparison.h"

#include <algorithm>
#include <set>

#include "npukit/error.h"
#include "ir/value_info.h"
#include "sim/integer_ops.h"
#include "sim/lowering.h"

namespace npukit::compare {

namespace {

bool is_quantization_node(const ir::Node* node) {
  if (!node) return false;
  // The sim backend's IntegerQuantize is a graph input's QuantizeLinear, lowered (sim/lowering.h).
  if (node->domain == sim::kIntegerDomain) return node->op_type == sim::ops::quantize;
  return node->domain.empty() && (node->op_type == "QuantizeLinear" || node->op_type == "DequantizeLinear");
}

// One side after its run: the graph its backend executed, the tensors it handed back, and what it knows of
// each value.
struct SideRun {
  const ComparisonSide* side = nullptr;
  std::string label;  // "A" / "B"
  std::unique_ptr<engine::Engine> engine;
  const ir::Graph* graph = nullptr;             // as executed (after the backend's passes)
  std::set<std::string> loaded_names;           // value names of the model as prepared
  std::set<std::string> computed;               // kept values and outputs
  const std::map<std::string, Tensor>* inputs = nullptr;
  std::map<const ir::Value*, bool> constant;    // initializers and values computed from constants alone
  std::map<const ir::Node*, size_t> node_position;
  // On the sim backend: which float value of the QDQ file each lowered integer value stands for.
  const std::map<std::string, std::vector<std::string>>* source_names = nullptr;

  const ir::Value* value(const std::string& name) const { return graph->find_value(name); }

  // A tensor for `name` exists on this side: computed, fed, or a constant.
  bool has(const std::string& name) const {
    const ir::Value* found = value(name);
    if (!found) return false;
    return computed.count(name) || (found->is_graph_input && inputs->count(name)) || found->initializer.has_value();
  }

  Tensor tensor(const std::string& name) const {
    if (computed.count(name)) return engine->output(name);
    const ir::Value* found = value(name);
    if (found->is_graph_input && inputs->count(name)) return inputs->at(name);
    return *found->initializer;
  }

  bool is_constant(const ir::Value* value) const {
    auto found = constant.find(value);
    return found != constant.end() && found->second;
  }

  // The node that computes `value`, looking through Quantize/DequantizeLinear (a QDQ model's DequantizeLinear
  // output is the Conv's value, quantized); null when none (a graph input, a constant).
  const ir::Node* layer(const ir::Value* value) const {
    const ir::Node* node = value->producer;
    while (is_quantization_node(node) && !node->inputs.empty() && node->inputs[0]) node = node->inputs[0]->producer;
    return is_quantization_node(node) ? nullptr : node;
  }

  // For DequantizeLinear(QuantizeLinear(x)): x's name; "" otherwise.
  std::string dequantized_source(const ir::Value* value) const {
    const ir::Node* dequantize = value->producer;
    if (!dequantize || dequantize->domain != "" || dequantize->op_type != "DequantizeLinear" || dequantize->inputs.empty() ||
        !dequantize->inputs[0]) {
      return "";
    }
    const ir::Node* quantize = dequantize->inputs[0]->producer;
    if (!quantize || quantize->domain != "" || quantize->op_type != "QuantizeLinear" || quantize->inputs.empty() || !quantize->inputs[0]) {
      return "";
    }
    return quantize->inputs[0]->name;
  }

  // Where this value's elements are integers q on a grid: its parameters.
  const ir::QuantParams* integer_params(const ir::Value* value) const {
    return value->quant && dtype_is_integer(value->type.dtype) ? &*value->quant : nullptr;
  }

  // The grid the value lies on: its own (an integer tensor, a float quantization point) or, for a
  // DequantizeLinear's output, the grid of the integers it dequantizes.
  const ir::QuantParams* grid(const ir::Value* value) const {
    if (value->quant) return &*value->quant;
    const ir::Node* producer = value->producer;
    if (producer && producer->domain.empty() && producer->op_type == "DequantizeLinear" && !producer->inputs.empty() &&
        producer->inputs[0] && producer->inputs[0]->quant) {
      return &*producer->inputs[0]->quant;
    }
    return nullptr;
  }

  // Execution position of a value: graph inputs first, then by producing node; a constant sits just before
  // its first consumer.
  double position(const ir::Value* value) const {
    if (value->is_graph_input) return -1;
    if (value->producer) {
      auto found = node_position.find(value->producer);
      return found != node_position.end() ? static_cast<double>(found->second) : 1e18;
    }
    double first = 1e18;
    for (const ir::Node* consumer : value->consumers) {
      auto found = node_position.find(consumer);
      if (found != node_position.end()) first = std::min(first, static_cast<double>(found->second) - 0.5);
    }
    return first;
  }
};

std::string dims_text(const ValueInfo& info) {
  if (!info.has_shape) return "(rank unknown)";
  std::string text = "[";
  for (size_t i = 0; i < info.shape.size(); ++i) {
    text += (i ? ", " : "") + (info.shape[i] >= 0 ? std::to_string(info.shape[i])
                                                  : (i < info.dim_names.size() && !info.dim_names[i].empty() ? info.dim_names[i] : "?"));
  }
  return text + "]";
}


std::string names_of(const std::vector<ValueInfo>& inputs) {
  std::string names;
  for (const ValueInfo& input : inputs) names += (names.empty() ? "" : ", ") + input.name;
  return names.empty() ? "none" : names;
}

void prepare_side(SideRun& run, const ComparisonSide& side, const std::string& label, const std::map<std::string, Tensor>& inputs) {
  run.side = &side;
  run.label = label;
  run.inputs = &inputs;
  engine::EngineOptions options = side.options;
  options.keep_values = {"all"};
  run.engine = engine::Engine::from_model(side.model, options);
  run.graph = run.engine->model().graph.get();
  if (const sim::LoweringReport* lowering = run.engine->simulation_report()) run.source_names = &lowering->source_names;
  for (const auto& value : side.model->graph->values()) run.loaded_names.insert(value->name);
  for (const ValueInfo& kept : run.engine->kept_values()) run.computed.insert(kept.name);
  for (const ValueInfo& output : run.engine->outputs()) run.computed.insert(output.name);
  for (const auto& value : run.graph->values()) {
    if (value->initializer && !value->is_graph_input) run.constant[value.get()] = true;
  }
  size_t position = 0;
  for (const auto& node : run.graph->nodes()) {
    run.node_position[node.get()] = position++;
    bool from_constants = subgraphs_of(*node).empty();
    for (const ir::Value* input : node->inputs) from_constants = from_constants && (!input || run.is_constant(input));
    for (const ir::Value* output : node->outputs) {
      if (output) run.constant[output] = from_constants;
    }
  }
}

// The pairs of values to compare, in A's execution order.
struct Pair {
  std::string name_a, name_b;
  double position = 0;
};

std::vector<Pair> pair_values(const SideRun& a, const SideRun& b) {
  std::vector<Pair> pairs;
  std::set<std::pair<std::string, std::string>> seen;
  auto add = [&](const std::string& name_a, const std::string& name_b) {
    const ir::Value* value_a = a.value(name_a);
    // Constants on both sides are the models' weights, not values of a run.
    const bool computed_somewhere = a.computed.count(name_a) || b.computed.count(name_b) || value_a->is_graph_input;
    if (!computed_somewhere || !seen.insert({name_a, name_b}).second) return;
    pairs.push_back({name_a, name_b, a.position(value_a)});
  };
  for (const auto& value : a.graph->values()) {
    const std::string& name = value->name;
    if (!a.has(name)) continue;
    if (b.has(name)) add(name, name);
    const std::string source = a.dequantized_source(value.get());
    if (!source.empty() && !b.value(name) && b.has(source)) add(name, source);
  }
  for (const auto& value : b.graph->values()) {
    const std::string& name = value->name;
    if (!b.has(name)) continue;
    const std::string source = b.dequantized_source(value.get());
    if (!source.empty() && !a.value(name) && a.has(source)) add(source, name);
  }
  // A sim run's integer values, under the names of the float values they quantize (the lowering renamed them:
  // the QDQ file's `x` is gone, its QuantizeLinear's output `x_quantized` is what the integer op writes).
  // A quantized graph input is paired too (the graph input itself compares identical; its integer copy carries
  // the input's quantization error into the first layer's "inputs" SQNR).
  auto stands_for = [](const SideRun& side, const std::string& integer, const std::string& real) {
    return side.has(integer) && (!side.has(real) || side.value(real)->is_graph_input);
  };
  // (Plain variables, not structured bindings: clang 14, the fuzz build's compiler, cannot capture those.)
  if (b.source_names) {
    for (const auto& entry : *b.source_names) {
      const std::string& integer = entry.first;
      auto real = std::find_if(entry.second.begin(), entry.second.end(),
                               [&](const std::string& name) { return stands_for(b, integer, name) && a.has(name); });
      if (real != entry.second.end()) add(*real, integer);
    }
  }
  if (a.source_names) {
    for (const auto& entry : *a.source_names) {
      const std::string& integer = entry.first;
      auto real = std::find_if(entry.second.begin(), entry.second.end(),
                               [&](const std::string& name) { return stands_for(a, integer, name) && b.has(name); });
      if (real != entry.second.end()) add(integer, *real);
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.position < y.position; });
  return pairs;
}

// Why a value `side` computes has no partner on `other`.
std::string unpaired_reason(const SideRun& side, const SideRun& other, const ir::Value* value) {
  const std::string& name = value->name;
  const ir::Value* there = other.value(name);
  if (other.loaded_names.count(name) && (!there || !other.has(name))) {
    return "not computed on " + other.label + ": its " + other.side->options.backend +
           " backend fused it into another node (its passes removed the value)";
  }
  if (!side.loaded_names.count(name) && value->producer && value->producer->domain == sim::kIntegerDomain) {
    return "made by the " + side.side->options.backend + " backend's lowering (an " + value->producer->op_type +
           " between integer ops): the models have no value it stands for";
  }
  if (side.source_names && side.source_names->count(name) && !side.source_names->at(name).empty()) {
    return "the integer value of '" + side.source_names->at(name).back() + "' on " + side.label + ", which " + other.label +
           " does not compute (its backend fused it into another node, or its model has no such value)";
  }
  if (value->producer && value->producer->domain.empty() && value->producer->op_type == "QuantizeLinear") {
    return "the integer tensor of a QuantizeLinear on " + side.label + "; " + other.label +
           " has no counterpart (the real value is compared after its DequantizeLinear)";
  }
  bool feeds_quantize = !value->consumers.empty();
  for (const ir::Node* consumer : value->consumers) {
    feeds_quantize = feeds_quantize && consumer->domain.empty() && consumer->op_type == "QuantizeLinear";
  }
  if (feeds_quantize) {
    return side.label + "'s float value before a QuantizeLinear; " + other.label + " has no value of this name";
  }
  return other.label + " has no value of this name";
}

// A single name for a node in tables: "'conv2' (Conv)".
std::string layer_text(const ir::Node* node) { return node ? node->describe() : ""; }

bool integer_or_bool(DType dtype) { return dtype_is_integer(dtype) || dtype == DType::boolean; }

ValueComparison compare_pair(const SideRun& a, const SideRun& b, const Pair& pair, std::string& refusal) {
  const ir::Value* value_a = a.value(pair.name_a);
  const ir::Value* value_b = b.value(pair.name_b);
  const Tensor tensor_a = a.tensor(pair.name_a), tensor_b = b.tensor(pair.name_b);
  ValueComparison result;
  result.name_a = pair.name_a;
  result.name_b = pair.name_b;
  result.is_graph_input = value_a->is_graph_input && value_b->is_graph_input;
  result.is_output = value_a->is_graph_output || value_b->is_graph_output;
  result.is_weight = a.is_constant(value_a) || b.is_constant(value_b);
  const ir::Node* layer_a = a.layer(value_a);
  const ir::Node* layer_b = b.layer(value_b);
  result.layer_a = layer_text(layer_a);
  result.layer_b = layer_text(layer_b);
  result.op_a = layer_a ? layer_a->op_type : "";
  result.op_b = layer_b ? layer_b->op_type : "";
  result.dtype_a = tensor_a.dtype();
  result.dtype_b = tensor_b.dtype();
  result.shape = tensor_a.shape();
  if (tensor_a.shape() != tensor_b.shape()) {
    refusal = "shape " + shape_to_string(tensor_a.shape()) + " on A but " + shape_to_string(tensor_b.shape()) + " on B";
    return result;
  }
  const ir::QuantParams* params_a = integer_or_bool(tensor_a.dtype()) ? a.integer_params(value_a) : nullptr;
  const ir::QuantParams* params_b = integer_or_bool(tensor_b.dtype()) ? b.integer_params(value_b) : nullptr;
  // Integers without a grid are plain numbers (a shape, an index): they compare with a float only as the same
  // numbers, which a quantized tensor without its parameters is not.
  const bool plain_a = integer_or_bool(tensor_a.dtype()) && !params_a;
  const bool plain_b = integer_or_bool(tensor_b.dtype()) && !params_b;
  if (plain_a != plain_b && (tensor_a.dtype() != tensor_b.dtype())) {
    const bool a_is_plain = plain_a;
    refusal = std::string(a_is_plain ? "A" : "B") + " holds " + std::string(dtype_name(a_is_plain ? tensor_a.dtype() : tensor_b.dtype())) +
              " without quantization parameters and " + (a_is_plain ? "B" : "A") + " holds " +
              std::string(dtype_name(a_is_plain ? tensor_b.dtype() : tensor_a.dtype())) +
              ": nothing says which real values those integers stand for";
    return result;
  }
  const ir::QuantParams* grid = b.grid(value_b);
  result.grid_side = grid ? "B" : "";
  if (!grid) {
    grid = a.grid(value_a);
    result.grid_side = grid ? "A" : "";
  }
  try {
    result.metrics = compare_tensors(tensor_a, tensor_b, params_a, params_b, grid);
  } catch (const Error& error) {
    refusal = "cannot be compared: " + error.reason();
  }
  return result;
}

// The nearest compared values each value of a side's graph is computed from (indices into `values`).
void link_inputs(const SideRun& side, const std::map<const ir::Value*, std::vector<size_t>>& compared, std::vector<ValueComparison>& values) {
  std::map<const ir::Value*, std::vector<size_t>> nearest;
  auto nearest_of = [&](const ir::Value* value) -> std::vector<size_t> {
    if (!value || side.is_constant(value)) return {};
    auto own = compared.find(value);
    if (own != compared.end()) return own->second;
    auto found = nearest.find(value);
    return found != nearest.end() ? found->second : std::vector<size_t>{};
  };
  auto inputs_of = [&](const ir::Node* node) {
    std::set<size_t> union_of_inputs;
    for (const ir::Value* input : node->inputs) {
      for (size_t index : nearest_of(input)) union_of_inputs.insert(index);
    }
    return union_of_inputs;
  };
  for (const auto& node : side.graph->nodes()) {
    const std::set<size_t> from_inputs = inputs_of(node.get());
    for (const ir::Value* output : node->outputs) {
      if (output) nearest[output] = std::vector<size_t>(from_inputs.begin(), from_inputs.end());
    }
  }
  for (const auto& [value, indices] : compared) {
    if (!value->producer) continue;
    const std::set<size_t> from_inputs = inputs_of(value->producer);
    for (size_t index : indices) {
      std::vector<size_t>& inputs = values[index].inputs;
      for (size_t input : from_inputs) {
        if (input != index && std::find(inputs.begin(), inputs.end(), input) == inputs.end()) inputs.push_back(input);
      }
    }
  }
}

}  // namespace

std::vector<size_t> values_to_show(const ModelComparison& comparison, size_t worst, bool all) {
  std::vector<size_t> order(comparison.values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (all) return order;
  std::vector<size_t> by_sqnr = order;
  std::stable_sort(by_sqnr.begin(), by_sqnr.end(), [&](size_t x, size_t y) {
    return comparison.values[x].metrics.sqnr_db < comparison.values[y].metrics.sqnr_db;
  });
  std::set<size_t> shown;
  for (size_t i = 0; i < by_sqnr.size() && i < worst; ++i) {
    if (!comparison.values[by_sqnr[i]].metrics.identical) shown.insert(by_sqnr[i]);
  }
  for (size_t i = 0; i < order.size(); ++i) {
    if (comparison.values[i].is_output || comparison.values[i].error_enters_here) shown.insert(i);
  }
  return std::vector<size_t>(shown.begin(), shown.end());
}

std::vector<ValueInfo> common_inputs(const ComparisonSide& a, const ComparisonSide& b) {
  const std::vector<ValueInfo> inputs_a = ir::declared_inputs(*a.model), inputs_b = ir::declared_inputs(*b.model);
  for (const ValueInfo& input : inputs_a) {
    auto match = std::find_if(inputs_b.begin(), inputs_b.end(), [&](const ValueInfo& other) { return other.name == input.name; });
    if (match == inputs_b.end()) {
      throw Error(ErrorKind::invalid_argument,
                  "A has an input '" + input.name + "' that B lacks (B's inputs: " + names_of(inputs_b) +
                      "); compare needs two models with the same inputs",
                  b.model_path);
    }
    if (match->dtype != input.dtype) {
      throw Error(ErrorKind::invalid_argument,
                  "input '" + input.name + "' is " + std::string(dtype_name(input.dtype)) + " on A but " +
                      std::string(dtype_name(match->dtype)) + " on B; compare feeds both the same tensor",
                  b.model_path);
    }
    bool same_dims = input.has_shape == match->has_shape && input.shape.size() == match->shape.size();
    for (size_t i = 0; same_dims && i < input.shape.size(); ++i) {
      same_dims = input.shape[i] < 0 || match->shape[i] < 0 || input.shape[i] == match->shape[i];
    }
    if (!same_dims && input.has_shape && match->has_shape) {
      throw Error(ErrorKind::invalid_argument,
                  "input '" + input.name + "' has shape " + dims_text(input) + " on A but " + dims_text(*match) +
                      " on B; compare feeds both the same tensor (fix a dynamic size with --input-shape)",
                  b.model_path);
    }
  }
  for (const ValueInfo& input : inputs_b) {
    auto match = std::find_if(inputs_a.begin(), inputs_a.end(), [&](const ValueInfo& other) { return other.name == input.name; });
    if (match == inputs_a.end()) {
      throw Error(ErrorKind::invalid_argument,
                  "B has an input '" + input.name + "' that A lacks (A's inputs: " + names_of(inputs_a) +
                      "); compare needs two models with the same inputs",
                  a.model_path);
    }
  }
  return inputs_a;
}

ModelComparison compare_models(const ComparisonSide& a, const ComparisonSide& b, const std::map<std::string, Tensor>& inputs,
                               const ComparisonProgress& progress) {
  auto report = [&](int step, const std::string& what) {
    if (progress) progress(step, 5, what);
  };
  const std::vector<ValueInfo> declared = common_inputs(a, b);
  for (const ValueInfo& input : declared) {
    if (!inputs.count(input.name)) {
      throw Error(ErrorKind::invalid_argument, "no tensor given for input '" + input.name + "'", a.model_path);
    }
  }
  SideRun run_a, run_b;
  report(0, "preparing A on " + a.options.backend);
  prepare_side(run_a, a, "A", inputs);
  report(1, "preparing B on " + b.options.backend);
  prepare_side(run_b, b, "B", inputs);
  report(2, "running A");
  for (const ValueInfo& input : declared) run_a.engine->set_input(input.name, inputs.at(input.name));
  run_a.engine->run();
  report(3, "running B");
  for (const ValueInfo& input : declared) run_b.engine->set_input(input.name, inputs.at(input.name));
  run_b.engine->run();
  report(4, "comparing values");

  ModelComparison comparison;
  for (auto [summary, run] : {std::pair{&comparison.a, &run_a}, std::pair{&comparison.b, &run_b}}) {
    summary->model_path = run->side->model_path;
    summary->backend = run->side->options.backend;
    summary->target = run->side->options.target;
    summary->values_computed = run->computed.size();
  }

  std::set<std::string> paired_a, paired_b;
  std::map<const ir::Value*, std::vector<size_t>> compared_a, compared_b;
  for (const Pair& pair : pair_values(run_a, run_b)) {
    paired_a.insert(pair.name_a);
    paired_b.insert(pair.name_b);
    std::string refusal;
    ValueComparison value = compare_pair(run_a, run_b, pair, refusal);
    if (!refusal.empty()) {
      comparison.not_comparable.push_back({pair.name_a == pair.name_b ? pair.name_a : pair.name_a + " / " + pair.name_b, "A and B", refusal});
      continue;
    }
    const size_t index = comparison.values.size();
    if (!value.is_weight) {
      compared_a[run_a.value(pair.name_a)].push_back(index);
      compared_b[run_b.value(pair.name_b)].push_back(index);
    }
    comparison.values.push_back(std::move(value));
  }
  link_inputs(run_a, compared_a, comparison.values);
  link_inputs(run_b, compared_b, comparison.values);

  for (auto [side, other, paired] : {std::tuple{&run_a, &run_b, &paired_a}, std::tuple{&run_b, &run_a, &paired_b}}) {
    std::vector<std::pair<double, NotComparable>> unpaired;
    for (const std::string& name : side->computed) {
      if (paired->count(name)) continue;
      const ir::Value* value = side->value(name);
      unpaired.push_back({side->position(value), {name, side->label, unpaired_reason(*side, *other, value)}});
    }
    std::stable_sort(unpaired.begin(), unpaired.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& entry : unpaired) comparison.not_comparable.push_back(std::move(entry.second));
  }
  return comparison;
}

}  // namespace npukit::compare
