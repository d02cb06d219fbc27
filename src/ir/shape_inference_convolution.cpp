// Shape rules of sliding-window ops: Conv (and its integer, quantized and fused forms), ConvTranspose, the
// pools, global pools, MaxUnpool, the RoI pools and GridSample.
//
// Output sizes follow the reference kernels (runtime/kernels/ref/window_geometry.h): with ceil_mode the last
// window must start inside the input or its left padding, as PyTorch and ONNX Runtime do.
#include <algorithm>
#include <string>
#include <vector>

#include "ir/shape_inference_rules.h"

namespace npukit::ir {

namespace {

// Spatial output sizes of a window op over `input` (N, C, spatial...) with the given kernel sizes; a dim
// that is not static stays unknown (a symbol cannot pass through a strided window).
Dims window_output(const ShapeInferenceContext& context, const Dims& input, const std::vector<int64_t>& kernel,
                   bool allow_ceil_mode) {
  const Node& node = context.node();
  const size_t rank = input.size() - 2;
  if (kernel.size() != rank) {
    context.fail("the kernel has " + std::to_string(kernel.size()) + " spatial dims but the input has " +
                 std::to_string(rank));
  }
  const std::vector<int64_t> strides = node.get_ints("strides", std::vector<int64_t>(rank, 1));
  const std::vector<int64_t> dilations = node.get_ints("dilations", std::vector<int64_t>(rank, 1));
  const std::vector<int64_t> pads = node.get_ints("pads", std::vector<int64_t>(2 * rank, 0));
  if (strides.size() != rank) context.fail("strides must have one value per spatial dim");
  if (dilations.size() != rank) context.fail("dilations must have one value per spatial dim");
  if (pads.size() != 2 * rank) context.fail("pads must have two values per spatial dim");
  const std::string auto_pad = node.get_string("auto_pad", "NOTSET");
  const bool ceil_mode = allow_ceil_mode && node.get_int("ceil_mode", 0) != 0;
  Dims output;
  for (size_t axis = 0; axis < rank; ++axis) {
    const Dim& size = input[axis + 2];
    if (strides[axis] <= 0 || dilations[axis] <= 0 || kernel[axis] <= 0) {
      context.fail("strides, dilations and kernel sizes must be positive");
    }
    if (!size.is_static()) {
      output.push_back(unknown_dim());
      continue;
    }
    const int64_t stride = strides[axis];
    const int64_t extent = narrow_size(context, WideSize(kernel[axis] - 1) * dilations[axis] + 1);
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      output.push_back(Dim::fixed(narrow_size(context, (WideSize(size.value) + stride - 1) / stride)));
      continue;
    }
    int64_t pad_begin = 0;
    int64_t pad_end = 0;
    if (auto_pad != "VALID") {
      pad_begin = pads[axis];
      pad_end = pads[axis + rank];
      if (pad_begin < 0 || pad_end < 0) context.fail("pads must not be negative");
    }
    const int64_t padded = narrow_size(context, WideSize(size.value) + pad_begin + pad_end);
    if (padded < extent) {
      context.fail("the kernel (extent " + std::to_string(extent) + ") is larger than the padded input (" +
                   std::to_string(padded) + ") along spatial axis " + std::to_string(axis));
    }
    const WideSize span = WideSize(padded) - extent;
    WideSize size_out = ceil_mode ? (span + stride - 1) / stride + 1 : span / stride + 1;
    if (ceil_mode && (size_out - 1) * stride >= WideSize(size.value) + pad_begin) --size_out;
    output.push_back(Dim::fixed(narrow_size(context, size_out)));
  }
  return output;
}

// Kernel sizes: the kernel_shape attribute, else the weight's spatial dims (nullopt when not static).
std::optional<std::vector<int64_t>> kernel_sizes(const ShapeInferenceContext& context, const Dims& weight) {
  if (context.node().has_attribute("kernel_shape")) return context.node().get_ints("kernel_shape");
  std::vector<int64_t> sizes;
  for (size_t i = 2; i < weight.size(); ++i) {
    if (!weight[i].is_static()) return std::nullopt;
    sizes.push_back(weight[i].value);
  }
  return sizes;
}

void convolution(ShapeInferenceContext& context, size_t data_index, size_t weight_index, DType dtype) {
  context.require_inputs(weight_index + 1);
  const Dims* input = context.input_shape(data_index);
  const Dims* weight = context.input_shape(weight_index);
  if (!input || !weight) {
    context.set_output(0, dtype, input ? std::optional<Dims>(unknown_dims(input->size())) : std::nullopt);
    return;
  }
  if (input->size() < 3) context.fail("the input must have rank 3 or more (N, C, spatial...), got " + dims_to_string(*input));
  if (weight->size() != input->size()) {
    context.fail("input " + dims_to_string(*input) + " and weight " + dims_to_string(*weight) + " differ in rank");
  }
  const int64_t group = context.node().get_int("group", 1);
  if (group <= 0) context.fail("group must be positive");
  const Dim& channels = (*input)[1];
  const Dim& weight_channels = (*weight)[1];
  if (channels.is_static() && weight_channels.is_static() && WideSize(channels.value) != WideSize(weight_channels.value) * group) {
    context.fail("the input has " + std::to_string(channels.value) + " channels but the weight " +
                 dims_to_string(*weight) + " with group " + std::to_string(group) + " expects " +
                 std::to_string(narrow_size(context, WideSize(weight_channels.value) * group)));
  }
  Dims output{(*input)[0], (*weight)[0]};
  std::optional<std::vector<int64_t>> kernel = kernel_sizes(context, *weight);
  if (kernel) {
    for (const Dim& dim : window_output(context, *input, *kernel, false)) output.push_back(dim);
  } else {
    for (size_t i = 2; i < input->size(); ++i) output.push_back(unknown_dim());
  }
  context.set_output(0, dtype, output);
}

void conv_rule(ShapeInferenceContext& context) { convolution(context, 0, 1, context.input_dtype(0)); }
void conv_integer_rule(ShapeInferenceContext& context) { convolution(context, 0, 1, DType::i32); }
void qlinear_conv_rule(ShapeInferenceContext& context) {
  context.require_inputs(8);
  convolution(context, 0, 3, context.input_dtype(7));
}

void conv_transpose_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const Node& node = context.node();
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  const Dims* weight = context.input_shape(1);
  if (!input || !weight) {
    context.set_output(0, dtype, input ? std::optional<Dims>(unknown_dims(input->size())) : std::nullopt);
    return;
  }
  if (input->size() < 3 || weight->size() != input->size()) {
    context.fail("input " + dims_to_string(*input) + " and weight " + dims_to_string(*weight) +
                 " must have the same rank, 3 or more");
  }
  const size_t rank = input->size() - 2;
  const int64_t group = node.get_int("group", 1);
  if (group <= 0) context.fail("group must be positive");
  if ((*input)[1].is_static() && (*weight)[0].is_static() && (*input)[1].value != (*weight)[0].value) {
    context.fail("the input has " + std::to_string((*input)[1].value) + " channels but the weight " +
                 dims_to_string(*weight) + " expects " + std::to_string((*weight)[0].value));
  }
  Dim channels_out = (*weight)[1].is_static() ? Dim::fixed(narrow_size(context, WideSize((*weight)[1].value) * group)) : unknown_dim();
  Dims output{(*input)[0], channels_out};
  std::optional<std::vector<int64_t>> kernel = kernel_sizes(context, *weight);
  if (kernel && kernel->size() != rank) context.fail("kernel_shape must have one value per spatial dim");
  std::vector<int64_t> output_shape = node.get_ints("output_shape");
  if (output_shape.size() == rank + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  if (!output_shape.empty()) {
    if (output_shape.size() != rank) context.fail("output_shape must have one value per spatial dim");
    for (int64_t size : output_shape) output.push_back(Dim::fixed(size));
    context.set_output(0, dtype, output);
    return;
  }
  const std::vector<int64_t> strides = node.get_ints("strides", std::vector<int64_t>(rank, 1));
  const std::vector<int64_t> dilations = node.get_ints("dilations", std::vector<int64_t>(rank, 1));
  const std::vector<int64_t> pads = node.get_ints("pads", std::vector<int64_t>(2 * rank, 0));
  const std::vector<int64_t> output_padding = node.get_ints("output_padding", std::vector<int64_t>(rank, 0));
  if (strides.size() != rank || dilations.size() != rank || pads.size() != 2 * rank || output_padding.size() != rank) {
    context.fail("strides, dilations, output_padding (one per spatial dim) and pads (two) have the wrong length");
  }
  const std::string auto_pad = node.get_string("auto_pad", "NOTSET");
  for (size_t axis = 0; axis < rank; ++axis) {
    const Dim& size = (*input)[axis + 2];
    if (!size.is_static() || !kernel) {
      output.push_back(unknown_dim());
      continue;
    }
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      output.push_back(Dim::fixed(narrow_size(context, WideSize(size.value) * strides[axis])));
      continue;
    }
    const WideSize pad_total = auto_pad == "VALID" ? 0 : WideSize(pads[axis]) + pads[axis + rank];
    const int64_t size_out = narrow_size(context, WideSize(strides[axis]) * (size.value - 1) + output_padding[axis] +
                                                      WideSize((*kernel)[axis] - 1) * dilations[axis] + 1 - pad_total);
    if (size_out <= 0) context.fail("the output would have size " + std::to_string(size_out) + " along spatial axis " + std::to_string(axis));
    output.push_back(Dim::fixed(size_out));
  }
  context.set_output(0, dtype, output);
}

