#include "quantization/algorithms/layer_tools.h"

#include <algorithm>
#include <cmath>

#include "engine/engine.h"
#include "npukit/error.h"
#include "quantization/quantize.h"

namespace npukit::quantization {

namespace {

bool is_f32_initializer(const ir::Value* value) {
  return value && value->initializer && value->initializer->dtype() == DType::f32;
}

struct ConvGeometry {
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t kernel_h = 1, kernel_w = 1;
};

ConvGeometry conv_geometry(const LinearLayer& layer) {
  ConvGeometry geometry;
  const Shape& dims = layer.weight->initializer->shape();
  geometry.kernel_h = dims[2];
  geometry.kernel_w = dims[3];
  const std::vector<int64_t> strides = layer.node->get_ints("strides", {1, 1});
  const std::vector<int64_t> dilations = layer.node->get_ints("dilations", {1, 1});
  const std::vector<int64_t> pads = layer.node->get_ints("pads", {0, 0, 0, 0});
  if (strides.size() == 2) geometry.stride_h = strides[0], geometry.stride_w = strides[1];
  if (dilations.size() == 2) geometry.dilation_h = dilations[0], geometry.dilation_w = dilations[1];
  if (pads.size() == 4) {
    geometry.pad_top = pads[0];
    geometry.pad_left = pads[1];
    geometry.pad_bottom = pads[2];
    geometry.pad_right = pads[3];
  }
  return geometry;
}

}  // namespace

std::optional<LinearLayer> linear_layer(ir::Node* node) {
  if (!node || !node->domain.empty()) return std::nullopt;
  LinearLayer layer;
  layer.node = node;
  layer.weight = node->input(1);
  layer.bias = node->input(2);
  if (!is_f32_initializer(layer.weight)) return std::nullopt;
  if (layer.bias && !is_f32_initializer(layer.bias)) return std::nullopt;
  const Shape& dims = layer.weight->initializer->shape();
  if (node->op_type == "Conv") {
    if (dims.size() != 4) return std::nullopt;
    const std::string auto_pad = node->get_string("auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "VALID") return std::nullopt;
    layer.group = node->get_int("group", 1);
    if (layer.group < 1 || dims[0] % layer.group != 0) return std::nullopt;
    layer.output_channels = dims[0];
    layer.kernel_elements = dims[2] * dims[3];
    layer.row_length = dims[1] * layer.kernel_elements;
    layer.input_channels = dims[1] * layer.group;
    for (int64_t pad : node->get_ints("pads", {})) layer.padded = layer.padded || pad != 0;
  } else if (node->op_type == "Gemm") {
    if (dims.size() != 2 || node->get_int("transA", 0) != 0 || node->get_float("alpha", 1.0) != 1.0 ||
        node->get_float("beta", 1.0) != 1.0) {
      return std::nullopt;
    }
    layer.transposed_rows = node->get_int("transB", 0) == 0;
    layer.output_channels = layer.transposed_rows ? dims[1] : dims[0];
    layer.row_length = layer.transposed_rows ? dims[0] : dims[1];
    layer.input_channels = layer.row_length;
  } else {
    return std::nullopt;
  }
  if (layer.bias && layer.bias->initializer->element_count() != layer.output_channels) return std::nullopt;
  return layer;
}

std::vector<std::vector<float>> weight_rows(const LinearLayer& layer) {
  const std::span<const float> values = layer.weight->initializer->values<float>();
  std::vector<std::vector<float>> rows(static_cast<size_t>(layer.output_channels),
                                       std::vector<float>(static_cast<size_t>(layer.row_length)));
  for (int64_t row = 0; row < layer.output_channels; ++row) {
    for (int64_t column = 0; column < layer.row_length; ++column) {
      const int64_t index =
          layer.transposed_rows ? column * layer.output_channels + row : row * layer.row_length + column;
      rows[static_cast<size_t>(row)][static_cast<size_t>(column)] = values[static_cast<size_t>(index)];
    }
  }
  return rows;
}

void set_weight_rows(LinearLayer& layer, const std::vector<std::vector<float>>& rows) {
  Tensor tensor(DType::f32, layer.weight->initializer->shape());
  std::span<float> values = tensor.values<float>();
  for (int64_t row = 0; row < layer.output_channels; ++row) {
    for (int64_t column = 0; column < layer.row_length; ++column) {
      const int64_t index =
          layer.transposed_rows ? column * layer.output_channels + row : row * layer.row_length + column;
      values[static_cast<size_t>(index)] = rows[static_cast<size_t>(row)][static_cast<size_t>(column)];
    }
  }
  layer.weight->initializer = std::move(tensor);
}

std::vector<float> bias_values(const LinearLayer& layer) {
  if (!layer.bias) return std::vector<float>(static_cast<size_t>(layer.output_channels), 0.0f);
  return layer.bias->initializer->to_float_vector();
}

void set_bias_values(ir::Graph& graph, LinearLayer& layer, const std::vector<float>& values) {
  Tensor tensor = Tensor::from_vector<float>(DType::f32, {layer.output_channels}, values);
  if (layer.bias) {
    layer.bias->initializer = std::move(tensor);
    return;
  }
  std::string name = layer.node->name.empty() ? layer.weight->name + "_bias" : layer.node->name + "_bias";
  while (graph.find_value(name)) name += "_";
  ir::Value* bias = graph.add_initializer(name, std::move(tensor));
  layer.node->inputs.resize(3, nullptr);
  layer.node->inputs[2] = bias;
  bias->consumers.push_back(layer.node);
  layer.bias = bias;
}

void sample_patches(const LinearLayer& layer, const Tensor& input, size_t per_sample, std::mt19937& random,
                    LayerPatches& patches) {
  const std::vector<float> data = input.to_float_vector();
  const Shape& dims = input.shape();
  const std::string where = layer.node->describe();
  if (layer.node->op_type == "Gemm") {
    if (dims.size() != 2 || dims[1] != layer.row_length) {
      throw Error(ErrorKind::invalid_model, "input " + shape_to_string(dims) + " does not fit the weights", "", where);
    }
    patches.patch_length = layer.row_length;
    patches.by_group.resize(1);
    std::uniform_int_distribution<int64_t> pick(0, dims[0] - 1);
    const bool every_row = dims[0] <= static_cast<int64_t>(per_sample);
    for (size_t draw = 0; draw < (every_row ? static_cast<size_t>(dims[0]) : per_sample); ++draw) {
      const int64_t row = every_row ? static_cast<int64_t>(draw) : pick(random);
      patches.by_group[0].emplace_back(data.begin() + row * dims[1], data.begin() + (row + 1) * dims[1]);
    }
    return;
  }
  if (dims.size() != 4 || dims[1] != layer.input_channels) {
    throw Error(ErrorKind::invalid_model,
                "input " + shape_to_string(dims) + " does not fit weights of " + std::to_string(layer.input_channels) +
                    " input channels",
                "", where);
  }
  const ConvGeometry geometry = conv_geometry(layer);
  const int64_t height = dims[2];
  const int64_t width = dims[3];
  const int64_t out_h = (height + geometry.pad_top + geometry.pad_bottom - geometry.dilation_h * (geometry.kernel_h - 1) - 1) /
                            geometry.stride_h + 1;
  const int64_t out_w = (width + geometry.pad_left + geometry.pad_right - geometry.dilation_w * (geometry.kernel_w - 1) - 1) /
                            geometry.stride_w + 1;
  if (out_h < 1 || out_w < 1) throw Error(ErrorKind::invalid_model, "the kernel is larger than the input", "", where);
  const int64_t channels_per_group = layer.input_channels / layer.group;
  patches.patch_length = channels_per_group * geometry.kernel_h * geometry.kernel_w;
  patches.by_group.resize(static_cast<size_t>(layer.group));
  std::uniform_int_distribution<int64_t> pick_batch(0, dims[0] - 1);
  std::uniform_int_distribution<int64_t> pick_row(0, out_h - 1);
  std::uniform_int_distribution<int64_t> pick_column(0, out_w - 1);
  // Every position when there are no more than asked for (small layers are measured exactly), else a draw.
  const int64_t positions = dims[0] * out_h * out_w;
  const bool every_position = positions <= static_cast<int64_t>(per_sample);
  const size_t draws = every_position ? static_cast<size_t>(positions) : per_sample;
  for (size_t draw = 0; draw < draws; ++draw) {
    const int64_t position = static_cast<int64_t>(draw);
    const int64_t batch = every_position ? position / (out_h * out_w) : pick_batch(random);
    const int64_t out_y = every_position ? position / out_w % out_h : pick_row(random);
    const int64_t out_x = every_position ? position % out_w : pick_column(random);
    for (int64_t group = 0; group < layer.group; ++group) {
      std::vector<float> patch(static_cast<size_t>(patches.patch_length), 0.0f);
      size_t position = 0;
      for (int64_t channel = 0; channel < channels_per_group; ++channel) {
        const int64_t input_channel = group * channels_per_group + channel;
        for (int64_t ky = 0; ky < geometry.kernel_h; ++ky) {
          for (int64_t kx = 0; kx < geometry.kernel_w; ++kx, ++position) {
            const int64_t y = out_y * geometry.stride_h - geometry.pad_top + ky * geometry.dilation_h;
            const int64_t x = out_x * geometry.stride_w - geometry.pad_left + kx * geometry.dilation_w;
            if (y < 0 || y >= height || x < 0 || x >= width) continue;
            patch[position] = data[static_cast<size_t>(((batch * dims[1] + input_channel) * height + y) * width + x)];
          }
        }
      }
      patches.by_group[static_cast<size_t>(group)].push_back(std::move(patch));
    }
  }
}

float dot_product(const float* a, const float* b, size_t length) {
  float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t index = 0;
  for (; index + 8 <= length; index += 8) {
    for (size_t lane = 0; lane < 8; ++lane) partial[lane] += a[index + lane] * b[index + lane];
  }
  float sum = 0;
  for (; index < length; ++index) sum += a[index] * b[index];
  for (float value : partial) sum += value;
  return sum;
}

float fake_quantize(float value, float scale, int64_t zero_point, int64_t minimum, int64_t maximum,
                    ir::RoundingMode rounding) {
  const double steps = round_with(static_cast<double>(value) / scale, rounding) + static_cast<double>(zero_point);
  const double clamped = std::clamp(steps, static_cast<double>(minimum), static_cast<double>(maximum));
  return static_cast<float>((clamped - static_cast<double>(zero_point)) * scale);
}

}  // namespace npukit::quantization
