#include "quantization/algorithms/cross_layer_equalization.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "npukit/error.h"
#include "quantization/algorithms/layer_tools.h"

namespace npukit::quantization {

namespace {

constexpr int kMaxSweeps = 50;
constexpr double kConverged = 1e-4;      // largest |log s| of a sweep below which the scales stopped moving
constexpr size_t kStatisticsSamples = 32;  // calibration samples for the absorption statistics
constexpr size_t kCheckSamples = 4;        // calibration samples for the float before / after check

enum class Activation { none, relu, clip_from_zero };

struct EqualizedPair {
  LinearLayer first;
  LinearLayer second;
  ir::Node* activation_node = nullptr;
  Activation activation = Activation::none;
  // Clip(0, c) pairs: c, the largest pre-activation of each channel on the calibration data (before CLE), and the
  // product of the scales applied so far, so that each channel keeps c / S_i ≥ its maximum / S_i.
  double clip_high = 0;
  std::vector<double> channel_maximum;
  std::vector<double> applied;
};

// The only consumer of `value` when it has exactly one and is no graph output.
ir::Node* single_consumer(const ir::Value* value) {
  if (!value || value->is_graph_output || value->consumers.size() != 1) return nullptr;
  return value->consumers[0];
}

std::optional<double> scalar_initializer(const ir::Value* value) {
  if (!value || !value->initializer || value->initializer->element_count() != 1) return std::nullopt;
  return value->initializer->value_as_double(0);
}

// Clip(x, 0, c) with c finite and positive: ReLU-like, homogeneous once it is a Relu.
bool is_clip_from_zero(const ir::Node& node) {
  if (node.op_type != "Clip" || !node.domain.empty()) return false;
  const std::optional<double> low = scalar_initializer(node.input(1));
  const std::optional<double> high = scalar_initializer(node.input(2));
  return low && *low == 0.0 && high && std::isfinite(*high) && *high > 0;
}

bool owned_by_one_node(const LinearLayer& layer) {
  return layer.weight->consumers.size() == 1 && !layer.weight->is_graph_output &&
         (!layer.bias || (layer.bias->consumers.size() == 1 && !layer.bias->is_graph_output));
}

std::vector<EqualizedPair> find_pairs(ir::Graph& graph) {
  std::vector<EqualizedPair> pairs;
  for (const auto& node : graph.nodes()) {
    if (node->op_type != "Conv") continue;
    std::optional<LinearLayer> first = linear_layer(node.get());
    if (!first) continue;
    ir::Node* next = single_consumer(node->output(0));
    if (!next) continue;
    EqualizedPair pair;
    if (next->op_type == "Relu" && next->domain.empty()) {
      pair.activation = Activation::relu;
    } else if (is_clip_from_zero(*next)) {
      pair.activation = Activation::clip_from_zero;
    }
    if (pair.activation != Activation::none) {
      pair.activation_node = next;
      next = single_consumer(next->output(0));
      if (!next) continue;
    }
    if (next->op_type != "Conv" || next->input(0) != (pair.activation_node ? pair.activation_node->output(0)
                                                                             : node->output(0))) {
      continue;
    }
    std::optional<LinearLayer> second = linear_layer(next);
    if (!second || second->input_channels != first->output_channels) continue;
    // A weight or bias another node also reads would change that node too.
    if (!owned_by_one_node(*first) || !owned_by_one_node(*second)) continue;
    pair.first = *first;
    pair.second = *second;
    pairs.push_back(pair);
  }
  return pairs;
}

// For input channel `channel` of `layer`: the rows that read it and the span of each row that holds it.
struct InputChannelSpan {
  int64_t first_row, last_row, first_element, last_element;
};
InputChannelSpan input_channel_span(const LinearLayer& layer, int64_t channel) {
  const int64_t channels_per_group = layer.input_channels / layer.group;
  const int64_t rows_per_group = layer.output_channels / layer.group;
  const int64_t group = channel / channels_per_group;
  const int64_t local = channel % channels_per_group;
  return {group * rows_per_group, (group + 1) * rows_per_group, local * layer.kernel_elements,
          (local + 1) * layer.kernel_elements};
}

double largest_magnitude(const std::vector<float>& row) {
  double largest = 0;
  for (float value : row) largest = std::max(largest, std::fabs(static_cast<double>(value)));
  return largest;
}

// Mean over the output channels of (channel range / tensor range): 1 when every channel spans the whole
// per-tensor grid, small when a few channels take it all.
double grid_use(const LinearLayer& layer) {
  const auto rows = weight_rows(layer);
  double tensor_range = 0;
  std::vector<double> ranges;
  for (const auto& row : rows) {
    ranges.push_back(largest_magnitude(row));
    tensor_range = std::max(tensor_range, ranges.back());
  }
  if (tensor_range == 0 || ranges.empty()) return 1.0;
  double sum = 0;
  for (double range : ranges) sum += range / tensor_range;
  return sum / static_cast<double>(ranges.size());
}

// One equalization step of a pair; returns the largest |log s_i|.
double equalize_pair(ir::Graph& graph, EqualizedPair& pair) {
  auto first_rows = weight_rows(pair.first);
  auto second_rows = weight_rows(pair.second);
  std::vector<float> first_bias = bias_values(pair.first);
  double largest_step = 0;
  for (int64_t channel = 0; channel < pair.first.output_channels; ++channel) {
    const double first_range = largest_magnitude(first_rows[static_cast<size_t>(channel)]);
    const InputChannelSpan span = input_channel_span(pair.second, channel);
    double second_range = 0;
    for (int64_t row = span.first_row; row < span.last_row; ++row) {
      for (int64_t element = span.first_element; element < span.last_element; ++element) {
        second_range = std::max(second_range, std::fabs(static_cast<double>(second_rows[row][element])));
      }
    }
    // A dead channel on either side has nothing to balance.
    if (!(first_range > 0) || !(second_range > 0)) continue;
    double scale = std::sqrt(first_range * second_range) / second_range;
    if (!std::isfinite(scale) || scale <= 0) continue;
    if (pair.activation == Activation::clip_from_zero) {
      // Clip(x / S, 0, c) · S = Clip(x, 0, c · S): the same as Clip(x, 0, c) on the data when the channel never
      // reached c (max ≤ c) and S ≥ max / c; a channel that did reach c keeps S = 1.
      const size_t c = static_cast<size_t>(channel);
      const double maximum = pair.channel_maximum.empty() ? std::numeric_limits<double>::infinity() : pair.channel_maximum[c];
      if (!std::isfinite(maximum) || !(maximum <= pair.clip_high)) continue;  // reached c, or never measured
      const double lowest = std::max(maximum, 0.0) / pair.clip_high;
      if (pair.applied[c] * scale < lowest) scale = lowest / pair.applied[c];
      if (std::fabs(std::log(scale)) < 1e-12) continue;
      pair.applied[c] *= scale;
    }
    largest_step = std::max(largest_step, std::fabs(std::log(scale)));
    for (float& value : first_rows[static_cast<size_t>(channel)]) value = static_cast<float>(value / scale);
    first_bias[static_cast<size_t>(channel)] = static_cast<float>(first_bias[static_cast<size_t>(channel)] / scale);
    for (int64_t row = span.first_row; row < span.last_row; ++row) {
      for (int64_t element = span.first_element; element < span.last_element; ++element) {
        second_rows[row][element] = static_cast<float>(second_rows[row][element] * scale);
      }
    }
  }
  set_weight_rows(pair.first, first_rows);
  set_weight_rows(pair.second, second_rows);
  if (pair.first.bias) set_bias_values(graph, pair.first, first_bias);
  return largest_step;
}

// The largest pre-activation per channel of every Clip(0, c) pair's first Conv, on up to kStatisticsSamples
// calibration samples of the float model as it is before equalization.
void measure_clip_channels(const ir::Model& model, std::vector<EqualizedPair>& pairs, CalibrationSource& source) {
  std::map<std::string, EqualizedPair*> by_value;
  for (EqualizedPair& pair : pairs) {
    if (pair.activation != Activation::clip_from_zero) continue;
    pair.clip_high = scalar_initializer(pair.activation_node->input(2)).value_or(0.0);
    pair.applied.assign(static_cast<size_t>(pair.first.output_channels), 1.0);
    pair.channel_maximum.assign(static_cast<size_t>(pair.first.output_channels), -std::numeric_limits<double>::infinity());
    by_value[pair.first.node->output(0)->name] = &pair;
  }
  if (by_value.empty()) return;
  std::vector<std::string> values;
  for (const auto& [name, pair] : by_value) values.push_back(name);
  for_each_float_sample(model, values, source, kStatisticsSamples, [&](size_t, const std::map<std::string, Tensor>& captured) {
    for (const auto& [name, tensor] : captured) {
      EqualizedPair& pair = *by_value.at(name);
      const Shape& dims = tensor.shape();
      if (dims.size() < 2 || dims[1] != pair.first.output_channels) continue;
      int64_t inner = 1;
      for (size_t axis = 2; axis < dims.size(); ++axis) inner *= dims[axis];
      const std::span<const float> data = tensor.values<float>();
      for (size_t index = 0; index < data.size(); ++index) {
        const size_t channel = static_cast<size_t>((static_cast<int64_t>(index) / inner) % dims[1]);
        pair.channel_maximum[channel] = std::max<double>(pair.channel_maximum[channel], data[index]);
      }
    }
  });
}

struct ChannelStatistics {
  std::vector<double> sum, sum_of_squares, minimum;
  double count = 0;
};

// High-bias absorption of the pairs whose activation is a Relu and whose second Conv has no padding; returns
// how many channels gave some bias away.
int absorb_high_biases(ir::Model& model, std::vector<EqualizedPair>& pairs, CalibrationSource& source,
                       std::vector<std::string>& notes) {
  std::vector<EqualizedPair*> eligible;
  std::vector<std::string> values;
  for (EqualizedPair& pair : pairs) {
    if (pair.activation != Activation::relu || pair.second.padded || !pair.first.bias) continue;
    eligible.push_back(&pair);
    values.push_back(pair.first.node->output(0)->name);
  }
  if (eligible.empty()) return 0;
  std::map<std::string, ChannelStatistics> statistics;
  for_each_float_sample(model, values, source, kStatisticsSamples,
                        [&](size_t, const std::map<std::string, Tensor>& captured) {
                          for (const auto& [name, tensor] : captured) {
                            const Shape& dims = tensor.shape();
                            if (dims.size() < 2) continue;
                            const int64_t channels = dims[1];
                            int64_t inner = 1;
                            for (size_t axis = 2; axis < dims.size(); ++axis) inner *= dims[axis];
                            ChannelStatistics& entry = statistics[name];
                            if (entry.sum.empty()) {
                              entry.sum.assign(static_cast<size_t>(channels), 0.0);
                              entry.sum_of_squares.assign(static_cast<size_t>(channels), 0.0);
                              entry.minimum.assign(static_cast<size_t>(channels), std::numeric_limits<double>::infinity());
                            }
                            const std::span<const float> data = tensor.values<float>();
                            for (size_t index = 0; index < data.size(); ++index) {
                              const size_t channel = static_cast<size_t>((static_cast<int64_t>(index) / inner) % channels);
                              entry.sum[channel] += data[index];
                              entry.sum_of_squares[channel] += static_cast<double>(data[index]) * data[index];
                              entry.minimum[channel] = std::min<double>(entry.minimum[channel], data[index]);
                            }
                            entry.count += static_cast<double>(data.size()) / static_cast<double>(channels);
                          }
                        });
  int absorbed = 0;
  for (EqualizedPair* pair : eligible) {
    const ChannelStatistics& entry = statistics[pair->first.node->output(0)->name];
    if (entry.count == 0 || static_cast<int64_t>(entry.sum.size()) != pair->first.output_channels) continue;
    std::vector<float> first_bias = bias_values(pair->first);
    std::vector<float> second_bias = bias_values(pair->second);
    const auto second_rows = weight_rows(pair->second);
    bool changed = false;
    for (int64_t channel = 0; channel < pair->first.output_channels; ++channel) {
      const size_t c = static_cast<size_t>(channel);
      const double mean = entry.sum[c] / entry.count;
      const double deviation = std::sqrt(std::max(0.0, entry.sum_of_squares[c] / entry.count - mean * mean));
      const double shift = std::max(0.0, std::min(mean - 3.0 * deviation, entry.minimum[c]));
      if (!(shift > 0) || !std::isfinite(shift)) continue;
      first_bias[c] = static_cast<float>(first_bias[c] - shift);
      const InputChannelSpan span = input_channel_span(pair->second, channel);
      for (int64_t row = span.first_row; row < span.last_row; ++row) {
        double weight_sum = 0;
        for (int64_t element = span.first_element; element < span.last_element; ++element) {
          weight_sum += second_rows[row][element];
        }
        second_bias[static_cast<size_t>(row)] = static_cast<float>(second_bias[static_cast<size_t>(row)] + weight_sum * shift);
      }
      ++absorbed;
      changed = true;
    }
    if (changed) {
      set_bias_values(*model.graph, pair->first, first_bias);
      set_bias_values(*model.graph, pair->second, second_bias);
    }
  }
  notes.push_back("high-bias absorption: " + std::to_string(absorbed) + " channel(s) of " +
                  std::to_string(eligible.size()) + " pair(s) (Relu, unpadded second Conv), shift max(0, min(mean - "
                  "3 std, min)) of the pre-activation on " + std::to_string(std::min(kStatisticsSamples, source.size())) +
                  " calibration sample(s)");
  return absorbed;
}

// The float model's outputs before and after, as SQNR (dB) over the first calibration samples: +inf when equal.
double float_output_sqnr(const ir::Model& before, const ir::Model& after, CalibrationSource& source) {
  std::vector<std::string> outputs;
  for (const ir::Value* output : before.graph->outputs) outputs.push_back(output->name);
  std::vector<std::map<std::string, Tensor>> reference;
  for_each_float_sample(before, outputs, source, kCheckSamples,
                        [&](size_t, const std::map<std::string, Tensor>& row) {
                          std::map<std::string, Tensor> copy;
                          for (const auto& [name, tensor] : row) copy.emplace(name, tensor.clone());
                          reference.push_back(std::move(copy));
                        });
  double signal = 0, noise = 0;
  for_each_float_sample(after, outputs, source, kCheckSamples, [&](size_t index, const std::map<std::string, Tensor>& row) {
    for (const auto& [name, tensor] : row) {
      const std::vector<float> expected = reference[index].at(name).to_float_vector();
      const std::vector<float> actual = tensor.to_float_vector();
      for (size_t element = 0; element < expected.size() && element < actual.size(); ++element) {
        const double difference = static_cast<double>(expected[element]) - actual[element];
        signal += static_cast<double>(expected[element]) * expected[element];
        noise += difference * difference;
      }
    }
  });
  if (noise == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

std::string format_number(double value) {
  std::ostringstream text;
  text.precision(3);
  text << value;
  return text.str();
}

AlgorithmOutcome equalize(AlgorithmContext& context) {
  AlgorithmOutcome outcome;
  outcome.metric = "weight grid use: mean channel range / tensor range (1 = equalized)";
  ir::Model& model = context.model;
  std::vector<EqualizedPair> pairs = find_pairs(*model.graph);
  if (pairs.empty()) {
    outcome.notes.push_back("no Conv → [Relu | Clip(0, c)] → Conv pair with constant weights: nothing to equalize");
    return outcome;
  }
  const ir::Model original = model.clone();
  std::vector<std::string> layer_names;
  std::map<std::string, double> use_before;
  for (const EqualizedPair& pair : pairs) {
    for (const LinearLayer* layer : {&pair.first, &pair.second}) {
      if (use_before.count(layer->node->name)) continue;
      layer_names.push_back(layer->node->name);
      use_before[layer->node->name] = grid_use(*layer);
    }
  }

  measure_clip_channels(model, pairs, context.calibration);
  int sweeps = 0;
  double step = 0;
  for (; sweeps < kMaxSweeps; ++sweeps) {
    if (context.progress) context.progress(static_cast<size_t>(sweeps), kMaxSweeps, "equalizing channel ranges");
    step = 0;
    for (EqualizedPair& pair : pairs) {
      // Re-read the layers: an earlier pair of the sweep may have rewritten a shared Conv's tensors.
      pair.first = *linear_layer(pair.first.node);
      pair.second = *linear_layer(pair.second.node);
      step = std::max(step, equalize_pair(*model.graph, pair));
    }
    if (step < kConverged) {
      ++sweeps;
      break;
    }
  }
  if (context.progress) context.progress(kMaxSweeps, kMaxSweeps, "equalizing channel ranges");
  size_t clip_channels = 0, held_channels = 0;
  for (EqualizedPair& pair : pairs) {
    pair.first = *linear_layer(pair.first.node);
    pair.second = *linear_layer(pair.second.node);
    if (pair.activation != Activation::clip_from_zero) continue;
    for (double maximum : pair.channel_maximum) {
      ++clip_channels;
      if (!std::isfinite(maximum) || !(maximum <= pair.clip_high)) ++held_channels;
    }
  }
  outcome.notes.push_back(std::to_string(pairs.size()) + " Conv pair(s) equalized in " + std::to_string(sweeps) +
                          " sweep(s) (last largest |log s| " + format_number(step) + ")");
  if (clip_channels > 0) {
    outcome.notes.push_back("Clip(0, c) pairs: " + std::to_string(held_channels) + " of " + std::to_string(clip_channels) +
                            " channel(s) reached c on the calibration data and keep their scale (Clip is not positively "
                            "homogeneous); the others were scaled no further than keeps them below c");
  }
  absorb_high_biases(model, pairs, context.calibration, outcome.notes);

  const double check = float_output_sqnr(original, model, context.calibration);
  outcome.notes.push_back("float model after CLE vs before, on " +
                          std::to_string(std::min(kCheckSamples, context.calibration.size())) +
                          " calibration sample(s): output SQNR " +
                          (std::isinf(check) ? std::string("inf (identical)") : format_number(check) + " dB"));

  double before_sum = 0, after_sum = 0;
  for (const std::string& name : layer_names) {
    ir::Node* node = nullptr;
    for (const auto& candidate : model.graph->nodes()) {
      if (candidate->name == name) node = candidate.get();
    }
    const std::optional<LinearLayer> layer = linear_layer(node);
    if (!layer) continue;
    const double after = grid_use(*layer);
    before_sum += use_before[name];
    after_sum += after;
    outcome.layers.push_back({name, use_before[name], after, layer->depthwise() ? "depthwise" : ""});
  }
  outcome.before = before_sum / static_cast<double>(layer_names.size());
  outcome.after = after_sum / static_cast<double>(layer_names.size());
  return outcome;
}

}  // namespace

QuantizationAlgorithm cross_layer_equalization_algorithm() {
  QuantizationAlgorithm algorithm;
  algorithm.name = "cle";
  algorithm.summary =
      "cross-layer equalization (Nagel 2019): balance the channel ranges of Conv pairs, absorb high biases";
  algorithm.stage = AlgorithmStage::before_calibration;
  algorithm.apply = equalize;
  return algorithm;
}

}  // namespace npukit::quantization
