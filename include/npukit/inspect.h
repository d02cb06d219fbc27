// npukit::inspect_model: what `npukit inspect MODEL --json` prints, as a struct. Ops, parameters, MACs and peak
// activation memory, per layer and in total.
//
//   npukit::InspectReport report = npukit::inspect_model("yolov5s.onnx");
//   std::cout << report.macs.value_or(0) << " MACs\n" << report.to_json();
//
// Field names are the JSON keys. A figure over part of the nodes (some shapes unknown) is std::nullopt, with
// the sum over the known nodes in its *_lower_bound beside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "npukit/preparation.h"

namespace npukit {

struct TensorDescription {
  std::string name;
  std::string dtype;
  std::optional<std::vector<Dimension>> shape;  // nullopt: the rank is unknown
  std::optional<int64_t> bytes;                 // nullopt unless the dtype and every dim are known
};

struct LayerStatistics {
  size_t index = 0;
  std::string name;
  std::string op;
  std::string domain;
  std::vector<TensorDescription> outputs;
  int64_t parameters = 0;        // elements of the constant inputs
  int64_t parameter_bytes = 0;
  std::optional<int64_t> macs;
  std::optional<int64_t> other_operations;
  bool has_subgraphs = false;    // If/Loop/Scan: the figures include the bodies'
  size_t subgraph_nodes = 0;
  std::string subgraph_detail;
};

struct InspectReport {
  std::string model;
  int64_t opset = 0;
  std::vector<TensorDescription> inputs;
  std::vector<TensorDescription> outputs;
  size_t node_count = 0;
  int64_t parameter_count = 0;   // JSON: "parameters": {"count", "bytes"}
  int64_t parameter_bytes = 0;
  std::optional<int64_t> macs;
  int64_t macs_lower_bound = 0;
  std::optional<int64_t> other_operations;
  int64_t other_operations_lower_bound = 0;
  std::optional<int64_t> peak_activation_bytes;
  int64_t peak_activation_bytes_lower_bound = 0;
  std::optional<size_t> peak_node_index;
  size_t subgraph_nodes = 0;
  std::map<std::string, int64_t> ops;           // top-level op histogram
  std::map<std::string, int64_t> subgraph_ops;  // inside If/Loop/Scan bodies
  bool complete = true;
  size_t nodes_with_unknown_cost = 0;
  size_t activations_with_unknown_size = 0;
  std::vector<LayerStatistics> nodes;
  std::vector<std::string> notes;
  PreparationSummary preparation;

  // Exactly the text `npukit inspect MODEL --json` prints (without its final newline).
  std::string to_json() const;
};

// `model`: an .onnx path or "builtin:NAME". Throws npukit::Error naming the file, input or node.
InspectReport inspect_model(const std::string& model, const ModelOptions& options = {});

}  // namespace npukit
