#include "preparation/shape_discovery.h"

#include <map>
#include <memory>

#include "engine/engine.h"
#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "onnx/onnx_import.h"

namespace npukit::preparation {

int discover_missing_shapes(ir::Model& model) {
  ir::Graph& graph = *model.graph;
  std::vector<std::string> missing;
  for (const auto& value : graph.values()) {
    if (value->initializer || value->outer_scope || !value->producer) continue;
    if (!value->type.has_static_shape()) missing.push_back(value->name);
  }
  if (missing.empty()) return 0;
  std::map<std::string, Tensor> feeds;
  for (const ir::Value* input : graph.inputs) {
    if (!input->type.has_static_shape()) return 0;
    feeds[input->name] = Tensor(input->type.dtype, input->type.static_shape());  // zeros
  }
  // A copy whose outputs are the values to measure; the original stays as it is.
  onnx_io::ImportOptions options;
  options.run_checker = false;
  auto copy = std::make_shared<ir::Model>(
      onnx_io::load_model_from_bytes(onnx_io::serialize_model(model), model.source_path.empty() ? "model" : model.source_path, "", options));
  for (const std::string& name : missing) {
    ir::Value* value = copy->graph->find_value(name);
    if (!value || value->is_graph_output) continue;
    value->is_graph_output = true;
    copy->graph->outputs.push_back(value);
  }
  std::map<std::string, Tensor> outputs;
  try {
    outputs = engine::Engine::from_model(copy, {.backend = "ref"})->run(feeds);
  } catch (const Error&) {
    // The reference backend cannot run this model (an op it lacks, a limit): the shapes stay unknown and
    // check reports them as such rather than failing.
    return 0;
  }
  int completed = 0;
  for (const std::string& name : missing) {
    auto found = outputs.find(name);
    ir::Value* value = graph.find_value(name);
    if (found == outputs.end() || !value) continue;
    std::vector<ir::Dim> dims;
    for (int64_t dim : found->second.shape()) dims.push_back(ir::Dim::fixed(dim));
    value->type.shape = dims;
    if (value->type.dtype == DType::undefined) value->type.dtype = found->second.dtype();
    ++completed;
  }
  return completed;
}

}  // namespace npukit::preparation
