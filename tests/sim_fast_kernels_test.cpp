// The sim backend's fast kernels (sim/fast_integer_kernels.h, sim/vector_output_stage.h) against the plain
// integer kernels of runtime/kernels/integer (the oracle), bit for bit, on random data and on extremes:
// INT32_MIN / INT32_MAX accumulators, exact ties, zero points at both ends of the grid, per-channel
// multipliers with large left and right shifts, every requantization variant, i8 and u8 grids, weights
// whose zero points are not 0, and weights large enough that oneDNN must split them without VNNI. Also the
// pieces around them: the byte transpose (NCHW <-> NHWC), the per-channel offsets the output stage adds,
// IntegerQuantize against quantize_value, and the MaxPool of bytes against ref's MaxPool.
// ctest runs these again with ONEDNN_MAX_CPU_ISA=AVX2 (sim_fast_kernels_without_vnni): oneDNN's other path.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <random>

#include "ir/graph.h"
#include "runtime/kernel.h"
#include "runtime/kernels/integer/integer_tensor.h"
#include "passes/graph_editing.h"
#include "quantization/quantize.h"
#include "runtime/kernels/ref/ref_kernels.h"
#include "sim/byte_transpose.h"
#include "sim/channels_last_adapter.h"
#include "sim/channels_last_plan.h"
#include "sim/lowering.h"
#include "sim/exact_onnx_kernels.h"
#include "sim/fast_integer_kernels.h"
#include "sim/vector_output_stage.h"
#include "sim/vector_quantize.h"
#include "sim/zero_point_folding.h"

