// `quantize --algorithm adaround`: AdaRound (Nagel et al. 2020) through the target's integer arithmetic.
//
// Layer by layer in graph order, each weight's rounding (down or up from W / s) is learned so that the layer's
// output as the target computes it (learned_rounding.h: integer accumulation, the spec's requantization, zero
// point, clamp) matches the float model's output on calibration data. The input x̃ of a layer is what the
// already-quantized layers before it hand over on the sim backend, the layers learned so far included
// (sequential, as AIMET does): the quantized model is simulated again before each group of layers — before every
// layer unless that costs more than kUnbudgetedSimulationSeconds of CPU (judged by the first simulation) or the time
// budget allows fewer. A layer learned on x̃ from predecessors still at nearest, and then run after them with
// their learned rounding, fits an input error that is no longer there: on 4-bit weights that undid every gain. The learned integers replace the
// float weights as s · q, so the QDQ export stores exactly them.
#include "quantization/algorithms/adaround.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <numeric>
#include <random>

#include "npukit/error.h"
#include "quantization/algorithms/learned_rounding.h"
#include "quantization/quantize_model.h"

namespace npukit::quantization {

namespace {

constexpr size_t kDefaultSamples = 16;  // calibration samples the rounding learns on
constexpr size_t kRowsPerLayer = 2048;  // output positions kept per layer, spread over the samples
constexpr size_t kMinimumRows = 16;     // fewer output positions than this: nothing to learn from
constexpr size_t kFewestStages = 8;     // simulations of x̃ without a time budget, at least (when layers allow)
// Without a budget: one stage per layer while their simulations cost this many seconds of CPU in all (CPU, not
// wall: the choice should not depend on how loaded the machine is).
constexpr double kUnbudgetedSimulationSeconds = 600;
constexpr size_t kOutputSamples = 4;    // samples for the model output SQNR before / after

// Where each layer's rows come from: per sample, the sampled output positions and the output's shape.
struct LayerSampling {
  std::vector<std::vector<int64_t>> positions;
  std::vector<Shape> output_shapes;
  LayerRows rows;
};

std::vector<int64_t> choose_positions(int64_t available, size_t wanted, std::mt19937& random) {
  std::vector<int64_t> all(static_cast<size_t>(available));
  std::iota(all.begin(), all.end(), 0);
  if (static_cast<size_t>(available) <= wanted) return all;
  for (size_t i = 0; i < wanted; ++i) {
    std::uniform_int_distribution<size_t> pick(i, all.size() - 1);
    std::swap(all[i], all[pick(random)]);
  }
  all.resize(wanted);
  std::sort(all.begin(), all.end());
  return all;
}

// Σ reference², Σ (reference - measured)² over every graph output of a sample.
void accumulate_output_error(const std::map<std::string, Tensor>& reference, const SampleValues& measured,
                             double& signal, double& noise) {
  for (const auto& [name, tensor] : reference) {
    const std::vector<float> expected = tensor.to_float_vector();
    const std::vector<float> actual = measured(name).to_float_vector();
    if (expected.size() != actual.size()) continue;
    for (size_t i = 0; i < expected.size(); ++i) {
      const double difference = static_cast<double>(expected[i]) - actual[i];
      signal += static_cast<double>(expected[i]) * expected[i];
      noise += difference * difference;
    }
  }
}

double decibels(double signal, double noise) {
  if (noise == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

std::string format_db(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", value);
  return text;
}

}  // namespace

LearnedRounding learn_layer_rounding(const LinearLayer& layer, const LayerRows& rows,
                                     const RoundingLearningSettings& settings,
                                     std::chrono::steady_clock::time_point deadline) {
  const size_t width = static_cast<size_t>(layer.patch * layer.group);
  const size_t outputs = static_cast<size_t>(layer.outputs);
  if (rows.rows == 0 || rows.inputs.size() != rows.rows * width || rows.targets.size() != rows.rows * outputs) {
    throw Error(ErrorKind::internal, "rows of layer '" + layer.node->name + "' do not match its shape");
  }
  // Every fifth row is held out: the rounding learns on the others and is judged (kept or not, reported) on rows it
  // has not seen, so a rounding that only fits the noise of its rows is caught.
  const bool hold_out = rows.rows >= 20;
  std::vector<float> inputs, targets, held_inputs, held_targets;
  for (size_t r = 0; r < rows.rows; ++r) {
    const bool held = hold_out && r % 5 == 4;
    std::vector<float>& x = held ? held_inputs : inputs;
    std::vector<float>& y = held ? held_targets : targets;
    x.insert(x.end(), rows.inputs.begin() + static_cast<std::ptrdiff_t>(r * width),
             rows.inputs.begin() + static_cast<std::ptrdiff_t>((r + 1) * width));
    y.insert(y.end(), rows.targets.begin() + static_cast<std::ptrdiff_t>(r * outputs),
             rows.targets.begin() + static_cast<std::ptrdiff_t>((r + 1) * outputs));
  }
  if (!hold_out) {
    held_inputs = inputs;
    held_targets = targets;
  }
  const size_t training_rows = targets.size() / outputs, judged_rows = held_targets.size() / outputs;
  LearnedRounding result;
  result.judged_rows = judged_rows;
  std::vector<float> predicted;
  layer_forward(layer, held_inputs.data(), judged_rows, centred_weights(layer, layer.nearest), predicted, nullptr);
  result.nearest_db = sqnr_db(held_targets, predicted);

  SoftRounding soft(layer);
  std::mt19937 random(settings.seed);
  const size_t batch = std::min(settings.batch_rows, training_rows);
  std::vector<float> batch_inputs(batch * width), batch_targets(batch * outputs);
  std::vector<float> centred, derivative, gradient_accumulator(batch * outputs), gradient;
  std::vector<uint8_t> in_bounds;
  std::uniform_int_distribution<size_t> pick(0, training_rows - 1);
  const int64_t outputs_per_group = layer.outputs / layer.group;
  // The loss is measured in output steps (ŷ - y) / s_y: every layer's error on the same footing, whatever its
  // scale, so λ means the same everywhere.
  const double step = layer.output_scale;
  // With a deadline the β schedule is fitted to the iterations it allows (the pace so far, measured every
  // kTimedIterations and only ever shortening the plan): a layer cut off mid-annealing keeps many h(V) between 0 and 1,
  // rounded at 0.5 (PP-OCRv4 det under --time-budget 1200: 19 % of the weights), where a shorter but complete
  // schedule decides them.
  int planned = settings.iterations;
  constexpr int kTimedIterations = 10;
  const auto learning_start = std::chrono::steady_clock::now();
  for (int iteration = 0; iteration < planned; ++iteration) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    if (iteration > 0 && iteration % kTimedIterations == 0 && deadline != std::chrono::steady_clock::time_point::max()) {
      planned = fitted_schedule_length(planned, iteration, std::chrono::duration<double>(now - learning_start).count(),
                                       std::chrono::duration<double>(deadline - now).count());
    }
    for (size_t b = 0; b < batch; ++b) {
      const size_t row = batch == training_rows ? b : pick(random);
      std::copy_n(inputs.data() + row * width, width, batch_inputs.data() + b * width);
      std::copy_n(targets.data() + row * outputs, outputs, batch_targets.data() + b * outputs);
    }
    soft.soft_weights(centred, derivative);
    layer_forward(layer, batch_inputs.data(), batch, centred, predicted, &in_bounds);
    // d loss / d accumulator: 2 (ŷ - y) / s_y² per row (mean over rows, sum over outputs), times dŷ / dacc =
    // s_y · M[m] inside the clamp (straight through the requantization), 0 where the target saturates.
    for (size_t b = 0; b < batch; ++b) {
      for (size_t m = 0; m < outputs; ++m) {
        const size_t index = b * outputs + m;
        const double error = (predicted[index] - batch_targets[index]) / step;
        gradient_accumulator[index] =
            in_bounds[index] ? static_cast<float>(2.0 * error * layer.multipliers[m] / static_cast<double>(batch)) : 0.0f;
      }
    }
    // d loss / d (q_w - z_w)[m, k] = Σ_b dacc[b, m] · x[b, k], per group.
    gradient.assign(centred.size(), 0.0f);
    for (int64_t g = 0; g < layer.group; ++g) {
      const float* accumulators = gradient_accumulator.data() + g * outputs_per_group;
      const float* x = batch_inputs.data() + g * layer.patch;
      float* out = gradient.data() + g * outputs_per_group * layer.patch;
      multiply_matrices('T', 'N', outputs_per_group, layer.patch, static_cast<int64_t>(batch), accumulators, layer.outputs, x,
                        static_cast<int64_t>(width), out, layer.patch);
    }
    for (size_t i = 0; i < gradient.size(); ++i) gradient[i] *= derivative[i];
    const double beta = annealed_beta(settings, iteration, planned);
    if (beta > 0) soft.add_regularizer_gradient(beta, settings.regularization, gradient);
    soft.adam_step(gradient, settings.learning_rate);
    ++result.iterations;
  }
  std::vector<int32_t> learned = soft.hard_integers();
  result.undecided = soft.undecided_count();
  layer_forward(layer, held_inputs.data(), judged_rows, centred_weights(layer, learned), predicted, nullptr);
  result.learned_db = sqnr_db(held_targets, predicted);
  if (result.learned_db < result.nearest_db) {
    // Worse than nearest on the held-out rows (it fitted noise, or a budget cut it short): keep nearest.
    result.kept_nearest = true;
    result.integers = layer.nearest;
  } else {
    result.integers = std::move(learned);
  }
  for (size_t i = 0; i < result.integers.size(); ++i) result.changed += result.integers[i] != layer.nearest[i];
  return result;
}

namespace {

AlgorithmOutcome apply_adaround(AlgorithmContext& context) {
  for (const QuantizationAlgorithm* other : context.options.algorithms) {
    if (other->name == "block-reconstruction") {
      throw Error(ErrorKind::invalid_argument,
                  "--algorithm: give adaround or block-reconstruction, not both (block-reconstruction learns the layers "
                  "outside its blocks as adaround does, from the float weights adaround would already have moved)");
    }
  }
  AlgorithmOutcome outcome;
  outcome.metric = "output SQNR (dB) on the sim backend";
  const RoundingLearningSettings settings = rounding_settings(context);
  TimeBudget budget(context.options.time_budget_seconds);
  std::vector<LinearLayer> layers = learnable_layers(context, outcome);
  if (layers.empty()) return outcome;
  const size_t available = context.calibration.size();
  if (available == 0) throw Error(ErrorKind::invalid_argument, "adaround: the calibration data holds no sample");
  const size_t samples = std::min(available, context.options.adaround_samples > 0 ? context.options.adaround_samples
                                                                                 : kDefaultSamples);
  if (samples == 1) {
    outcome.notes.push_back("learned on 1 calibration sample: the rounding may fit that sample only; give more");
  }

  // 1. The float model's output of every layer at sampled positions, and the model outputs (the targets).
  std::vector<LayerSampling> sampling(layers.size());
  std::vector<std::string> float_values;
  for (const LinearLayer& layer : layers) float_values.push_back(layer.output_value);
  const size_t output_samples = std::min(samples, kOutputSamples);
  std::vector<std::map<std::string, Tensor>> float_outputs(output_samples);
  for (const ir::Value* output : context.model.graph->outputs) float_values.push_back(output->name);
  const size_t per_sample = (kRowsPerLayer + samples - 1) / samples;
  run_samples(context, context.model, false, float_values, samples, "adaround: float targets",
              [&](size_t sample, const SampleValues& value) {
                for (size_t l = 0; l < layers.size(); ++l) {
                  const Tensor& output = value(layers[l].output_value);
                  std::mt19937 random(settings.seed + static_cast<uint32_t>(l * 7919 + sample));
                  sampling[l].positions.push_back(
                      choose_positions(output_positions(layers[l], output.shape()), per_sample, random));
                  sampling[l].output_shapes.push_back(output.shape());
                  for (int64_t position : sampling[l].positions.back()) {
                    append_output_row(layers[l], output, position, sampling[l].rows.targets);
                  }
                  sampling[l].rows.rows += sampling[l].positions.back().size();
                }
                if (sample < output_samples) {
                  for (const ir::Value* output : context.model.graph->outputs) {
                    float_outputs[sample].emplace(output->name, value(output->name));
                  }
                }
              });

  // 2. x̃ from the quantized model on the sim backend, again before each stage (the layers learned so far in).
  auto simulate = [&](size_t first, size_t last, bool measure_outputs, double& signal, double& noise,
                      const std::string& label) {
    std::vector<std::string> kept;
    for (size_t l = first; l < last; ++l) kept.push_back(layers[l].input_value + "_quantized");
    if (measure_outputs) {
      for (const ir::Value* output : context.model.graph->outputs) kept.push_back(output->name);
    }
    for (size_t l = first; l < last; ++l) sampling[l].rows.inputs.clear();
    run_samples(context, context.model, true, kept, first < last ? samples : output_samples, label,
                [&](size_t sample, const SampleValues& value) {
                  for (size_t l = first; l < last; ++l) {
                    const Tensor& input = value(layers[l].input_value + "_quantized");
                    for (int64_t position : sampling[l].positions[sample]) {
                      append_input_patch(layers[l], input, sampling[l].output_shapes[sample], position,
                                         sampling[l].rows.inputs);
                    }
                  }
                  if (measure_outputs && sample < output_samples) {
                    accumulate_output_error(float_outputs[sample], value, signal, noise);
                  }
                });
  };
  // Stages: layer l is learned on x̃ simulated at the start of its stage. Without a budget, every layer is its own
  // stage while all the simulations together stay under kUnbudgetedSimulationSeconds (the first one measures their
  // cost; at least kFewestStages otherwise); with one, as many stages as 30 % of the budget pays for.
  size_t stages = layers.size();
  auto stage_of = [&](size_t l) { return l * stages / layers.size(); };
  double before_signal = 0, before_noise = 0;
  const auto first_pass = std::chrono::steady_clock::now();
  const std::clock_t first_pass_cpu = std::clock();
  const size_t first_stage_end = budget.limited() ? layers.size() : 1;
  simulate(0, first_stage_end, true, before_signal, before_noise, "adaround: quantized inputs");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - first_pass).count();
  const double cpu_seconds = static_cast<double>(std::clock() - first_pass_cpu) / CLOCKS_PER_SEC;
  if (budget.limited()) {
    const double affordable = seconds > 0 ? std::floor(0.3 * std::max(0.0, budget.seconds_left()) / seconds) : 0;
    stages = static_cast<size_t>(std::clamp(1.0 + affordable, 1.0, static_cast<double>(layers.size())));
  } else if (cpu_seconds * static_cast<double>(layers.size()) > kUnbudgetedSimulationSeconds) {
    const double fewest = static_cast<double>(std::min(layers.size(), kFewestStages));
    stages = static_cast<size_t>(std::clamp(std::floor(kUnbudgetedSimulationSeconds / cpu_seconds), fewest,
                                            static_cast<double>(layers.size())));
    size_t end = first_stage_end;  // the first stage now holds more layers: their x̃ from the same model
    while (end < layers.size() && stage_of(end) == 0) ++end;
    double unused_signal = 0, unused_noise = 0;
    if (end > first_stage_end) simulate(first_stage_end, end, false, unused_signal, unused_noise, "adaround: quantized inputs");
  }

