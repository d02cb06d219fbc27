#include "quantization/algorithms/learned_rounding.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "engine/engine.h"
#include "npukit/error.h"
#include "onnx/onnx_export.h"
#include "preparation/model_preparation.h"
#include "quantization/fixed_point.h"
#include "quantization/quantize.h"
#include "quantization/quantize_model.h"
#include "sim/integer_ops.h"
#include "runtime/kernels/integer/grouped_weights.h"
#include "sim/lowering.h"

namespace npukit::quantization {

namespace {

// The rectified sigmoid's stretch (Louizos et al. 2018, as AdaRound and AIMET use it).
constexpr double kZeta = 1.1;
constexpr double kGamma = -0.1;

bool fusable_activation(const ir::Node* node) {
  return node && node->domain.empty() && (node->op_type == "Relu" || node->op_type == "Clip");
}

}  // namespace

// Row-major single-precision matrix product through oneDNN (the library the cpu backend already uses):
// C = op(A) · op(B), C is rows × columns.
void multiply_matrices(char transpose_a, char transpose_b, int64_t rows, int64_t columns, int64_t depth, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
  if (rows == 0 || columns == 0) return;
  if (depth == 0) {
    for (int64_t i = 0; i < rows; ++i) std::fill_n(c + i * ldc, columns, 0.0f);
    return;
  }
  // Small products in plain loops: oneDNN's OpenMP threads cost more than they give on a few thousand
  // multiply-adds, and on a loaded machine their spin-waits turn milliseconds into seconds.
  if (rows * columns * depth < (int64_t{1} << 20)) {
    auto a_at = [&](int64_t i, int64_t p) { return transpose_a == 'N' ? a[i * lda + p] : a[p * lda + i]; };
    for (int64_t i = 0; i < rows; ++i) {
      float* out = c + i * ldc;
      if (transpose_b == 'T') {
        for (int64_t j = 0; j < columns; ++j) {
          const float* column = b + j * ldb;
          float sum = 0;
          for (int64_t p = 0; p < depth; ++p) sum += a_at(i, p) * column[p];
          out[j] = sum;
        }
        continue;
      }
      std::fill_n(out, columns, 0.0f);
      for (int64_t p = 0; p < depth; ++p) {
        const float scale = a_at(i, p);
        if (scale == 0.0f) continue;
        const float* row = b + p * ldb;
        for (int64_t j = 0; j < columns; ++j) out[j] += scale * row[j];
      }
    }
    return;
  }
  const dnnl_status_t status =
      dnnl_sgemm(transpose_a, transpose_b, rows, columns, depth, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  if (status != dnnl_success) throw Error(ErrorKind::internal, "oneDNN sgemm failed in the rounding optimizer");
}

std::vector<LinearLayer> find_linear_layers(AlgorithmContext& context, std::vector<std::string>& skipped) {
  // The quantized model lowered exactly as the sim backend lowers it: each layer's multipliers, clamp bounds,
  // zero points and int32 bias come from there, so the optimization computes what the sim backend computes.
  const std::string bytes = onnx_io::serialize_model(context.model);
  preparation::PreparedModel prepared =
      preparation::load_prepared_model_from_bytes(bytes, context.model.source_path + " (quantized in memory)");
  const sim::LoweringReport report = sim::lower_to_integer(prepared.model, context.target.numerics, context.target.id);
  std::map<std::string, const ir::Node*> lowered_by_output;
  for (const auto& node : prepared.model.graph->nodes()) {
    if (node->domain == sim::kIntegerDomain && node->output(0)) lowered_by_output[node->output(0)->name] = node.get();
  }
  std::map<std::string, std::string> float_reasons;
  for (const sim::LoweringReport::Entry& entry : report.float_nodes) float_reasons[entry.node] = entry.detail;

  const targets::NumericsSpec& spec = context.target.numerics;
  std::vector<LinearLayer> layers;
  for (const auto& owned : context.model.graph->nodes()) {
    ir::Node* node = owned.get();
    if (!node->domain.empty() || (node->op_type != "Conv" && node->op_type != "Gemm" && node->op_type != "MatMul")) continue;
    const std::string label = node->name.empty() ? node->op_type : node->name;
    auto skip = [&](const std::string& why) { skipped.push_back(label + ": " + why); };
    ir::Value* input = node->input(0);
    ir::Value* weight = node->input(1);
    if (!weight || !weight->initializer || weight->is_graph_input || !weight->quant) {
      skip("its weight is not a quantized constant");
      continue;
    }
    if (weight->consumers.size() != 1) {
      skip("its weight is shared with another node");
      continue;
    }
    if (!input || !input->quant || input->quant->scales.size() != 1) {
      skip("its input is not a per-tensor quantization point");
      continue;
    }
    ir::Value* output = node->output(0);
    if (output && !output->quant && output->consumers.size() == 1 && !output->is_graph_output &&
        fusable_activation(output->consumers[0])) {
      output = output->consumers[0]->output(0);
    }
    if (!output || !output->quant) {
      skip("its output is not a quantization point");
      continue;
    }
    const auto lowered = lowered_by_output.find(output->name + "_quantized");
    const bool grouped = weight->quant->granularity() == ir::QuantGranularity::per_group;
    const std::string expected_convolution = grouped ? sim::ops::grouped_convolution : sim::ops::convolution;
    const std::string expected_matmul = grouped ? sim::ops::grouped_matmul : sim::ops::matmul;
    if (lowered == lowered_by_output.end() ||
        (lowered->second->op_type != expected_convolution && lowered->second->op_type != expected_matmul)) {
      const auto reason = float_reasons.find(node->name);
      skip("the sim backend runs it in float" + (reason != float_reasons.end() ? ": " + reason->second : std::string()));
      continue;
    }
    const ir::Node& integer = *lowered->second;

    LinearLayer layer;
    layer.node = node;
    layer.input_value = input->name;
    layer.output_value = output->name;
    layer.weight_value = weight->name;
    const Tensor& data = *weight->initializer;
    if (node->op_type == "Conv") {
      if (data.rank() != 4) {
        skip("only 2-D convolutions");
        continue;
      }
      layer.convolution = true;
      layer.group = node->get_int("group", 1);
      layer.kernel_h = data.dim(2);
      layer.kernel_w = data.dim(3);
      layer.strides = node->get_ints("strides", {1, 1});
      layer.dilations = node->get_ints("dilations", {1, 1});
      layer.pads = node->get_ints("pads", {0, 0, 0, 0});
      layer.outputs = data.dim(0);
      layer.patch = data.dim(1) * layer.kernel_h * layer.kernel_w;
      layer.input_channels = data.dim(1) * layer.group;
      layer.input_zero_point = static_cast<int32_t>(integer.get_int("input_zero_point", 0));
      for (int64_t z : integer.get_ints("weight_zero_points", {})) layer.weight_zero_points.push_back(static_cast<int32_t>(z));
    } else {
      if (data.rank() != 2) {
        skip("a weight of rank other than 2");
        continue;
      }
      const bool transposed = node->op_type == "Gemm" && node->get_int("transB", 0) != 0;
      layer.weight_is_output_major = transposed;
      layer.outputs = transposed ? data.dim(0) : data.dim(1);
      layer.patch = transposed ? data.dim(1) : data.dim(0);
      layer.input_channels = layer.patch;
      layer.input_zero_point = static_cast<int32_t>(integer.get_int("a_zero_point", 0));
      for (int64_t z : integer.get_ints("b_zero_points", {})) layer.weight_zero_points.push_back(static_cast<int32_t>(z));
    }
    const size_t outputs = static_cast<size_t>(layer.outputs);
    if (grouped) {
      // The sim's per-group form: the groups, their ratios onto the channel's reference scale and zero points as
      // the lowering wrote them (the weight_zero_points / b_zero_points attribute is then [M, groups]).
      layer.weight_group_size = integer.get_int("group_size", 0);
      layer.groups_per_output = layer.weight_group_size > 0 ? (layer.patch + layer.weight_group_size - 1) / layer.weight_group_size : 0;
      layer.group_ratios = integer.get_floats("group_ratios");
      layer.group_zero_points.assign(layer.weight_zero_points.begin(), layer.weight_zero_points.end());
      const size_t expected = outputs * static_cast<size_t>(layer.groups_per_output);
      if (layer.weight_group_size != weight->quant->group_size || expected == 0 || layer.group_ratios.size() != expected ||
          weight->quant->scales.size() != expected) {
        skip("its weight groups on the sim backend do not match the weight's parameters");
        continue;
      }
      if (layer.group_zero_points.empty()) layer.group_zero_points.assign(expected, 0);
      if (layer.group_zero_points.size() != expected) layer.group_zero_points.resize(expected, layer.group_zero_points[0]);
      layer.weight_zero_points.clear();
    }
    if (layer.weight_zero_points.empty()) layer.weight_zero_points.assign(1, 0);
    if (layer.weight_zero_points.size() != outputs) layer.weight_zero_points.resize(outputs, layer.weight_zero_points[0]);
    layer.multipliers = integer.get_floats("multipliers");
    if (layer.multipliers.size() != outputs) layer.multipliers.resize(outputs, layer.multipliers.at(0));
    layer.output_stage.requantizer = runtime::integer::Requantizer(layer.multipliers, spec.requantization.value,
                                                                   static_cast<int>(spec.multiplier_bits.value));
    layer.output_stage.zero_point = static_cast<int32_t>(integer.get_int("output_zero_point", 0));
    layer.output_stage.minimum = static_cast<int32_t>(integer.get_int("output_min", -128));
    layer.output_stage.maximum = static_cast<int32_t>(integer.get_int("output_max", 127));
    layer.output_scale = output->quant->scales[0];
    layer.bias.assign(outputs, 0);
    if (integer.inputs.size() > 2 && integer.input(2) && integer.input(2)->initializer) {
      const Tensor& bias = *integer.input(2)->initializer;
      for (size_t m = 0; m < outputs && m < static_cast<size_t>(bias.element_count()); ++m) {
        layer.bias[m] = static_cast<int32_t>(bias.value_as_int64(static_cast<int64_t>(m)));
      }
    }

    // The weight grid, per element in the layer's (output, patch) order. W / s in float32 as the export's
    // QuantizeLinear computes it; the nearest integer is the export's own (quantize_tensor).
    const ir::QuantParams& params = *weight->quant;
    layer.weight_minimum = static_cast<int32_t>(params.storage_min());
    layer.weight_maximum = static_cast<int32_t>(params.storage_max());
    const Tensor nearest = quantize_tensor(data, params);
    const std::vector<float> values = data.to_float_vector();
    const size_t count = outputs * static_cast<size_t>(layer.patch);
    layer.floor_plus_zero.resize(count);
    layer.fraction.resize(count);
    layer.nearest.resize(count);
    layer.weight_scales.assign(outputs, 0);
    for (size_t m = 0; m < outputs; ++m) {
      for (int64_t k = 0; k < layer.patch; ++k) {
        const int64_t flat = layer.weight_is_output_major ? static_cast<int64_t>(m) * layer.patch + k
                                                          : k * layer.outputs + static_cast<int64_t>(m);
        const size_t parameter = parameter_index(params, data.shape(), flat);
        const float scale = params.scales[parameter];
        const float ratio = values[static_cast<size_t>(flat)] / scale;
        const float below = std::floor(ratio);
        const size_t index = m * static_cast<size_t>(layer.patch) + static_cast<size_t>(k);
        layer.floor_plus_zero[index] = below + static_cast<float>(params.zero_point(parameter));
        layer.fraction[index] = ratio - below;
        layer.nearest[index] = static_cast<int32_t>(nearest.value_as_int64(flat));
        layer.weight_scales[m] = grouped ? std::max(layer.weight_scales[m], scale) : scale;
      }
    }
    layers.push_back(std::move(layer));
  }
  return layers;
}

int32_t weight_zero_point(const LinearLayer& layer, size_t index) {
  const size_t patch = static_cast<size_t>(layer.patch);
  if (layer.weight_group_size <= 0) return layer.weight_zero_points[index / patch];
  const size_t group = (index % patch) / static_cast<size_t>(layer.weight_group_size);
  return layer.group_zero_points[index / patch * static_cast<size_t>(layer.groups_per_output) + group];
}

double weight_ratio(const LinearLayer& layer, size_t index) {
  if (layer.weight_group_size <= 0) return 1.0;
  const size_t patch = static_cast<size_t>(layer.patch);
  const size_t group = (index % patch) / static_cast<size_t>(layer.weight_group_size);
  return layer.group_ratios[index / patch * static_cast<size_t>(layer.groups_per_output) + group];
}

int64_t output_positions(const LinearLayer& layer, const Shape& shape) {
  if (layer.convolution) return shape.at(0) * shape.at(2) * shape.at(3);
  int64_t rows = 1;
  for (size_t axis = 0; axis + 1 < shape.size(); ++axis) rows *= shape[axis];
  return rows;
}

void append_input_patch(const LinearLayer& layer, const Tensor& input, const Shape& output_shape, int64_t position,
                        std::vector<int16_t>& row) {
  auto value = [&](int64_t flat) {
    return static_cast<int16_t>(input.value_as_int64(flat) - layer.input_zero_point);
  };
  if (!layer.convolution) {
    const int64_t depth = layer.patch;
    for (int64_t k = 0; k < depth; ++k) row.push_back(value(position * depth + k));
    return;
  }
  const int64_t out_h = output_shape.at(2), out_w = output_shape.at(3);
  const int64_t n = position / (out_h * out_w);
  const int64_t oh = (position / out_w) % out_h, ow = position % out_w;
  const int64_t channels = input.dim(1), height = input.dim(2), width = input.dim(3);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < layer.kernel_h; ++i) {
      const int64_t h = oh * layer.strides[0] - layer.pads[0] + i * layer.dilations[0];
      for (int64_t j = 0; j < layer.kernel_w; ++j) {
        const int64_t w = ow * layer.strides[1] - layer.pads[1] + j * layer.dilations[1];
        const bool inside = h >= 0 && h < height && w >= 0 && w < width;
        row.push_back(inside ? value(((n * channels + c) * height + h) * width + w) : static_cast<int16_t>(0));
      }
    }
  }
}

