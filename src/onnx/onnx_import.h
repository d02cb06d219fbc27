// ONNX → IR. Runs the libonnx checker and shape inference first, so declared and inferred types are on
// every value the IR gets; reads external-data files relative to the model's folder.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace npukit::onnx_io {

struct ImportOptions {
  bool run_checker = true;
  bool run_shape_inference = true;
  // Lets shape inference evaluate small shape computations (Shape → Gather → Concat → Reshape, chunked
  // Slices) so the tensors behind them get static shapes. Off by default: the loader fuzzer and `run` do not
  // need it; `check` and `patch` turn it on, as NPU compilers see those shapes as static.
  bool propagate_shape_data = false;
  // Replaces the declared dims of the named graph inputs before shape inference, so a model with dynamic
  // dims gets static shapes everywhere (`inspect --input-shape images=1,3,640,640`). Unknown names are an
  // Error(invalid_argument).
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

// Throws npukit::Error (with the file name) for anything wrong with the file or the graph.
ir::Model load_model(const std::string& path, const ImportOptions& options = {});

// `display_name` names the model in errors; `base_directory` is where external data files are looked for
// (empty: external data is refused).
ir::Model load_model_from_bytes(std::string_view bytes, const std::string& display_name,
                                const std::string& base_directory, const ImportOptions& options = {});

}  // namespace npukit::onnx_io
