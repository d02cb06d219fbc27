// What AdaRound and block reconstruction share: a Conv / Gemm / MatMul layer seen as the target computes it
// (its integer accumulation, the target's requantization, zero point and clamp, read from the sim lowering of
// the quantized model so the numerics are the sim backend's own), calibration rows gathered at sampled output
// positions, and the soft rounding of Nagel et al. 2020 (AdaRound) learned with Adam.
//
// Units. A row of a layer's input holds (q_x - z_x) for one output position's receptive field (its im2col
// patch): exact integers. A layer's weights are W̃ = s · (clamp(floor(W / s) + z_w + h(V), qmin, qmax) - z_w);
// the optimization works on the bracket (integers once h is hard). The output is compared in real units:
// ŷ = s_y · (q_y - z_y) against the float model's value y at the same position.
//
// The forward pass of the loss is the target's: acc = Σ (q_x - z_x)(q_w - z_w) + q_b, then the requantizer of
// the spec (fixed-point multiplier and shift with their rounding, or a float scale), + z_y, clamp to the grid
// narrowed by a fused Relu / Clip. The soft accumulator is not an integer: it is rounded half away from zero
// before the requantizer. The requantization, that rounding and the clamp have no useful derivative: the
// gradient passes straight through them (straight-through estimator) as dq_y / dacc = M (the real multiplier)
// inside the clamp bounds and 0 outside, the clamp being where the target really saturates.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantization/quantization_algorithm.h"
#include "runtime/kernels/integer/output_stage.h"