void append_output_row(const LinearLayer& layer, const Tensor& output, int64_t position, std::vector<float>& targets) {
  if (!layer.convolution) {
    for (int64_t m = 0; m < layer.outputs; ++m) {
      targets.push_back(static_cast<float>(output.value_as_double(position * layer.outputs + m)));
    }
    return;
  }
  const int64_t plane = output.dim(2) * output.dim(3);
  const int64_t n = position / plane, offset = position % plane;
  for (int64_t m = 0; m < layer.outputs; ++m) {
    targets.push_back(static_cast<float>(output.value_as_double((n * layer.outputs + m) * plane + offset)));
  }
}

void layer_forward(const LinearLayer& layer, const float* inputs, size_t rows, const std::vector<float>& centred,
                   std::vector<float>& outputs, std::vector<uint8_t>* in_bounds) {
  const int64_t outputs_per_group = layer.outputs / layer.group;
  const int64_t row_width = layer.patch * layer.group;
  outputs.resize(rows * static_cast<size_t>(layer.outputs));
  // The accumulators (float32 sums of exact integer products: exact below 2^24, within the float's last place
  // beyond, which the requantization to 8 bits hides but for rare ties).
  for (int64_t g = 0; g < layer.group; ++g) {
    multiply_matrices('N', 'T', static_cast<int64_t>(rows), outputs_per_group, layer.patch, inputs + g * layer.patch,
                   row_width, centred.data() + g * outputs_per_group * layer.patch, layer.patch,
                   outputs.data() + g * outputs_per_group, layer.outputs);
  }
  if (in_bounds) in_bounds->resize(outputs.size());
  const runtime::integer::OutputStage& stage = layer.output_stage;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t m = 0; m < static_cast<size_t>(layer.outputs); ++m) {
      const size_t index = r * static_cast<size_t>(layer.outputs) + m;
      // Per channel: the exact integer sum plus the bias (a soft sum rounded half away from zero). Per group: the
      // rescaled group sums rounded once half to even, then the bias: the sim kernel's own step.
      const double sum = static_cast<double>(outputs[index]);
      const int32_t clamped =
          layer.weight_group_size > 0
              ? runtime::integer::grouped_channel_accumulator(std::clamp(sum, -2147483648.0, 2147483647.0), layer.bias[m])
              : static_cast<int32_t>(std::clamp(round_with(sum + layer.bias[m], ir::RoundingMode::half_away_from_zero),
                                                -2147483648.0, 2147483647.0));
      const int64_t requantized = static_cast<int64_t>(stage.requantizer.apply(clamped, m)) + stage.zero_point;
      const int64_t q = std::clamp<int64_t>(requantized, stage.minimum, stage.maximum);
      outputs[index] = layer.output_scale * static_cast<float>(q - stage.zero_point);
      if (in_bounds) (*in_bounds)[index] = requantized >= stage.minimum && requantized <= stage.maximum;
    }
  }
}