namespace npukit {
namespace {

using runtime::integer::OutputStage;
using runtime::integer::Requantizer;
using sim::VectorOutputStage;
using targets::Requantization;

const std::vector<Requantization> kVariants{Requantization::float_scale,
                                            Requantization::fixed_point_double_rounding,
                                            Requantization::fixed_point_single_rounding,
                                            Requantization::fixed_point_upward,
                                            Requantization::fixed_point_to_nearest,
                                            Requantization::power_of_two};

// Multipliers spanning large right shifts (2^-31 and below) to large left shifts (2^29), powers of two for
// the power_of_two variant.
std::vector<double> multipliers_for(Requantization variant, size_t count, std::mt19937& random) {
  std::vector<double> result;
  std::uniform_real_distribution<double> exponent(-31.0, 29.0);
  std::uniform_int_distribution<int> integer_exponent(-31, 20);
  const std::vector<double> edges{0.0, std::ldexp(1.0, -31), std::ldexp(1.0, -32), 0.5, 1.0, std::ldexp(1.0, 29),
                                  std::ldexp(0.9999999, 0), 0.75, 1.0 / 3.0};
  for (size_t i = 0; i < count; ++i) {
    if (variant == Requantization::power_of_two) {
      result.push_back(std::ldexp(1.0, integer_exponent(random)));
    } else if (i < edges.size()) {
      result.push_back(edges[i]);
    } else {
      result.push_back(std::exp2(exponent(random)));
    }
  }
  return result;
}

// Values a kernel can feed the output stage: extremes, ties for the given multipliers, random int32.
std::vector<int32_t> test_values(size_t count, std::mt19937& random) {
  std::vector<int32_t> values{INT32_MIN, INT32_MAX, INT32_MIN + 1, INT32_MAX - 1, 0, 1, -1, 2, -2, 3, -3,
                              (1 << 30), -(1 << 30), (1 << 29) + 1, -(1 << 29) - 1, 1 << 16, -(1 << 16),
                              (1 << 15) + (1 << 14), -((1 << 15) + (1 << 14)), 127, -128, 255, -255};
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int32_t> small(-70000, 70000);
  std::uniform_int_distribution<int> shift(0, 31);
  while (values.size() < count) {
    switch (values.size() % 3) {
      case 0: values.push_back(any(random)); break;
      case 1: values.push_back(small(random)); break;
      default: {  // an odd multiple of a power of two: a tie after a right shift by that power + 1
        const int k = shift(random);
        values.push_back(static_cast<int32_t>(static_cast<int64_t>(small(random) | 1) << std::min(k, 14)));
      }
    }
  }
  return values;
}

void expect_output_stage_matches(const OutputStage& stage, int64_t channels, int64_t rows, std::mt19937& random,
                                 const std::string& label) {
  ASSERT_FALSE(VectorOutputStage::unsupported_reason(stage)) << label;
  const VectorOutputStage vector_stage(stage, channels);
  const std::vector<int32_t> values = test_values(static_cast<size_t>(rows * channels), random);
  std::vector<uint8_t> portable(values.size()), vectorized(values.size()), wide(values.size());
  vector_stage.finish_rows(values.data(), rows, portable.data(), VectorOutputStage::Path::portable);
  if (VectorOutputStage::avx2_available()) {
    vector_stage.finish_rows(values.data(), rows, vectorized.data(), VectorOutputStage::Path::avx2);
  } else {
    vectorized = portable;
  }
  if (VectorOutputStage::avx512_available()) {
    vector_stage.finish_rows(values.data(), rows, wide.data(), VectorOutputStage::Path::avx512);
  } else {
    wide = portable;
  }
  int failures = 0;
  for (size_t i = 0; i < values.size() && failures < 5; ++i) {
    const int32_t expected = stage.finish(values[i], i % static_cast<size_t>(channels));
    const int32_t as_portable = stage.dtype == DType::u8 ? portable[i] : static_cast<int8_t>(portable[i]);
    const int32_t as_vector = stage.dtype == DType::u8 ? vectorized[i] : static_cast<int8_t>(vectorized[i]);
    const int32_t as_wide = stage.dtype == DType::u8 ? wide[i] : static_cast<int8_t>(wide[i]);
    if (as_portable != expected || as_vector != expected || as_wide != expected) {
      ++failures;
      ADD_FAILURE() << label << ": value " << values[i] << " channel " << i % static_cast<size_t>(channels)
                    << " (multiplier " << stage.requantizer.real_multipliers()[i % stage.requantizer.channels()]
                    << "): oracle " << expected << ", portable " << as_portable << ", avx2 " << as_vector << ", avx512 " << as_wide;
    }
  }
}

TEST(SimFastOutputStage, EveryVariantEqualsTheOracleOnExtremesAndTies) {
  std::mt19937 random(7);
  for (Requantization variant : kVariants) {
    for (DType dtype : {DType::i8, DType::u8}) {
      for (bool per_channel : {false, true}) {
        const int64_t channels = 37;  // four vectors and a tail
        for (int bits : {31, 16}) {
          OutputStage stage;
          stage.requantizer = Requantizer(multipliers_for(variant, per_channel ? channels : 1, random), variant, bits);
          stage.dtype = dtype;
          const int32_t grid_min = runtime::integer::grid_minimum(dtype), grid_max = runtime::integer::grid_maximum(dtype);
          // Zero points at both grid ends and inside; the clamp the whole grid or narrowed (a fused Relu / Relu6).
          for (int32_t zero_point : {grid_min, grid_max, grid_min + 100}) {
            for (bool narrowed : {false, true}) {
              stage.zero_point = zero_point;
              stage.minimum = narrowed ? zero_point : grid_min;
              stage.maximum = narrowed ? std::min(grid_max, zero_point + 60) : grid_max;
              expect_output_stage_matches(stage, channels, 9, random,
                                          std::string(targets::requantization_name(variant)) + " " +
                                              std::string(dtype_name(dtype)) + (per_channel ? " per channel" : " per tensor") +
                                              " bits " + std::to_string(bits) + " zp " + std::to_string(zero_point));
            }
          }
        }
      }
    }
  }
}

TEST(SimFastOutputStage, RescalingAloneEqualsTheRequantizer) {
  std::mt19937 random(11);
  for (Requantization variant : kVariants) {
    const Requantizer requantizer(multipliers_for(variant, 16, random), variant, 31);
    ASSERT_FALSE(VectorOutputStage::unsupported_rescaling_reason(requantizer));
    const VectorOutputStage stage(requantizer, 16);
    const std::vector<int32_t> values = test_values(16 * 40, random);
    for (VectorOutputStage::Path path : {VectorOutputStage::Path::portable, VectorOutputStage::Path::automatic}) {
      std::vector<int32_t> result(values.size());
      stage.rescale_rows(values.data(), 40, result.data(), path);
      for (size_t i = 0; i < values.size(); ++i) {
        ASSERT_EQ(result[i], requantizer.apply(values[i], i % 16))
            << targets::requantization_name(variant) << " value " << values[i] << " multiplier "
            << requantizer.real_multipliers()[i % 16];
      }
    }
  }
}

TEST(SimFastOutputStage, ColumnOffsetsAreAddedInWrappingInt32BeforeTheStage) {
  std::mt19937 random(13);
  const int64_t channels = 21, rows = 11;  // two vectors and a tail per row
  for (Requantization variant : kVariants) {
    OutputStage stage;
    stage.requantizer = Requantizer(multipliers_for(variant, static_cast<size_t>(channels), random), variant, 31);
    stage.dtype = DType::u8;
    stage.zero_point = 7;
    stage.minimum = 0;
    stage.maximum = 255;
    const VectorOutputStage vector_stage(stage, channels);
    const std::vector<int32_t> values = test_values(static_cast<size_t>(rows * channels), random);
    std::vector<int32_t> offsets = test_values(static_cast<size_t>(channels), random);  // INT32_MIN / MAX: wraps
    for (VectorOutputStage::Path path : {VectorOutputStage::Path::portable, VectorOutputStage::Path::automatic}) {
      std::vector<uint8_t> result(values.size());
      vector_stage.finish_rows(values.data(), rows, result.data(), path, offsets.data());
      for (size_t i = 0; i < values.size(); ++i) {
        const size_t c = i % static_cast<size_t>(channels);
        ASSERT_EQ(result[i], stage.finish(sim::wrapping_add(values[i], offsets[c]), c))
            << targets::requantization_name(variant) << " value " << values[i] << " offset " << offsets[c];
      }
    }
  }
}

TEST(SimFastTranspose, EqualsTheElementByElementTransposeOnBlocksAndEdges) {
  std::mt19937 random(17);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int64_t rows : {1, 3, 15, 16, 17, 48, 50}) {
    for (int64_t columns : {1, 2, 16, 31, 33}) {
      for (uint8_t flip : {uint8_t{0}, uint8_t{0x80}}) {
        const int64_t source_stride = columns + 5, destination_stride = rows + 3;  // strides wider than the matrix
        std::vector<uint8_t> source(static_cast<size_t>(rows * source_stride));
        for (uint8_t& value : source) value = static_cast<uint8_t>(byte(random));
        std::vector<uint8_t> result(static_cast<size_t>(columns * destination_stride), 0x5a);
        std::vector<uint8_t> expected = result;  // bytes between the rows stay untouched
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t c = 0; c < columns; ++c) expected[c * destination_stride + r] = source[r * source_stride + c] ^ flip;
        }
        sim::transpose_bytes(source.data(), rows, columns, source_stride, result.data(), destination_stride, flip);
        ASSERT_EQ(result, expected) << rows << " x " << columns << " flip " << int{flip};
      }
    }
  }
}

