// Shape rules of elementwise ops: unary maps (the output is the input's type), broadcasting binary and
// variadic ops, comparisons and logic (bool), Where, casts and the quantize / dequantize maps.
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"
#include "onnx/dtype_mapping.h"

namespace npukit::ir {

namespace {

// Broadcasts every present input; the output dtype is `dtype`, or input 0's when undefined.
void broadcast_inputs(ShapeInferenceContext& context, DType dtype, size_t first_input = 0) {
  std::vector<const Dims*> shapes;
  bool all_known = true;
  for (size_t i = first_input; i < context.input_count(); ++i) {
    if (!context.has_input(i)) continue;
    const Dims* shape = context.input_shape(i);
    if (!shape) all_known = false;
    else shapes.push_back(shape);
  }
  if (dtype == DType::undefined) dtype = context.input_dtype(first_input);
  context.set_output(0, dtype, all_known && !shapes.empty() ? std::optional<Dims>(context.broadcast(shapes)) : std::nullopt);
}

void broadcast_binary(ShapeInferenceContext& context) {
  context.require_inputs(2);
  broadcast_inputs(context, DType::undefined);
}

void broadcast_to_bool(ShapeInferenceContext& context) {
  context.require_inputs(2);
  broadcast_inputs(context, DType::boolean);
}

void broadcast_variadic(ShapeInferenceContext& context) {
  context.require_inputs(1);
  broadcast_inputs(context, DType::undefined);
}

void where_rule(ShapeInferenceContext& context) {
  context.require_inputs(3);
  std::vector<const Dims*> shapes;
  for (size_t i = 0; i < 3; ++i) {
    if (!context.input_shape(i)) {
      context.set_output(0, context.input_dtype(1), std::nullopt);
      return;
    }
    shapes.push_back(context.input_shape(i));
  }
  context.set_output(0, context.input_dtype(1), context.broadcast(shapes));
}

// The output has the input's shape and a dtype the rule names.
void same_shape_as(ShapeInferenceContext& context, size_t input_index, DType dtype, size_t output_index = 0) {
  const Dims* shape = context.input_shape(input_index);
  context.set_output(output_index, dtype, shape ? std::optional<Dims>(*shape) : std::nullopt);
}

DType dtype_from_onnx_code(const ShapeInferenceContext& context, int64_t code) {
  std::optional<DType> dtype = onnx_io::dtype_from_onnx(static_cast<int32_t>(code));
  return dtype ? *dtype : DType::undefined;
}

void cast_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  same_shape_as(context, 0, dtype_from_onnx_code(context, context.node().get_int("to", 0)));
}

void cast_like_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  same_shape_as(context, 0, context.input_dtype(1));
}

void to_bool_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  same_shape_as(context, 0, DType::boolean);
}

void dropout_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  context.set_output_like_input(0, 0);
  same_shape_as(context, 0, DType::boolean, 1);
}

void quantize_linear_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  // The zero point's dtype is the output's; without one, uint8.
  same_shape_as(context, 0, context.has_input(2) ? context.input_dtype(2) : DType::u8);
}

void dequantize_linear_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  same_shape_as(context, 0, DType::f32);
}

void dynamic_quantize_linear_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  same_shape_as(context, 0, DType::u8);
  context.set_output(1, DType::f32, Dims{});
  context.set_output(2, DType::u8, Dims{});
}

// Like ops (EyeLike, RandomNormalLike, Bernoulli): the input's shape, the `dtype` attribute's type or else
// the input's.
void like_input_with_dtype_attribute(ShapeInferenceContext& context) {
  context.require_inputs(1);
  DType dtype = context.input_dtype(0);
  if (context.node().has_attribute("dtype")) dtype = dtype_from_onnx_code(context, context.node().get_int("dtype", 1));
  same_shape_as(context, 0, dtype);
}

}  // namespace

void register_elementwise_shape_rules(ShapeRuleTable& table) {
  for (const char* op : {"Abs",       "Acos",     "Acosh",  "Asin",       "Asinh",    "Atan",      "Atanh",
                         "Ceil",      "Cos",      "Cosh",   "Erf",        "Exp",      "Floor",     "Log",
                         "Neg",       "Reciprocal", "Round", "Sigmoid",   "Sign",     "Sin",       "Sinh",
                         "Sqrt",      "Tan",      "Tanh",   "Relu",       "Elu",      "Selu",      "Celu",
                         "LeakyRelu", "HardSigmoid", "HardSwish", "Mish", "Softplus", "Softsign",  "ThresholdedRelu",
                         "Shrink",    "BitwiseNot", "Not",  "Clip",       "PRelu",    "CumSum",    "Trilu",
                         "Identity",  "ReverseSequence", "Scatter", "ScatterElements", "ScatterND", "Gelu"}) {
    table[op] = same_as_first_input;
  }
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"}) {
    table[op] = broadcast_binary;
  }
  for (const char* op : {"Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Xor"}) {
    table[op] = broadcast_to_bool;
  }
  for (const char* op : {"Max", "Min", "Sum", "Mean"}) table[op] = broadcast_variadic;
  table["Where"] = where_rule;
  table["Cast"] = cast_rule;
  table["CastLike"] = cast_like_rule;
  table["IsInf"] = to_bool_rule;
  table["IsNaN"] = to_bool_rule;
  table["Dropout"] = dropout_rule;
  table["QuantizeLinear"] = quantize_linear_rule;
  table["DequantizeLinear"] = dequantize_linear_rule;
  table["DynamicQuantizeLinear"] = dynamic_quantize_linear_rule;
  for (const char* op : {"EyeLike", "RandomNormalLike", "RandomUniformLike", "Bernoulli"}) {
    table[op] = like_input_with_dtype_attribute;
  }
}

}  // namespace npukit::ir
