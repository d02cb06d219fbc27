// Runs one set of inputs through two sides — two models (a float model and its QDQ export, an original and its
// patched copy) or one model on two backends or targets — keeps every value each side computes, and pairs the
// values that mean the same thing:
//
//   * by name: a QDQ model's DequantizeLinear output carries the float value's name (onnx/qdq_mapping.h), a
//     backend keeps the names of the values it still computes;
//   * a value DequantizeLinear(QuantizeLinear(x)) on one side whose name the other side lacks is paired with
//     the other side's x (a quantized graph input, or a QDQ export whose names carry suffixes, as ONNX
//     Runtime's quantizer writes them).
//
// Every value one side computes that finds no partner is listed as not comparable with the reason (fused away
// by the backend's passes, a quantization node's own tensor, absent from the other model, a shape that
// differs), never dropped in silence. Weights are compared where one side computes them (a DequantizeLinear of
// an int8 weight against the float weight) and marked as weights; constants on both sides are not values of a
// run and are left out.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compare/layer_comparison.h"
#include "engine/engine.h"
#include "ir/graph.h"

namespace npukit::compare {

struct ComparisonSide {
  std::string model_path;                     // for messages and reports
  std::shared_ptr<const ir::Model> model;     // as prepared (before the backend's passes)
  engine::EngineOptions options;              // backend, target, threads (keep_values is set here)
};

struct ValueComparison {
  std::string name_a, name_b;   // the same unless paired through a Quantize/DequantizeLinear
  bool is_graph_input = false;
  bool is_output = false;       // a graph output of either side
  bool is_weight = false;       // a constant on the side that does not compute it (or derived from constants)
  std::string layer_a, layer_b; // the node that computes it, Quantize/DequantizeLinear skipped: "'conv2' (Conv)"; "" if none
  std::string op_a, op_b;       // that node's op type
  DType dtype_a = DType::undefined, dtype_b = DType::undefined;
  Shape shape;
  std::string grid_side;        // "B" or "A": whose quantization grid the LSB histogram counts on; "" for none
  LayerMetrics metrics;
  // The nearest compared values this one is computed from, on either side's graph (indices into values;
  // weights and values computed from constants alone are not inputs). Graph inputs are values too: fed the
  // same tensor, they compare identical.
  std::vector<size_t> inputs;
  // Filled by locate_error_entry (compare/error_entry.h).
  std::optional<double> inputs_sqnr_db;  // the lowest SQNR among `inputs`; nullopt when it has none
  std::optional<double> drop_db;        // inputs_sqnr_db − its own SQNR, both clamped (see error_entry.h)
  bool error_enters_here = false;
};

struct NotComparable {
  std::string name;
  std::string side;    // "A", "B" or "A and B" (paired, but the tensors cannot be compared)
  std::string reason;
};

struct SideSummary {
  std::string model_path;
  std::string backend;
  std::string target;
  size_t values_computed = 0;  // values the backend computed (kept) plus outputs
};

struct ModelComparison {
  SideSummary a, b;
  std::vector<ValueComparison> values;       // in A's execution order (graph inputs first)
  std::vector<NotComparable> not_comparable; // A's first, in its order, then B's
};

// Receives (step, total, what) while the comparison runs.
using ComparisonProgress = std::function<void(int, int, const std::string&)>;

// Checks that both sides declare the same inputs (names, dtypes, static dims), runs both on `inputs` (one
// tensor per declared input), and compares every pair of values. Throws npukit::Error naming the side's file
// when the inputs differ or a side cannot be built or run ("unknown backend 'sim'").
ModelComparison compare_models(const ComparisonSide& a, const ComparisonSide& b, const std::map<std::string, Tensor>& inputs,
                               const ComparisonProgress& progress = {});

// The values a summary shows, in execution order: the `worst` lowest SQNRs, every graph output, and the value
// where the error enters; every value when `all`.
std::vector<size_t> values_to_show(const ModelComparison& comparison, size_t worst, bool all);

// The inputs both sides must be given (as A declares them), after the same check compare_models does; for
// callers that read or generate the inputs first.
std::vector<ValueInfo> common_inputs(const ComparisonSide& a, const ComparisonSide& b);

}  // namespace npukit::compare