std::vector<float> centred_weights(const LinearLayer& layer, const std::vector<int32_t>& integers) {
  std::vector<float> centred(integers.size());
  for (size_t index = 0; index < integers.size(); ++index) {
    centred[index] = static_cast<float>((integers[index] - weight_zero_point(layer, index)) * weight_ratio(layer, index));
  }
  return centred;
}

SoftRounding::SoftRounding(const LinearLayer& layer) : layer_(layer) {
  v_.resize(layer.fraction.size());
  for (size_t index = 0; index < v_.size(); ++index) {
    // h(V) = fraction: sigmoid(V) = (fraction - γ) / (ζ - γ), which lies in (0, 1) for a fraction in [0, 1).
    const double sigmoid = (static_cast<double>(layer.fraction[index]) - kGamma) / (kZeta - kGamma);
    v_[index] = static_cast<float>(std::log(sigmoid / (1.0 - sigmoid)));
  }
  first_moment_.assign(v_.size(), 0.0f);
  second_moment_.assign(v_.size(), 0.0f);
}

void SoftRounding::soft_weights(std::vector<float>& centred, std::vector<float>& derivative) const {
  centred.resize(v_.size());
  derivative.resize(v_.size());
  for (size_t index = 0; index < v_.size(); ++index) {
    const float sigmoid = 1.0f / (1.0f + std::exp(-v_[index]));
    const float stretched = sigmoid * static_cast<float>(kZeta - kGamma) + static_cast<float>(kGamma);
    const float h = std::clamp(stretched, 0.0f, 1.0f);
    float dh = stretched > 0.0f && stretched < 1.0f ? sigmoid * (1.0f - sigmoid) * static_cast<float>(kZeta - kGamma) : 0.0f;
    float q = layer_.floor_plus_zero[index] + h;
    if (q < static_cast<float>(layer_.weight_minimum) || q > static_cast<float>(layer_.weight_maximum)) {
      q = std::clamp(q, static_cast<float>(layer_.weight_minimum), static_cast<float>(layer_.weight_maximum));
      dh = 0.0f;
    }
    // Per group the sim rescales each group's sum by its ratio: the weight the accumulator sees, and its slope.
    const float ratio = static_cast<float>(weight_ratio(layer_, index));
    centred[index] = (q - static_cast<float>(weight_zero_point(layer_, index))) * ratio;
    derivative[index] = dh * ratio;
  }
}