TEST(SimFastOutputStage, RefusesWhatItCannotCompute) {
  OutputStage stage;
  stage.requantizer = Requantizer({0.5}, Requantization::float_scale, 31);
  stage.dtype = DType::i16;
  EXPECT_TRUE(VectorOutputStage::unsupported_reason(stage));  // 16-bit output: the plain kernel runs
  stage.dtype = DType::i8;
  EXPECT_FALSE(VectorOutputStage::unsupported_reason(stage));
  stage.requantizer = Requantizer({std::ldexp(1.0, 31)}, Requantization::float_scale, 31);
  EXPECT_TRUE(VectorOutputStage::unsupported_reason(stage));
  stage.requantizer = Requantizer({std::ldexp(1.0, -40)}, Requantization::power_of_two, 31);
  EXPECT_TRUE(VectorOutputStage::unsupported_reason(stage));
}

// ---- kernels: a node whose inputs carry the types and constants the fast kernels read ----

template <typename T>
Tensor random_tensor(DType dtype, Shape shape, std::mt19937& random, int low, int high) {
  Tensor tensor(dtype, shape);
  std::uniform_int_distribution<int> value(low, high);
  for (int64_t i = 0; i < tensor.element_count(); ++i) tensor.data<T>()[i] = static_cast<T>(value(random));
  return tensor;
}

Tensor random_grid(DType dtype, Shape shape, std::mt19937& random, int spread = 256) {
  if (dtype == DType::u8) return random_tensor<uint8_t>(dtype, std::move(shape), random, 0, std::min(255, spread - 1));
  return random_tensor<int8_t>(dtype, std::move(shape), random, -128, std::min(127, -128 + spread - 1));
}

Tensor run_executable(const runtime::NodeExecutable& executable, const ir::Node& node, const std::vector<const Tensor*>& inputs) {
  std::vector<Tensor> outputs(1);
  runtime::KernelContext context(node, 1, inputs, outputs, nullptr);
  executable.run(context);
  return outputs[0];
}

void expect_same_tensor(const Tensor& actual, const Tensor& expected, const std::string& label) {
  ASSERT_EQ(actual.dtype(), expected.dtype()) << label;
  ASSERT_EQ(actual.shape(), expected.shape()) << label;
  const std::vector<int32_t> a = runtime::integer::widen(actual, "actual"), e = runtime::integer::widen(expected, "expected");
  int64_t differing = 0;
  size_t first = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != e[i] && differing++ == 0) first = i;
  }
  EXPECT_EQ(differing, 0) << label << ": " << differing << " of " << a.size() << " differ, first at " << first << " ("
                          << (differing ? a[first] : 0) << " instead of " << (differing ? e[first] : 0) << ")";
}

// The plain IntegerConv kernel as a node executable (what integer_executables.cpp runs where no fast kernel applies).
class PlainConvolution final : public runtime::NodeExecutable {
 public:
  explicit PlainConvolution(runtime::integer::ConvolutionParameters parameters) : parameters_(std::move(parameters)) {}
  void run(runtime::KernelContext& context) const override {
    context.set_output(0, runtime::integer::convolution(context.input(0), context.input(1), context.optional_input(2), parameters_));
  }

 private:
  runtime::integer::ConvolutionParameters parameters_;
};

struct ConvolutionCase {
  int64_t channels, outputs, group, kernel, stride, dilation, height, width;
  std::vector<int64_t> pads;
};

