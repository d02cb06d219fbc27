#include "quantization/layer_sensitivity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "engine/engine.h"
#include "npukit/error.h"
#include "quantization/quantization_algorithm.h"

namespace npukit::quantization {

namespace {

// Node → the first node of the fusion group it belongs to, for the groups the plan treated as one layer (no point
// between their members).
std::map<const ir::Node*, const ir::Node*> fusion_heads(const ir::Graph& graph, const QuantizationPlan& plan,
                                                        const targets::NumericsSpec& spec) {
  std::map<const ir::Node*, const ir::Node*> head_of;
  for (const std::vector<std::string>& group : spec.fusion_groups.value) {
    if (group.size() < 2) continue;
    for (const auto& owned : graph.nodes()) {
      if (owned->op_type != group[0] || head_of.count(owned.get())) continue;
      std::vector<const ir::Node*> members = {owned.get()};
      const ir::Node* current = owned.get();
      for (size_t index = 1; index < group.size(); ++index) {
        const ir::Value* output = current->output(0);
        if (!output || output->is_graph_output || output->consumers.size() != 1 || plan.find(output->name)) break;
        const ir::Node* next = output->consumers[0];
        if (next->op_type != group[index]) break;
        members.push_back(next);
        current = next;
      }
      if (members.size() != group.size()) continue;
      for (const ir::Node* member : members) head_of[member] = owned.get();
    }
  }
  return head_of;
}

std::string node_label(const ir::Node& node, size_t index) {
  return node.name.empty() ? node.op_type + " #" + std::to_string(index) : node.name;
}

// A copy of `quantized` with the parameters of every point outside `keep` removed (those values stay float).
ir::Model keep_only(const ir::Model& quantized, const QuantizationPlan& plan, const std::set<std::string>& keep) {
  ir::Model copy = quantized.clone();
  for (const PlannedPoint& point : plan.points) {
    if (keep.count(point.value)) continue;
    if (ir::Value* value = copy.graph->find_value(point.value)) value->quant.reset();
  }
  return copy;
}

double evaluate(const ir::Model& model, const std::string& target_id,
                const std::vector<std::map<std::string, Tensor>>& inputs,
                const std::vector<std::map<std::string, Tensor>>& reference, std::string& problem) {
  try {
    return output_sqnr_db(model, target_id, inputs, reference);
  } catch (const Error& error) {
    // A partly quantized model the sim backend cannot lower: unknown, ranked last rather than stopping the analysis.
    if (problem.empty()) problem = error.reason();
    return std::numeric_limits<double>::quiet_NaN();
  }
}

// NaN (not measured) sorts after every number.
bool more_sensitive(const LayerSensitivity& a, const LayerSensitivity& b) {
  const bool a_known = !std::isnan(a.alone_db);
  const bool b_known = !std::isnan(b.alone_db);
  if (a_known != b_known) return a_known;
  if (a_known && a.alone_db != b.alone_db) return a.alone_db < b.alone_db;
  const double a_gain = std::isnan(a.all_but_db) ? -std::numeric_limits<double>::infinity() : a.all_but_db;
  const double b_gain = std::isnan(b.all_but_db) ? -std::numeric_limits<double>::infinity() : b.all_but_db;
  return a_gain > b_gain;
}

}  // namespace

std::vector<QuantizedLayer> quantized_layers(const ir::Graph& graph, const QuantizationPlan& plan,
                                             const targets::NumericsSpec& spec) {
  const std::map<const ir::Node*, const ir::Node*> head_of = fusion_heads(graph, plan, spec);
  std::map<std::string, const ir::Node*> node_by_name;
  std::map<const ir::Node*, size_t> index_of;
  size_t index = 0;
  for (const auto& owned : graph.nodes()) {
    if (!owned->name.empty()) node_by_name.emplace(owned->name, owned.get());
    index_of[owned.get()] = index++;
  }
  auto head = [&](const ir::Node* node) {
    auto found = head_of.find(node);
    return found == head_of.end() ? node : found->second;
  };
  // Layers keyed by their head, plus graph-input layers keyed by value.
  std::map<const ir::Node*, QuantizedLayer> by_head;
  std::vector<QuantizedLayer> input_layers;
  std::set<std::string> points_of_layers;
  for (const PlannedPoint& point : plan.points) {
    if (point.node.empty()) {
      QuantizedLayer layer;
      layer.name = "input " + point.value;
      layer.op_types = "input";
      layer.points = {point.value};
      input_layers.push_back(std::move(layer));
      continue;
    }
    auto found = node_by_name.find(point.node);
    if (found == node_by_name.end()) continue;  // an unnamed node: it cannot be told apart, nor excluded
    QuantizedLayer& layer = by_head[head(found->second)];
    layer.points.push_back(point.value);
  }
  // Members, names and the points each layer reads.
  for (const auto& owned : graph.nodes()) {
    const ir::Node* layer_head = head(owned.get());
    auto layer = by_head.find(layer_head);
    if (layer == by_head.end()) continue;
    if (layer->second.name.empty()) layer->second.name = node_label(*layer_head, index_of.at(layer_head));
    layer->second.op_types += (layer->second.op_types.empty() ? "" : "+") + owned->op_type;
    if (!owned->name.empty()) layer->second.nodes.push_back(owned->name);
  }
  for (auto& [layer_head, layer] : by_head) {
    const std::set<std::string> own(layer.points.begin(), layer.points.end());
    for (const auto& owned : graph.nodes()) {
      if (head(owned.get()) != layer_head) continue;
      for (const ir::Value* input : owned->inputs) {
        if (!input || own.count(input->name)) continue;
        const PlannedPoint* point = plan.find(input->name);
        if (point && point->role == PointRole::activation &&
            std::find(layer.inputs.begin(), layer.inputs.end(), input->name) == layer.inputs.end()) {
          layer.inputs.push_back(input->name);
        }
      }
    }
  }
  std::vector<std::pair<size_t, QuantizedLayer>> ordered;
  for (auto& [layer_head, layer] : by_head) ordered.emplace_back(index_of.at(layer_head), std::move(layer));
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<QuantizedLayer> layers = std::move(input_layers);
  for (auto& [position, layer] : ordered) layers.push_back(std::move(layer));
  return layers;
}

double output_sqnr_db(const ir::Model& quantized, const std::string& target_id,
                      const std::vector<std::map<std::string, Tensor>>& inputs,
                      const std::vector<std::map<std::string, Tensor>>& reference) {
  std::unique_ptr<engine::Engine> engine = simulate_quantized_model(quantized, target_id);
  std::vector<float> expected;
  std::vector<float> measured;
  for (size_t sample = 0; sample < inputs.size(); ++sample) {
    const std::map<std::string, Tensor> outputs = engine->run(inputs[sample]);
    for (const auto& [name, tensor] : reference.at(sample)) {
      const std::vector<float> want = tensor.to_float_vector();
      const std::vector<float> got = outputs.at(name).to_float_vector();
      expected.insert(expected.end(), want.begin(), want.end());
      measured.insert(measured.end(), got.begin(), got.end());
    }
  }
  const int64_t count = static_cast<int64_t>(expected.size());
  return sqnr_db(Tensor::from_vector<float>(DType::f32, {count}, expected),
                 Tensor::from_vector<float>(DType::f32, {static_cast<int64_t>(measured.size())}, measured));
}

SensitivityAnalysis analyze_layer_sensitivity(const ir::Model& quantized, const QuantizationPlan& plan,
                                              const QuantizationSettings& settings,
                                              const targets::TargetProfile& target, CalibrationSource& source,
                                              size_t max_samples, const std::function<void(size_t, size_t)>& progress) {
  const size_t count = max_samples == 0 ? source.size() : std::min(max_samples, source.size());
  if (count == 0) {
    throw Error(ErrorKind::invalid_argument,
                "sensitivity analysis needs calibration samples; " + source.describe() + " holds none");
  }
  std::vector<std::string> outputs;
  for (const ir::Value* output : quantized.graph->outputs) outputs.push_back(output->name);
  const std::vector<std::map<std::string, Tensor>> reference = capture_float_values(quantized, outputs, source, count);
  std::vector<std::map<std::string, Tensor>> inputs;
  for (size_t index = 0; index < count; ++index) inputs.push_back(source.sample(index).inputs);

  SensitivityAnalysis analysis;
  analysis.samples = count;
  const std::vector<QuantizedLayer> layers = quantized_layers(*quantized.graph, plan, target.numerics);
  const size_t total = 1 + 2 * layers.size();
  size_t done = 0;
  analysis.all_quantized_db = output_sqnr_db(quantized, target.id, inputs, reference);
  if (progress) progress(++done, total);
  std::set<std::string> every_point;
  for (const PlannedPoint& point : plan.points) every_point.insert(point.value);
  for (const QuantizedLayer& layer : layers) {
    LayerSensitivity row;
    row.layer = layer;
    std::set<std::string> alone(layer.points.begin(), layer.points.end());
    alone.insert(layer.inputs.begin(), layer.inputs.end());
    row.alone_db = evaluate(keep_only(quantized, plan, alone), target.id, inputs, reference, row.problem);
    if (progress) progress(++done, total);
    std::set<std::string> all_but;
    if (layer.nodes.empty()) {
      all_but = every_point;
      for (const std::string& point : layer.points) all_but.erase(point);
    } else {
      // What --exclude of the layer's nodes would place (its input may stay a point for a reader that computes).
      QuantizationSettings without = settings;
      without.exclude.insert(without.exclude.end(), layer.nodes.begin(), layer.nodes.end());
      for (const PlannedPoint& point : plan_quantization_points(*quantized.graph, target.numerics, without).points) {
        if (every_point.count(point.value)) all_but.insert(point.value);
      }
    }
    row.all_but_db = evaluate(keep_only(quantized, plan, all_but), target.id, inputs, reference, row.problem);
    if (progress) progress(++done, total);
    analysis.layers.push_back(std::move(row));
  }
  std::stable_sort(analysis.layers.begin(), analysis.layers.end(), more_sensitive);
  return analysis;
}

}  // namespace npukit::quantization
