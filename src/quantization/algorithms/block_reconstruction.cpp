// `quantize --algorithm block-reconstruction`.
//
// Blocks: two Conv / Gemm / MatMul layers where the second reads the first's output point directly and alone
// (Conv → Relu → Conv, Gemm → Gemm): the first's output, requantized by the target, is exactly the second's
// integer input, so the pair can be run as the target runs it and its rounding learned together against the float
// model's output of the second layer — BRECQ's block reconstruction on the smallest block that has one. Longer
// blocks (a residual block with its Add, a chain through SiLU's Sigmoid · Mul) are not built: their inner ops would
// need their own integer forward and backward. Layers in no block are learned alone (AdaRound, adaround.h).
//
// Order and data: units (blocks and single layers) in graph order; before each, the quantized model with every
// earlier unit's learned weights is simulated on the sim backend for its input (sequential, one simulation per
// unit). Inside a block the straight-through estimator passes the gradient through the first layer's
// requantization and clamp as it does through the second's (learned_rounding.h).
#include "quantization/algorithms/block_reconstruction.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "npukit/error.h"
#include "quantization/quantize_model.h"

namespace npukit::quantization {

namespace {

constexpr size_t kDefaultSamples = 16;
constexpr size_t kRowsPerUnit = 2048;
constexpr size_t kMinimumRows = 16;
constexpr size_t kOutputSamples = 4;

int64_t taps_of(const LinearLayer& second) { return second.convolution ? second.kernel_h * second.kernel_w : 1; }

std::string format_db(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", value);
  return text;
}

// The block's forward on `count` rows: the first layer at every tap (padding taps: 0), its integer outputs
// gathered into the second layer's patches, the second layer. Fills what the backward pass needs.
struct BlockPass {
  std::vector<float> first_outputs;   // rows · taps × M1, real units, then q - z (0 outside)
  std::vector<uint8_t> first_in_bounds;
  std::vector<float> second_inputs;   // rows × patch2
  std::vector<float> second_outputs;  // rows × M2, real units
  std::vector<uint8_t> second_in_bounds;
};

void block_forward(const LinearLayer& first, const LinearLayer& second, const float* inputs, const uint8_t* inside,
                   size_t count, const std::vector<float>& first_weights, const std::vector<float>& second_weights,
                   BlockPass& pass) {
  const size_t taps = static_cast<size_t>(taps_of(second));
  const size_t channels = static_cast<size_t>(first.outputs);
  layer_forward(first, inputs, count * taps, first_weights, pass.first_outputs, &pass.first_in_bounds);
  for (size_t index = 0; index < pass.first_outputs.size(); ++index) {
    const size_t tap_row = index / channels;
    if (!inside[tap_row]) {
      pass.first_outputs[index] = 0;
      pass.first_in_bounds[index] = 0;
    } else {
      pass.first_outputs[index] = std::nearbyint(pass.first_outputs[index] / first.output_scale);
    }
  }
  // The second layer's patch is ordered (channel, tap) as append_input_patch writes it.
  pass.second_inputs.assign(count * channels * taps, 0.0f);
  for (size_t r = 0; r < count; ++r) {
    for (size_t t = 0; t < taps; ++t) {
      const float* from = pass.first_outputs.data() + (r * taps + t) * channels;
      float* to = pass.second_inputs.data() + r * channels * taps + t;
      for (size_t c = 0; c < channels; ++c) to[c * taps] = from[c];
    }
  }
  layer_forward(second, pass.second_inputs.data(), count, second_weights, pass.second_outputs, &pass.second_in_bounds);
}

double block_sqnr(const LinearLayer& first, const LinearLayer& second, const std::vector<float>& inputs,
                  const std::vector<uint8_t>& inside, const std::vector<float>& targets,
                  const std::vector<int32_t>& first_integers, const std::vector<int32_t>& second_integers) {
  BlockPass pass;
  const size_t count = targets.size() / static_cast<size_t>(second.outputs);
  block_forward(first, second, inputs.data(), inside.data(), count, centred_weights(first, first_integers),
                centred_weights(second, second_integers), pass);
  return sqnr_db(targets, pass.second_outputs);
}

// d loss / d (q_w - z_w) of `layer` from d loss / d accumulator (rows × M) and its input rows, per group.
void weight_gradient(const LinearLayer& layer, const std::vector<float>& accumulator_gradient, const float* inputs,
                     size_t count, std::vector<float>& gradient) {
  const int64_t per_group = layer.outputs / layer.group;
  const int64_t width = layer.patch * layer.group;
  gradient.assign(static_cast<size_t>(layer.outputs * layer.patch), 0.0f);
  for (int64_t g = 0; g < layer.group; ++g) {
    multiply_matrices('T', 'N', per_group, layer.patch, static_cast<int64_t>(count),
                      accumulator_gradient.data() + g * per_group, layer.outputs, inputs + g * layer.patch, width,
                      gradient.data() + g * per_group * layer.patch, layer.patch);
  }
}

}  // namespace

std::string block_refusal(const LinearLayer& first, const LinearLayer& second, const ir::Graph& graph) {
  if (second.input_value != first.output_value) return "the second layer does not read the first's output point";
  const ir::Value* link = graph.find_value(first.output_value);
  if (!link || link->is_graph_output || link->consumers.size() != 1 || link->consumers[0] != second.node) {
    return "the first layer's output has other readers";
  }
  if (second.convolution && second.group != 1) return "the second layer is a grouped convolution";
  if (second.convolution != first.convolution) return "a convolution and a matrix product";
  return "";
}

LearnedBlock learn_block_rounding(const LinearLayer& first, const LinearLayer& second, const BlockRows& rows,
                                  const RoundingLearningSettings& settings,
                                  std::chrono::steady_clock::time_point deadline) {
  const size_t taps = static_cast<size_t>(taps_of(second));
  const size_t width = static_cast<size_t>(first.patch * first.group);
  const size_t outputs = static_cast<size_t>(second.outputs);
  if (rows.rows == 0 || rows.inputs.size() != rows.rows * taps * width || rows.inside.size() != rows.rows * taps ||
      rows.targets.size() != rows.rows * outputs || static_cast<int64_t>(taps) * first.outputs != second.patch) {
    throw Error(ErrorKind::internal, "rows of block '" + first.node->name + "' do not match its shape");
  }
  // Every fifth row held out, as learn_layer_rounding does.
  const bool hold_out = rows.rows >= 20;
  std::vector<float> inputs, held_inputs, targets, held_targets;
  std::vector<uint8_t> inside, held_inside;
  for (size_t r = 0; r < rows.rows; ++r) {
    const bool held = hold_out && r % 5 == 4;
    auto& x = held ? held_inputs : inputs;
    auto& y = held ? held_targets : targets;
    auto& in = held ? held_inside : inside;
    x.insert(x.end(), rows.inputs.begin() + static_cast<std::ptrdiff_t>(r * taps * width),
             rows.inputs.begin() + static_cast<std::ptrdiff_t>((r + 1) * taps * width));
    in.insert(in.end(), rows.inside.begin() + static_cast<std::ptrdiff_t>(r * taps),
              rows.inside.begin() + static_cast<std::ptrdiff_t>((r + 1) * taps));
    y.insert(y.end(), rows.targets.begin() + static_cast<std::ptrdiff_t>(r * outputs),
             rows.targets.begin() + static_cast<std::ptrdiff_t>((r + 1) * outputs));
  }
  if (!hold_out) {
    held_inputs = inputs;
    held_targets = targets;
    held_inside = inside;
  }
  const size_t training_rows = targets.size() / outputs;
  LearnedBlock result;
  const double nearest_db = block_sqnr(first, second, held_inputs, held_inside, held_targets, first.nearest, second.nearest);

  SoftRounding first_soft(first), second_soft(second);
  std::mt19937 random(settings.seed);
  std::uniform_int_distribution<size_t> pick(0, training_rows - 1);
  const size_t batch = std::min(settings.batch_rows, training_rows);
  std::vector<float> batch_inputs(batch * taps * width), batch_targets(batch * outputs);
  std::vector<uint8_t> batch_inside(batch * taps);
  std::vector<float> first_weights, first_derivative, second_weights, second_derivative;
  std::vector<float> second_accumulator(batch * outputs), second_input_gradient, first_accumulator;
  std::vector<float> first_gradient, second_gradient;
  BlockPass pass;
  int iterations = 0;
  const size_t channels = static_cast<size_t>(first.outputs);
  for (int iteration = 0; iteration < settings.iterations; ++iteration) {
    if (std::chrono::steady_clock::now() >= deadline) break;
    for (size_t b = 0; b < batch; ++b) {
      const size_t row = batch == training_rows ? b : pick(random);
      std::copy_n(inputs.data() + row * taps * width, taps * width, batch_inputs.data() + b * taps * width);
      std::copy_n(inside.data() + row * taps, taps, batch_inside.data() + b * taps);
      std::copy_n(targets.data() + row * outputs, outputs, batch_targets.data() + b * outputs);
    }
    first_soft.soft_weights(first_weights, first_derivative);
    second_soft.soft_weights(second_weights, second_derivative);
    block_forward(first, second, batch_inputs.data(), batch_inside.data(), batch, first_weights, second_weights, pass);
    // Second layer: as learn_layer_rounding (loss in the block output's steps).
    for (size_t b = 0; b < batch; ++b) {
      for (size_t m = 0; m < outputs; ++m) {
        const size_t index = b * outputs + m;
        const double error = (pass.second_outputs[index] - batch_targets[index]) / second.output_scale;
        second_accumulator[index] = pass.second_in_bounds[index]
                                        ? static_cast<float>(2.0 * error * second.multipliers[m] / static_cast<double>(batch))
                                        : 0.0f;
      }
    }
    weight_gradient(second, second_accumulator, pass.second_inputs.data(), batch, second_gradient);
    // Through the second layer's inputs (its patches) back to the first layer's integer outputs, then straight
    // through the first layer's requantization: d(q - z)/dacc = M1 inside its clamp.
    second_input_gradient.assign(batch * static_cast<size_t>(second.patch), 0.0f);
    multiply_matrices('N', 'N', static_cast<int64_t>(batch), second.patch, second.outputs, second_accumulator.data(),
                      second.outputs, second_weights.data(), second.patch, second_input_gradient.data(), second.patch);
    first_accumulator.assign(batch * taps * channels, 0.0f);
    for (size_t b = 0; b < batch; ++b) {
      for (size_t t = 0; t < taps; ++t) {
        for (size_t c = 0; c < channels; ++c) {
          const size_t index = (b * taps + t) * channels + c;
          if (!pass.first_in_bounds[index]) continue;
          first_accumulator[index] = second_input_gradient[b * channels * taps + c * taps + t] *
                                     static_cast<float>(first.multipliers[c]);
        }
      }
    }
    weight_gradient(first, first_accumulator, batch_inputs.data(), batch * taps, first_gradient);
    for (size_t i = 0; i < first_gradient.size(); ++i) first_gradient[i] *= first_derivative[i];
    for (size_t i = 0; i < second_gradient.size(); ++i) second_gradient[i] *= second_derivative[i];
    const double beta = annealed_beta(settings, iteration, settings.iterations);
    if (beta > 0) {
      first_soft.add_regularizer_gradient(beta, settings.regularization, first_gradient);
      second_soft.add_regularizer_gradient(beta, settings.regularization, second_gradient);
    }
    first_soft.adam_step(first_gradient, settings.learning_rate);
    second_soft.adam_step(second_gradient, settings.learning_rate);
    ++iterations;
  }
  std::vector<int32_t> first_learned = first_soft.hard_integers(), second_learned = second_soft.hard_integers();
  const double learned_db = block_sqnr(first, second, held_inputs, held_inside, held_targets, first_learned, second_learned);
  const bool keep_nearest = learned_db < nearest_db;
  for (LearnedRounding* one : {&result.first, &result.second}) {
    one->nearest_db = nearest_db;
    one->learned_db = learned_db;
    one->iterations = iterations;
    one->kept_nearest = keep_nearest;
    one->judged_rows = held_targets.size() / outputs;
  }
  result.first.integers = keep_nearest ? first.nearest : std::move(first_learned);
  result.second.integers = keep_nearest ? second.nearest : std::move(second_learned);
  for (size_t i = 0; i < result.first.integers.size(); ++i) result.first.changed += result.first.integers[i] != first.nearest[i];
  for (size_t i = 0; i < result.second.integers.size(); ++i) result.second.changed += result.second.integers[i] != second.nearest[i];
  return result;
}

namespace {

struct Unit {
  size_t first = 0;
  bool block = false;  // first and first + 1
  size_t last() const { return block ? first + 1 : first; }
  std::vector<std::vector<int64_t>> positions;  // per sample, of the last layer's output
  std::vector<Shape> output_shapes;
  std::vector<float> targets;
  size_t rows = 0;
};

AlgorithmOutcome apply_block_reconstruction(AlgorithmContext& context) {
  AlgorithmOutcome outcome;
  outcome.metric = "output SQNR (dB) on the sim backend";
  const RoundingLearningSettings settings = rounding_settings(context);
  TimeBudget budget(context.options.time_budget_seconds);
  std::vector<LinearLayer> layers = learnable_layers(context, outcome);
  if (layers.empty()) return outcome;
  std::vector<Unit> units;
  for (size_t l = 0; l < layers.size();) {
    Unit unit;
    unit.first = l;
    unit.block = l + 1 < layers.size() && block_refusal(layers[l], layers[l + 1], *context.model.graph).empty();
    l += unit.block ? 2 : 1;
    units.push_back(std::move(unit));
  }
  const size_t available = context.calibration.size();
  if (available == 0) throw Error(ErrorKind::invalid_argument, "block-reconstruction: the calibration data holds no sample");
  const size_t samples = std::min(available, context.options.adaround_samples > 0 ? context.options.adaround_samples
                                                                                 : kDefaultSamples);
  if (samples == 1) outcome.notes.push_back("learned on 1 calibration sample: the rounding may fit that sample only; give more");
  const size_t output_samples = std::min(samples, kOutputSamples);
  const size_t per_sample = (kRowsPerUnit + samples - 1) / samples;

  // The float model's output of each unit's last layer at sampled positions, and the model outputs.
  std::vector<std::string> float_values;
  for (const Unit& unit : units) float_values.push_back(layers[unit.last()].output_value);
  for (const ir::Value* output : context.model.graph->outputs) float_values.push_back(output->name);
  std::vector<std::map<std::string, Tensor>> float_outputs(output_samples);
  run_samples(context, context.model, false, float_values, samples, "block-reconstruction: float targets",
              [&](size_t sample, const SampleValues& value) {
                for (size_t u = 0; u < units.size(); ++u) {
                  const LinearLayer& last = layers[units[u].last()];
                  const Tensor& output = value(last.output_value);
                  std::mt19937 random(settings.seed + static_cast<uint32_t>(u * 7919 + sample));
                  std::vector<int64_t> all(static_cast<size_t>(output_positions(last, output.shape())));
                  std::iota(all.begin(), all.end(), 0);
                  std::shuffle(all.begin(), all.end(), random);
                  if (all.size() > per_sample) all.resize(per_sample);
                  std::sort(all.begin(), all.end());
                  for (int64_t position : all) append_output_row(last, output, position, units[u].targets);
                  units[u].rows += all.size();
                  units[u].positions.push_back(std::move(all));
                  units[u].output_shapes.push_back(output.shape());
                }
                if (sample < output_samples) {
                  for (const ir::Value* output : context.model.graph->outputs) {
                    float_outputs[sample].emplace(output->name, value(output->name));
                  }
                }
              });
  auto output_error = [&](const SampleValues& value, size_t sample, double& signal, double& noise) {
    for (const auto& [name, tensor] : float_outputs[sample]) {
      const std::vector<float> expected = tensor.to_float_vector(), actual = value(name).to_float_vector();
      for (size_t i = 0; i < expected.size() && i < actual.size(); ++i) {
        signal += static_cast<double>(expected[i]) * expected[i];
        noise += (static_cast<double>(expected[i]) - actual[i]) * (static_cast<double>(expected[i]) - actual[i]);
      }
    }
  };

  double before_signal = 0, before_noise = 0;
  double remaining = 0;
  std::vector<double> costs;
  for (const Unit& unit : units) {
    double cost = 0;
    for (size_t l = unit.first; l <= unit.last(); ++l) cost += static_cast<double>(layers[l].outputs * layers[l].patch);
    costs.push_back(cost * static_cast<double>(taps_of(layers[unit.last()])));
    remaining += costs.back();
  }
  size_t blocks = 0, changed = 0, weights = 0;
  for (size_t u = 0; u < units.size(); ++u) {
    Unit& unit = units[u];
    const LinearLayer& first = layers[unit.first];
    const LinearLayer& last = layers[unit.last()];
    // x̃: the unit's input on the sim backend, every earlier unit's learned weights in.
    std::vector<std::string> kept{first.input_value + "_quantized"};
    if (u == 0) {
      for (const ir::Value* output : context.model.graph->outputs) kept.push_back(output->name);
    }
    LayerRows layer_rows;
    BlockRows block_rows;
    Shape first_output_shape;
    if (unit.block) {
      const ir::Value* link = context.model.graph->find_value(first.output_value);
      first_output_shape = link->type.static_shape();
    }
    run_samples(context, context.model, true, kept, samples, "block-reconstruction: quantized inputs",
                [&](size_t sample, const SampleValues& value) {
                  const Tensor& input = value(first.input_value + "_quantized");
                  for (int64_t position : unit.positions[sample]) {
                    if (!unit.block) {
                      append_input_patch(first, input, unit.output_shapes[sample], position, layer_rows.inputs);
                      continue;
                    }
                    if (!last.convolution) {
                      append_input_patch(first, input, first_output_shape, position, block_rows.inputs);
                      block_rows.inside.push_back(1);
                      continue;
                    }
                    const Shape& shape = unit.output_shapes[sample];
                    const int64_t out_h = shape.at(2), out_w = shape.at(3);
                    const int64_t n = position / (out_h * out_w), oh = (position / out_w) % out_h, ow = position % out_w;
                    const int64_t height = first_output_shape.at(2), width = first_output_shape.at(3);
                    for (int64_t i = 0; i < last.kernel_h; ++i) {
                      for (int64_t j = 0; j < last.kernel_w; ++j) {
                        const int64_t h = oh * last.strides[0] - last.pads[0] + i * last.dilations[0];
                        const int64_t w = ow * last.strides[1] - last.pads[1] + j * last.dilations[1];
                        const bool inside = h >= 0 && h < height && w >= 0 && w < width;
                        block_rows.inside.push_back(inside ? 1 : 0);
                        if (inside) {
                          append_input_patch(first, input, first_output_shape, (n * height + h) * width + w,
                                             block_rows.inputs);
                        } else {
                          block_rows.inputs.insert(block_rows.inputs.end(), static_cast<size_t>(first.patch * first.group), 0);
                        }
                      }
                    }
                  }
                  if (u == 0 && sample < output_samples) output_error(value, sample, before_signal, before_noise);
                });
    if (context.progress) context.progress(u, units.size(), "block-reconstruction: learning rounding");
    const auto deadline = budget.deadline_for(costs[u], remaining);
    remaining -= costs[u];
    const std::string label = first.node->name.empty() ? first.output_value : first.node->name;
    if (unit.rows < kMinimumRows) {
      outcome.layers.push_back({label, std::nullopt, std::nullopt,
                                "left at nearest: " + std::to_string(unit.rows) + " output positions, too few to learn from"});
      continue;
    }
    if (!unit.block) {
      layer_rows.targets = std::move(unit.targets);
      layer_rows.rows = unit.rows;
      const LearnedRounding learned = learn_layer_rounding(first, layer_rows, settings, deadline);
      store_learned_weights(context.model, first, learned.integers);
      changed += learned.changed;
      weights += learned.integers.size();
      outcome.layers.push_back({label, learned.nearest_db, learned.kept_nearest ? learned.nearest_db : learned.learned_db,
                                std::string("alone (in no block): ") +
                                    (learned.kept_nearest ? "nearest kept" : std::to_string(learned.changed) + " weights moved")});
      continue;
    }
    block_rows.targets = std::move(unit.targets);
    block_rows.rows = unit.rows;
    const LearnedBlock learned = learn_block_rounding(first, last, block_rows, settings, deadline);
    store_learned_weights(context.model, first, learned.first.integers);
    store_learned_weights(context.model, last, learned.second.integers);
    ++blocks;
    changed += learned.first.changed + learned.second.changed;
    weights += learned.first.integers.size() + learned.second.integers.size();
    const std::string last_label = last.node->name.empty() ? last.output_value : last.node->name;
    outcome.layers.push_back(
        {label + " + " + last_label, learned.first.nearest_db,
         learned.first.kept_nearest ? learned.first.nearest_db : learned.first.learned_db,
         "block output; " + (learned.first.kept_nearest
                                 ? "nearest kept (learned: " + format_db(learned.first.learned_db) + " dB)"
                                 : std::to_string(learned.first.changed + learned.second.changed) + " weights moved") +
             ", " + std::to_string(learned.first.iterations) + " iterations"});
  }
  if (context.progress) context.progress(units.size(), units.size(), "block-reconstruction: learning rounding");
  if (context.tensors) refresh_bias_parameters(context.model, context.plan, *context.tensors);
  double after_signal = 0, after_noise = 0;
  run_samples(context, context.model, true, {}, output_samples, "block-reconstruction: model output after",
              [&](size_t sample, const SampleValues& value) { output_error(value, sample, after_signal, after_noise); });
  auto decibels = [](double signal, double noise) {
    return noise == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(signal / noise);
  };
  outcome.before = decibels(before_signal, before_noise);
  outcome.after = decibels(after_signal, after_noise);
  outcome.notes.push_back(std::to_string(blocks) + " block(s) of two chained layers learned together, " +
                          std::to_string(units.size() - blocks) + " layer(s) alone; " + std::to_string(changed) +
                          " of " + std::to_string(weights) + " weights rounded the other way than nearest");
  outcome.notes.push_back("model output SQNR on the first " + std::to_string(output_samples) +
                          " calibration sample(s); block / layer SQNR on the held-out fifth of the sampled positions");
  return outcome;
}

}  // namespace

QuantizationAlgorithm block_reconstruction_algorithm() {
  return {"block-reconstruction",
          "BRECQ-like: the rounding of two chained layers (Conv → Relu → Conv, Gemm → Gemm) learned together so the "
          "block's output in the target's arithmetic matches the float model's; other layers as adaround",
          AlgorithmStage::after_parameters, apply_block_reconstruction};
}

}  // namespace npukit::quantization
