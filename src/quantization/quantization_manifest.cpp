#include "quantization/quantization_manifest.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/table.h"

namespace npukit::quantization {

namespace {

using Json = nlohmann::ordered_json;

template <typename T>
Json fact(const targets::Stated<T>& stated, Json value) {
  return Json{{"value", std::move(value)}, {"known", stated.provenance.known}, {"source", stated.provenance.source}};
}

Json tensor_numerics(const targets::TensorNumerics& numerics) {
  return Json{{"storage", fact(numerics.storage, std::string(targets::storage_grid_name(numerics.storage.value)))},
              {"granularity", fact(numerics.granularity, std::string(ir::granularity_name(numerics.granularity.value)))},
              {"channel_axis", fact(numerics.channel_axis, numerics.channel_axis.value)},
              {"symmetric", fact(numerics.symmetric, numerics.symmetric.value)}};
}

}  // namespace

std::string manifest_json(const QuantizeResult& result) {
  const targets::NumericsSpec& spec = result.spec;
  Json numerics{
      {"weights", tensor_numerics(spec.weights)},
      {"activations", tensor_numerics(spec.activations)},
      {"bias_storage", fact(spec.bias_storage, std::string(targets::storage_grid_name(spec.bias_storage.value)))},
      {"quantize_rounding", fact(spec.quantize_rounding, std::string(ir::rounding_mode_name(spec.quantize_rounding.value)))},
      {"clamp_order", fact(spec.clamp_order, std::string(ir::clamp_order_name(spec.clamp_order.value)))},
      {"requantization", fact(spec.requantization, std::string(targets::requantization_name(spec.requantization.value)))},
      {"multiplier_bits", fact(spec.multiplier_bits, spec.multiplier_bits.value)},
      {"fused_activation_clamp", fact(spec.fused_activation_clamp, spec.fused_activation_clamp.value)},
      {"fused_activations", fact(spec.fused_activations, spec.fused_activations.value)},
      {"shared_scale_ops", fact(spec.shared_scale_ops, spec.shared_scale_ops.value)},
      {"requantizing_ops", fact(spec.requantizing_ops, spec.requantizing_ops.value)},
      {"lookup_table_ops", fact(spec.lookup_table_ops, spec.lookup_table_ops.value)},
      {"fusion_groups", fact(spec.fusion_groups, spec.fusion_groups.value)},
  };
  Json tensors = Json::array();
  for (const QuantizedTensor& tensor : result.tensors) {
    Json entry{{"value", tensor.value},
               {"role", std::string(point_role_name(tensor.role))},
               {"node", tensor.node},
               {"op_type", tensor.op_type},
               {"dtype", std::string(dtype_name(tensor.params.storage))},
               {"granularity", std::string(ir::granularity_name(tensor.params.granularity()))},
               {"axis", tensor.params.axis},
               {"narrow_range", tensor.params.narrow_range},
               {"rounding", std::string(ir::rounding_mode_name(tensor.params.rounding))},
               {"scales", tensor.params.scales},
               {"zero_points", tensor.params.zero_points},
               {"range", Json::array({tensor.range_minimum, tensor.range_maximum})},
               {"observed", Json::array({tensor.observed_minimum, tensor.observed_maximum})}};
    if (!tensor.scale_group.empty()) entry["scale_group"] = tensor.scale_group;
    entry["bits"] = tensor.params.bits();
    entry["written"] = tensor.written;
    if (tensor.params.group_size > 0) {
      // Per group: the scales are a [channels, groups] table (row-major); the file's layout: docs/quantization.md.
      entry["group_size"] = tensor.params.group_size;
      const int64_t groups = std::max<int64_t>(1, tensor.groups_per_channel);
      entry["scale_shape"] = Json::array({static_cast<int64_t>(tensor.params.scales.size()) / groups, groups});
    }
    if (!tensor.precision_reason.empty()) entry["precision_reason"] = tensor.precision_reason;
    if (tensor.role == PointRole::bias) entry["saturated"] = tensor.saturated;
    tensors.push_back(std::move(entry));
  }
  Json float_nodes = Json::array();
  for (const FloatNode& node : result.float_nodes) {
    float_nodes.push_back(Json{{"node", node.node}, {"op_type", node.op_type}, {"reason", node.reason}});
  }
  Json diagnostics = Json::array();
  for (const CalibrationDiagnostic& diagnostic : result.diagnostics) {
    diagnostics.push_back(Json{{"severity", diagnostic.is_error ? "error" : "warning"},
                               {"subject", diagnostic.subject},
                               {"message", diagnostic.message}});
  }
  Json algorithms = Json::array();
  for (const AlgorithmOutcome& outcome : result.algorithms) {
    Json layers = Json::array();
    for (const LayerOutcome& layer : outcome.layers) {
      layers.push_back(Json{{"node", layer.node},
                            {"before", layer.before ? Json(*layer.before) : Json(nullptr)},
                            {"after", layer.after ? Json(*layer.after) : Json(nullptr)},
                            {"detail", layer.detail}});
    }
    algorithms.push_back(Json{{"algorithm", outcome.algorithm},
                              {"metric", outcome.metric},
                              {"before", outcome.before ? Json(*outcome.before) : Json(nullptr)},
                              {"after", outcome.after ? Json(*outcome.after) : Json(nullptr)},
                              {"seconds", outcome.seconds},
                              {"layers", layers},
                              {"notes", outcome.notes}});
  }
  Json input_shapes = Json::object();
  for (const auto& [name, shape] : result.calibrated_input_shapes) input_shapes[name] = shape;
  Json manifest{
      {"version", 1},
      {"model", result.model_path},
      {"target", result.target_id},
      {"calibration",
       Json{{"data", result.calibration_description},
            {"samples", result.calibration_samples},
            {"backend", result.calibration_backend},
            {"input_shapes", input_shapes}}},
      {"range",
       Json{{"method", std::string(range_method_name(result.range_options.method))},
            {"percentile", result.range_options.method == RangeMethod::percentile ? Json(result.range_options.percentile)
                                                                                  : Json(nullptr)},
            {"symmetric", result.range_options.symmetric}}},
      {"numerics", numerics},
      {"tensors", tensors},
      {"float_nodes", float_nodes},
      {"algorithms", algorithms},
      {"diagnostics", diagnostics},
      {"notes", result.notes},
  };
  return manifest.dump(2) + "\n";
}

namespace {

std::string scales_text(const ir::QuantParams& params) {
  if (params.scales.size() == 1) return report::format_number(params.scales[0], 4);
  float low = params.scales[0];
  float high = params.scales[0];
  for (float scale : params.scales) {
    low = std::min(low, scale);
    high = std::max(high, scale);
  }
  return report::format_number(low, 3) + " .. " + report::format_number(high, 3);
}

std::string zero_points_text(const ir::QuantParams& params) {
  if (params.zero_points.empty()) return "0";
  int64_t low = params.zero_points[0];
  int64_t high = params.zero_points[0];
  for (int64_t zero : params.zero_points) {
    low = std::min(low, zero);
    high = std::max(high, zero);
  }
  return low == high ? std::to_string(low) : std::to_string(low) + " .. " + std::to_string(high);
}

}  // namespace

std::string algorithm_outcomes_markdown(const std::vector<AlgorithmOutcome>& outcomes) {
  auto optional_text = [](const std::optional<double>& value) {
    return value ? report::format_number(*value, 4) : std::string("-");
  };
  std::ostringstream out;
  out << "## Algorithms\n\n| algorithm | metric | before | after | seconds |\n|---|---|---|---|---|\n";
  for (const AlgorithmOutcome& outcome : outcomes) {
    out << "| " << outcome.algorithm << " | " << (outcome.metric.empty() ? "-" : outcome.metric) << " | "
        << optional_text(outcome.before) << " | " << optional_text(outcome.after) << " | "
        << report::format_number(outcome.seconds, 3) << " |\n";
  }
  for (const AlgorithmOutcome& outcome : outcomes) {
    if (outcome.layers.empty() && outcome.notes.empty()) continue;
    out << "\n### " << outcome.algorithm << "\n\n";
    for (const std::string& note : outcome.notes) out << "- " << note << "\n";
    if (!outcome.layers.empty()) {
      out << "\n| layer | before | after | detail |\n|---|---|---|---|\n";
      for (const LayerOutcome& layer : outcome.layers) {
        out << "| " << layer.node << " | " << optional_text(layer.before) << " | " << optional_text(layer.after)
            << " | " << layer.detail << " |\n";
      }
    }
  }
  return out.str();
}

std::string manifest_markdown(const QuantizeResult& result) {
  std::ostringstream out;
  out << "# Quantization of " << result.model_path << " for " << result.target_id << "\n\n";
  out << "- calibration: " << result.calibration_description << " (" << result.calibration_samples << " samples, "
      << result.calibration_backend << " backend)\n";
  out << "- range method: " << range_method_name(result.range_options.method);
  if (result.range_options.method == RangeMethod::percentile) out << " " << result.range_options.percentile;
  out << (result.range_options.symmetric ? ", symmetric" : ", asymmetric") << "\n";
  for (const auto& [name, shape] : result.calibrated_input_shapes) {
    out << "- input " << name << ": " << shape_to_string(shape) << "\n";
  }
  out << "\n## Numerics spec used\n\n| fact | value |\n|---|---|\n";
  for (const auto& [fact_name, text] : targets::summarize(result.spec)) out << "| " << fact_name << " | " << text << " |\n";
  out << "\n## Tensors\n\n| value | role | op | dtype | granularity | range | scale | zero point |\n|---|---|---|---|---|---|---|---|\n";
  for (const QuantizedTensor& tensor : result.tensors) {
    out << "| " << tensor.value << " | " << point_role_name(tensor.role) << " | " << tensor.op_type << " | "
        << dtype_name(tensor.params.storage)
        << (tensor.precision_reason.empty() ? std::string() : " (" + tensor.precision_reason + ")") << " | "
        << ir::granularity_name(tensor.params.granularity()) << " | ["
        << report::format_number(tensor.range_minimum, 4) << ", " << report::format_number(tensor.range_maximum, 4)
        << "] | " << scales_text(tensor.params) << " | " << zero_points_text(tensor.params) << " |\n";
  }
  if (!result.float_nodes.empty()) {
    out << "\n## Nodes left in float\n\n| node | op | why |\n|---|---|---|\n";
    for (const FloatNode& node : result.float_nodes) out << "| " << node.node << " | " << node.op_type << " | " << node.reason << " |\n";
  }
  if (!result.algorithms.empty()) out << "\n" << algorithm_outcomes_markdown(result.algorithms);
  if (!result.diagnostics.empty()) {
    out << "\n## Calibration diagnostics\n\n";
    for (const CalibrationDiagnostic& diagnostic : result.diagnostics) {
      out << "- " << (diagnostic.is_error ? "error" : "warning") << ": " << diagnostic.subject << ": " << diagnostic.message << "\n";
    }
  }
  if (!result.notes.empty()) {
    out << "\n## Notes\n\n";
    for (const std::string& note : result.notes) out << "- " << note << "\n";
  }
  return out.str();
}

// Exposed for the command's table.
std::string describe_scales(const ir::QuantParams& params) { return scales_text(params); }
std::string describe_zero_points(const ir::QuantParams& params) { return zero_points_text(params); }

}  // namespace npukit::quantization
