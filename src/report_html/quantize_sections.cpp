#include "report_html/quantize_sections.h"

#include <algorithm>
#include <map>
#include <set>

#include "quantization/algorithms/sensitivity.h"
#include "quantization/mixed_precision.h"
#include "quantization/quantization_manifest.h"
#include "report/table.h"

namespace npukit::report_html {

const char* const sensitivity_bar_color = "#2f6fb0";
const char* const sensitivity_float_bar_color = "#c0392b";
const char* const sensitivity_sixteen_bit_bar_color = "#e67e22";

namespace {

using quantization::AlgorithmOutcome;
using report::format_number;

// At most this many bars: the chart is for the few layers that matter; the table below it lists them all.
constexpr size_t kMostBars = 40;

std::string figure(const std::optional<double>& value) { return value ? format_number(*value, 4) : "-"; }

const AlgorithmOutcome* find_outcome(const quantization::QuantizeResult& result, const std::string& name) {
  for (const AlgorithmOutcome& outcome : result.algorithms) {
    if (outcome.algorithm == name) return &outcome;
  }
  return nullptr;
}

// Layer → "int8" / "float ..." from the mixed-precision outcome, when there is one.
std::map<std::string, std::string> chosen_precision(const quantization::QuantizeResult& result) {
  std::map<std::string, std::string> precision;
  if (const AlgorithmOutcome* mixed = find_outcome(result, quantization::kMixedPrecisionAlgorithm)) {
    for (const quantization::LayerOutcome& layer : mixed->layers) {
      precision[layer.node] = layer.detail.substr(0, layer.detail.find(','));
    }
  }
  return precision;
}

Section summary_section(const quantization::QuantizeResult& result, const std::string& output_path) {
  Section section{"What was quantized", {}};
  std::string method(quantization::range_method_name(result.range_options.method));
  if (result.range_options.method == quantization::RangeMethod::percentile) {
    method += " " + format_number(result.range_options.percentile);
  }
  size_t activations = 0, weights = 0, biases = 0;
  for (const quantization::QuantizedTensor& tensor : result.tensors) {
    activations += tensor.role == quantization::PointRole::activation;
    weights += tensor.role == quantization::PointRole::weight;
    biases += tensor.role == quantization::PointRole::bias;
  }
  section.blocks.push_back(BulletList{{
      "model: " + result.model_path + " → " + output_path,
      "target: " + result.target_id,
      "calibration: " + result.calibration_description + " (" + std::to_string(result.calibration_samples) +
          " samples, " + result.calibration_backend + " backend)",
      "range method: " + method,
      std::to_string(activations) + " activations, " + std::to_string(weights) + " weights, " + std::to_string(biases) +
          " biases quantized; " + std::to_string(result.float_nodes.size()) + " nodes run in float",
  }});
  if (!result.notes.empty()) {
    section.blocks.push_back(Paragraph{"Notes:"});
    section.blocks.push_back(BulletList{result.notes});
  }
  return section;
}

Section sensitivity_section(const AlgorithmOutcome& sensitivity, const std::map<std::string, std::string>& precision) {
  Section section{"Per-layer sensitivity", {}};
  section.blocks.push_back(Paragraph{
      "Output SQNR of the model with only this layer quantized (its own points and the points it reads; every other "
      "layer float), and with every layer quantized but this one, through the target's integer arithmetic (sim "
      "backend). Most sensitive first. With every layer quantized: " + figure(sensitivity.before) + " dB."});
  BarChart chart{"Output SQNR with only this layer quantized (dB), most sensitive first" +
                     std::string(precision.empty() ? "" : "; red: kept float"),
                 "dB", {}, false};
  TableBlock data{{"rank", "layer", "alone (dB)", "all but (dB)", "precision", "detail"}, {},
                  {true, false, true, true, false, false}};
  size_t rank = 0;
  for (const quantization::LayerOutcome& layer : sensitivity.layers) {
    ++rank;
    const auto chosen = precision.find(layer.node);
    const std::string chosen_text = chosen == precision.end() ? "int8" : chosen->second;
    data.rows.push_back({std::to_string(rank), layer.node, figure(layer.before), figure(layer.after), chosen_text,
                         layer.detail});
    if (chart.bars.size() >= kMostBars || !layer.before) continue;
    Bar bar;
    bar.label = layer.node.size() > 32 ? "…" + layer.node.substr(layer.node.size() - 31) : layer.node;
    bar.value = std::max(0.0, *layer.before);
    bar.color = chosen_text.rfind("float", 0) == 0   ? sensitivity_float_bar_color
                : chosen_text.rfind("int16", 0) == 0 ? sensitivity_sixteen_bit_bar_color
                                                     : sensitivity_bar_color;
    bar.annotation = format_number(*layer.before, 4) + " dB";
    chart.bars.push_back(bar);
  }
  if (!chart.bars.empty()) section.blocks.push_back(Chart{render_svg(chart), data});
  else section.blocks.push_back(data);
  if (!sensitivity.notes.empty()) section.blocks.push_back(BulletList{sensitivity.notes});
  return section;
}

Section algorithms_section(const quantization::QuantizeResult& result) {
  Section section{"Algorithms applied", {}};
  TableBlock table{{"algorithm", "metric", "before", "after", "seconds"}, {}, {false, false, true, true, true}};
  for (const AlgorithmOutcome& outcome : result.algorithms) {
    table.rows.push_back({outcome.algorithm, outcome.metric.empty() ? "-" : outcome.metric, figure(outcome.before),
                          figure(outcome.after), format_number(outcome.seconds, 3)});
  }
  section.blocks.push_back(table);
  for (const AlgorithmOutcome& outcome : result.algorithms) {
    if (outcome.algorithm == quantization::kSensitivityAlgorithm) continue;  // its own section
    if (!outcome.layers.empty()) {
      TableBlock layers{{outcome.algorithm + ": layer", "before", "after", "detail"}, {}, {false, true, true, false}};
      for (const quantization::LayerOutcome& layer : outcome.layers) {
        layers.rows.push_back({layer.node, figure(layer.before), figure(layer.after), layer.detail});
      }
      section.blocks.push_back(layers);
    }
    if (!outcome.notes.empty()) {
      std::vector<std::string> notes;
      for (const std::string& note : outcome.notes) notes.push_back(outcome.algorithm + ": " + note);
      section.blocks.push_back(BulletList{notes});
    }
  }
  return section;
}

Section tensors_section(const quantization::QuantizeResult& result) {
  Section section{"Quantized tensors", {}};
  TableBlock table{{"value", "role", "op", "dtype", "range", "scale", "zero point"}, {},
                   {false, false, false, false, true, true, true}};
  for (const quantization::QuantizedTensor& tensor : result.tensors) {
    table.rows.push_back({tensor.value, std::string(quantization::point_role_name(tensor.role)), tensor.op_type,
                          std::string(dtype_name(tensor.params.storage)),
                          "[" + format_number(tensor.range_minimum, 4) + ", " + format_number(tensor.range_maximum, 4) + "]",
                          quantization::describe_scales(tensor.params), quantization::describe_zero_points(tensor.params)});
  }
  section.blocks.push_back(table);
  if (!result.float_nodes.empty()) {
    TableBlock floats{{"node left float", "op", "reason"}, {}, {}};
    for (const quantization::FloatNode& node : result.float_nodes) floats.rows.push_back({node.node, node.op_type, node.reason});
    section.blocks.push_back(floats);
  }
  return section;
}

}  // namespace

std::vector<Section> quantize_sections(const quantization::QuantizeResult& result, const std::string& output_path) {
  std::vector<Section> sections{summary_section(result, output_path)};
  if (const AlgorithmOutcome* sensitivity = find_outcome(result, quantization::kSensitivityAlgorithm)) {
    sections.push_back(sensitivity_section(*sensitivity, chosen_precision(result)));
  }
  if (!result.algorithms.empty()) sections.push_back(algorithms_section(result));
  sections.push_back(tensors_section(result));
  return sections;
}

void write_quantize_report(const std::string& path, const quantization::QuantizeResult& result,
                           const std::string& output_path) {
  Report report("npukit quantize: " + result.model_path, "target " + result.target_id);
  for (Section& section : quantize_sections(result, output_path)) report.add_section(std::move(section));
  write_report(report, path);
}

}  // namespace npukit::report_html