double SoftRounding::add_regularizer_gradient(double beta, double lambda, std::vector<float>& gradient) const {
  double total = 0;
  for (size_t index = 0; index < v_.size(); ++index) {
    const double sigmoid = 1.0 / (1.0 + std::exp(-static_cast<double>(v_[index])));
    const double stretched = sigmoid * (kZeta - kGamma) + kGamma;
    const double h = std::clamp(stretched, 0.0, 1.0);
    const double centred = 2.0 * h - 1.0;
    const double magnitude = std::fabs(centred);
    total += 1.0 - std::pow(magnitude, beta);
    if (stretched <= 0.0 || stretched >= 1.0 || magnitude == 0.0) continue;
    // d/dh (1 - |2h - 1|^β) = -2β |2h - 1|^(β-1) sign(2h - 1); dh/dV = (ζ - γ) σ (1 - σ).
    const double dregularizer = -2.0 * beta * std::pow(magnitude, beta - 1.0) * (centred > 0 ? 1.0 : -1.0);
    gradient[index] += static_cast<float>(lambda * dregularizer * (kZeta - kGamma) * sigmoid * (1.0 - sigmoid));
  }
  return lambda * total;
}

void SoftRounding::adam_step(const std::vector<float>& gradient, double learning_rate) {
  constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEpsilon = 1e-8f;
  ++step_;
  const float correction1 = 1.0f - std::pow(kBeta1, static_cast<float>(step_));
  const float correction2 = 1.0f - std::pow(kBeta2, static_cast<float>(step_));
  const float rate = static_cast<float>(learning_rate);
  for (size_t index = 0; index < v_.size(); ++index) {
    const float g = gradient[index];
    first_moment_[index] = kBeta1 * first_moment_[index] + (1.0f - kBeta1) * g;
    second_moment_[index] = kBeta2 * second_moment_[index] + (1.0f - kBeta2) * g * g;
    const float first = first_moment_[index] / correction1;
    const float second = second_moment_[index] / correction2;
    v_[index] -= rate * first / (std::sqrt(second) + kEpsilon);
  }
}

