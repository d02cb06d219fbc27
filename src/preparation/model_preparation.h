// One way to prepare a model for every command (inspect, check, patch, run, bench, and later quantize and
// detect), so that all of them see the same nodes, shapes and MACs:
//
//   1. load: an ONNX file (checker and shape inference) or a built-in model, with --input-shape applied and the
//      shapes the file declared for computed values dropped (they are stale once an input's shape changed);
//   2. a symbolic batch dim becomes 1, with a note (edge NPUs run batch 1; --input-shape says otherwise);
//   3. --input-value: an input held at a value becomes a constant (a sample-rate input choosing an If branch);
//   4. until nothing new is learned: fold constants, specialize If nodes whose condition became constant,
//      re-infer shapes (ONNX shape inference sees Reshape targets and Slice bounds that folding computed);
//   5. shapes that no inference can see (data-dependent chunk points) are learned by running the model once on
//      the reference backend at the static input size, as an NPU compiler would see them.
//
// What could not be made static stays dynamic, and the figures computed from it are reported as unknown.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "npukit/tensor.h"
#include "passes/pass.h"

namespace npukit::preparation {

struct PreparationOptions {
  std::map<std::string, std::vector<int64_t>> input_shapes;  // --input-shape NAME=1,3,640,640
  std::map<std::string, std::string> input_values;           // --input-value NAME=16000 | NAME=1,2,3 | NAME=FILE.npy
  std::map<std::string, Tensor> input_value_tensors;         // the same, given as tensors (SessionOptions::input_values)
  // Shapes of the data a caller will feed (`run -i x=file.npy`): they fix an input's dynamic dims (and only
  // those; a mismatch with a static dim is left for the caller to report). The name "" stands for the model's
  // only input.
  std::map<std::string, std::vector<int64_t>> data_shapes;
  bool fix_symbolic_batch = true;
  // Step 5 runs the model once on `ref` (seconds for a large model): commands that only read the graph may skip it.
  bool run_reference_for_unknown_shapes = true;
};

struct PreparationReport {
  std::vector<std::string> notes;            // what was assumed or changed, one line each, for the user
  std::vector<passes::PassResult> passes;    // what folding and specialization did, round by round
  std::vector<std::string> dynamic_inputs;   // inputs that keep dynamic dims
  std::vector<std::string> dynamic_input_hints;  // for each: what stays unknown and the --input-shape that fixes it
  size_t values_with_unknown_shape = 0;      // computed values whose shape stays unknown
  size_t nodes_in_file = 0;                  // top-level nodes as loaded, before folding
};

struct PreparedModel {
  ir::Model model;
  PreparationReport report;
};

// `reference`: an .onnx path or "builtin:NAME". Throws npukit::Error naming the file, input or node.
PreparedModel load_prepared_model(const std::string& reference, const PreparationOptions& options = {});

// The same for an ONNX model held in memory; `name` stands for the file in errors (external data is refused).
PreparedModel load_prepared_model_from_bytes(const std::string& bytes, const std::string& name,
                                             const PreparationOptions& options = {});

// Steps 3 to 5 on a model already loaded (input shapes already applied).
void prepare_loaded_model(ir::Model& model, const PreparationOptions& options, PreparationReport& report);

// For commands that need static shapes (bench, patch, quantize): throws Error(invalid_argument) naming the first
// input that keeps dynamic dims, and the flag that fixes it ("give --input-shape x=1,3,H,W").
void require_static_inputs(const ir::Model& model, const std::string& command);

// "images=1,3,H,W": an --input-shape argument for an input, with its known dims and a placeholder for each
// unknown one, for messages.
std::string input_shape_example(const ir::Value& input);

// Parses "--input-value NAME=TEXT" arguments (one per value) into NAME → TEXT; a repeated name is an error.
std::map<std::string, std::string> parse_input_values(const std::vector<std::string>& arguments);

}  // namespace npukit::preparation
