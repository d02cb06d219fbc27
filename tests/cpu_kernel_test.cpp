// The cpu backend against the reference, one op-case table (after ggml's test-backend-ops): each case is
// one node with its shapes and attributes; it runs on ref and on cpu with the same inputs, the outputs must
// agree within 1e-4 relative to the largest reference magnitude, and the node must really have run on cpu
// (not fallen back to ref), so a case cannot pass by testing ref against itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cctype>
#include <climits>
#include <functional>
#include <thread>
#include <string>
#include <vector>

#include "ref_single_node.h"
#include "ir/fused_activation.h"

namespace npukit::testing {
namespace {

constexpr double relative_tolerance = 1e-4;

struct OpCase {
  std::string label;
  std::string op_type;
  std::string domain;
  std::vector<NodeInput> inputs;
  std::map<std::string, ir::Attribute> attributes;
  int64_t opset = 17;        // of the default domain: Softmax, Resize, Slice and Split change meaning with it
  size_t output_count = 1;  // Split's outputs; every one is compared
};

Tensor pattern_tensor(Shape shape, int64_t seed, float range = 2.0f) {
  const int64_t count = shape_element_count(shape);
  return Tensor::from_vector<float>(DType::f32, std::move(shape), pattern_values(count, range, seed));
}

std::map<std::string, ir::Attribute> conv_attributes(std::vector<int64_t> strides, std::vector<int64_t> pads,
                                                     std::vector<int64_t> dilations, int64_t group) {
  return {{"strides", ints_attribute(std::move(strides))},
          {"pads", ints_attribute(std::move(pads))},
          {"dilations", ints_attribute(std::move(dilations))},
          {"group", int_attribute(group)}};
}

OpCase conv_case(std::string label, Shape input, int64_t output_channels, int64_t kernel, int64_t group,
                 std::vector<int64_t> strides, std::vector<int64_t> pads, std::vector<int64_t> dilations,
                 bool bias = true) {
  const int64_t per_group = input[1] / group;
  OpCase op{std::move(label), "Conv", "", {}, conv_attributes(std::move(strides), std::move(pads), std::move(dilations), group)};
  op.inputs.push_back({"x", pattern_tensor(input, 1)});
  op.inputs.push_back({"w", pattern_tensor({output_channels, per_group, kernel, kernel}, 2, 0.5f), true});
  if (bias) op.inputs.push_back({"b", pattern_tensor({output_channels}, 3), true});
  return op;
}

OpCase fused_case(ir::ActivationKind kind, float alpha, float beta, bool residual) {
  OpCase op = conv_case("", {1, 16, 13, 13}, 24, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1});
  op.op_type = "FusedConv";
  op.domain = ir::fused_domain;
  op.label = std::string("FusedConv ") + ir::activation_name(kind) + (residual ? " + residual" : "");
  op.attributes["activation"] = string_attribute(ir::activation_name(kind));
  op.attributes["activation_alpha"] = float_attribute(alpha);
  op.attributes["activation_beta"] = float_attribute(beta);
  if (residual) op.inputs.push_back({"z", pattern_tensor({1, 24, 13, 13}, 4)});
  return op;
}

OpCase pool_case(std::string label, std::string op_type, Shape input, std::map<std::string, ir::Attribute> attributes) {
  OpCase op{std::move(label), std::move(op_type), "", {}, std::move(attributes)};
  op.inputs.push_back({"x", pattern_tensor(std::move(input), 5)});
  return op;
}

OpCase binary_case(std::string op_type, Shape a, Shape b) {
  OpCase op{op_type + " " + shape_to_string(a) + " " + shape_to_string(b), op_type, "", {}, {}};
  op.inputs.push_back({"a", pattern_tensor(std::move(a), 6)});
  Tensor right = pattern_tensor(std::move(b), 7);
  // Keep divisors away from zero so Div compares values, not infinities.
  if (op_type == "Div") {
    for (float& value : right.values<float>()) value = value >= 0 ? value + 0.5f : value - 0.5f;
  }
  op.inputs.push_back({"b", right});
  return op;
}

OpCase unary_case(std::string op_type, std::map<std::string, ir::Attribute> attributes = {}) {
  OpCase op{op_type, op_type, "", {}, std::move(attributes)};
  op.inputs.push_back({"x", pattern_tensor({3, 127}, 8, 8.0f)});
  return op;
}

OpCase concat_case(int64_t axis, std::vector<Shape> shapes) {
  OpCase op{"Concat axis " + std::to_string(axis), "Concat", "", {}, {{"axis", int_attribute(axis)}}};
  for (size_t i = 0; i < shapes.size(); ++i) op.inputs.push_back({"x" + std::to_string(i), pattern_tensor(shapes[i], 9 + i)});
  return op;
}

OpCase matmul_case(std::string op_type, Shape input, Shape weights, bool bias, bool transposed) {
  OpCase op{op_type + " " + shape_to_string(input) + " x " + shape_to_string(weights) + (transposed ? "^T" : ""),
            op_type, "", {}, {}};
  if (transposed) op.attributes["transB"] = int_attribute(1);
  op.inputs.push_back({"a", pattern_tensor(std::move(input), 11)});
  op.inputs.push_back({"b", pattern_tensor(weights, 12, 0.5f), true});
  if (bias) op.inputs.push_back({"c", pattern_tensor({transposed ? weights[0] : weights[1]}, 13), true});
  return op;
}

// gtest prints a failing case by its label rather than as bytes.
void PrintTo(const OpCase& op, std::ostream* stream) { *stream << op.label; }

Tensor int64_tensor(std::vector<int64_t> values) {
  const int64_t count = static_cast<int64_t>(values.size());
  return Tensor::from_vector<int64_t>(DType::i64, {count}, std::move(values));
}

Tensor float_vector_tensor(std::vector<float> values) {
  const int64_t count = static_cast<int64_t>(values.size());
  return Tensor::from_vector<float>(DType::f32, {count}, std::move(values));
}

OpCase activation_range_case(std::string op_type, float range) {
  OpCase op{op_type + " range " + std::to_string(static_cast<int>(range)), op_type, "", {}, {}};
  op.inputs.push_back({"x", pattern_tensor({7, 13, 127}, 19, range)});
  return op;
}

// Resize of a 4-D input. Opset 11+: roi (omitted), then scales or sizes (the other omitted); opset 10:
// scales as input 1. `constant`: scales / sizes are initializers rather than graph inputs.
OpCase resize_case(std::string label, Shape input, std::map<std::string, ir::Attribute> attributes,
                   std::vector<float> scales, std::vector<int64_t> sizes = {}, bool constant = true,
                   int64_t opset = 17) {
  OpCase op{"Resize " + std::move(label), "Resize", "", {}, std::move(attributes)};
  op.opset = opset;
  op.inputs.push_back({"x", pattern_tensor(std::move(input), 20)});
  if (opset < 11) {
    op.inputs.push_back({"scales", float_vector_tensor(std::move(scales)), constant});
    return op;
  }
  op.inputs.push_back({"roi", Tensor()});
  if (sizes.empty()) {
    op.inputs.push_back({"scales", float_vector_tensor(std::move(scales)), constant});
  } else {
    op.inputs.push_back({"scales", Tensor()});
    op.inputs.push_back({"sizes", int64_tensor(std::move(sizes)), constant});
  }
  return op;
}

std::map<std::string, ir::Attribute> resize_modes(std::string mode, std::string coordinate_mode,
                                                  std::string nearest_mode = "round_prefer_floor") {
  return {{"mode", string_attribute(std::move(mode))},
          {"coordinate_transformation_mode", string_attribute(std::move(coordinate_mode))},
          {"nearest_mode", string_attribute(std::move(nearest_mode))}};
}

// Slice with starts / ends / axes / steps as inputs (opset 10+); empty axes / steps are omitted.
OpCase slice_case(std::string label, Tensor data, std::vector<int64_t> starts, std::vector<int64_t> ends,
                  std::vector<int64_t> axes, std::vector<int64_t> steps, bool constant = true) {
  OpCase op{"Slice " + std::move(label), "Slice", "", {}, {}};
  op.inputs.push_back({"x", std::move(data)});
  op.inputs.push_back({"starts", int64_tensor(std::move(starts)), constant});
  op.inputs.push_back({"ends", int64_tensor(std::move(ends)), constant});
  op.inputs.push_back({"axes", axes.empty() ? Tensor() : int64_tensor(std::move(axes)), constant});
  if (!steps.empty()) op.inputs.push_back({"steps", int64_tensor(std::move(steps)), constant});
  return op;
}

OpCase split_case(std::string label, Shape input, int64_t axis, size_t outputs, int64_t opset,
                  std::vector<int64_t> sizes = {}) {
  OpCase op{"Split " + std::move(label), "Split", "", {}, {{"axis", int_attribute(axis)}}};
  op.opset = opset;
  op.output_count = outputs;
  op.inputs.push_back({"x", pattern_tensor(std::move(input), 21)});
  if (!sizes.empty() && opset < 13) op.attributes["split"] = ints_attribute(sizes);
  if (!sizes.empty() && opset >= 13) op.inputs.push_back({"split", int64_tensor(sizes), true});
  return op;
}

OpCase transpose_case(Shape input, std::vector<int64_t> permutation) {
  OpCase op{"Transpose " + shape_to_string(input) + " perm " + shape_to_string(permutation), "Transpose", "", {}, {}};
  if (!permutation.empty()) op.attributes["perm"] = ints_attribute(std::move(permutation));
  op.inputs.push_back({"x", pattern_tensor(std::move(input), 22)});
  return op;
}

OpCase softmax_case(std::string op_type, Shape input, int64_t axis, int64_t opset, float range = 4.0f) {
  OpCase op{op_type + " " + shape_to_string(input) + " axis " + std::to_string(axis) + " opset " + std::to_string(opset),
            op_type, "", {}, {{"axis", int_attribute(axis)}}};
  op.opset = opset;
  op.inputs.push_back({"x", pattern_tensor(std::move(input), 23, range)});
  return op;
}

// ConvTranspose with strides == kernel, no pads: the non-overlapping patch path.
OpCase patch_deconvolution_case(Shape input, int64_t output_channels, int64_t kernel, bool bias) {
  OpCase op{"ConvTranspose patches " + shape_to_string(input) + " -> " + std::to_string(output_channels) + " k" +
                std::to_string(kernel) + (bias ? " bias" : ""),
            "ConvTranspose", "", {}, {{"strides", ints_attribute({kernel, kernel})}}};
  op.inputs.push_back({"x", pattern_tensor(input, 24)});
  op.inputs.push_back({"w", pattern_tensor({input[1], output_channels, kernel, kernel}, 25, 0.5f), true});
  if (bias) op.inputs.push_back({"b", pattern_tensor({output_channels}, 26), true});
  return op;
}

std::vector<OpCase> op_cases() {
  using ir::ActivationKind;
  std::vector<OpCase> cases{
      conv_case("Conv 1x1 7->13", {1, 7, 13, 13}, 13, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}),
      conv_case("Conv 3x3 pad 1", {1, 16, 17, 17}, 32, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}),
      conv_case("Conv 3x3 stride 2 asymmetric pads", {1, 8, 13, 7}, 16, 3, 1, {2, 2}, {0, 1, 1, 0}, {1, 1}),
      conv_case("Conv 3x3 dilation 2", {1, 8, 15, 15}, 8, 3, 1, {1, 1}, {2, 2, 2, 2}, {2, 2}),
      conv_case("Conv depthwise 3x3 stride 2", {1, 32, 17, 17}, 32, 3, 32, {2, 2}, {1, 1, 1, 1}, {1, 1}),
      conv_case("Conv grouped 12->18 group 3", {1, 12, 9, 9}, 18, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}),
      conv_case("Conv 5x5 no bias", {1, 3, 127, 7}, 5, 5, 1, {1, 1}, {2, 2, 2, 2}, {1, 1}, false),
      conv_case("Conv 6x6 stride 2 (YOLOv5 stem)", {1, 3, 33, 33}, 16, 6, 1, {2, 2}, {2, 2, 2, 2}, {1, 1}),
      // 3x3 over a small map with 64+ channels runs on oneDNN's NHWC kernel (prefers_channels_last).
      conv_case("Conv 3x3 64->48 on 13x11 (NHWC path)", {1, 64, 13, 11}, 48, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}),
      conv_case("Conv 3x3 80->16 on 7x7 (NHWC path), no bias", {1, 80, 7, 7}, 16, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, false),
      conv_case("Conv batch 2", {2, 4, 7, 7}, 6, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}),
      [] {  // ConvTranspose 2x2 stride 2 (PP-OCR det's upsampling), 13 -> 7 channels
        OpCase op{"ConvTranspose 2x2 stride 2", "ConvTranspose", "", {}, {{"strides", ints_attribute({2, 2})}}};
        op.inputs.push_back({"x", pattern_tensor({1, 13, 7, 9}, 1)});
        op.inputs.push_back({"w", pattern_tensor({13, 7, 2, 2}, 2, 0.5f), true});
        op.inputs.push_back({"b", pattern_tensor({7}, 3), true});
        return op;
      }(),
      [] {  // grouped, padded, dilated, no bias
        OpCase op{"ConvTranspose 3x3 group 2 pads dilation", "ConvTranspose", "",
                  {}, {{"strides", ints_attribute({2, 1})}, {"pads", ints_attribute({1, 0, 0, 1})},
                       {"dilations", ints_attribute({1, 2})}, {"group", int_attribute(2)}}};
        op.inputs.push_back({"x", pattern_tensor({1, 6, 7, 5}, 4)});
        op.inputs.push_back({"w", pattern_tensor({6, 4, 3, 3}, 5, 0.5f), true});
        return op;
      }(),
      fused_case(ir::ActivationKind::none, 0, 0, true),
      fused_case(ir::ActivationKind::relu, 0, 0, false),
      fused_case(ir::ActivationKind::relu, 0, 0, true),
      fused_case(ir::ActivationKind::leaky_relu, 0.1f, 0, false),
      fused_case(ir::ActivationKind::clip, 0.0f, 6.0f, false),
      fused_case(ir::ActivationKind::sigmoid, 0, 0, false),
      fused_case(ir::ActivationKind::tanh, 0, 0, false),
      fused_case(ir::ActivationKind::hard_sigmoid, 0.2f, 0.5f, false),
      fused_case(ir::ActivationKind::hard_swish, 0, 0, false),
      fused_case(ir::ActivationKind::silu, 0, 0, false),
      fused_case(ir::ActivationKind::silu, 0, 0, true),
      fused_case(ir::ActivationKind::gelu, 0, 0, false),
      pool_case("MaxPool 3x3 stride 2 pad 1", "MaxPool", {1, 8, 13, 13},
                {{"kernel_shape", ints_attribute({3, 3})}, {"strides", ints_attribute({2, 2})},
                 {"pads", ints_attribute({1, 1, 1, 1})}}),
      pool_case("MaxPool 5x5 same (SPPF)", "MaxPool", {1, 8, 20, 20},
                {{"kernel_shape", ints_attribute({5, 5})}, {"pads", ints_attribute({2, 2, 2, 2})}}),
      pool_case("MaxPool ceil_mode", "MaxPool", {1, 3, 14, 14},
                {{"kernel_shape", ints_attribute({3, 3})}, {"strides", ints_attribute({2, 2})},
                 {"ceil_mode", int_attribute(1)}}),
      pool_case("AveragePool excluding pads", "AveragePool", {1, 5, 13, 7},
                {{"kernel_shape", ints_attribute({3, 3})}, {"pads", ints_attribute({1, 1, 1, 1})}}),
      pool_case("AveragePool including pads", "AveragePool", {1, 5, 13, 7},
                {{"kernel_shape", ints_attribute({3, 3})}, {"pads", ints_attribute({1, 1, 1, 1})},
                 {"count_include_pad", int_attribute(1)}}),
      pool_case("AveragePool ceil_mode", "AveragePool", {1, 4, 15, 15},
                {{"kernel_shape", ints_attribute({2, 2})}, {"strides", ints_attribute({2, 2})},
                 {"ceil_mode", int_attribute(1)}}),
      pool_case("GlobalAveragePool", "GlobalAveragePool", {2, 13, 7, 9}, {}),
      pool_case("GlobalMaxPool", "GlobalMaxPool", {1, 13, 7, 9}, {}),
      binary_case("Add", {2, 3, 7, 13}, {2, 3, 7, 13}),
      binary_case("Add", {2, 3, 7, 13}, {3, 1, 1}),
      binary_case("Add", {1, 13}, {7, 1}),
      binary_case("Sub", {7, 13}, {1}),
      binary_case("Mul", {1, 3, 127}, {3, 1}),
      binary_case("Mul", {2, 1, 5}, {2, 7, 1}),
      binary_case("Div", {4, 127}, {127}),
      unary_case("Relu"),
      unary_case("Sigmoid"),
      unary_case("Tanh"),
      unary_case("LeakyRelu", {{"alpha", float_attribute(0.2)}}),
      unary_case("HardSigmoid", {{"alpha", float_attribute(0.25)}, {"beta", float_attribute(0.4)}}),
      unary_case("HardSwish"),
      [] {
        OpCase op = unary_case("Clip");
        op.inputs.push_back({"low", Tensor::from_vector<float>(DType::f32, {}, std::vector<float>{-1.5f}), true});
        op.inputs.push_back({"high", Tensor::from_vector<float>(DType::f32, {}, std::vector<float>{6.0f}), true});
        return op;
      }(),
      [] {
        OpCase op{"BatchNormalization", "BatchNormalization", "", {}, {{"epsilon", float_attribute(1e-3)}}};
        op.inputs.push_back({"x", pattern_tensor({2, 13, 7, 5}, 14)});
        op.inputs.push_back({"gamma", pattern_tensor({13}, 15), true});
        op.inputs.push_back({"beta", pattern_tensor({13}, 16), true});
        op.inputs.push_back({"mean", pattern_tensor({13}, 17), true});
        Tensor variance = pattern_tensor({13}, 18);
        for (float& v : variance.values<float>()) v = std::fabs(v) + 0.1f;
        op.inputs.push_back({"variance", variance, true});
        return op;
      }(),
      matmul_case("Gemm", {7, 127}, {13, 127}, true, true),
      matmul_case("Gemm", {1, 1280}, {1280, 13}, true, false),
      matmul_case("Gemm", {3, 13}, {13, 7}, false, false),
      matmul_case("MatMul", {2, 7, 127}, {127, 13}, false, false),
      matmul_case("MatMul", {13, 7}, {7, 127}, false, false),
      concat_case(1, {{1, 3, 5, 7}, {1, 13, 5, 7}, {1, 1, 5, 7}}),
      concat_case(-1, {{2, 3, 7}, {2, 3, 1}}),
      concat_case(0, {{1, 127}, {3, 127}}),
      // The vectorized exp over a wide range: saturation at both ends, no NaN.
      activation_range_case("Sigmoid", 100.0f),
      activation_range_case("Tanh", 30.0f),
      activation_range_case("Tanh", 0.5f),
      activation_range_case("Relu", 4.0f),
      // Resize: YOLO's nearest asymmetric floor 2x (scales constant and computed), PP-OCR's 2x/4x/8x and
      // sizes, every coordinate mode and nearest mode, bilinear modes, opset 10.
      resize_case("nearest asymmetric floor x2", {1, 13, 7, 9}, resize_modes("nearest", "asymmetric", "floor"), {1, 1, 2, 2}),
      resize_case("nearest asymmetric floor x2 runtime scales", {2, 3, 7, 13}, resize_modes("nearest", "asymmetric", "floor"),
                  {1, 1, 2, 2}, {}, false),
      resize_case("nearest asymmetric floor x8", {1, 3, 7, 5}, resize_modes("nearest", "asymmetric", "floor"), {1, 1, 8, 8}),
      resize_case("nearest asymmetric floor x4 large", {1, 7, 33, 27}, resize_modes("nearest", "asymmetric", "floor"), {1, 1, 4, 4}),
      resize_case("nearest asymmetric floor sizes", {1, 3, 13, 7}, resize_modes("nearest", "asymmetric", "floor"), {},
                  {1, 3, 26, 14}),
      resize_case("nearest asymmetric floor runtime sizes", {1, 3, 13, 7}, resize_modes("nearest", "asymmetric", "floor"), {},
                  {1, 3, 39, 20}, false),
      resize_case("nearest half_pixel round_prefer_floor x1.5", {1, 3, 13, 7}, resize_modes("nearest", "half_pixel"), {1, 1, 1.5f, 1.5f}),
      resize_case("nearest half_pixel round_prefer_ceil down", {1, 3, 13, 127}, resize_modes("nearest", "half_pixel", "round_prefer_ceil"),
                  {1, 1, 0.6f, 0.45f}),
      resize_case("nearest align_corners ceil sizes", {1, 3, 13, 7}, resize_modes("nearest", "align_corners", "ceil"), {},
                  {1, 3, 20, 9}),
      resize_case("nearest pytorch_half_pixel floor", {1, 3, 13, 7}, resize_modes("nearest", "pytorch_half_pixel", "floor"), {},
                  {1, 3, 1, 17}),
      resize_case("nearest tf_half_pixel_for_nn", {1, 3, 13, 7}, resize_modes("nearest", "tf_half_pixel_for_nn"), {1, 1, 2.5f, 0.5f}),
      resize_case("nearest scaling N and C", {2, 3, 7, 5}, resize_modes("nearest", "asymmetric", "floor"), {1.5f, 2, 2, 3}),
      resize_case("nearest opset 10 x2", {1, 3, 7, 13}, {{"mode", string_attribute("nearest")}}, {1, 1, 2, 2}, {}, true, 10),
      resize_case("nearest opset 10 down", {1, 3, 13, 7}, {{"mode", string_attribute("nearest")}}, {1, 1, 0.5f, 0.75f}, {}, true, 10),
      resize_case("linear half_pixel x2", {1, 13, 7, 9}, resize_modes("linear", "half_pixel"), {1, 1, 2, 2}),
      resize_case("linear pytorch_half_pixel sizes", {1, 2, 13, 9}, resize_modes("linear", "pytorch_half_pixel"), {}, {1, 2, 7, 20}),
      resize_case("linear pytorch_half_pixel to 1", {1, 2, 13, 9}, resize_modes("linear", "pytorch_half_pixel"), {}, {1, 2, 1, 5}),
      resize_case("linear align_corners", {1, 3, 13, 7}, resize_modes("linear", "align_corners"), {}, {1, 3, 27, 12}),
      resize_case("linear asymmetric runtime scales", {1, 3, 13, 7}, resize_modes("linear", "asymmetric"), {1, 1, 1.7f, 0.6f}, {}, false),
      resize_case("linear opset 10", {1, 3, 7, 13}, {{"mode", string_attribute("linear")}}, {1, 1, 2, 1.5f}, {}, true, 10),
      resize_case("linear scaling C (ref inside)", {1, 3, 7, 5}, resize_modes("linear", "half_pixel"), {1, 2, 2, 2}),
      // Slice: YOLOv8's channel halves, negative and clamped indices, steps > 1 and < 0, computed starts,
      // opset 9 attributes, i64 shape data.
      slice_case("channel half", pattern_tensor({1, 26, 13, 7}, 27), {13}, {26}, {1}, {}),
      slice_case("negative axes and steps 3 2", pattern_tensor({3, 13, 127}, 28), {-120, 1}, {-1, 120}, {-1, 1}, {3, 2}),
      slice_case("negative step reverse clamped", pattern_tensor({7, 13}, 29), {-1, 100}, {INT64_MIN, -100}, {1, 0}, {-1, -3}),
      slice_case("clamped ends, default axes", pattern_tensor({7, 13, 5}, 30), {2, 0}, {INT64_MAX, 1000}, {}, {}),
      slice_case("runtime starts", pattern_tensor({2, 13, 127}, 31), {1, 5}, {13, -5}, {1, 2}, {1, 1}, false),
      slice_case("large rows", pattern_tensor({1, 64, 40, 40}, 32), {32}, {64}, {-3}, {}),
      slice_case("i64 data", int64_tensor({640, 480, 3, 7, 1, 2}), {1}, {-1}, {0}, {2}),
      [] {
        OpCase op{"Slice opset 9 attributes", "Slice", "", {}, {{"starts", ints_attribute({1, -7})}, {"ends", ints_attribute({6, 1000})},
                                                                {"axes", ints_attribute({0, 2})}}};
        op.opset = 9;
        op.inputs.push_back({"x", pattern_tensor({7, 3, 13}, 33)});
        return op;
      }(),
      // Split: YOLOv5's 2/2/81-style attribute split on the last axis, YOLOv8's sizes input, equal parts,
      // (opset 18's num_outputs is beyond the opsets npukit loads).
      split_case("attribute sizes axis 4", {1, 3, 7, 5, 13}, 4, 3, 12, {2, 2, 9}),
      split_case("input sizes axis 1", {1, 13, 7, 9}, 1, 2, 13, {5, 8}),
      split_case("equal parts axis -1", {2, 7, 12}, -1, 3, 13),
      split_case("equal parts opset 11", {12, 7, 3}, 0, 3, 11),
      split_case("large axis 1", {1, 64, 40, 40}, 1, 2, 13, {16, 48}),
      // Transpose: YOLOv5's head, attention's perms, 2-D, default perm, i64 data, one large enough to split.
      transpose_case({1, 3, 13, 7, 9}, {0, 1, 3, 4, 2}),
      transpose_case({1, 3, 85, 20, 20}, {0, 1, 3, 4, 2}),
      transpose_case({2, 7, 13, 9}, {0, 2, 1, 3}),
      transpose_case({127, 13}, {1, 0}),
      transpose_case({7, 2, 3, 5, 13}, {2, 0, 3, 1, 4}),
      transpose_case({1, 13, 7, 9}, {0, 3, 1, 2}),
      transpose_case({2, 3, 13, 127}, {0, 1, 3, 2}),
      transpose_case({3, 7, 13}, {}),
      transpose_case({5, 1, 7, 1, 3}, {4, 1, 2, 3, 0}),
      [] {
        OpCase op{"Transpose i64", "Transpose", "", {}, {{"perm", ints_attribute({1, 0})}}};
        std::vector<int64_t> values(7 * 13);
        for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int64_t>(i) * 3 - 50;
        op.inputs.push_back({"x", Tensor::from_vector<int64_t>(DType::i64, {7, 13}, values)});
        return op;
      }(),
      // Softmax / LogSoftmax: last axis and a middle axis, opset 13's single axis and opset 11's 2-D
      // coercion, YOLOv8's DFL layout (16 bins at axis 1, inner beyond one block), large logits.
      softmax_case("Softmax", {3, 7, 127}, -1, 13),
      softmax_case("Softmax", {2, 13, 7, 9}, 1, 13),
      softmax_case("Softmax", {2, 13, 7, 9}, 1, 11),
      softmax_case("Softmax", {3, 7, 127}, -1, 11),
      softmax_case("Softmax", {1, 16, 4, 333}, 1, 13),
      softmax_case("Softmax", {7, 6625}, -1, 13, 60.0f),
      softmax_case("LogSoftmax", {3, 7, 127}, -1, 13),
      softmax_case("LogSoftmax", {2, 13, 7, 9}, 1, 13),
      softmax_case("LogSoftmax", {2, 13, 7, 9}, 1, 11),
      // ConvTranspose with strides == kernel (PP-OCR det's upsampling): with and without bias, 13->7 and
      // 24->1 channels, widths with and without a partial block, batch 2, 3x3 patches.
      patch_deconvolution_case({1, 13, 7, 9}, 7, 2, false),
      patch_deconvolution_case({1, 24, 13, 21}, 1, 2, true),
      patch_deconvolution_case({1, 24, 5, 32}, 1, 2, false),
      patch_deconvolution_case({2, 13, 7, 19}, 7, 3, true),
      patch_deconvolution_case({1, 24, 40, 40}, 24, 2, true),
  };
  return cases;
}

class CpuKernelTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(CpuKernelTest, MatchesReferenceAndRunsOnCpu) {
  const OpCase& op = GetParam();
  SingleNodeModel built = single_node_model(op.op_type, op.inputs, op.attributes, op.output_count, op.opset, op.domain);
  auto reference = engine::Engine::from_model(built.model, {.backend = "ref"});
  const std::map<std::string, Tensor> expected_outputs = reference->run(built.feeds);

  engine::EngineOptions options;
  options.backend = "cpu";
  options.threads = 2;  // so the kernels' OpenMP paths run split
  auto session = engine::Engine::from_model(built.model, options);
  session->set_profiling(true);
  const std::map<std::string, Tensor> actual_outputs = session->run(built.feeds);
  ASSERT_EQ(session->last_profile().size(), 1u);
  EXPECT_EQ(session->last_profile()[0].backend, "cpu") << op.label << " fell back to ref";

  for (size_t output = 0; output < op.output_count; ++output) {
    const std::string name = "output" + std::to_string(output);
    const Tensor& expected = expected_outputs.at(name);
    const Tensor& actual = actual_outputs.at(name);
    ASSERT_EQ(actual.shape(), expected.shape()) << op.label << " " << name;
    ASSERT_EQ(actual.dtype(), expected.dtype()) << op.label << " " << name;
    const std::vector<float> theirs = expected.to_float_vector(), ours = actual.to_float_vector();
    double magnitude = 0, difference = 0;
    for (size_t i = 0; i < theirs.size(); ++i) {
      ASSERT_FALSE(std::isnan(ours[i])) << op.label << " " << name << " element " << i;
      magnitude = std::max(magnitude, std::fabs(double(theirs[i])));
      difference = std::max(difference, std::fabs(double(theirs[i]) - ours[i]));
    }
    EXPECT_GT(magnitude, 0) << op.label << ": an all-zero reference proves nothing";
    EXPECT_LE(difference, relative_tolerance * magnitude) << op.label << " " << name << ": max difference "
                                                         << difference << " against magnitude " << magnitude;
  }
}