std::vector<int32_t> SoftRounding::hard_integers() const {
  std::vector<int32_t> integers(v_.size());
  for (size_t index = 0; index < v_.size(); ++index) {
    // h(V) >= 0.5 exactly when V >= 0 (σ(V) = 0.5 there, and (ζ - γ) / 2 + γ = 0.5).
    const int32_t up = v_[index] >= 0.0f ? 1 : 0;
    integers[index] = std::clamp(static_cast<int32_t>(layer_.floor_plus_zero[index]) + up, layer_.weight_minimum,
                                 layer_.weight_maximum);
  }
  return integers;
}

size_t SoftRounding::undecided_count() const {
  size_t undecided = 0;
  for (float v : v_) {
    const double stretched = (kZeta - kGamma) / (1.0 + std::exp(-static_cast<double>(v))) + kGamma;
    undecided += stretched > 0.0 && stretched < 1.0;
  }
  return undecided;
}

double annealed_beta(const RoundingLearningSettings& settings, int iteration, int iterations) {
  const double warm = settings.warm_start * iterations;
  if (iteration < warm) return 0;
  const double progress = (iteration - warm) / std::max(1.0, iterations - warm);
  return settings.beta_end + 0.5 * (settings.beta_start - settings.beta_end) * (1.0 + std::cos(progress * M_PI));
}