namespace npukit::quantization {

// AdaRound's hyper-parameters (AIMET's AdaroundParameters defaults, quant_anchors.md, except λ and the iteration
// count: see docs/quantization.md for both).
struct RoundingLearningSettings {
  int iterations = 1000;            // per layer (per block for block reconstruction)
  size_t batch_rows = 256;          // output positions per Adam step
  // λ, in the units of our loss: output steps² ((ŷ - y) / s_y, summed over channels). AIMET's 0.01 weighs a loss in
  // the output's real units, s_y² times ours (about 1e-2 to 1e-4 for 8-bit activations), so 0.01 here is a regularizer
  // 100 to 10 000 times weaker than AIMET's: on 4-bit weights 30-60 % of a layer's h(V) were still between 0 and 1
  // when β reached 2, and rounding them at 0.5 threw away most of what the soft solution had won (the detector's first
  // conv: 39.7 dB soft, 13.8 dB once rounded). With 1 every h(V) ends at 0 or 1 (undecided_count() reports it).
  double regularization = 1.0;
  double beta_start = 20;           // β annealed from 20 to 2 after the warm start
  double beta_end = 2;
  double warm_start = 0.2;          // share of the iterations without the rounding regularizer
  double learning_rate = 0.03;      // Adam (AIMET: 0.001 over 10 000 iterations; ours are fewer)
  uint32_t seed = 1;
};

// One Conv / Gemm / MatMul layer whose weights may move on their grid.
struct LinearLayer {
  ir::Node* node = nullptr;   // in the float model being quantized
  std::string input_value;    // the input's quantization point
  std::string output_value;   // the output's quantization point (after a fused Relu / Clip)
  std::string weight_value;   // the constant float weight
  bool convolution = false;
  // Convolution geometry (ONNX attributes); matrix products: 1.
  int64_t group = 1, kernel_h = 1, kernel_w = 1;
  std::vector<int64_t> strides{1, 1}, dilations{1, 1}, pads{0, 0, 0, 0};
  int64_t input_channels = 0;  // C (Conv) or K (Gemm / MatMul)
  int64_t outputs = 0;         // M: output channels (Conv) or columns (Gemm / MatMul)
  int64_t patch = 0;           // weights per output: C / group · kh · kw, or K
  bool weight_is_output_major = true;  // weight element of (m, k) at m · patch + k; else (MatMul, Gemm transB=0) k · M + m
  // The target's arithmetic for this layer, from the lowered sim graph.
  int32_t input_zero_point = 0;
  std::vector<int32_t> weight_zero_points;  // per output
  std::vector<int32_t> bias;                // q_b per output (0 without a bias)
  runtime::integer::OutputStage output_stage;
  float output_scale = 1;
  std::vector<double> multipliers;  // per output: s_x · s_w / s_y
  // The weight grid: per element, floor(W / s) + z_w, the fraction W / s - floor, the nearest integer as the export
  // writes it; the grid bounds; per output, the scale.
  std::vector<float> floor_plus_zero;  // M × patch, output-major
  std::vector<float> fraction;
  std::vector<int32_t> nearest;
  int32_t weight_minimum = -128, weight_maximum = 127;
  std::vector<float> weight_scales;  // per output (per group: the channel's coarsest group scale s_ref)
  // Weights per group (runtime/kernels/integer/grouped_weights.h): the sim sums each group of `weight_group_size`
  // inputs in int32, rescales the sums by s_w[m, g] / s_ref[m] onto the channel's coarsest group scale, rounds once
  // half to even, then requantizes per channel. The optimization folds that ratio into the weights it multiplies
  // (centred weights are (q_w - z_w[m, g]) · ratio) and rounds as the sim does. 0: per tensor / per channel.
  int64_t weight_group_size = 0;
  int64_t groups_per_output = 1;
  std::vector<double> group_ratios;        // [M, groups] row-major, read from the sim's lowering
  std::vector<int32_t> group_zero_points;  // [M, groups]
};

// The zero point and the rescale ratio (1 outside groups) of weight `index` (output-major, M × patch).
int32_t weight_zero_point(const LinearLayer& layer, size_t index);
double weight_ratio(const LinearLayer& layer, size_t index);

// Finds every Conv / Gemm / MatMul of `context.model` (graph order) whose weight may be rounded: a constant float
// weight point quantized per tensor, per output channel or per group of an output's inputs, read by no other node, an input point per tensor, an
// output point, and an integer form on the sim backend. `skipped` gets one line per layer left alone and why.
std::vector<LinearLayer> find_linear_layers(AlgorithmContext& context, std::vector<std::string>& skipped);

// Calibration rows of one layer: `inputs` rows × patch (q_x - z_x) for the output's receptive field;
// `targets` rows × M: the float model's output there. Block reconstruction adds the receptive field of a second
// layer: see block_reconstruction.cpp.
struct LayerRows {
  std::vector<int16_t> inputs;
  std::vector<float> targets;
  size_t rows = 0;
};

// Where a layer's output was sampled: (sample, batch item, output row, output column) flattened as an index into
// that sample's output positions (N · OH · OW for a Conv, the product of the leading dims for a matrix product).
struct SampledPositions {
  std::vector<std::vector<int64_t>> per_sample;
};

// The number of output positions of a layer for an output tensor of `output_shape`.
int64_t output_positions(const LinearLayer& layer, const Shape& output_shape);

// Appends the im2col patch of `position` of the integer input tensor `input` (q_x) to `row` as q_x - z_x
// (padding: 0). `output_shape` is the layer's output shape.
void append_input_patch(const LinearLayer& layer, const Tensor& input, const Shape& output_shape, int64_t position,
                        std::vector<int16_t>& row);

// Appends the M float outputs of `position` of `output` to `targets`.
void append_output_row(const LinearLayer& layer, const Tensor& output, int64_t position, std::vector<float>& targets);

// The integer forward of `rows` with the weights `centred` (M × patch, q_w - z_w, integers or soft), in real units:
// ŷ (rows × M) and, when `in_bounds` is given, whether each output lies inside the clamp (the STE mask).
void layer_forward(const LinearLayer& layer, const float* inputs, size_t rows, const std::vector<float>& centred,
                   std::vector<float>& outputs, std::vector<uint8_t>* in_bounds);

// Integer weights (M × patch, q_w, output-major) as centred floats (q_w - z_w).
std::vector<float> centred_weights(const LinearLayer& layer, const std::vector<int32_t>& integers);

// Row-major single-precision C = op(A) · op(B) (C: rows × columns; op: 'N' as stored, 'T' transposed), through
// oneDNN's sgemm, the library the cpu backend already uses.
void multiply_matrices(char transpose_a, char transpose_b, int64_t rows, int64_t columns, int64_t depth, const float* a,
                       int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc);


// The soft rounding of one layer: V per weight, h(V) the rectified sigmoid (ζ = 1.1, γ = -0.1), started so that
// h(V) equals each weight's fraction (AIMET), with its Adam moments.
class SoftRounding {
 public:
  explicit SoftRounding(const LinearLayer& layer);
  // q_w - z_w with the soft h(V) (M × patch), and d(q_w - z_w)/dV per weight (0 where the grid clamps).
  void soft_weights(std::vector<float>& centred, std::vector<float>& derivative) const;
  // The rounding regularizer Σ 1 - |2h - 1|^β and its gradient added (× λ) to `gradient`.
  double add_regularizer_gradient(double beta, double lambda, std::vector<float>& gradient) const;
  // One Adam step on V with the gradient dLoss/dV.
  void adam_step(const std::vector<float>& gradient, double learning_rate);
  // The learned integers: floor + z_w + (h(V) >= 0.5), clamped to the grid.
  std::vector<int32_t> hard_integers() const;
  // Weights whose h(V) is still strictly between 0 and 1: the soft rounding has not decided them, and
  // hard_integers() rounds them at 0.5, away from what the loss was optimized for. 0 when the regularizer did its work.
  size_t undecided_count() const;