TEST(SimFastKernel, ConvolutionEqualsThePlainKernel) {
  std::mt19937 random(3);
  const std::vector<ConvolutionCase> cases{
      {16, 24, 1, 1, 1, 1, 7, 9, {0, 0, 0, 0}},    // pointwise
      {8, 16, 1, 3, 2, 1, 11, 10, {1, 0, 2, 1}},   // 3x3, stride 2, asymmetric pads
      {24, 24, 24, 3, 1, 1, 9, 9, {1, 1, 1, 1}},   // depthwise
      {12, 18, 3, 3, 1, 2, 10, 12, {2, 2, 2, 2}},  // grouped, dilated
      {3, 5, 1, 5, 1, 1, 6, 6, {0, 0, 0, 0}},      // few channels, a wide kernel
      {32, 40, 1, 3, 1, 1, 17, 35, {1, 1, 1, 1}},  // whole 16 x 16 blocks of the transposes, and their edges
      {48, 48, 48, 3, 2, 1, 20, 33, {1, 1, 1, 1}}, // depthwise, wide, stride 2
      {16, 96, 1, 1, 1, 1, 56, 57, {0, 0, 0, 0}},  // pointwise, large: blocks of rows (a last, shorter block)
  };
  int index = 0;
  for (const ConvolutionCase& shape : cases) {
    for (DType input_type : {DType::i8, DType::u8}) {
      for (DType weight_type : {DType::i8, DType::u8}) {
        const Requantization variant = kVariants[static_cast<size_t>(index++) % kVariants.size()];
        const bool weight_zero_points = index % 2 == 0;
        ir::Graph graph;
        ir::Value* input = graph.add_value("x", ir::TensorType{input_type, {}});
        const Tensor weights = random_grid(weight_type, {shape.outputs, shape.channels / shape.group, shape.kernel, shape.kernel}, random);
        ir::Value* weight_value = graph.add_initializer("w", weights);
        Tensor bias = random_tensor<int32_t>(DType::i32, {shape.outputs}, random, -100000, 100000);
        bias.data<int32_t>()[0] = 0;
        ir::Value* bias_value = graph.add_initializer("b", bias);
        ir::Value* output = graph.add_value("y", ir::TensorType{DType::i8, {}});
        const ir::Node* node = graph.add_node("IntegerConv", {input, weight_value, bias_value}, {output}, "conv");

        runtime::integer::ConvolutionParameters p;
        p.strides = {shape.stride, shape.stride};
        p.dilations = {shape.dilation, shape.dilation};
        p.pads = shape.pads;
        p.group = shape.group;
        p.input_zero_point = input_type == DType::u8 ? (index % 3 == 0 ? 255 : 0) : (index % 3 == 0 ? 127 : -128);
        if (weight_zero_points) {
          std::uniform_int_distribution<int> zero(runtime::integer::grid_minimum(weight_type), runtime::integer::grid_maximum(weight_type));
          for (int64_t m = 0; m < shape.outputs; ++m) p.weight_zero_points.push_back(m == 0 ? runtime::integer::grid_minimum(weight_type) : zero(random));
        }
        p.output.dtype = index % 2 ? DType::i8 : DType::u8;
        output->type.dtype = p.output.dtype;
        p.output.zero_point = p.output.dtype == DType::u8 ? 3 : -100;
        p.output.minimum = runtime::integer::grid_minimum(p.output.dtype);
        p.output.maximum = runtime::integer::grid_maximum(p.output.dtype);
        std::vector<double> multipliers;
        for (int64_t m = 0; m < shape.outputs; ++m) {
          multipliers.push_back(variant == Requantization::power_of_two ? std::ldexp(1.0, -10 - static_cast<int>(m % 8))
                                                                          : std::exp2(-18.0 + 8.0 * (m % 5) / 5.0));
        }
        p.output.requantizer = Requantizer(multipliers, variant, 31);
        const std::string label = "case " + std::to_string(index) + " " + std::string(dtype_name(input_type)) + " x " +
                                  std::string(dtype_name(weight_type)) + " " + std::string(targets::requantization_name(variant)) +
                                  (weight_zero_points ? " with weight zero points" : "");
        // Each side NCHW or held channels-last (sim/channels_last_plan.h): the same integers in every layout.
        for (int layout = 0; layout < 4; ++layout) {
          const bool input_channels_last = layout & 1, output_channels_last = layout & 2;
          const std::string layout_label = label + (input_channels_last ? ", NHWC in" : ", NCHW in") +
                                           (output_channels_last ? ", NHWC out" : ", NCHW out");
          const auto executable = sim::prepare_fast_convolution(*node, p, input_channels_last, output_channels_last);
          ASSERT_TRUE(executable) << layout_label << ": the fast kernel refused the case";
          for (int run = 0; run < 2; ++run) {  // batch 1, then batch 2: one plan per input shape
            const Tensor x = random_grid(input_type, {run + 1, shape.channels, shape.height, shape.width}, random);
            const Tensor expected = runtime::integer::convolution(x, weights, &bias, p);
            const Tensor held = input_channels_last ? sim::channels_last_copy(x) : x;
            const Tensor result = run_executable(*executable, *node, {&held, &weights, &bias});
            expect_same_tensor(output_channels_last ? sim::channels_first_copy(result) : result, expected, layout_label);
          }
        }
      }
    }
  }
}

TEST(SimFastKernel, ChannelsLastAdapterEqualsThePlainKernel) {
  // The plain IntegerConv (what runs where the fast kernel does not apply) on NHWC-held values through
  // adapt_to_channels_last, and the fast kernel's own fallback for an input it was not prepared for.
  std::mt19937 random(11);
  ir::Graph graph;
  ir::Value* input = graph.add_value("x", ir::TensorType{DType::u8, {}});
  const Tensor weights = random_grid(DType::i8, {6, 5, 3, 3}, random);
  ir::Value* weight_value = graph.add_initializer("w", weights);
  ir::Value* output = graph.add_value("y", ir::TensorType{DType::u8, {}});
  const ir::Node* node = graph.add_node("IntegerConv", {input, weight_value}, {output}, "conv");
  runtime::integer::ConvolutionParameters p;
  p.pads = {1, 0, 1, 2};
  p.input_zero_point = 7;
  p.output.dtype = DType::u8;
  p.output.zero_point = 5;
  p.output.requantizer = Requantizer({std::ldexp(1.0, -9)}, Requantization::fixed_point_double_rounding, 31);
  const Tensor x = random_grid(DType::u8, {2, 5, 9, 7}, random);
  const Tensor expected = runtime::integer::convolution(x, weights, nullptr, p);
  const Tensor held = sim::channels_last_copy(x);
  for (int layout = 1; layout < 4; ++layout) {
    const bool input_channels_last = layout & 1, output_channels_last = layout & 2;
    auto plain = std::make_unique<PlainConvolution>(p);
    const auto adapted = sim::adapt_to_channels_last(std::move(plain), {input_channels_last}, {output_channels_last});
    const Tensor result = run_executable(*adapted, *node, {input_channels_last ? &held : &x, &weights});
    expect_same_tensor(output_channels_last ? sim::channels_first_copy(result) : result, expected,
                       "adapter, layout " + std::to_string(layout));
  }
  // The fast kernel prepared for u8 inputs gets s8 ones: its plain-kernel fallback, in the held layouts.
  Tensor signed_x = random_grid(DType::i8, {1, 5, 9, 7}, random);
  const Tensor signed_expected = runtime::integer::convolution(signed_x, weights, nullptr, p);
  const Tensor signed_held = sim::channels_last_copy(signed_x);
  const auto fast = sim::prepare_fast_convolution(*node, p, true, true);
  ASSERT_TRUE(fast);
  expect_same_tensor(sim::channels_first_copy(run_executable(*fast, *node, {&signed_held, &weights})), signed_expected,
                     "fast kernel's fallback, NHWC in and out");
}

