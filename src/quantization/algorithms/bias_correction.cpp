#include "quantization/algorithms/bias_correction.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "engine/engine.h"
#include "npukit/error.h"
#include "onnx/qdq_mapping.h"
#include "quantization/algorithms/layer_tools.h"
#include "quantization/quantize_model.h"

namespace npukit::quantization {

namespace {

constexpr size_t kEmpiricalSamples = 16;
constexpr size_t kAnalyticSamples = 32;
constexpr double kMinimumObservations = 16;  // positions per channel inside the pass band to trust a mean
constexpr int kRounds = 3;                   // corrections of one layer at most
constexpr double kRefineAbove = 0.02;        // LSB: a layer's residual above which it is corrected again

struct CorrectedLayer {
  LinearLayer layer;
  std::string measured;  // the quantization point the layer's output reaches (after a fused Relu / Clip)
  double band_low = -std::numeric_limits<double>::infinity();  // where the activation passes values through
  double band_high = std::numeric_limits<double>::infinity();
};

std::string format_number(double value) {
  std::ostringstream text;
  text.precision(3);
  text << value;
  return text.str();
}

void require_samples(const CalibrationSource& source, const std::string& algorithm) {
  if (source.size() < 2) {
    throw Error(ErrorKind::invalid_argument,
                algorithm + ": " + std::to_string(source.size()) +
                    " calibration sample(s) are too few to estimate a mean error per channel (a mean from one sample "
                    "corrects that sample's noise, not the layer's bias); give at least 2, 16 or more is better");
  }
}

// The layers with a quantized bias, in graph order, with the point their output is measured at.
std::vector<CorrectedLayer> corrected_layers(AlgorithmContext& context, std::vector<std::string>& notes) {
  ir::Graph& graph = *context.model.graph;
  std::map<std::string, const PlannedPoint*> bias_by_node;
  for (const PlannedPoint& point : context.plan.points) {
    if (point.role != PointRole::bias) continue;
    const ir::Value* bias = graph.find_value(point.value);
    if (bias && bias->quant) bias_by_node[point.node] = &point;
  }
  std::vector<CorrectedLayer> layers;
  size_t skipped = 0;
  for (const auto& node : graph.nodes()) {
    if (!bias_by_node.count(node->name)) continue;
    std::optional<LinearLayer> layer = linear_layer(node.get());
    // A bias another node also reads is left alone: its correction would be that node's error too.
    if (!layer || !layer->bias || layer->bias->name != bias_by_node[node->name]->value ||
        layer->bias->consumers.size() != 1) {
      ++skipped;
      continue;
    }
    CorrectedLayer entry;
    entry.layer = *layer;
    ir::Value* output = node->output(0);
    const PlannedPoint* point = context.plan.find(output->name);
    if (point && point->role == PointRole::activation) {
      entry.measured = output->name;
    } else if (output->consumers.size() == 1 && !output->is_graph_output) {
      ir::Node* activation = output->consumers[0];
      const PlannedPoint* after = activation->output(0) ? context.plan.find(activation->output(0)->name) : nullptr;
      if (after && after->role == PointRole::activation && activation->domain.empty() &&
          (activation->op_type == "Relu" || activation->op_type == "Clip")) {
        entry.measured = after->value;
        if (activation->op_type == "Relu") {
          entry.band_low = 0;
        } else {
          const ir::Value* low = activation->input(1);
          const ir::Value* high = activation->input(2);
          if (low && low->initializer) entry.band_low = low->initializer->value_as_double(0);
          if (high && high->initializer) entry.band_high = high->initializer->value_as_double(0);
        }
      }
    }
    if (entry.measured.empty()) {
      ++skipped;
      continue;
    }
    layers.push_back(entry);
  }
  if (skipped > 0) {
    notes.push_back(std::to_string(skipped) + " layer(s) with a quantized bias left alone: their output reaches no "
                                              "quantization point directly or through one Relu / Clip");
  }
  return layers;
}

std::vector<float> as_float(const Tensor& tensor, const ir::Value& value) {
  if (tensor.dtype() == DType::f32) return tensor.to_float_vector();
  std::vector<float> values = tensor.to_float_vector();
  if (!value.quant || value.quant->scales.size() != 1) {
    throw Error(ErrorKind::unsupported, "bias-correction: '" + value.name + "' is not quantized per tensor; a per-channel "
                                        "activation cannot be measured here");
  }
  const double scale = value.quant->scales[0];
  const double zero = static_cast<double>(value.quant->zero_point(0));
  for (float& element : values) element = static_cast<float>((element - zero) * scale);
  return values;
}

struct ChannelError {
  std::vector<double> sum;
  std::vector<double> count;
};

// Accumulates (simulated − float) per channel (axis 1) where both lie inside the layer's pass band.
void accumulate(const CorrectedLayer& entry, const ir::Value& point, const std::vector<float>& simulated,
                const std::vector<float>& reference, const Shape& dims, ChannelError& error) {
  if (dims.size() < 2 || simulated.size() != reference.size()) return;
  const int64_t channels = dims[1];
  int64_t inner = 1;
  for (size_t axis = 2; axis < dims.size(); ++axis) inner *= dims[axis];
  if (error.sum.empty()) error.sum.assign(static_cast<size_t>(channels), 0.0), error.count.assign(static_cast<size_t>(channels), 0.0);
  const double scale = point.quant->scales[0];
  const double zero = static_cast<double>(point.quant->zero_point(0));
  const double grid_low = (static_cast<double>(point.quant->storage_min()) - zero) * scale;
  const double grid_high = (static_cast<double>(point.quant->storage_max()) - zero) * scale;
  const double low = std::max(entry.band_low, grid_low) + scale / 2;
  const double high = std::min(entry.band_high, grid_high) - scale / 2;
  for (size_t index = 0; index < simulated.size(); ++index) {
    const double q = simulated[index];
    const double f = reference[index];
    if (!(q > low && q < high && f > low && f < high)) continue;
    const size_t channel = static_cast<size_t>((static_cast<int64_t>(index) / inner) % channels);
    error.sum[channel] += q - f;
    error.count[channel] += 1;
  }
}

// Mean |per-channel mean error| in units of the point's scale (LSB).
double mean_error_lsb(const ChannelError& error, const ir::Value& point) {
  double total = 0;
  size_t channels = 0;
  for (size_t channel = 0; channel < error.sum.size(); ++channel) {
    if (error.count[channel] < kMinimumObservations) continue;
    total += std::fabs(error.sum[channel] / error.count[channel]);
    ++channels;
  }
  return channels == 0 ? 0.0 : total / static_cast<double>(channels) / point.quant->scales[0];
}

struct SimulatedRun {
  std::map<std::string, ChannelError> errors;  // by measured point
  double signal = 0, noise = 0;                // of the graph outputs
};

SimulatedRun simulate(AlgorithmContext& context, const std::vector<CorrectedLayer>& layers,
                      const std::vector<std::map<std::string, Tensor>>& references) {
  // The sim backend computes a point as the integer tensor of its QuantizeLinear (the float value between Q and DQ
  // exists only in the file): keep that, under the name the QDQ export gives it, and dequantize it here.
  const onnx_io::QdqExportPlan names = onnx_io::plan_qdq_export(*context.model.graph, context.model.opset());
  std::map<std::string, std::string> integer_name;
  std::vector<std::string> kept;
  for (const CorrectedLayer& entry : layers) {
    const onnx_io::QdqPoint* point = names.by_value.at(context.model.graph->find_value(entry.measured));
    integer_name[entry.measured] = point->quantized_name;
    kept.push_back(point->quantized_name);
  }
  std::unique_ptr<engine::Engine> engine = simulate_quantized_model(context.model, context.target.id, kept);
  SimulatedRun run;
  for (size_t index = 0; index < references.size(); ++index) {
    CalibrationSample sample = context.calibration.sample(index);
    for (const auto& [name, tensor] : sample.inputs) engine->set_input(name, tensor);
    engine->run();
    for (const CorrectedLayer& entry : layers) {
      const ir::Value& point = *context.model.graph->find_value(entry.measured);
      const Tensor& reference = references[index].at(entry.measured);
      accumulate(entry, point, as_float(engine->output(integer_name.at(entry.measured)), point), reference.to_float_vector(),
                 reference.shape(), run.errors[entry.measured]);
    }
    for (const ir::Value* output : context.model.graph->outputs) {
      const std::vector<float> expected = references[index].at(output->name).to_float_vector();
      const std::vector<float> actual = engine->output(output->name).to_float_vector();
      for (size_t element = 0; element < expected.size() && element < actual.size(); ++element) {
        const double difference = static_cast<double>(expected[element]) - actual[element];
        run.signal += static_cast<double>(expected[element]) * expected[element];
        run.noise += difference * difference;
      }
    }
  }
  return run;
}

double decibels(double signal, double noise) {
  if (noise <= 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

AlgorithmOutcome correct_empirically(AlgorithmContext& context) {
  AlgorithmOutcome outcome;
  outcome.metric = "mean |per-channel mean error| of the layer outputs (output LSB), simulated vs float";
  require_samples(context.calibration, "bias-correction");
  std::vector<CorrectedLayer> layers = corrected_layers(context, outcome.notes);
  if (layers.empty()) {
    outcome.notes.push_back("no Conv / Gemm with a quantized bias: nothing to correct");
    return outcome;
  }
  const size_t samples = std::min(kEmpiricalSamples, context.calibration.size());
  std::vector<std::string> values;
  for (const CorrectedLayer& entry : layers) values.push_back(entry.measured);
  for (const ir::Value* output : context.model.graph->outputs) values.push_back(output->name);
  std::vector<std::map<std::string, Tensor>> references;
  for_each_float_sample(context.model, values, context.calibration, samples,
                        [&](size_t, const std::map<std::string, Tensor>& row) {
                          std::map<std::string, Tensor> copy;
                          for (const auto& [name, tensor] : row) copy.emplace(name, tensor.clone());
                          references.push_back(std::move(copy));
                        });

  // One simulation before any correction (the "before" figures), then per layer: correct from the latest run and
  // simulate again, which measures the correction and gives the next layer its input with this one corrected. A
  // layer whose residual is still above kRefineAbove LSB (values moved in or out of the pass band or the grid by the
  // shift) is corrected again, at most kRounds times in all.
  SimulatedRun run = simulate(context, layers, references);
  const SimulatedRun first = run;
  std::map<std::string, double> before;
  for (const CorrectedLayer& entry : layers) {
    before[entry.measured] = mean_error_lsb(run.errors[entry.measured], *context.model.graph->find_value(entry.measured));
  }
  size_t corrected_channels = 0, simulations = 1;
  for (size_t position = 0; position < layers.size(); ++position) {
    if (context.progress) context.progress(position, layers.size(), "bias correction (simulated)");
    CorrectedLayer& entry = layers[position];
    const ir::Value& point = *context.model.graph->find_value(entry.measured);
    for (int round = 0; round < kRounds; ++round) {
      const ChannelError& error = run.errors[entry.measured];
      if (static_cast<int64_t>(error.sum.size()) != entry.layer.output_channels) break;
      if (round > 0 && mean_error_lsb(error, point) < kRefineAbove) break;
      std::vector<float> bias = bias_values(entry.layer);
      for (size_t channel = 0; channel < bias.size(); ++channel) {
        if (error.count[channel] < kMinimumObservations) continue;
        bias[channel] = static_cast<float>(bias[channel] - error.sum[channel] / error.count[channel]);
        if (round == 0) ++corrected_channels;
      }
      set_bias_values(*context.model.graph, entry.layer, bias);
      refresh_bias_parameters(context.model, context.plan, *context.tensors);
      run = simulate(context, layers, references);
      ++simulations;
    }
  }
  if (context.progress) context.progress(layers.size(), layers.size(), "bias correction (simulated)");
  const SimulatedRun& last = run;
  double before_sum = 0, after_sum = 0;
  for (const CorrectedLayer& entry : layers) {
    const double after = mean_error_lsb(last.errors.at(entry.measured), *context.model.graph->find_value(entry.measured));
    before_sum += before[entry.measured];
    after_sum += after;
    outcome.layers.push_back({entry.layer.node->name, before[entry.measured], after, "measured at " + entry.measured});
  }
  outcome.before = before_sum / static_cast<double>(layers.size());
  outcome.after = after_sum / static_cast<double>(layers.size());
  outcome.notes.push_back(std::to_string(corrected_channels) + " channel bias(es) of " + std::to_string(layers.size()) +
                          " layer(s) corrected, one layer after another, on " + std::to_string(samples) +
                          " calibration sample(s) simulated on " + context.target.id + " (" +
                          std::to_string(simulations) + " simulations)");
  outcome.notes.push_back("model output SQNR on those samples: " + format_number(decibels(first.signal, first.noise)) +
                          " dB before, " + format_number(decibels(last.signal, last.noise)) + " dB after");
  return outcome;
}

AlgorithmOutcome correct_analytically(AlgorithmContext& context) {
  AlgorithmOutcome outcome;
  outcome.metric = "mean |expected weight-quantization error| per channel (output LSB), removed";
  require_samples(context.calibration, "bias-correction-analytic");
  std::vector<CorrectedLayer> layers = corrected_layers(context, outcome.notes);
  if (layers.empty()) {
    outcome.notes.push_back("no Conv / Gemm with a quantized bias: nothing to correct");
    return outcome;
  }
  ir::Graph& graph = *context.model.graph;
  std::vector<std::string> inputs;
  for (const CorrectedLayer& entry : layers) inputs.push_back(entry.layer.node->input(0)->name);
  std::sort(inputs.begin(), inputs.end());
  inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
  std::map<std::string, std::pair<std::vector<double>, double>> means;  // per-channel sums, count per channel
  const size_t samples = std::min(kAnalyticSamples, context.calibration.size());
  for_each_float_sample(context.model, inputs, context.calibration, samples,
                        [&](size_t index, const std::map<std::string, Tensor>& row) {
                          if (context.progress) context.progress(index, samples, "bias correction (analytic): input means");
                          for (const auto& [name, tensor] : row) {
                            const Shape& dims = tensor.shape();
                            if (dims.size() < 2) continue;
                            int64_t inner = 1;
                            for (size_t axis = 2; axis < dims.size(); ++axis) inner *= dims[axis];
                            auto& [sums, count] = means[name];
                            if (sums.empty()) sums.assign(static_cast<size_t>(dims[1]), 0.0);
                            const std::vector<float> values = tensor.to_float_vector();
                            for (size_t element = 0; element < values.size(); ++element) {
                              sums[static_cast<size_t>((static_cast<int64_t>(element) / inner) % dims[1])] += values[element];
                            }
                            count += static_cast<double>(values.size()) / static_cast<double>(dims[1]);
                          }
                        });
  double before_sum = 0;
  for (CorrectedLayer& entry : layers) {
    const LinearLayer& layer = entry.layer;
    const auto& [sums, count] = means[layer.node->input(0)->name];
    const ir::Value* weight = layer.weight;
    if (!weight->quant || static_cast<int64_t>(sums.size()) != layer.input_channels || count == 0) continue;
    const ir::QuantParams& params = *weight->quant;
    const auto rows = weight_rows(layer);
    std::vector<float> bias = bias_values(layer);
    const int64_t channels_per_group = layer.input_channels / layer.group;
    const int64_t rows_per_group = layer.output_channels / layer.group;
    double largest = 0, total = 0;
    for (int64_t row = 0; row < layer.output_channels; ++row) {
      const size_t index = params.scales.size() == 1 ? 0 : static_cast<size_t>(row);
      const int64_t group = row / rows_per_group;
      double expected = 0;
      for (int64_t j = 0; j < layer.row_length; ++j) {
        const float w = rows[static_cast<size_t>(row)][static_cast<size_t>(j)];
        const float quantized = fake_quantize(w, params.scales[index], params.zero_point(index), params.storage_min(),
                                              params.storage_max(), params.rounding);
        const int64_t channel = group * channels_per_group + j / layer.kernel_elements;
        expected += static_cast<double>(quantized - w) * (sums[static_cast<size_t>(channel)] / count);
      }
      bias[static_cast<size_t>(row)] = static_cast<float>(bias[static_cast<size_t>(row)] - expected);
      largest = std::max(largest, std::fabs(expected));
      total += std::fabs(expected);
    }
    set_bias_values(graph, entry.layer, bias);
    const ir::Value* point = graph.find_value(entry.measured);
    const double lsb = point && point->quant ? point->quant->scales[0] : 1.0;
    const double mean = total / static_cast<double>(layer.output_channels) / lsb;
    before_sum += mean;
    outcome.layers.push_back({layer.node->name, mean, 0.0, "largest " + format_number(largest / lsb) + " LSB"});
  }
  refresh_bias_parameters(context.model, context.plan, *context.tensors);
  if (!outcome.layers.empty()) {
    outcome.before = before_sum / static_cast<double>(outcome.layers.size());
    outcome.after = 0.0;
  }
  outcome.notes.push_back(std::to_string(outcome.layers.size()) + " layer(s) corrected by (W_q - W) E[x], E[x] the "
                          "per-channel mean of the float input on " + std::to_string(samples) +
                          " calibration sample(s) (BatchNorm is folded by now: its beta / gamma are not available)");
  return outcome;
}

}  // namespace

QuantizationAlgorithm empirical_bias_correction_algorithm() {
  QuantizationAlgorithm algorithm;
  algorithm.name = "bias-correction";
  algorithm.summary = "per output channel, the mean error of the simulated layer on calibration data moved into the bias";
  algorithm.stage = AlgorithmStage::after_parameters;
  algorithm.apply = correct_empirically;
  return algorithm;
}

QuantizationAlgorithm analytic_bias_correction_algorithm() {
  QuantizationAlgorithm algorithm;
  algorithm.name = "bias-correction-analytic";
  algorithm.summary = "per output channel, the expected weight-quantization error (W_q - W) E[x] moved into the bias";
  algorithm.stage = AlgorithmStage::after_parameters;
  algorithm.apply = correct_analytically;
  return algorithm;
}

}  // namespace npukit::quantization