int fitted_schedule_length(int planned, int iteration, double seconds_so_far, double seconds_left) {
  if (iteration <= 0 || seconds_so_far <= 0) return planned;
  const double per_iteration = seconds_so_far / iteration;
  const double affordable = iteration + std::floor(0.8 * std::max(0.0, seconds_left) / per_iteration);
  if (affordable >= planned) return planned;
  return std::max(iteration + 1, static_cast<int>(affordable));
}

void store_learned_weights(ir::Model& model, const LinearLayer& layer, const std::vector<int32_t>& integers) {
  ir::Value* weight = model.graph->find_value(layer.weight_value);
  if (!weight || !weight->initializer) throw Error(ErrorKind::internal, "weight '" + layer.weight_value + "' vanished");
  Tensor& data = *weight->initializer;
  const ir::QuantParams& params = *weight->quant;
  std::vector<float> values = data.to_float_vector();
  for (size_t m = 0; m < static_cast<size_t>(layer.outputs); ++m) {
    for (int64_t k = 0; k < layer.patch; ++k) {
      const int64_t flat = layer.weight_is_output_major ? static_cast<int64_t>(m) * layer.patch + k
                                                        : k * layer.outputs + static_cast<int64_t>(m);
      const size_t parameter = parameter_index(params, data.shape(), flat);
      const int32_t q = integers[m * static_cast<size_t>(layer.patch) + static_cast<size_t>(k)];
      // s · (q - z): the export divides by s again (float32) and lands on q, far from any tie.
      values[static_cast<size_t>(flat)] = params.scales[parameter] * static_cast<float>(q - params.zero_point(parameter));
    }
  }
  data = Tensor::from_vector<float>(DType::f32, data.shape(), values);
}