TEST(SimFastKernel, ConvolutionAtTheExtremesOfTheAccumulator) {
  // Every activation and weight at the far end of its grid: the largest accumulators a 3x3x64 conv can make.
  std::mt19937 random(5);
  for (int sign : {1, -1}) {
    ir::Graph graph;
    ir::Value* input = graph.add_value("x", ir::TensorType{DType::u8, {}});
    Tensor weights(DType::i8, {4, 64, 3, 3});
    for (int64_t i = 0; i < weights.element_count(); ++i) weights.data<int8_t>()[i] = sign > 0 ? 127 : -128;
    ir::Value* weight_value = graph.add_initializer("w", weights);
    ir::Value* output = graph.add_value("y", ir::TensorType{DType::i8, {}});
    const ir::Node* node = graph.add_node("IntegerConv", {input, weight_value}, {output}, "conv");
    runtime::integer::ConvolutionParameters p;
    p.pads = {1, 1, 1, 1};
    p.input_zero_point = 0;
    p.weight_zero_points = {sign > 0 ? -128 : 127};  // w - z_w = +-255
    p.output.dtype = DType::i8;
    p.output.requantizer = Requantizer({std::ldexp(1.0, -17), std::ldexp(1.0, -14), 1e-6, 0.0}, Requantization::fixed_point_double_rounding, 31);
    const auto executable = sim::prepare_fast_convolution(*node, p);
    ASSERT_TRUE(executable);
    Tensor x(DType::u8, {1, 64, 5, 5});
    for (int64_t i = 0; i < x.element_count(); ++i) x.data<uint8_t>()[i] = 255;
    expect_same_tensor(run_executable(*executable, *node, {&x, &weights}), runtime::integer::convolution(x, weights, nullptr, p),
                       sign > 0 ? "largest positive" : "largest negative");
  }
}

TEST(SimFastKernel, MatMulEqualsThePlainKernel) {
  std::mt19937 random(9);
  int index = 0;
  for (DType input_type : {DType::i8, DType::u8}) {
    for (DType weight_type : {DType::i8, DType::u8}) {
      for (Requantization variant : kVariants) {
        ++index;
        const int64_t depth = 70, columns = 19;
        ir::Graph graph;
        ir::Value* input = graph.add_value("a", ir::TensorType{input_type, {}});
        const Tensor weights = random_grid(weight_type, {depth, columns}, random);
        ir::Value* weight_value = graph.add_initializer("b", weights);
        const Tensor bias = random_tensor<int32_t>(DType::i32, {columns}, random, -50000, 50000);
        ir::Value* bias_value = graph.add_initializer("bias", bias);
        ir::Value* output = graph.add_value("y", ir::TensorType{DType::u8, {}});
        const ir::Node* node = graph.add_node("IntegerMatMul", {input, weight_value, bias_value}, {output}, "matmul");
        runtime::integer::MatMulParameters p;
        p.a_zero_point = input_type == DType::u8 ? 200 : -3;
        if (index % 2) {
          std::uniform_int_distribution<int> zero(runtime::integer::grid_minimum(weight_type), runtime::integer::grid_maximum(weight_type));
          for (int64_t n = 0; n < columns; ++n) p.b_zero_points.push_back(zero(random));
        }
        p.output.dtype = DType::u8;
        p.output.zero_point = 128;
        p.output.minimum = 0;
        p.output.maximum = 255;
        std::vector<double> multipliers;
        for (int64_t n = 0; n < columns; ++n) multipliers.push_back(variant == Requantization::power_of_two ? std::ldexp(1.0, -12) : 1.0 / (3000.0 + 17 * n));
        p.output.requantizer = Requantizer(multipliers, variant, 31);
        const auto executable = sim::prepare_fast_matmul(*node, p);
        ASSERT_TRUE(executable);
        const Tensor a = random_grid(input_type, {2, 3, depth}, random);
        expect_same_tensor(run_executable(*executable, *node, {&a, &weights, &bias}), runtime::integer::matmul(a, weights, &bias, p),
                           "matmul " + std::string(targets::requantization_name(variant)) + " " + std::string(dtype_name(input_type)) +
                               " x " + std::string(dtype_name(weight_type)));
      }
    }
  }
}