  std::vector<double> costs(layers.size());
  double remaining_cost = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    costs[l] = static_cast<double>(layers[l].outputs) * static_cast<double>(layers[l].patch) *
               static_cast<double>(std::min(settings.batch_rows, sampling[l].rows.rows) + 1);
    remaining_cost += costs[l];
  }
  size_t learned_layers = 0, changed = 0, weights = 0, kept_nearest = 0, undecided = 0;
  int fewest_iterations = settings.iterations;
  for (size_t l = 0; l < layers.size(); ++l) {
    const LinearLayer& layer = layers[l];
    const std::string label = layer.node->name.empty() ? layer.output_value : layer.node->name;
    if (l > 0 && stage_of(l) != stage_of(l - 1)) {
      size_t end = l;
      while (end < layers.size() && stage_of(end) == stage_of(l)) ++end;
      double unused_signal = 0, unused_noise = 0;
      simulate(l, end, false, unused_signal, unused_noise, "adaround: quantized inputs");
    }
    if (context.progress) context.progress(l, layers.size(), "adaround: learning rounding");
    if (sampling[l].rows.rows < kMinimumRows) {
      outcome.layers.push_back({label, std::nullopt, std::nullopt,
                                "left at nearest: " + std::to_string(sampling[l].rows.rows) +
                                    " output positions in the calibration samples, too few to learn from"});
      remaining_cost -= costs[l];
      continue;
    }
    const auto deadline = budget.deadline_for(costs[l], remaining_cost);
    remaining_cost -= costs[l];
    const LearnedRounding learned = learn_layer_rounding(layer, sampling[l].rows, settings, deadline);
    store_learned_weights(context.model, layer, learned.integers);
    sampling[l].rows = LayerRows{};
    ++learned_layers;
    changed += learned.changed;
    weights += learned.integers.size();
    kept_nearest += learned.kept_nearest;
    undecided += learned.kept_nearest ? 0 : learned.undecided;
    fewest_iterations = std::min(fewest_iterations, learned.iterations);
    std::string detail = learned.kept_nearest
                             ? "nearest kept: the learned rounding was worse on the held-out rows (" +
                                   format_db(learned.learned_db) + " dB)"
                             : std::to_string(learned.changed) + " of " + std::to_string(learned.integers.size()) +
                                   " weights rounded the other way";
    detail += ", " + std::to_string(learned.iterations) + " iterations";
    outcome.layers.push_back({label, learned.nearest_db, learned.kept_nearest ? learned.nearest_db : learned.learned_db,
                              detail});
  }
  if (context.progress) context.progress(layers.size(), layers.size(), "adaround: learning rounding");
  if (context.tensors) refresh_bias_parameters(context.model, context.plan, *context.tensors);

