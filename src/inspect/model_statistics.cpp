#include "inspect/model_statistics.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "inspect/node_cost.h"

namespace npukit::inspect {

bool TensorSummary::is_static() const {
  return rank_known && std::all_of(dims.begin(), dims.end(), [](const ir::Dim& dim) { return dim.is_static(); });
}

std::string TensorSummary::shape_text() const {
  if (!rank_known) return "unknown";
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) text += ", ";
    text += dims[i].to_string();
  }
  return text + "]";
}

std::string input_shape_example(const std::string& name, const std::optional<std::vector<ir::Dim>>& dims) {
  static const char* image_placeholders[] = {"N", "C", "H", "W"};
  std::string text = name + "=";
  if (!dims) return text + "D0,D1,...";
  for (size_t axis = 0; axis < dims->size(); ++axis) {
    if (axis) text += ",";
    if ((*dims)[axis].is_static()) {
      text += std::to_string((*dims)[axis].value);
    } else if (dims->size() == 4) {
      text += image_placeholders[axis];
    } else {
      text += axis == 0 ? "N" : "D" + std::to_string(axis);
    }
  }
  return text;
}

TensorSummary summarize_value(const ir::Value& value) {
  TensorSummary summary;
  summary.name = value.name;
  summary.dtype = value.type.dtype;
  summary.rank_known = value.type.shape.has_value();
  if (summary.rank_known) summary.dims = *value.type.shape;
  if (summary.dtype != DType::undefined) {
    if (auto count = static_element_count(&value)) {
      int64_t element_size = static_cast<int64_t>(dtype_size(summary.dtype));
      if (*count <= INT64_MAX / std::max<int64_t>(element_size, 1)) summary.bytes = *count * element_size;
    }
  }
  return summary;
}

namespace {

// A constant is data fixed in the model: an initializer, or the output of a Constant node.
bool is_constant(const ir::Value* value) {
  if (!value) return false;
  if (value->initializer) return true;
  return value->producer && value->producer->op_type == "Constant" &&
         (value->producer->domain.empty() || value->producer->domain == "ai.onnx");
}

// Element count and bytes of a constant, from its data when it has some, else from its declared type.
std::pair<int64_t, int64_t> constant_size(const ir::Value* value) {
  if (value->initializer) {
    return {value->initializer->element_count(), static_cast<int64_t>(value->initializer->byte_size())};
  }
  TensorSummary summary = summarize_value(*value);
  auto count = static_element_count(value);
  return {count.value_or(0), summary.bytes.value_or(0)};
}

std::string op_label(const ir::Node& node) {
  return node.domain.empty() || node.domain == "ai.onnx" ? node.op_type : node.domain + "." + node.op_type;
}

void count_body_ops(const ir::Node& node, std::map<std::string, int64_t>& histogram) {
  for (const ir::Graph* body : ir::subgraphs_of(node)) {
    for (const auto& inner : body->nodes()) {
      ++histogram[op_label(*inner)];
      count_body_ops(*inner, histogram);
    }
  }
}

std::string figure(std::optional<int64_t> value) {
  if (!value) return "unknown";
  char text[32];
  const double number = static_cast<double>(*value);
  if (number >= 1e9) {
    std::snprintf(text, sizeof text, "%.3g G", number / 1e9);
  } else if (number >= 1e6) {
    std::snprintf(text, sizeof text, "%.3g M", number / 1e6);
  } else if (number >= 1e3) {
    std::snprintf(text, sizeof text, "%.3g K", number / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%lld", static_cast<long long>(*value));
  }
  return text;
}

// "then_branch 14 nodes, 1.2 M MACs; else_branch 14 nodes, 2.3 M MACs (the costlier counted)".
std::string describe_subgraphs(const ir::Node& node, const SubgraphCost& cost) {
  std::string text;
  for (const SubgraphCost::Body& body : cost.bodies) {
    text += (text.empty() ? "" : "; ") + body.attribute + " " + std::to_string(body.nodes) + " nodes, " +
            figure(body.macs) + " MACs";
  }
  if (node.op_type == "If") return text + " (one branch runs: the costlier is counted)";
  if (cost.iterations) return text + " per iteration, x " + std::to_string(*cost.iterations) + " iterations";
  return text + " per iteration, trip count unknown";
}

// The values of `graph` that a node reads: its inputs, and the outer-scope names its subgraphs read.
std::vector<const ir::Value*> values_read_by(const ir::Node& node, const ir::Graph& graph) {
  std::vector<const ir::Value*> reads;
  for (const ir::Value* input : node.inputs) {
    if (input) reads.push_back(input);
  }
  for (const ir::Graph* subgraph : ir::subgraphs_of(node)) {
    for (const ir::Value* outer : subgraph->outer_scope_values()) {
      if (const ir::Value* own = graph.find_value(outer->name)) reads.push_back(own);
    }
  }
  return reads;
}

void compute_peak_activation_memory(const ir::Graph& graph, ModelStatistics& statistics) {
  const auto& nodes = graph.nodes();
  // Index of the last node reading each activation; graph outputs stay alive to the end.
  std::unordered_map<const ir::Value*, size_t> last_use;
  const size_t end = nodes.size();
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const ir::Value* read : values_read_by(*nodes[i], graph)) last_use[read] = i;
  }
  for (const ir::Value* output : graph.outputs) last_use[output] = end;