TEST(SimFastKernel, ElementwiseOpsEqualThePlainKernels) {
  std::mt19937 random(13);
  for (Requantization variant : kVariants) {
    for (DType type : {DType::i8, DType::u8}) {
      const Shape shape{1, 3, 29, 31};  // 2697 elements: two full blocks of 1024 and a tail
      const int32_t low = runtime::integer::grid_minimum(type), high = runtime::integer::grid_maximum(type);
      const std::string label = std::string(targets::requantization_name(variant)) + " " + std::string(dtype_name(type));
      ir::Graph graph;
      ir::Value* a_value = graph.add_value("a", ir::TensorType{type, {}});
      ir::Value* b_value = graph.add_value("b", ir::TensorType{type, {}});
      ir::Value* output = graph.add_value("y", ir::TensorType{type, {}});
      const ir::Node* node = graph.add_node("IntegerAdd", {a_value, b_value}, {output}, "op");
      const ir::Node* unary = graph.add_node("IntegerRequantize", {a_value}, {graph.add_value("z", ir::TensorType{type, {}})}, "unary");
      const Tensor a = random_grid(type, shape, random), b = random_grid(type, shape, random);
      // Every pair of bytes once (Add and Mul look their outputs up in a table of all pairs).
      Tensor every_a(type, {1, 1, 256, 256}), every_b(type, {1, 1, 256, 256});
      for (int i = 0; i < 256 * 256; ++i) {
        static_cast<uint8_t*>(every_a.raw_data())[i] = static_cast<uint8_t>(i >> 8);
        static_cast<uint8_t*>(every_b.raw_data())[i] = static_cast<uint8_t>(i & 255);
      }
      const bool powers = variant == Requantization::power_of_two;

      OutputStage stage;
      stage.dtype = type;
      stage.zero_point = high;  // the grid's end
      stage.minimum = low;
      stage.maximum = high;

      runtime::integer::AddParameters add;
      add.a_zero_point = low;
      add.b_zero_point = high;
      add.a_requantizer = Requantizer({powers ? 0.5 : 0.37}, variant, 31);
      add.b_requantizer = Requantizer({powers ? 0.25 : 0.5}, variant, 31);
      add.output = stage;
      add.output.requantizer = Requantizer({powers ? std::ldexp(1.0, -19) : 1.3 / (1 << 20)}, variant, 31);
      auto fast_add = sim::prepare_fast_add(*node, add);
      ASSERT_TRUE(fast_add) << label;
      expect_same_tensor(run_executable(*fast_add, *node, {&a, &b}), runtime::integer::add(a, b, add), "Add " + label);
      expect_same_tensor(run_executable(*fast_add, *node, {&every_a, &every_b}), runtime::integer::add(every_a, every_b, add),
                         "Add, every pair, " + label);

      runtime::integer::MulParameters mul;
      mul.a_zero_point = low + 7;
      mul.b_zero_point = high;
      mul.output = stage;
      mul.output.requantizer = Requantizer({powers ? std::ldexp(1.0, -7) : 0.0071}, variant, 31);
      auto fast_mul = sim::prepare_fast_mul(*node, mul);
      ASSERT_TRUE(fast_mul) << label;
      expect_same_tensor(run_executable(*fast_mul, *node, {&a, &b}), runtime::integer::mul(a, b, mul), "Mul " + label);
      expect_same_tensor(run_executable(*fast_mul, *node, {&every_a, &every_b}), runtime::integer::mul(every_a, every_b, mul),
                         "Mul, every pair, " + label);

      runtime::integer::RequantizeParameters requantize;
      requantize.input_zero_point = low;
      requantize.output = stage;
      requantize.output.zero_point = low;
      requantize.output.requantizer = Requantizer({powers ? 0.5 : 0.61}, variant, 31);
      auto fast_requantize = sim::prepare_fast_requantize(*unary, requantize);
      ASSERT_TRUE(fast_requantize) << label;
      expect_same_tensor(run_executable(*fast_requantize, *unary, {&a}), runtime::integer::requantize(a, requantize), "Requantize " + label);

      runtime::integer::LookupTable table;
      table.input_minimum = low;
      table.output_dtype = type;
      for (int32_t q = low; q <= high; ++q) table.values.push_back(std::clamp((q * 37 + 11) % 300 - 150, low, high));
      auto fast_table = sim::prepare_fast_lookup_table(*unary, table);
      ASSERT_TRUE(fast_table) << label;
      expect_same_tensor(run_executable(*fast_table, *unary, {&a}), runtime::integer::look_up(a, table), "LookupTable " + label);
    }
  }
}