void pooling(ShapeInferenceContext& context, bool allow_ceil_mode) {
  context.require_inputs(1);
  const DType dtype = context.input_dtype(0);
  const Dims* input = context.input_shape(0);
  if (!input) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  if (input->size() < 3) context.fail("the input must have rank 3 or more (N, C, spatial...), got " + dims_to_string(*input));
  if (!context.node().has_attribute("kernel_shape")) context.fail("kernel_shape is required");
  Dims output{(*input)[0], (*input)[1]};
  for (const Dim& dim : window_output(context, *input, context.node().get_ints("kernel_shape"), allow_ceil_mode)) {
    output.push_back(dim);
  }
  context.set_output(0, dtype, output);
  context.set_output(1, DType::i64, output);  // MaxPool's indices
}

void max_or_average_pool_rule(ShapeInferenceContext& context) { pooling(context, true); }
void lp_pool_rule(ShapeInferenceContext& context) { pooling(context, context.node().has_attribute("ceil_mode")); }

void global_pool_rule(ShapeInferenceContext& context) {
  context.require_inputs(1);
  const Dims* input = context.input_shape(0);
  if (!input) return context.set_output_like_input(0, 0);
  if (input->size() < 2) context.fail("the input must have rank 2 or more, got " + dims_to_string(*input));
  Dims output{(*input)[0], (*input)[1]};
  for (size_t i = 2; i < input->size(); ++i) output.push_back(Dim::fixed(1));
  context.set_output(0, context.input_dtype(0), output);
}

