// Shape rules of ops whose output shape comes from attributes or from the values (not the shapes) of their
// inputs: Shape, Size, Constant, ConstantOfShape, Range, the random generators, the signal windows,
// MelWeightMatrix, DFT, STFT, and the training optimizers (outputs shaped like the tensors they update).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"
#include "onnx/dtype_mapping.h"

namespace npukit::ir {

namespace {

DType dtype_attribute(const ShapeInferenceContext& context, const std::string& key, int64_t fallback_code) {
  std::optional<DType> dtype = onnx_io::dtype_from_onnx(static_cast<int32_t>(context.node().get_int(key, fallback_code)));
  return dtype ? *dtype : DType::undefined;
}

// One integer from a constant scalar (or one-element) input.
std::optional<int64_t> constant_scalar(const ShapeInferenceContext& context, size_t index) {
  const Tensor* data = context.constant_input(index);
  if (!data) return std::nullopt;
  if (data->element_count() != 1) context.fail("input " + std::to_string(index) + " must hold one value");
  std::optional<int64_t> value = integral_value(data->value_as_double(0));
  if (!value) context.fail("input " + std::to_string(index) + " must hold an integer");
  return value;
}

void shape_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  std::optional<int64_t> rank = context.input_rank(0);
  if (!rank) {
    context.set_output(0, DType::i64, Dims{unknown_dim()});
    return;
  }
  // Opset 15's start and end: clamped to [0, rank] after adding the rank to negative values.
  auto clamp = [&](int64_t position) { return std::clamp<int64_t>(position < 0 ? position + *rank : position, 0, *rank); };
  const int64_t start = clamp(context.node().get_int("start", 0));
  const int64_t end = clamp(context.node().get_int("end", *rank));
  context.set_output(0, DType::i64, Dims{Dim::fixed(std::max<int64_t>(0, end - start))});
}

void size_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  context.set_output(0, DType::i64, Dims{});
}

void constant_rule(ShapeInferenceContext& context) {
  const Node& node = context.node();
  if (const Attribute* value = node.find_attribute("value"); value && value->kind == Attribute::Kind::tensor) {
    context.set_output(0, value->tensor_value.dtype(), fixed_dims(value->tensor_value.shape()));
  } else if (node.has_attribute("value_float")) {
    context.set_output(0, DType::f32, Dims{});
  } else if (node.has_attribute("value_int")) {
    context.set_output(0, DType::i64, Dims{});
  } else if (node.has_attribute("value_floats")) {
    context.set_output(0, DType::f32, Dims{Dim::fixed(static_cast<int64_t>(node.get_floats("value_floats").size()))});
  } else if (node.has_attribute("value_ints")) {
    context.set_output(0, DType::i64, Dims{Dim::fixed(static_cast<int64_t>(node.get_ints("value_ints").size()))});
  }
}

void constant_of_shape_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  DType dtype = DType::f32;
  if (const Attribute* value = context.node().find_attribute("value"); value && value->kind == Attribute::Kind::tensor) {
    dtype = value->tensor_value.dtype();
  }
  if (const ShapeValues* shape = context.known_values(0)) {
    Dims dims;
    for (const ShapeValue& size : *shape) {
      if (size.number && *size.number < 0) context.fail("the shape holds " + std::to_string(*size.number));
      dims.push_back(size.to_dim());
    }
    context.set_output(0, dtype, dims);
    return;
  }
  std::optional<size_t> rank = context.rank_from_length(0);
  context.set_output(0, dtype, rank ? std::optional<Dims>(unknown_dims(*rank)) : std::nullopt);
}

void range_rule(ShapeInferenceContext& context) {
  context.require_inputs(3);
  const DType dtype = context.input_dtype(0);
  // Constants, or values computed from shapes (a grid of anchors: Range(0, Shape(x)[3])).
  const ShapeValues* start = context.known_values(0);
  const ShapeValues* limit = context.known_values(1);
  const ShapeValues* delta = context.known_values(2);
  auto number = [](const ShapeValues* values) -> std::optional<int64_t> {
    if (!values || values->size() != 1) return std::nullopt;
    return (*values)[0].number;
  };
  if (number(start) && number(limit) && number(delta)) {
    const int64_t step = *number(delta);
    if (step == 0) context.fail("delta must not be 0");
    const WideSize span = WideSize(*number(limit)) - *number(start);
    const WideSize count = (span > 0) == (step > 0) ? (span + step + (step > 0 ? -1 : 1)) / step : 0;
    context.set_output(0, dtype, Dims{Dim::fixed(narrow_size(context, count > 0 ? count : 0))});
    return;
  }
  // Float bounds (not integral) from constants: the count from the real values.
  const Tensor* start_data = context.constant_input(0);
  const Tensor* limit_data = context.constant_input(1);
  const Tensor* delta_data = context.constant_input(2);
  if (!start_data || !limit_data || !delta_data) {
    context.set_output(0, dtype, Dims{unknown_dim()});
    return;
  }
  if (start_data->element_count() != 1 || limit_data->element_count() != 1 || delta_data->element_count() != 1) {
    context.fail("start, limit and delta must be scalars");
  }
  const double step = delta_data->value_as_double(0);
  if (step == 0) context.fail("delta must not be 0");
  const double count = std::ceil((limit_data->value_as_double(0) - start_data->value_as_double(0)) / step);
  if (std::isnan(count) || count > 4.0e18) context.fail("start, limit and delta give no finite element count");
  context.set_output(0, dtype, Dims{Dim::fixed(count > 0 ? static_cast<int64_t>(count) : 0)});
}