TEST(SimFastKernel, BroadcastingAndOtherShapesGoToThePlainKernel) {
  // Add of [1, 3, 4, 4] and [1, 3, 1, 1]: not the fast kernel's one shape; it must still give the oracle's answer.
  std::mt19937 random(17);
  ir::Graph graph;
  ir::Value* a_value = graph.add_value("a", ir::TensorType{DType::i8, {}});
  ir::Value* b_value = graph.add_value("b", ir::TensorType{DType::i8, {}});
  const ir::Node* node = graph.add_node("IntegerMul", {a_value, b_value}, {graph.add_value("y", ir::TensorType{DType::i8, {}})}, "mul");
  runtime::integer::MulParameters mul;
  mul.output.requantizer = Requantizer({0.01}, Requantization::fixed_point_double_rounding, 31);
  auto fast = sim::prepare_fast_mul(*node, mul);
  ASSERT_TRUE(fast);
  const Tensor a = random_grid(DType::i8, {1, 3, 4, 4}, random), b = random_grid(DType::i8, {1, 3, 1, 1}, random);
  expect_same_tensor(run_executable(*fast, *node, {&a, &b}), runtime::integer::mul(a, b, mul), "broadcast Mul");
}

}  // namespace
TEST(SimFastQuantize, EveryRoundingEqualsQuantizeValueOnTiesAndExtremes) {
  std::mt19937 random(19);
  const float scale = 0.037f;
  std::vector<float> values{0.0f, -0.0f, NAN, -NAN, INFINITY, -INFINITY, std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min(), 1e-30f, -1e-30f, 3.0e38f, -3.0e38f,
                            1073741824.0f * scale, -1073741824.0f * scale, 1073741760.0f * scale, 0.49999997f * scale,
                            -0.49999997f * scale};
  for (int k = -300; k <= 300; ++k) {  // exact ties k + 0.5 (as far as float division keeps them), and neighbours
    const float tie = (static_cast<float>(k) + 0.5f) * scale;
    values.push_back(tie);
    values.push_back(std::nextafter(tie, INFINITY));
    values.push_back(std::nextafter(tie, -INFINITY));
  }
  std::uniform_real_distribution<float> any(-20.0f, 20.0f);
  while (values.size() % 8 != 3) values.push_back(any(random));  // a tail after the blocks of eight
  for (int i = 0; i < 400; ++i) values.push_back(any(random));
  // The tie block once more, shifted by one element, so NaN / inf share blocks with ordinary values.
  values.insert(values.begin() + 1, 0.5f * scale);
  Tensor real(DType::f32, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), real.data<float>());
  for (ir::RoundingMode rounding : {ir::RoundingMode::half_to_even, ir::RoundingMode::half_away_from_zero, ir::RoundingMode::half_up}) {
    for (ir::ClampOrder order : {ir::ClampOrder::round_then_clamp, ir::ClampOrder::clamp_then_round}) {
      for (DType dtype : {DType::i8, DType::u8}) {
        for (bool narrowed : {false, true}) {
          runtime::integer::QuantizeParameters p;
          p.scale = scale;
          p.dtype = dtype;
          p.zero_point = dtype == DType::u8 ? 128 : -5;
          p.minimum = narrowed ? p.zero_point : runtime::integer::grid_minimum(dtype);  // a symmetric or Relu grid
          p.maximum = runtime::integer::grid_maximum(dtype) - (narrowed ? 1 : 0);
          p.rounding = rounding;
          p.clamp_order = order;
          const std::string label = std::string(ir::rounding_mode_name(rounding)) + " " + std::string(ir::clamp_order_name(order)) +
                                    " " + std::string(dtype_name(dtype)) + (narrowed ? " narrowed" : "");
          const Tensor expected = runtime::integer::quantize(real, p);
          for (bool allow_avx2 : {false, true}) {
            Tensor result(dtype, real.shape());
            sim::quantize_to_bytes(real.data<float>(), real.element_count(), p, result.raw_data(), allow_avx2);
            expect_same_tensor(result, expected, label + (allow_avx2 ? " avx2" : " portable"));
          }
          const auto executable = sim::prepare_fast_quantize(p);
          ASSERT_TRUE(executable) << label;
          ir::Graph graph;
          ir::Value* input = graph.add_value("x", ir::TensorType{DType::f32, {}});
          ir::Value* output = graph.add_value("y", ir::TensorType{dtype, {}});
          const ir::Node* node = graph.add_node("IntegerQuantize", {input}, {output}, "quantize");
          expect_same_tensor(run_executable(*executable, *node, {&real}), expected, label + " executable");
        }
      }
    }
  }
}

struct MaxPoolCase {
  int64_t kernel, stride;
  std::vector<int64_t> pads;
  int64_t ceil_mode, height, width;
};

TEST(SimFastKernel, MaxPoolOfBytesEqualsRefMaxPool) {
  std::mt19937 random(23);
  const std::vector<MaxPoolCase> cases{
      {3, 2, {1, 1, 1, 1}, 0, 112, 112},  // ResNet's stem pool
      {5, 1, {2, 2, 2, 2}, 0, 20, 20},    // YOLO's SPPF
      {2, 2, {0, 0, 0, 0}, 1, 9, 11},     // ceil_mode: a last window half outside
      {3, 3, {0, 1, 2, 0}, 1, 10, 7},     // asymmetric pads, ceil_mode
      {4, 1, {3, 3, 3, 3}, 0, 2, 3},      // windows reaching past both borders
  };
  const runtime::KernelEntry* reference = runtime::ref::reference_registry().find("", "MaxPool", 12);
  ASSERT_TRUE(reference);
  for (const MaxPoolCase& shape : cases) {
    for (DType dtype : {DType::i8, DType::u8}) {
      ir::Graph graph;
      ir::Value* input = graph.add_value("x", ir::TensorType{dtype, {}});
      ir::Value* output = graph.add_value("y", ir::TensorType{dtype, {}});
      ir::Node* node = graph.add_node("MaxPool", {input}, {output}, "pool");
      node->attributes["kernel_shape"] = passes::integers_attribute({shape.kernel, shape.kernel});
      node->attributes["strides"] = passes::integers_attribute({shape.stride, shape.stride});
      node->attributes["pads"] = passes::integers_attribute(shape.pads);
      node->attributes["ceil_mode"] = passes::integer_attribute(shape.ceil_mode);
      ASSERT_FALSE(sim::exact_onnx_kernel_unsupported_reason(*node, 12));
      const auto executable = sim::prepare_exact_onnx_kernel(*node, 12);
      const Tensor x = random_grid(dtype, {2, 5, shape.height, shape.width}, random);
      std::vector<Tensor> expected(1), actual(1);
      runtime::KernelContext reference_context(*node, 12, {&x}, expected, nullptr);
      reference->function(reference_context);
      runtime::KernelContext context(*node, 12, {&x}, actual, nullptr);
      executable->run(context);
      expect_same_tensor(actual[0], expected[0], "MaxPool " + std::to_string(shape.kernel) + "x" + std::to_string(shape.kernel) +
                                                     " stride " + std::to_string(shape.stride) + " " + std::string(dtype_name(dtype)));
    }
  }
  // Floats, dilations and indices stay on ref.
  ir::Graph graph;
  ir::Node* node = graph.add_node("MaxPool", {graph.add_value("f", ir::TensorType{DType::f32, {}})},
                                  {graph.add_value("g", ir::TensorType{DType::f32, {}})}, "float_pool");
  node->attributes["kernel_shape"] = passes::integers_attribute({2, 2});
  EXPECT_TRUE(sim::exact_onnx_kernel_unsupported_reason(*node, 12));
}

