// Shape rules of Resize (every opset form: scales or sizes, axes) and Upsample (scales as attribute or input).
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"

namespace npukit::ir {

namespace {

std::optional<std::vector<double>> constant_doubles(const ShapeInferenceContext& context, size_t index) {
  const Tensor* data = context.constant_input(index);
  if (!data) return std::nullopt;
  std::vector<double> values;
  for (int64_t i = 0; i < data->element_count(); ++i) values.push_back(data->value_as_double(i));
  return values;
}

// Output dims from sizes or scales (both over `axes`), as the reference kernel computes them: a scale
// multiplies the input size and the product is truncated.
void resize_output(ShapeInferenceContext& context, const Dims& input, const std::optional<std::vector<double>>& scales,
                   const std::optional<std::vector<int64_t>>& sizes) {
  const DType dtype = context.input_dtype(0);
  const int64_t rank = static_cast<int64_t>(input.size());
  std::vector<int64_t> axes = context.node().get_ints("axes");
  const size_t count = sizes && !sizes->empty() ? sizes->size() : (scales ? scales->size() : 0);
  if (axes.empty()) {
    for (int64_t axis = 0; axis < rank; ++axis) axes.push_back(axis);
  }
  if (count != axes.size()) {
    context.fail((sizes && !sizes->empty() ? "sizes" : "scales") + std::string(" has ") + std::to_string(count) +
                 " entries for " + std::to_string(axes.size()) + " axes");
  }
  Dims output = input;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t axis = context.normalize_axis(axes[i], rank);
    if (sizes && !sizes->empty()) {
      if ((*sizes)[i] < 0) context.fail("sizes must not be negative");
      output[axis] = Dim::fixed((*sizes)[i]);
      continue;
    }
    const double scale = (*scales)[i];
    if (!(scale > 0.0)) context.fail("scales must be positive");
    const Dim& dim = input[axis];
    if (scale == 1.0) output[axis] = dim;
    else if (!dim.is_static()) output[axis] = unknown_dim();
    else {
      const double size = scale * static_cast<double>(dim.value);
      if (!(size < 4.0e18)) context.fail("scale " + std::to_string(scale) + " makes axis " + std::to_string(axis) + " too large");
      output[axis] = Dim::fixed(static_cast<int64_t>(size));
    }
  }
  context.set_output(0, dtype, output);
}

void resize_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!input) return context.set_output_like_input(0, 0);
  // Resize-10 is (X, scales); from 11 on (X, roi, scales, sizes), scales or sizes possibly empty.
  const size_t scales_index = context.input_count() == 2 ? 1 : 2;
  const bool has_sizes = context.has_input(3) && !(context.input_shape(3) && context.input_shape(3)->size() == 1 &&
                                                    (*context.input_shape(3))[0].is_static() &&
                                                    (*context.input_shape(3))[0].value == 0);
  std::optional<std::vector<int64_t>> sizes = has_sizes ? context.constant_ints(3) : std::nullopt;
  std::optional<std::vector<double>> scales = constant_doubles(context, scales_index);
  if ((has_sizes && !sizes) || (!has_sizes && (!scales || scales->empty()))) {
    context.set_output(0, context.input_dtype(0), unknown_dims(input->size()));
    return;
  }
  resize_output(context, *input, scales, sizes);
}

void upsample_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!input) return context.set_output_like_input(0, 0);
  std::optional<std::vector<double>> scales;
  if (context.node().has_attribute("scales")) scales = context.node().get_floats("scales");
  else scales = constant_doubles(context, 1);
  if (!scales) {
    context.set_output(0, context.input_dtype(0), unknown_dims(input->size()));
    return;
  }
  resize_output(context, *input, scales, std::nullopt);
}

}  // namespace

void register_resize_shape_rules(ShapeRuleTable& table) {
  table["Resize"] = resize_rule;
  table["Upsample"] = upsample_rule;
}

}  // namespace npukit::ir