std::string case_name(const ::testing::TestParamInfo<OpCase>& info) {
  std::string name = std::to_string(info.index) + "_";
  for (char c : info.param.label) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(OpCases, CpuKernelTest, ::testing::ValuesIn(op_cases()), case_name);

// Threads: several sessions with different thread counts run at once on several threads and agree
// with a single-threaded run.
TEST(CpuBackendTest, SessionsRunConcurrentlyWithTheirOwnThreadCounts) {
  OpCase op = conv_case("", {1, 16, 21, 21}, 32, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1});
  SingleNodeModel built = single_node_model(op.op_type, op.inputs, op.attributes);
  engine::EngineOptions single;
  single.backend = "cpu";
  const Tensor expected = engine::Engine::from_model(built.model, single)->run(built.feeds).at("output0");
  std::vector<std::thread> workers;
  std::vector<double> differences(4, -1);
  for (int worker = 0; worker < 4; ++worker) {
    workers.emplace_back([&, worker] {
      engine::EngineOptions options;
      options.backend = "cpu";
      options.threads = 1 + worker % 2;
      auto session = engine::Engine::from_model(built.model, options);
      double difference = 0;
      for (int run = 0; run < 5; ++run) {
        const Tensor actual = session->run(built.feeds).at("output0");
        for (int64_t i = 0; i < actual.element_count(); ++i) {
          difference = std::max(difference, std::fabs(double(actual.data<float>()[i]) - expected.data<float>()[i]));
        }
      }
      differences[static_cast<size_t>(worker)] = difference;
    });
  }
  for (std::thread& worker : workers) worker.join();
  for (double difference : differences) EXPECT_LE(difference, 1e-4);
}