  std::set<const ir::Value*> unknown;
  std::vector<std::vector<int64_t>> released_after(nodes.size() + 1);
  int64_t live = 0;
  auto allocate = [&](const ir::Value* value, size_t position) {
    TensorSummary summary = summarize_value(*value);
    if (!summary.bytes) {
      unknown.insert(value);
      return;
    }
    live += *summary.bytes;
    auto found = last_use.find(value);
    // A value nobody reads (a dead optional output) lives only while its producer runs.
    size_t release = found == last_use.end() ? position : found->second;
    released_after[std::min(release, end)].push_back(*summary.bytes);
  };
  for (const ir::Value* input : graph.inputs) {
    if (!input->initializer) allocate(input, 0);
  }
  statistics.peak_activation_bytes = live;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const ir::Value* output : nodes[i]->outputs) {
      if (output && !is_constant(output)) allocate(output, i);
    }
    if (live > statistics.peak_activation_bytes) {
      statistics.peak_activation_bytes = live;
      statistics.peak_node_index = i;
    }
    for (int64_t bytes : released_after[i]) live -= bytes;
  }
  statistics.activations_with_unknown_size = unknown.size();
  if (!unknown.empty()) {
    std::string examples;
    size_t shown = 0;
    for (const ir::Value* value : unknown) {
      if (shown++ == 3) break;
      examples += (examples.empty() ? "'" : ", '") + value->name + "'";
    }
    statistics.notes.push_back(std::to_string(unknown.size()) + " activation(s) have no known size (e.g. " +
                               examples + "), so the peak activation memory is a lower bound");
  }
}

}  // namespace