 private:
  const LinearLayer& layer_;
  std::vector<float> v_, first_moment_, second_moment_;
  int step_ = 0;
};

// β at iteration `iteration` of `iterations`: flat at beta_start during the warm start, then cosine-annealed to
// beta_end (AIMET's AdaroundLoss.compute_beta); 0 during the warm start means no regularizer.
double annealed_beta(const RoundingLearningSettings& settings, int iteration, int iterations);

// The length of the β schedule when `iteration` iterations took `seconds_so_far` and the deadline is `seconds_left`
// away: `planned` or fewer, never below iteration + 1, 80 % of what the time left pays for at the pace so far (a
// loaded machine slows down between two measurements). A layer cut off mid-annealing keeps many h(V) between 0 and 1,
// rounded at 0.5; a shorter but complete schedule decides them.
int fitted_schedule_length(int planned, int iteration, double seconds_so_far, double seconds_left);

// Writes the integers `integers` (q_w, output-major) into the layer's float weight as s · (q_w - z_w), so the QDQ
// export stores exactly them.
void store_learned_weights(ir::Model& model, const LinearLayer& layer, const std::vector<int32_t>& integers);

// A time budget shared by the layers still to learn: each layer's share is proportional to its cost.
class TimeBudget {
 public:
  explicit TimeBudget(double seconds);  // <= 0: no limit
  bool limited() const { return seconds_ > 0; }
  double seconds_left() const;
  // The moment the current job must stop: its share `cost / remaining_cost` of what is left.
  std::chrono::steady_clock::time_point deadline_for(double cost, double remaining_cost) const;

 private:
  double seconds_;
  std::chrono::steady_clock::time_point start_;
};

// Runs the model over the first `count` calibration samples, keeping `values` (graph inputs, computed values or
// outputs), and calls `visit(sample, value)` after each run, `value(name)` giving a kept tensor. `simulated`:
// the quantized model (context.model with its parameters) on the sim backend of context.target, where a value
// "v_quantized" is the integer tensor of point v; otherwise the float model on cpu, which keeps every value
// asked for as named. Reports progress as (done, count, label).
using SampleValues = std::function<const Tensor&(const std::string&)>;
void run_samples(AlgorithmContext& context, const ir::Model& model, bool simulated, const std::vector<std::string>& values,
                 size_t count, const std::string& label, const std::function<void(size_t, const SampleValues&)>& visit);

// The settings of `context.options` (--adaround-iterations; 0 keeps the default).
// find_linear_layers with its outcome notes: one per layer left at nearest rounding, and one when no layer is left
// to learn (then the list is empty and the algorithm has nothing to do).
std::vector<LinearLayer> learnable_layers(AlgorithmContext& context, AlgorithmOutcome& outcome);

RoundingLearningSettings rounding_settings(const AlgorithmContext& context);

}  // namespace npukit::quantization