  double after_signal = 0, after_noise = 0;
  simulate(0, 0, true, after_signal, after_noise, "adaround: model output after");
  outcome.before = decibels(before_signal, before_noise);
  outcome.after = decibels(after_signal, after_noise);
  outcome.notes.push_back("model output SQNR on the first " + std::to_string(output_samples) +
                          " calibration sample(s); layer SQNR on the held-out fifth of up to " +
                          std::to_string(kRowsPerLayer) + " sampled output positions of " + std::to_string(samples) +
                          " sample(s) (the rounding learns on the other four fifths)");
  outcome.notes.push_back(std::to_string(learned_layers) + " layer(s) learned, " + std::to_string(changed) + " of " +
                          std::to_string(weights) + " weights rounded the other way than nearest; " +
                          std::to_string(settings.iterations) + " iterations per layer asked" +
                          (fewest_iterations < settings.iterations
                               ? " (the time budget cut some to " + std::to_string(fewest_iterations) + ")"
                               : std::string()) +
                          (kept_nearest ? "; " + std::to_string(kept_nearest) + " layer(s) kept nearest" : std::string()));
  if (undecided > 0) {
    // The regularizer did not bring every h(V) to 0 or 1 (a budget cut the annealing short, or the loss outweighed
    // it): those weights were rounded at 0.5, not where the loss was lowest.
    outcome.notes.push_back(std::to_string(undecided) + " of " + std::to_string(weights) +
                            " weights were still undecided (h(V) strictly between 0 and 1) when learning stopped: "
                            "rounded at 0.5");
  }
  outcome.notes.push_back("inputs x̃ simulated " + std::to_string(stages) + " time(s) for " +
                          std::to_string(layers.size()) + " layer(s)" +
                          (stages == layers.size() ? " (each layer on the output of the layers learned before it)"
                                                   : " (layers within a stage learned on the same simulation)"));
  return outcome;
}

}  // namespace

QuantizationAlgorithm adaround_algorithm() {
  return {"adaround",
          "AdaRound: learns each weight's rounding (down or up) layer by layer so the layer's output, computed in the "
          "target's integer arithmetic, matches the float model on calibration data",
          AlgorithmStage::after_parameters, apply_adaround};
}

}  // namespace npukit::quantization