void max_unpool_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const DType dtype = context.input_dtype(0);
  if (std::optional<std::vector<int64_t>> given = context.constant_ints(2)) {
    context.set_output(0, dtype, fixed_dims(*given));
    return;
  }
  const Dims* input = context.input_shape(0);
  if (!input) {
    context.set_output(0, dtype, std::nullopt);
    return;
  }
  if (input->size() < 3) context.fail("the input must have rank 3 or more, got " + dims_to_string(*input));
  const size_t rank = input->size() - 2;
  if (context.has_input(2)) {  // an output_shape computed at run time: only the rank is known
    context.set_output(0, dtype, unknown_dims(input->size()));
    return;
  }
  const std::vector<int64_t> kernel = context.node().get_ints("kernel_shape");
  const std::vector<int64_t> strides = context.node().get_ints("strides", std::vector<int64_t>(rank, 1));
  const std::vector<int64_t> pads = context.node().get_ints("pads", std::vector<int64_t>(2 * rank, 0));
  if (kernel.size() != rank || strides.size() != rank || pads.size() != 2 * rank) {
    context.fail("kernel_shape, strides and pads must match the input's spatial rank");
  }
  Dims output{(*input)[0], (*input)[1]};
  for (size_t axis = 0; axis < rank; ++axis) {
    const Dim& size = (*input)[axis + 2];
    output.push_back(size.is_static() ? Dim::fixed(narrow_size(context, WideSize(size.value - 1) * strides[axis] +
                                                                          kernel[axis] - pads[axis] - pads[axis + rank]))
                                      : unknown_dim());
  }
  context.set_output(0, dtype, output);
}