TimeBudget::TimeBudget(double seconds) : seconds_(seconds), start_(std::chrono::steady_clock::now()) {}

double TimeBudget::seconds_left() const {
  if (!limited()) return std::numeric_limits<double>::infinity();
  return seconds_ - std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::chrono::steady_clock::time_point TimeBudget::deadline_for(double cost, double remaining_cost) const {
  const auto now = std::chrono::steady_clock::now();
  if (!limited()) return std::chrono::steady_clock::time_point::max();
  const double share = remaining_cost > 0 ? std::clamp(cost / remaining_cost, 0.0, 1.0) : 1.0;
  const double seconds = std::max(0.0, seconds_left()) * share;
  return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}

void run_samples(AlgorithmContext& context, const ir::Model& model, bool simulated, const std::vector<std::string>& values,
                 size_t count, const std::string& label, const std::function<void(size_t, const SampleValues&)>& visit) {
  std::set<std::string> inputs, outputs;
  for (const ir::Value* input : model.graph->inputs) inputs.insert(input->name);
  for (const ir::Value* output : model.graph->outputs) outputs.insert(output->name);
  std::vector<std::string> kept;
  for (const std::string& name : values) {
    if (!inputs.count(name) && !outputs.count(name)) kept.push_back(name);
  }
  std::unique_ptr<engine::Engine> engine;
  if (simulated) {
    engine = simulate_quantized_model(model, context.target.id, kept);
  } else {
    // Float references on the cpu backend, which keeps the values asked for unfused: they can differ from
    // ref's in the last float bits (another summation order), far below a weight or output step.
    engine::EngineOptions options;
    options.backend = "cpu";
    options.keep_values = kept;
    engine = engine::Engine::from_model(std::make_shared<const ir::Model>(model.clone()), options);
  }
  for (size_t index = 0; index < count; ++index) {
    if (context.progress) context.progress(index, count, label);
    CalibrationSample sample = context.calibration.sample(index);
    for (const auto& [name, tensor] : sample.inputs) {
      try {
        engine->set_input(name, tensor);
      } catch (const Error& error) {
        throw Error(ErrorKind::invalid_argument, "calibration sample " + sample.origin + ": " + error.reason());
      }
    }
    engine->run();
    const SampleValues value = [&](const std::string& name) -> const Tensor& {
      const auto input = sample.inputs.find(name);
      if (input != sample.inputs.end()) return input->second;
      return engine->output(name);
    };
    visit(index, value);
  }
  if (context.progress) context.progress(count, count, label);
}

std::vector<LinearLayer> learnable_layers(AlgorithmContext& context, AlgorithmOutcome& outcome) {
  std::vector<std::string> skipped;
  std::vector<LinearLayer> layers = find_linear_layers(context, skipped);
  for (const std::string& line : skipped) outcome.notes.push_back("left at nearest rounding: " + line);
  if (layers.empty()) outcome.notes.push_back("no Conv / Gemm / MatMul layer whose rounding can be learned");
  return layers;
}

RoundingLearningSettings rounding_settings(const AlgorithmContext& context) {
  RoundingLearningSettings settings;
  if (context.options.adaround_iterations > 0) settings.iterations = context.options.adaround_iterations;
  return settings;
}

}  // namespace npukit::quantization
