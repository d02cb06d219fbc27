// Where a model is quantized, decided from a target's numerics spec (targets/numerics_spec.h) before any data
// is seen: which float values become quantization points, on which grid, and which stay float and why.
//
// The rules, in the order they apply:
//   * integer ops are the ones a target runs on its grid: Conv, ConvTranspose, Gemm, MatMul, the pooling ops,
//     Relu, Clip, Concat, Resize, and the spec's requantizing, lookup-table, fused-activation and shared-scale
//     ops; every other op (Div, Pow, Sqrt, ReduceMean, Softmax, ...) runs in float in the QDQ file;
//   * an activation is a point when an integer op writes it, or when an integer op that computes (not one that
//     only moves data) reads it; graph inputs read by integer ops are points too;
//   * no point inside a fusion group of the spec (Conv → Relu: one point after the Relu, none between), nor
//     inside a written-out LayerNorm (ReduceMean, Sub, Pow, Sqrt, Div ...: a target runs it as one layer);
//   * shared-scale ops (the spec's list, plus nearest Resize, which only copies elements) put their output in
//     one scale group with their input, Concat with all its inputs: a group gets one range, the union of its
//     members' ranges, so the op needs no requantization;
//   * weights of Conv / ConvTranspose / Gemm / MatMul: per channel along the output-channel axis or per
//     tensor, symmetric or not, narrow or not, as the spec's weights say (--per-tensor, --weights override);
//     per group (the spec's per_group, or --group-size): groups of each output channel's inputs (Conv: its
//     C x KH x KW in (c, kh, kw) order; Gemm / 2-D MatMul: the K axis), see ir/quant_params.h; the last group
//     of a channel is shorter when the size does not divide its inputs (as ONNX's block_size); a channel with
//     no more inputs than a group is simply per channel; ConvTranspose and batched MatMul weights stay per
//     channel (noted);
//   * 4-bit weights with fewer inputs per output than --int4-min-inputs K (default kDefaultInt4MinimumInputs;
//     0 turns the rule off): the depthwise 3x3 / 5x5 (9 / 25 inputs), a first 3x3x3 conv (27) and other short
//     layers keep the 8-bit weight grid of the spec, as vendors and papers keep first and depthwise layers at 8
//     bits: a 4-bit step over a dot product of a few terms is an error no rounding can average out. Each such
//     weight carries its reason (PlannedPoint::precision_reason) and the plan notes the share of the weights
//     left on 4 bits;
//   * the bias of Conv / ConvTranspose / Gemm: the spec's bias grid (int32) at s_x · s_w, zero point 0, when
//     both its input activation and its weight are points;
//   * a node named in --exclude, or of an op type named there, stays float: its weights stay float and it
//     writes no point (its inputs may still be points of their producers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "targets/numerics_spec.h"

namespace npukit::quantization {

// What the command line may change in the spec.
struct QuantizationSettings {
  std::optional<targets::StorageGrid> weights;      // --weights int8|int16|int4
  int64_t group_size = 0;                           // --group-size N: weights per group of N (0: the spec's)
  std::optional<targets::StorageGrid> activations;  // --activations int8|uint8|int16
  bool per_tensor = false;                          // --per-tensor: weights per tensor whatever the spec says
  std::vector<std::string> exclude;                 // --exclude NODE|OP_TYPE (stays float)
  // --int4-min-inputs K: 4-bit weights with fewer than K inputs per output channel stay on 8 bits (0: off;
  // negative: the default). Only meaningful with 4-bit weights.
  int64_t int4_minimum_inputs = -1;
  // Nodes whose activations (what they read and write) are on the 16-bit grid of the activations' signedness
  // (--keep-int16, sixteen_bit_layers.h); weights keep their grid.
  std::vector<std::string> sixteen_bit_nodes;
};

// The default of --int4-min-inputs, chosen by measurement on PP-OCRv4 recognition (docs/quantization.md).
inline constexpr int64_t kDefaultInt4MinimumInputs = 64;

enum class PointRole { activation, weight, bias };
std::string_view point_role_name(PointRole role);  // "activation", "weight", "bias"

struct PlannedPoint {
  std::string value;      // the float value quantized
  PointRole role = PointRole::activation;
  std::string node;       // activation: the producer ("" for a graph input); weight, bias: the node reading it
  std::string op_type;    // that node's op type ("input" for a graph input)
  DType storage = DType::i8;
  bool narrow_range = false;
  bool symmetric = false;
  int64_t axis = -1;      // per channel / per group: the channel axis; per tensor: -1
  int64_t group_size = 0; // weight per group: inputs per group within a channel; otherwise 0
  // weight: why its grid differs from the one asked ("8 bits: 9 inputs per output < --int4-min-inputs 64"), or "".
  std::string precision_reason;
  // activation: the scale group (the first member's value name); members share one range.
  std::string scale_group;
  // bias: the points whose scales multiply to its scale.
  std::string bias_input;
  std::string bias_weight;
};

struct FloatNode {
  std::string node;
  std::string op_type;
  std::string reason;  // "excluded by --exclude", "no integer form in the spec", "inside a LayerNorm", ...
};

struct QuantizationPlan {
  std::vector<PlannedPoint> points;  // activations in graph order, then weights and biases
  std::vector<FloatNode> float_nodes;
  std::vector<std::string> notes;    // weights whose granularity differs from the one asked, and why
  // Activation values whose range calibration must measure (every activation point).
  std::vector<std::string> calibrated_values() const;
  const PlannedPoint* find(const std::string& value) const;
};

// The grid of a storage kind as ir::QuantParams states it.
struct GridChoice {
  DType storage = DType::i8;
  bool narrow_range = false;
};
GridChoice grid_of(targets::StorageGrid grid);

// Parses "int8", "uint8", "int16" for --weights / --activations, and "int4" for --weights; Error(invalid_argument)
// listing the choices.
targets::StorageGrid parse_storage_grid(const std::string& text, const std::string& option);

// Plans every point of `graph` (a model after its meaning-keeping passes: BatchNorm folded, no fused nodes).
// Throws Error(invalid_argument) naming the value for what the spec or the settings cannot express (a spec
// without a numerics section, --group-size with --per-tensor, an --exclude that names nothing).
QuantizationPlan plan_quantization_points(const ir::Graph& graph, const targets::NumericsSpec& spec,
                                          const QuantizationSettings& settings);

}  // namespace npukit::quantization
