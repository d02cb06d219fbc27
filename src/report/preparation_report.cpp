#include "report/preparation_report.h"

namespace npukit::report {

PreparationSummary summarize_preparation(const preparation::PreparedModel& prepared) {
  PreparationSummary summary;
  for (const ir::Value* input : prepared.model.graph->inputs) {
    if (input->initializer) continue;
    PreparedInput entry;
    entry.name = input->name;
    entry.dtype = std::string(dtype_name(input->type.dtype));
    if (input->type.shape) {
      entry.shape.emplace();
      for (const ir::Dim& dim : *input->type.shape) {
        entry.shape->push_back(dim.is_static() ? Dimension{dim.value, {}} : Dimension{std::nullopt, dim.symbol});
      }
    }
    summary.inputs.push_back(std::move(entry));
  }
  summary.notes = prepared.report.notes;
  summary.notes.insert(summary.notes.end(), prepared.report.dynamic_input_hints.begin(),
                       prepared.report.dynamic_input_hints.end());
  summary.nodes_in_file = prepared.report.nodes_in_file;
  summary.nodes_after_preparation = prepared.model.graph->nodes().size();
  summary.values_with_unknown_shape = prepared.report.values_with_unknown_shape;
  return summary;
}

nlohmann::json preparation_json(const PreparationSummary& summary) {
  nlohmann::json json;
  json["inputs"] = nlohmann::json::array();
  for (const PreparedInput& input : summary.inputs) {
    nlohmann::json shape = nullptr;
    if (input.shape) {
      shape = nlohmann::json::array();
      // A dynamic dim is named by its symbol, "?" when it has none (as ir::Dim::to_string writes it).
      for (const Dimension& dim : *input.shape) {
        shape.push_back(dim.value ? nlohmann::json(*dim.value) : nlohmann::json(dim.symbol.empty() ? "?" : dim.symbol));
      }
    }
    json["inputs"].push_back({{"name", input.name}, {"dtype", input.dtype}, {"shape", shape}});
  }
  json["notes"] = summary.notes;
  json["nodes_in_file"] = summary.nodes_in_file;
  json["nodes_after_preparation"] = summary.nodes_after_preparation;
  json["values_with_unknown_shape"] = summary.values_with_unknown_shape;
  return json;
}

preparation::PreparationOptions preparation_options(const ModelOptions& options) {
  preparation::PreparationOptions prepared;
  prepared.input_shapes = options.input_shapes;
  prepared.input_values = options.input_values;
  return prepared;
}

}  // namespace npukit::report