// Bad input is an npukit::Error naming the node, not a crash.
TEST(CpuBackendTest, WrongInputChannelsIsAnErrorNamingTheNode) {
  OpCase op = conv_case("", {1, 8, 9, 9}, 4, 3, 1, {1, 1}, {1, 1, 1, 1}, {1, 1});
  SingleNodeModel built = single_node_model(op.op_type, op.inputs, op.attributes);
  // Declare the input with an unknown channel count so the session accepts a wrong one.
  built.model->graph->inputs[0]->type.shape = std::vector<ir::Dim>{ir::Dim::fixed(1), ir::Dim::symbolic("c"),
                                                                    ir::Dim::fixed(9), ir::Dim::fixed(9)};
  engine::EngineOptions options;
  options.backend = "cpu";
  auto session = engine::Engine::from_model(built.model, options);
  std::map<std::string, Tensor> feeds{{"x", pattern_tensor({1, 5, 9, 9}, 1)}};
  try {
    session->run(feeds);
    FAIL() << "a 5-channel input to an 8-channel convolution ran";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("node"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("do not agree"), std::string::npos) << error.what();
  }
}

// Some exports leave shape inference without the rank of a pool's input: 2-D pools still run on cpu, and a
// 1-D one (rank 3 at run time) is handed to the reference kernel instead of failing.
TEST(CpuBackendTest, PoolWithUnknownRankRunsTwoDimensionalOnCpuAndOtherRanksOnRef) {
  for (const Shape& shape : {Shape{1, 8, 13, 11}, Shape{1, 8, 13}}) {
    const std::vector<int64_t> kernel = shape.size() == 4 ? std::vector<int64_t>{3, 3} : std::vector<int64_t>{3};
    const std::vector<int64_t> pads = shape.size() == 4 ? std::vector<int64_t>{1, 1, 1, 1} : std::vector<int64_t>{1, 1};
    OpCase op = pool_case("", "MaxPool", shape, {{"kernel_shape", ints_attribute(kernel)}, {"pads", ints_attribute(pads)}});
    SingleNodeModel built = single_node_model(op.op_type, op.inputs, op.attributes);
    const Tensor expected = engine::Engine::from_model(built.model, {.backend = "ref"})->run(built.feeds).at("output0");
    built.model->graph->inputs[0]->type.shape.reset();  // rank unknown
    engine::EngineOptions options;
    options.backend = "cpu";
    auto session = engine::Engine::from_model(built.model, options);
    session->set_profiling(true);
    const Tensor actual = session->run(built.feeds).at("output0");
    EXPECT_EQ(session->last_profile()[0].backend, "cpu");
    ASSERT_EQ(actual.shape(), expected.shape());
    for (int64_t i = 0; i < expected.element_count(); ++i) {
      ASSERT_EQ(actual.data<float>()[i], expected.data<float>()[i]) << shape_to_string(shape) << " element " << i;
    }
  }
}

TEST(CpuBackendTest, UnknownBackendIsRefused) {
  OpCase op = unary_case("Relu");
  SingleNodeModel built = single_node_model(op.op_type, op.inputs, op.attributes);
  engine::EngineOptions options;
  options.backend = "gpu";
  EXPECT_THROW(engine::Engine::from_model(built.model, options), Error);
}

}  // namespace
}  // namespace npukit::testing
