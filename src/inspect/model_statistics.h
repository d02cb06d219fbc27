// Model statistics for `npukit inspect`: per node its outputs, parameters and cost; for the model the ops
// histogram, parameter totals, MACs and the peak activation memory.
//
// Everything is read from the IR as loaded: shapes come from the types ONNX shape inference (or the
// builder of a built-in model) put on the values. Where a shape is unknown the figure is reported as
// unknown, never guessed; `notes` then says how to fix it (fix the dynamic input dims with --input-shape).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::inspect {

struct TensorSummary {
  std::string name;
  DType dtype = DType::undefined;
  bool rank_known = false;
  std::vector<ir::Dim> dims;          // empty when the rank is unknown (or the value is a scalar)
  std::optional<int64_t> bytes;       // nullopt unless dtype and every dim are known

  bool is_static() const;
  std::string shape_text() const;     // "[1, 3, 640, 640]", "[batch, 3, ?, ?]", "unknown"
};

struct NodeStatistics {
  size_t index = 0;
  std::string name;
  std::string op_type;
  std::string domain;
  std::vector<TensorSummary> outputs;   // omitted optional outputs are left out
  int64_t parameter_count = 0;          // elements of the constant inputs (initializers, Constant outputs)
  int64_t parameter_bytes = 0;
  std::optional<int64_t> macs;
  std::optional<int64_t> other_operations;
  bool has_subgraphs = false;           // If/Loop/Scan: macs, other operations and parameters include the bodies'
  size_t subgraph_nodes = 0;            // nodes inside its bodies (nested ones included)
  std::string subgraph_detail;          // per body: "then_branch 14 nodes, 1.2 M MACs; else_branch ..."
};

struct ModelStatistics {
  std::string source;                   // file the model came from (or "builtin:yolov5s")
  int64_t opset = 0;
  std::vector<TensorSummary> inputs;    // graph inputs that the caller must feed (initializers excluded)
  std::vector<TensorSummary> outputs;
  std::vector<NodeStatistics> nodes;    // top-level nodes in execution order
  std::map<std::string, int64_t> op_histogram;           // top-level nodes
  std::map<std::string, int64_t> subgraph_op_histogram;  // nodes inside If/Loop/Scan bodies, at any depth
  size_t subgraph_nodes = 0;

  // Each constant counted once even when several nodes read it.
  int64_t parameter_count = 0;
  int64_t parameter_bytes = 0;

  int64_t macs = 0;                     // sum over the nodes whose MACs are known
  int64_t other_operations = 0;
  size_t nodes_with_unknown_cost = 0;   // when non-zero, macs and other_operations are lower bounds

  // Largest total size of the activations alive at once: graph inputs and node outputs, each alive from
  // its producer to its last consumer (graph outputs to the end); constants excluded.
  int64_t peak_activation_bytes = 0;
  std::optional<size_t> peak_node_index;  // the node during which the peak is reached; nullopt: before any
  size_t activations_with_unknown_size = 0;  // when non-zero, the peak is a lower bound

  std::vector<std::string> notes;       // what is unknown and how to fix it, in words
  bool complete() const { return nodes_with_unknown_cost == 0 && activations_with_unknown_size == 0; }
};

ModelStatistics compute_statistics(const ir::Model& model);

TensorSummary summarize_value(const ir::Value& value);

// "images=N,3,H,W", "state=1,D1,16": an --input-shape argument for an input with its known dims and a placeholder
// for each unknown one (N for a batch, H and W for an image's size), for the messages that say how to fix it.
std::string input_shape_example(const std::string& name, const std::optional<std::vector<ir::Dim>>& dims);

}  // namespace npukit::inspect