ModelStatistics compute_statistics(const ir::Model& model) {
  ModelStatistics statistics;
  statistics.source = model.source_path;
  statistics.opset = model.opset();
  const ir::Graph& graph = *model.graph;
  for (const ir::Value* input : graph.inputs) {
    if (!input->initializer) statistics.inputs.push_back(summarize_value(*input));
  }
  for (const ir::Value* output : graph.outputs) statistics.outputs.push_back(summarize_value(*output));

  std::set<const ir::Value*> counted_constants;
  bool any_subgraph = false;
  size_t loops_of_unknown_count = 0;  // nodes whose cost is unknown for their trip count, not for a shape
  for (const auto& owned : graph.nodes()) {
    const ir::Node& node = *owned;
    NodeStatistics entry;
    entry.index = statistics.nodes.size();
    entry.name = node.name;
    entry.op_type = node.op_type;
    entry.domain = node.domain;
    for (const ir::Value* output : node.outputs) {
      if (output) entry.outputs.push_back(summarize_value(*output));
    }
    // Constants a node's subgraphs read from this graph are that node's parameters too.
    std::set<const ir::Value*> counted_for_node;  // a node reading one constant twice holds it once
    for (const ir::Value* input : values_read_by(node, graph)) {
      if (!is_constant(input) || !counted_for_node.insert(input).second) continue;
      auto [count, bytes] = constant_size(input);
      entry.parameter_count += count;
      entry.parameter_bytes += bytes;
      if (counted_constants.insert(input).second) {
        statistics.parameter_count += count;
        statistics.parameter_bytes += bytes;
      }
    }
    NodeCost cost = estimate_node_cost(node);
    entry.macs = cost.macs;
    entry.other_operations = cost.other_operations;
    if (std::optional<SubgraphCost> subgraphs = estimate_subgraph_cost(node)) {
      entry.has_subgraphs = true;
      any_subgraph = true;
      entry.subgraph_nodes = subgraphs->nodes;
      entry.subgraph_detail = describe_subgraphs(node, *subgraphs);
      statistics.subgraph_nodes += subgraphs->nodes;
      count_body_ops(node, statistics.subgraph_op_histogram);
      // Constants inside the bodies belong to this node alone.
      for (const SubgraphCost::Body& body : subgraphs->bodies) {
        entry.parameter_count += body.parameter_count;
        entry.parameter_bytes += body.parameter_bytes;
        statistics.parameter_count += body.parameter_count;
        statistics.parameter_bytes += body.parameter_bytes;
      }
      if (subgraphs->per_iteration) {
        ++loops_of_unknown_count;
        statistics.notes.push_back(node.describe() + " runs its body an unknown number of times (" +
                                   figure(subgraphs->macs) + " MACs per iteration): its total cost is unknown");
      }
    }
    if (entry.macs) statistics.macs += *entry.macs;
    if (entry.other_operations) statistics.other_operations += *entry.other_operations;
    if (!entry.macs || !entry.other_operations) ++statistics.nodes_with_unknown_cost;
    ++statistics.op_histogram[op_label(node)];
    statistics.nodes.push_back(std::move(entry));
  }
  const size_t nodes_of_unknown_shape = statistics.nodes_with_unknown_cost - loops_of_unknown_count;
  if (nodes_of_unknown_shape) {
    statistics.notes.push_back(std::to_string(nodes_of_unknown_shape) +
                               " node(s) have shapes that are not known, so MACs and other operations are lower "
                               "bounds");
  }
  if (any_subgraph) {
    statistics.notes.push_back(std::to_string(statistics.subgraph_nodes) +
                               " nodes live inside If/Loop/Scan bodies: their MACs and parameters count with the node "
                               "that holds them (an If with its costlier branch, a Loop times its trip count)");
  }
  compute_peak_activation_memory(graph, statistics);

  bool dynamic_input = std::any_of(statistics.inputs.begin(), statistics.inputs.end(),
                                   [](const TensorSummary& input) { return !input.is_static(); });
  if (dynamic_input) {
    std::string example;
    for (const TensorSummary& input : statistics.inputs) {
      if (input.is_static()) continue;
      example = input_shape_example(input.name, input.rank_known ? std::optional(input.dims) : std::nullopt);
      break;
    }
    statistics.notes.push_back("the model has dynamic input dimensions; fix them to get every shape, e.g. "
                               "--input-shape " + example + " (the sizes you will run)");
  } else if (nodes_of_unknown_shape || statistics.activations_with_unknown_size) {
    statistics.notes.push_back("shape inference could not determine every shape from the static inputs; the "
                               "figures above count only what is known");
  }
  return statistics;
}

}  // namespace npukit::inspect