namespace {

// ---- the channels-last plan (sim/channels_last_plan.h) ----

// A graph of 4-D values of one shape for plan_channels_last.
struct PlanGraph {
  ir::Graph graph;
  ir::Value* weights = graph.add_initializer("w", Tensor(DType::i8, {8, 8, 1, 1}));
  ir::Value* scale = graph.add_initializer("scale", Tensor(DType::f32, {1}));

  ir::Value* value(const std::string& name, DType dtype = DType::u8) {
    std::vector<ir::Dim> shape;
    for (int64_t dim : {1, 8, 6, 6}) shape.push_back(ir::Dim::fixed(dim));
    return graph.add_value(name, ir::TensorType{dtype, shape});
  }
  ir::Value* input(const std::string& name) {
    ir::Value* x = value(name);
    x->is_graph_input = true;
    graph.inputs.push_back(x);
    return x;
  }
  void output(ir::Value* value) {
    value->is_graph_output = true;
    graph.outputs.push_back(value);
  }
  ir::Node* integer(const std::string& op, std::vector<ir::Value*> inputs, ir::Value* result) {
    ir::Node* node = graph.add_node(op, std::move(inputs), {result}, op + result->name, sim::kIntegerDomain);
    ir::Attribute one;
    one.kind = ir::Attribute::Kind::floats;
    one.float_values = {0.5};
    for (const char* key : {"a_multipliers", "b_multipliers", "multipliers"}) node->attributes[key] = one;
    return node;
  }
};

TEST(SimChannelsLastPlan, ConvolutionChainsAreNhwcUntilAReaderNeedsNchw) {
  {  // x -> conv -> a -> table -> b -> conv -> c (output): a and b NHWC.
    PlanGraph g;
    ir::Value* x = g.input("x");
    ir::Value *a = g.value("a"), *b = g.value("b"), *c = g.value("c");
    g.integer("IntegerConv", {x, g.weights}, a);
    g.integer("IntegerLookupTable", {a}, b);
    g.integer("IntegerConv", {b, g.weights}, c);
    g.output(c);
    const runtime::cpu::BlockedLayoutPlan plan = sim::plan_channels_last(g.graph);
    EXPECT_TRUE(plan.is_blocked(a));
    EXPECT_TRUE(plan.is_blocked(b));
    EXPECT_FALSE(plan.is_blocked(x)) << "a graph input";
    EXPECT_FALSE(plan.is_blocked(c)) << "a graph output";
  }
  {  // The same, and b also read by IntegerAveragePool (NCHW only): a and b (joined by the table) NCHW.
    PlanGraph g;
    ir::Value* x = g.input("x");
    ir::Value *a = g.value("a"), *b = g.value("b"), *c = g.value("c"), *p = g.value("p");
    g.integer("IntegerConv", {x, g.weights}, a);
    g.integer("IntegerLookupTable", {a}, b);
    g.integer("IntegerConv", {b, g.weights}, c);
    g.integer("IntegerAveragePool", {b}, p);
    g.output(c);
    g.output(p);
    const runtime::cpu::BlockedLayoutPlan plan = sim::plan_channels_last(g.graph);
    EXPECT_FALSE(plan.is_blocked(a));
    EXPECT_FALSE(plan.is_blocked(b));
  }
  {  // conv -> a -> IntegerAdd(a, a) -> d -> DequantizeLinear -> e -> Relu -> r -> QuantizeLinear -> q -> conv:
     // per-tensor DQ / Q and Relu join, so the float values e and r are NHWC too; with a per-channel scale not.
    for (bool per_tensor : {true, false}) {
      PlanGraph g;
      ir::Value* x = g.input("x");
      ir::Value *a = g.value("a"), *d = g.value("d"), *e = g.value("e", DType::f32), *r = g.value("r", DType::f32);
      ir::Value *q = g.value("q"), *y = g.value("y");
      ir::Value* scale = per_tensor ? g.scale : g.graph.add_initializer("scales", Tensor(DType::f32, {8}));
      g.integer("IntegerConv", {x, g.weights}, a);
      g.integer("IntegerAdd", {a, a}, d);
      g.graph.add_node("DequantizeLinear", {d, scale}, {e}, "dq");
      g.graph.add_node("Relu", {e}, {r}, "relu");
      g.graph.add_node("QuantizeLinear", {r, scale}, {q}, "q");
      g.integer("IntegerConv", {q, g.weights}, y);
      g.output(y);
      const runtime::cpu::BlockedLayoutPlan plan = sim::plan_channels_last(g.graph);
      for (const ir::Value* held : {a, d, e, r, q}) {
        EXPECT_EQ(plan.is_blocked(held), per_tensor) << held->name << (per_tensor ? " per tensor" : " per channel");
      }
    }
  }
}

}  // namespace
}  // namespace npukit
