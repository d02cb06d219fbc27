#include "report/inspect_report.h"

#include <algorithm>
#include <numeric>

#include "report/preparation_report.h"
#include "report/table.h"

namespace npukit::report {

namespace {

std::string optional_count(const std::optional<int64_t>& value) {
  return value ? format_count(static_cast<double>(*value)) : "unknown";
}

std::string node_label(const inspect::NodeStatistics& node) {
  return node.name.empty() ? "#" + std::to_string(node.index) : node.name;
}

std::string outputs_text(const inspect::NodeStatistics& node) {
  std::string text;
  for (const inspect::TensorSummary& output : node.outputs) {
    if (!text.empty()) text += " ";
    text += output.shape_text();
  }
  return text;
}

void print_tensors(std::ostream& out, const char* title, const std::vector<inspect::TensorSummary>& tensors) {
  out << title << "\n";
  Table table({{"name"}, {"dtype"}, {"shape"}, {"size", Align::right}});
  for (const inspect::TensorSummary& tensor : tensors) {
    table.add_row({tensor.name, std::string(dtype_name(tensor.dtype)), tensor.shape_text(),
                   tensor.bytes ? format_bytes(static_cast<double>(*tensor.bytes)) : "unknown"});
  }
  // A shape is one token: it is never shortened (symbolic dims like "p2o.DynamicDimension.0" make it long);
  // the terminal width still wraps the table at spaces between dims when it must.
  table.print(out, 2, 200);
}

TensorDescription describe_tensor(const inspect::TensorSummary& tensor) {
  TensorDescription description;
  description.name = tensor.name;
  description.dtype = std::string(dtype_name(tensor.dtype));
  if (tensor.rank_known) {
    description.shape.emplace();
    for (const ir::Dim& dim : tensor.dims) {
      description.shape->push_back(dim.is_static() ? Dimension{dim.value, {}} : Dimension{std::nullopt, dim.symbol});
    }
  }
  description.bytes = tensor.bytes;
  return description;
}

nlohmann::json tensor_json(const TensorDescription& tensor) {
  nlohmann::json json;
  json["name"] = tensor.name;
  json["dtype"] = tensor.dtype;
  if (tensor.shape) {
    // A static dim is a number; a dynamic one its symbol, or null when it has none.
    nlohmann::json dims = nlohmann::json::array();
    for (const Dimension& dim : *tensor.shape) {
      if (dim.value) dims.push_back(*dim.value);
      else if (!dim.symbol.empty()) dims.push_back(dim.symbol);
      else dims.push_back(nullptr);
    }
    json["shape"] = dims;
  } else {
    json["shape"] = nullptr;
  }
  json["bytes"] = tensor.bytes ? nlohmann::json(*tensor.bytes) : nlohmann::json(nullptr);
  return json;
}

template <typename Number>
nlohmann::json optional_json(const std::optional<Number>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

void print_inspect_report(std::ostream& out, const inspect::ModelStatistics& statistics,
                          const InspectReportOptions& options) {
  const bool complete = statistics.nodes_with_unknown_cost == 0;
  const std::string lower_bound =
      complete ? "" : " (" + std::to_string(statistics.nodes_with_unknown_cost) + " nodes of unknown cost not counted)";
  // A sum over nothing known is unknown, not 0; a sum over part of the nodes is a lower bound.
  auto bounded = [](int64_t value, bool known_completely, auto format) -> std::string {
    if (known_completely) return format(static_cast<double>(value));
    return value == 0 ? std::string("unknown") : ">= " + format(static_cast<double>(value));
  };
  out << "model     " << statistics.source << "  (opset " << statistics.opset << ", " << statistics.nodes.size()
      << " nodes" << (statistics.subgraph_nodes ? " + " + std::to_string(statistics.subgraph_nodes) + " in subgraphs" : "")
      << ")\n\n";
  print_tensors(out, "inputs", statistics.inputs);
  print_tensors(out, "outputs", statistics.outputs);
  out << "\n";
  Table summary({{"figure"}, {"value", Align::right}, {"detail"}});
  summary.add_row({"parameters", format_count(static_cast<double>(statistics.parameter_count)),
                   format_bytes(static_cast<double>(statistics.parameter_bytes))});
  summary.add_row({"MACs", bounded(statistics.macs, complete, format_count),
                   "Conv, ConvTranspose, Gemm, MatMul, RNN" + lower_bound});
  summary.add_row({"other ops", bounded(statistics.other_operations, complete, format_count),
                   "element operations of every other op, not in MACs" + lower_bound});
  std::string peak_detail = "activations alive at once, constants excluded";
  if (statistics.peak_node_index) {
    const inspect::NodeStatistics& node = statistics.nodes[*statistics.peak_node_index];
    peak_detail = "during node " + std::to_string(node.index) + " '" + node_label(node) + "' (" + node.op_type + ")";
  }
  if (statistics.activations_with_unknown_size) {
    peak_detail += " (" + std::to_string(statistics.activations_with_unknown_size) + " activations of unknown size not counted)";
  }
  summary.add_row({"peak activations",
                   bounded(statistics.peak_activation_bytes, statistics.activations_with_unknown_size == 0, format_bytes),
                   peak_detail});
  summary.print(out, 0, 160);

  // Ops histogram, most frequent first, with each op's share of the MACs.
  std::map<std::string, int64_t> macs_by_op;
  for (const inspect::NodeStatistics& node : statistics.nodes) {
    std::string label = node.domain.empty() || node.domain == "ai.onnx" ? node.op_type : node.domain + "." + node.op_type;
    macs_by_op[label] += node.macs.value_or(0);
  }
  std::vector<std::pair<std::string, int64_t>> ops(statistics.op_histogram.begin(), statistics.op_histogram.end());
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  out << "\nops (" << ops.size() << " kinds, " << statistics.nodes.size() << " nodes)\n";
  Table histogram({{"op"}, {"count", Align::right}, {"MACs", Align::right}, {"share", Align::right}});
  for (const auto& [op, count] : ops) {
    int64_t macs = macs_by_op[op];
    std::string share = "-";
    if (statistics.macs > 0 && macs > 0) share = format_percent(static_cast<double>(macs) / statistics.macs);
    histogram.add_row({op, std::to_string(count), macs ? format_count(static_cast<double>(macs)) : "-", share});
  }
  histogram.print(out, 2);
  if (!statistics.subgraph_op_histogram.empty()) {
    std::string body_ops;
    for (const auto& [op, count] : statistics.subgraph_op_histogram) {
      body_ops += (body_ops.empty() ? "" : ", ") + std::to_string(count) + " " + op;
    }
    out << "  inside If/Loop/Scan bodies (" << statistics.subgraph_nodes << " nodes): " << body_ops << "\n";
  }

  // Layers: every one in order, or the heaviest few.
  std::vector<size_t> shown(statistics.nodes.size());
  std::iota(shown.begin(), shown.end(), 0);
  if (!options.every_layer) {
    std::stable_sort(shown.begin(), shown.end(), [&](size_t a, size_t b) {
      return statistics.nodes[a].macs.value_or(0) > statistics.nodes[b].macs.value_or(0);
    });
    shown.resize(std::min(shown.size(), options.heaviest_layers));
    out << "\nlayers: the " << shown.size() << " with the most MACs (--per-layer for all " << statistics.nodes.size()
        << ", --layers N for more)\n";
  } else {
    out << "\nlayers (" << shown.size() << ")\n";
  }
  if (!shown.empty()) {
    Table layers({{"#", Align::right}, {"name"}, {"op"}, {"output shape"}, {"params", Align::right},
                  {"MACs", Align::right}, {"other ops", Align::right}});
    for (size_t index : shown) {
      const inspect::NodeStatistics& node = statistics.nodes[index];
      layers.add_row({std::to_string(node.index), node_label(node), node.op_type + (node.has_subgraphs ? "*" : ""),
                      outputs_text(node), node.parameter_count ? format_count(static_cast<double>(node.parameter_count)) : "-",
                      node.macs && *node.macs == 0 ? "-" : optional_count(node.macs),
                      node.other_operations && *node.other_operations == 0 ? "-" : optional_count(node.other_operations)});
    }
    layers.print(out, 2);
    for (size_t index : shown) {
      const inspect::NodeStatistics& node = statistics.nodes[index];
      if (node.has_subgraphs) out << "  * " << node_label(node) << ": " << node.subgraph_detail << "\n";
    }
  }
  for (const std::string& note : statistics.notes) out << "\nnote: " << note;
  if (!statistics.notes.empty()) out << "\n";
}

inspect::ModelStatistics inspect_statistics(const preparation::PreparedModel& prepared, const std::string& source) {
  inspect::ModelStatistics statistics = inspect::compute_statistics(prepared.model);
  statistics.source = source;
  // What preparation assumed comes first: the figures below depend on it.
  statistics.notes.insert(statistics.notes.begin(), prepared.report.notes.begin(), prepared.report.notes.end());
  if (prepared.report.nodes_in_file != prepared.model.graph->nodes().size()) {
    statistics.notes.push_back(std::to_string(prepared.report.nodes_in_file) + " nodes in the file, " +
                               std::to_string(prepared.model.graph->nodes().size()) +
                               " after constants were folded (the graph check, patch and the backends see)");
  }
  return statistics;
}

InspectReport inspect_report(const inspect::ModelStatistics& statistics, const preparation::PreparedModel& prepared) {
  InspectReport report;
  report.model = statistics.source;
  report.opset = statistics.opset;
  for (const auto& input : statistics.inputs) report.inputs.push_back(describe_tensor(input));
  for (const auto& output : statistics.outputs) report.outputs.push_back(describe_tensor(output));
  report.node_count = statistics.nodes.size();
  report.parameter_count = statistics.parameter_count;
  report.parameter_bytes = statistics.parameter_bytes;
  // A figure over part of the nodes is a lower bound: no figure, the bound beside it.
  const bool costs_known = statistics.nodes_with_unknown_cost == 0;
  const bool sizes_known = statistics.activations_with_unknown_size == 0;
  if (costs_known) report.macs = statistics.macs;
  report.macs_lower_bound = statistics.macs;
  if (costs_known) report.other_operations = statistics.other_operations;
  report.other_operations_lower_bound = statistics.other_operations;
  if (sizes_known) report.peak_activation_bytes = statistics.peak_activation_bytes;
  report.peak_activation_bytes_lower_bound = statistics.peak_activation_bytes;
  report.peak_node_index = statistics.peak_node_index;
  report.subgraph_nodes = statistics.subgraph_nodes;
  report.ops = statistics.op_histogram;
  report.subgraph_ops = statistics.subgraph_op_histogram;
  report.complete = statistics.complete();
  report.nodes_with_unknown_cost = statistics.nodes_with_unknown_cost;
  report.activations_with_unknown_size = statistics.activations_with_unknown_size;
  for (const inspect::NodeStatistics& node : statistics.nodes) {
    LayerStatistics layer;
    layer.index = node.index;
    layer.name = node.name;
    layer.op = node.op_type;
    layer.domain = node.domain;
    for (const auto& output : node.outputs) layer.outputs.push_back(describe_tensor(output));
    layer.parameters = node.parameter_count;
    layer.parameter_bytes = node.parameter_bytes;
    layer.macs = node.macs;
    layer.other_operations = node.other_operations;
    layer.has_subgraphs = node.has_subgraphs;
    layer.subgraph_nodes = node.subgraph_nodes;
    layer.subgraph_detail = node.subgraph_detail;
    report.nodes.push_back(std::move(layer));
  }
  report.notes = statistics.notes;
  report.preparation = summarize_preparation(prepared);
  return report;
}

nlohmann::json inspect_report_json(const InspectReport& report) {
  nlohmann::json json;
  json["model"] = report.model;
  json["opset"] = report.opset;
  json["inputs"] = nlohmann::json::array();
  for (const auto& input : report.inputs) json["inputs"].push_back(tensor_json(input));
  json["outputs"] = nlohmann::json::array();
  for (const auto& output : report.outputs) json["outputs"].push_back(tensor_json(output));
  json["node_count"] = report.node_count;
  json["parameters"] = {{"count", report.parameter_count}, {"bytes", report.parameter_bytes}};
  json["macs"] = optional_json(report.macs);
  json["macs_lower_bound"] = report.macs_lower_bound;
  json["other_operations"] = optional_json(report.other_operations);
  json["other_operations_lower_bound"] = report.other_operations_lower_bound;
  json["peak_activation_bytes"] = optional_json(report.peak_activation_bytes);
  json["peak_activation_bytes_lower_bound"] = report.peak_activation_bytes_lower_bound;
  json["subgraph_nodes"] = report.subgraph_nodes;
  json["subgraph_ops"] = report.subgraph_ops;
  json["peak_node_index"] = optional_json(report.peak_node_index);
  json["complete"] = report.complete;
  json["nodes_with_unknown_cost"] = report.nodes_with_unknown_cost;
  json["activations_with_unknown_size"] = report.activations_with_unknown_size;
  json["ops"] = report.ops;
  json["nodes"] = nlohmann::json::array();
  for (const LayerStatistics& node : report.nodes) {
    nlohmann::json entry;
    entry["index"] = node.index;
    entry["name"] = node.name;
    entry["op"] = node.op;
    entry["domain"] = node.domain;
    entry["outputs"] = nlohmann::json::array();
    for (const auto& output : node.outputs) entry["outputs"].push_back(tensor_json(output));
    entry["parameters"] = node.parameters;
    entry["parameter_bytes"] = node.parameter_bytes;
    entry["macs"] = optional_json(node.macs);
    entry["other_operations"] = optional_json(node.other_operations);
    entry["has_subgraphs"] = node.has_subgraphs;
    if (node.has_subgraphs) {
      entry["subgraph_nodes"] = node.subgraph_nodes;
      entry["subgraph_detail"] = node.subgraph_detail;
    }
    json["nodes"].push_back(std::move(entry));
  }
  json["notes"] = report.notes;
  json["preparation"] = preparation_json(report.preparation);
  return json;
}

}  // namespace npukit::report

namespace npukit {

std::string InspectReport::to_json() const { return report::inspect_report_json(*this).dump(2); }

}  // namespace npukit