// MaxRoiPool and RoiAlign: one pooled map per region of interest.
void region_pool(ShapeInferenceContext& context, const Dims& pooled) {
  context.require_inputs(2);
  const Dims* input = context.input_shape(0);
  const Dims* rois = context.input_shape(1);
  Dim regions = rois && !rois->empty() ? (*rois)[0] : unknown_dim();
  Dim channels = input && input->size() >= 2 ? (*input)[1] : unknown_dim();
  Dims output{regions, channels};
  output.insert(output.end(), pooled.begin(), pooled.end());
  context.set_output(0, context.input_dtype(0), output);
}

void max_roi_pool_rule(ShapeInferenceContext& context) {
  const std::vector<int64_t> pooled = context.node().get_ints("pooled_shape");
  if (pooled.size() != 2) context.fail("pooled_shape must hold two sizes");
  region_pool(context, fixed_dims(pooled));
}

void roi_align_rule(ShapeInferenceContext& context) {
  region_pool(context, {Dim::fixed(context.node().get_int("output_height", 1)),
                        Dim::fixed(context.node().get_int("output_width", 1))});
}

void grid_sample_rule(ShapeInferenceContext& context) {
  context.require_inputs(2);
  const Dims* input = context.input_shape(0);
  const Dims* grid = context.input_shape(1);
  if (!input || !grid) {
    context.set_output(0, context.input_dtype(0), std::nullopt);
    return;
  }
  if (input->size() < 3 || grid->size() != input->size()) {
    context.fail("input " + dims_to_string(*input) + " and grid " + dims_to_string(*grid) + " do not fit");
  }
  Dims output{(*input)[0], (*input)[1]};
  for (size_t i = 1; i + 1 < grid->size(); ++i) output.push_back((*grid)[i]);
  context.set_output(0, context.input_dtype(0), output);
}

}  // namespace

void register_convolution_shape_rules(ShapeRuleTable& table) {
  table["Conv"] = conv_rule;
  table["com.npukit:FusedConv"] = conv_rule;
  table["ConvInteger"] = conv_integer_rule;
  table["QLinearConv"] = qlinear_conv_rule;
  table["ConvTranspose"] = conv_transpose_rule;
  table["MaxPool"] = max_or_average_pool_rule;
  table["AveragePool"] = max_or_average_pool_rule;
  table["LpPool"] = lp_pool_rule;
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}) table[op] = global_pool_rule;
  table["MaxUnpool"] = max_unpool_rule;
  table["MaxRoiPool"] = max_roi_pool_rule;
  table["RoiAlign"] = roi_align_rule;
  table["GridSample"] = grid_sample_rule;
}

}  // namespace npukit::ir