void random_rule(ShapeInferenceContext& context) {
  context.set_output(0, dtype_attribute(context, "dtype", 1), fixed_dims(context.node().get_ints("shape")));
}

void window_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const DType dtype = dtype_attribute(context, "output_datatype", 1);
  std::optional<int64_t> size = constant_scalar(context, 0);
  context.set_output(0, dtype, Dims{size ? Dim::fixed(*size) : unknown_dim()});
}

void mel_weight_matrix_rule(ShapeInferenceContext& context) {
  context.require_inputs(5);
  const DType dtype = dtype_attribute(context, "output_datatype", 1);
  std::optional<int64_t> bins = constant_scalar(context, 0);
  std::optional<int64_t> dft_length = constant_scalar(context, 1);
  context.set_output(0, dtype, Dims{dft_length ? Dim::fixed(*dft_length / 2 + 1) : unknown_dim(),
                                    bins ? Dim::fixed(*bins) : unknown_dim()});
}

// DFT (opset 17): [batch, signal dims..., 1 or 2] → the same with 2 (complex) last; the transformed axis
// has dft_length (input 1) or its own size, halved plus one when onesided.
void dft_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!input) return context.set_output_like_input(0, 0);
  if (input->size() < 3) context.fail("the signal must have rank 3 or more, got " + dims_to_string(*input));
  const int64_t rank = static_cast<int64_t>(input->size());
  const int64_t axis = context.normalize_axis(context.node().get_int("axis", 1), rank - 1);
  Dims output = *input;
  output.back() = Dim::fixed(2);
  Dim length = (*input)[axis];
  if (context.has_input(1)) {
    std::optional<int64_t> given = constant_scalar(context, 1);
    length = given ? Dim::fixed(*given) : unknown_dim();
  }
  if (context.node().get_int("onesided", 0) != 0) length = length.is_static() ? Dim::fixed(length.value / 2 + 1) : unknown_dim();
  output[axis] = length;
  context.set_output(0, context.input_dtype(0), output);
}

// STFT: signal [batch, length, 1 or 2] → [batch, frames, bins, 2].
void stft_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const Dims* signal = context.input_shape(0);
  if (!signal) {
    context.set_output(0, context.input_dtype(0), std::nullopt);
    return;
  }
  if (signal->size() != 3) context.fail("the signal must be [batch, length, 1 or 2], got " + dims_to_string(*signal));
  std::optional<int64_t> step = constant_scalar(context, 1);
  std::optional<int64_t> frame_length = context.has_input(3) ? constant_scalar(context, 3) : std::nullopt;
  if (!frame_length && context.has_input(2)) {
    const Dims* window = context.input_shape(2);
    if (window && window->size() == 1 && (*window)[0].is_static()) frame_length = (*window)[0].value;
  }
  Dim frames = unknown_dim();
  Dim bins = unknown_dim();
  if (step && frame_length && (*signal)[1].is_static()) {
    if (*step <= 0) context.fail("frame_step must be positive");
    if (*frame_length > (*signal)[1].value) context.fail("frame_length is longer than the signal");
    frames = Dim::fixed(1 + ((*signal)[1].value - *frame_length) / *step);
  }
  if (frame_length) bins = Dim::fixed(context.node().get_int("onesided", 1) != 0 ? *frame_length / 2 + 1 : *frame_length);
  context.set_output(0, context.input_dtype(0), Dims{(*signal)[0], frames, bins, Dim::fixed(2)});
}

// Adagrad (R, T, X..., G..., H...), Momentum (R, T, X..., G..., V...) and Adam (R, T, X..., G..., V..., H...):
// the outputs are the new X..., then the new state tensors, each shaped like the tensor it replaces.
void optimizer_rule(ShapeInferenceContext& context, size_t groups) {
  if (context.input_count() < 2 + groups || (context.input_count() - 2) % groups != 0) {
    context.fail("expects 2 + " + std::to_string(groups) + " x N inputs, got " + std::to_string(context.input_count()));
  }
  const size_t tensors = (context.input_count() - 2) / groups;
  for (size_t output = 0; output < context.output_count(); ++output) {
    const size_t input = 2 + (output < tensors ? output : output + tensors);  // the gradients G are not outputs
    if (input < context.input_count()) context.set_output_like_input(output, input);
  }
}

}  // namespace

void register_generator_shape_rules(ShapeRuleTable& table) {
  table["Shape"] = shape_rule;
  table["Size"] = size_rule;
  table["Constant"] = constant_rule;
  table["ConstantOfShape"] = constant_of_shape_rule;
  table["Range"] = range_rule;
  table["RandomNormal"] = random_rule;
  table["RandomUniform"] = random_rule;
  for (const char* op : {"HannWindow", "HammingWindow", "BlackmanWindow"}) table[op] = window_rule;
  table["MelWeightMatrix"] = mel_weight_matrix_rule;
  table["DFT"] = dft_rule;
  table["STFT"] = stft_rule;
  const std::string training = "ai.onnx.preview.training:";
  table[training + "Adagrad"] = [](ShapeInferenceContext& context) { optimizer_rule(context, 3); };
  table[training + "Momentum"] = [](ShapeInferenceContext& context) { optimizer_rule(context, 3); };
  table[training + "Adam"] = [](ShapeInferenceContext& context) { optimizer_rule(context, 4); };
}

}  // namespace npukit::ir
