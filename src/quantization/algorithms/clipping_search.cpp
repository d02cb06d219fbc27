#include "quantization/algorithms/clipping_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "npukit/error.h"
#include "quantization/algorithms/layer_tools.h"
#include "quantization/quantize_model.h"

namespace npukit::quantization {

namespace {

constexpr size_t kSamples = 32;           // calibration samples the patches come from
constexpr size_t kPatchesPerLayer = 512;  // patches kept per layer over all samples
constexpr size_t kElementsPerValue = 4096;
const std::vector<double> kRatios = {1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.4, 0.3, 0.2, 0.1};

double decibels(double signal, double noise) {
  if (noise <= 0) return std::numeric_limits<double>::infinity();
  if (signal <= 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

struct LayerData {
  LinearLayer layer;
  LayerPatches patches;
  std::vector<std::vector<float>> rows;
  double signal = 0;  // Σ (W p)² over the patches: the layer output's energy
};

// Σ over patches and rows of (Σ_j rows[o][j] · difference(p)[j])², where difference maps a patch to the error of
// its quantized form; rows of group g read the patches of group g.
double output_error(const LayerData& data, const std::function<void(const std::vector<float>&, std::vector<float>&)>& difference) {
  const int64_t rows_per_group = data.layer.output_channels / data.layer.group;
  double total = 0;
  std::vector<float> delta;
  for (size_t group = 0; group < data.patches.by_group.size(); ++group) {
    for (const std::vector<float>& patch : data.patches.by_group[group]) {
      difference(patch, delta);
      for (int64_t row = static_cast<int64_t>(group) * rows_per_group; row < static_cast<int64_t>(group + 1) * rows_per_group; ++row) {
        const double sum = dot_product(data.rows[static_cast<size_t>(row)].data(), delta.data(), delta.size());
        total += sum * sum;
      }
    }
  }
  return total;
}

double output_signal(const LayerData& data) {
  return output_error(data, [](const std::vector<float>& patch, std::vector<float>& out) { out = patch; });
}

AlgorithmOutcome search(AlgorithmContext& context) {
  AlgorithmOutcome outcome;
  outcome.metric = "mean layer output SQNR (dB) on sampled calibration patches";
  if (!context.tensors) throw Error(ErrorKind::internal, "clip-search runs after the parameters are made");
  ir::Model& model = context.model;
  ir::Graph& graph = *model.graph;
  const QuantizationPlan& plan = context.plan;
  std::map<std::string, QuantizedTensor*> records;
  for (QuantizedTensor& record : *context.tensors) records[record.value] = &record;

  // What to search: activation groups, and the layers whose weights are points or whose input is one.
  std::map<std::string, std::vector<const PlannedPoint*>> groups;
  std::map<std::string, LayerData> layers;  // by node name
  std::vector<std::string> weight_layers;
  auto add_layer = [&](ir::Node* node) -> bool {
    if (!node) return false;
    if (layers.count(node->name)) return true;
    std::optional<LinearLayer> layer = linear_layer(node);
    if (!layer || !node->input(0)) return false;
    LayerData data;
    data.layer = *layer;
    data.rows = weight_rows(*layer);
    layers.emplace(node->name, std::move(data));
    return true;
  };
  for (const PlannedPoint& point : plan.points) {
    if (point.role == PointRole::activation && records.count(point.value)) {
      groups[point.scale_group].push_back(&point);
      const ir::Value* value = graph.find_value(point.value);
      for (ir::Node* consumer : value->consumers) {
        if (consumer->input(0) == value) add_layer(consumer);
      }
    } else if (point.role == PointRole::weight && records.count(point.value)) {
      ir::Node* node = nullptr;
      for (ir::Node* consumer : graph.find_value(point.value)->consumers) {
        if (consumer->name == point.node) node = consumer;
      }
      if (add_layer(node) && layers.at(point.node).layer.weight->name == point.value) weight_layers.push_back(point.node);
    }
  }

  // One float pass: patches of every layer, sampled elements of every activation.
  std::set<std::string> wanted;
  for (const auto& [name, data] : layers) wanted.insert(data.layer.node->input(0)->name);
  for (const auto& [group, members] : groups) {
    for (const PlannedPoint* member : members) wanted.insert(member->value);
  }
  std::map<std::string, std::vector<float>> elements;
  std::mt19937 random(11);
  const size_t samples = std::min(kSamples, context.calibration.size());
  if (samples == 0) throw Error(ErrorKind::invalid_argument, "clip-search: the calibration data holds no sample");
  const size_t per_sample = std::max<size_t>(1, kPatchesPerLayer / samples);
  for_each_float_sample(model, std::vector<std::string>(wanted.begin(), wanted.end()), context.calibration, samples,
                        [&](size_t index, const std::map<std::string, Tensor>& captured) {
                          if (context.progress) context.progress(index, samples, "clip search: sampling layer inputs");
                          for (auto& [name, data] : layers) {
                            sample_patches(data.layer, captured.at(data.layer.node->input(0)->name), per_sample, random,
                                           data.patches);
                          }
                          for (const auto& [name, tensor] : captured) {
                            const std::vector<float> values = tensor.to_float_vector();
                            if (values.empty()) continue;
                            std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
                            std::vector<float>& kept = elements[name];
                            for (size_t draw = 0; draw < kElementsPerValue / samples + 1; ++draw) kept.push_back(values[pick(random)]);
                          }
                        });
  for (auto& [name, data] : layers) data.signal = output_signal(data);

  const size_t total_steps = groups.size() + weight_layers.size();
  size_t step = 0;
  double before_sum = 0, after_sum = 0;
  size_t measured = 0, clipped_activations = 0, clipped_weights = 0;

  // Activations.
  for (const auto& group_entry : groups) {
    // A plain reference, not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const auto& group = group_entry.first;
    const auto& members = group_entry.second;
    if (context.progress) context.progress(step++, total_steps, "clip search");
    const QuantizedTensor& first = *records.at(members[0]->value);
    const double low = std::min(first.range_minimum, 0.0);
    const double high = std::max(first.range_maximum, 0.0);
    if (!(high - low > 0)) continue;
    std::vector<const LayerData*> readers;
    for (const PlannedPoint* member : members) {
      for (const auto& [name, data] : layers) {
        if (data.layer.node->input(0)->name == member->value) readers.push_back(&data);
      }
    }
    auto error_of = [&](double ratio, double& signal) {
      const ir::QuantParams params = params_for_range(ratio * low, ratio * high, members[0]->storage,
                                                      members[0]->narrow_range, members[0]->symmetric);
      const float scale = params.scales[0];
      const int64_t zero = params.zero_point(0);
      auto quantize_difference = [&](const std::vector<float>& patch, std::vector<float>& out) {
        out.resize(patch.size());
        for (size_t j = 0; j < patch.size(); ++j) {
          out[j] = fake_quantize(patch[j], scale, zero, params.storage_min(), params.storage_max(),
                                 ir::RoundingMode::half_to_even) - patch[j];
        }
      };
      double error = 0;
      signal = 0;
      if (!readers.empty()) {
        for (const LayerData* reader : readers) {
          error += output_error(*reader, quantize_difference);
          signal += reader->signal;
        }
      } else {
        for (const PlannedPoint* member : members) {
          std::vector<float> difference;
          const std::vector<float>& values = elements[member->value];
          quantize_difference(values, difference);
          for (size_t j = 0; j < values.size(); ++j) {
            error += static_cast<double>(difference[j]) * difference[j];
            signal += static_cast<double>(values[j]) * values[j];
          }
        }
      }
      return error;
    };
    double signal = 0;
    const double unclipped = error_of(1.0, signal);
    double best = unclipped, best_ratio = 1.0;
    for (double ratio : kRatios) {
      double ignored = 0;
      const double error = error_of(ratio, ignored);
      if (error < best) best = error, best_ratio = ratio;
    }
    const double before = decibels(signal, unclipped);
    const double after = decibels(signal, best);
    if (std::isfinite(before) && std::isfinite(after)) before_sum += before, after_sum += after, ++measured;
    if (best_ratio < 1.0) {
      ++clipped_activations;
      for (const PlannedPoint* member : members) {
        QuantizedTensor& record = *records.at(member->value);
        ir::QuantParams params = params_for_range(best_ratio * low, best_ratio * high, member->storage,
                                                  member->narrow_range, member->symmetric);
        params.rounding = record.params.rounding;
        record.params = params;
        record.range_minimum = best_ratio * low;
        record.range_maximum = best_ratio * high;
        graph.find_value(member->value)->quant = params;
      }
      outcome.layers.push_back({group + " (activation)", before, after,
                                "range × " + std::to_string(best_ratio).substr(0, 4) +
                                    (readers.empty() ? ", tensor error" : ", error at the reading layers' outputs")});
    }
  }

  // Weights: per channel (or per tensor) scale ratio, input patches float.
  for (const std::string& name : weight_layers) {
    if (context.progress) context.progress(step++, total_steps, "clip search");
    LayerData& data = layers.at(name);
    QuantizedTensor& record = *records.at(data.layer.weight->name);
    const ir::QuantParams original = record.params;
    const bool per_channel = original.scales.size() > 1;
    if (per_channel && static_cast<int64_t>(original.scales.size()) != data.layer.output_channels) continue;
    const int64_t rows_per_group = data.layer.output_channels / data.layer.group;
    // error[row][candidate]
    std::vector<std::vector<double>> errors(data.rows.size(), std::vector<double>(kRatios.size(), 0.0));
    for (size_t candidate = 0; candidate < kRatios.size(); ++candidate) {
      for (size_t row = 0; row < data.rows.size(); ++row) {
        const size_t index = per_channel ? row : 0;
        const float scale = static_cast<float>(original.scales[index] * kRatios[candidate]);
        const int64_t zero = original.zero_point(index);
        std::vector<float> delta(data.rows[row].size());
        for (size_t j = 0; j < delta.size(); ++j) {
          delta[j] = fake_quantize(data.rows[row][j], scale, zero, original.storage_min(), original.storage_max(),
                                   original.rounding) - data.rows[row][j];
        }
        const size_t group = row / static_cast<size_t>(rows_per_group);
        double total = 0;
        for (const std::vector<float>& patch : data.patches.by_group[group]) {
          const double sum = dot_product(delta.data(), patch.data(), delta.size());
          total += sum * sum;
        }
        errors[row][candidate] = total;
      }
    }
    std::vector<size_t> chosen(data.rows.size(), 0);
    if (per_channel) {
      for (size_t row = 0; row < data.rows.size(); ++row) {
        chosen[row] = static_cast<size_t>(std::min_element(errors[row].begin(), errors[row].end()) - errors[row].begin());
      }
    } else {
      std::vector<double> sums(kRatios.size(), 0.0);
      for (const auto& row : errors) {
        for (size_t candidate = 0; candidate < kRatios.size(); ++candidate) sums[candidate] += row[candidate];
      }
      const size_t best = static_cast<size_t>(std::min_element(sums.begin(), sums.end()) - sums.begin());
      std::fill(chosen.begin(), chosen.end(), best);
    }
    double before = 0, after = 0;
    size_t clipped = 0;
    for (size_t row = 0; row < data.rows.size(); ++row) {
      before += errors[row][0];
      after += errors[row][chosen[row]];
      if (chosen[row] != 0) ++clipped;
    }
    const double before_db = decibels(data.signal, before);
    const double after_db = decibels(data.signal, after);
    if (std::isfinite(before_db) && std::isfinite(after_db)) before_sum += before_db, after_sum += after_db, ++measured;
    if (clipped == 0) continue;
    ++clipped_weights;
    ir::QuantParams params = original;
    for (size_t index = 0; index < params.scales.size(); ++index) {
      params.scales[index] = static_cast<float>(original.scales[index] * kRatios[chosen[index]]);
    }
    record.params = params;
    graph.find_value(record.value)->quant = params;
    outcome.layers.push_back({name + " (weights)", before_db, after_db,
                              std::to_string(clipped) + " of " + std::to_string(data.rows.size()) +
                                  (per_channel ? " channel scale(s) clipped" : " rows: tensor scale clipped")});
  }
  // Smaller scales can push a bias past int32 at s_x · s_w: widen those channels back as quantize_model does.
  for (const PlannedPoint& point : plan.points) {
    if (point.role != PointRole::bias) continue;
    ir::Value* bias = graph.find_value(point.value);
    ir::Value* input = graph.find_value(point.bias_input);
    ir::Value* weight = graph.find_value(point.bias_weight);
    if (!bias || !bias->quant || !input || !input->quant || !weight || !weight->quant) continue;
    ir::QuantParams widened = *weight->quant;
    const int64_t bias_maximum = bias->quant->storage_max();
    if (widen_weight_scales_for_bias(*bias->initializer, *input->quant, widened, bias_maximum) > 0) {
      weight->quant = widened;
      if (records.count(weight->name)) records.at(weight->name)->params = widened;
      outcome.notes.push_back("weight '" + weight->name + "': a clipped scale widened back so that bias '" +
                              bias->name + "' fits its grid");
    }
  }
  refresh_bias_parameters(model, plan, *context.tensors);
  if (context.progress) context.progress(total_steps, total_steps, "clip search");
  outcome.notes.push_back(std::to_string(clipped_activations) + " of " + std::to_string(groups.size()) +
                          " activation group(s) and " + std::to_string(clipped_weights) + " of " +
                          std::to_string(weight_layers.size()) + " weight tensor(s) clipped; " +
                          std::to_string(samples) + " calibration sample(s), up to " +
                          std::to_string(per_sample * samples) + " input patches per layer");
  if (measured > 0) {
    outcome.before = before_sum / static_cast<double>(measured);
    outcome.after = after_sum / static_cast<double>(measured);
  }
  return outcome;
}

}  // namespace

QuantizationAlgorithm clipping_search_algorithm() {
  QuantizationAlgorithm algorithm;
  algorithm.name = "clip-search";
  algorithm.summary = "per layer, the activation and weight clip ratio with the least layer-output error on calibration data";
  algorithm.stage = AlgorithmStage::after_parameters;
  algorithm.apply = search;
  return algorithm;
}

}  // namespace npukit::quantization
