// Resize (opsets 10-17) of 4-D f32 tensors (and nearest of u8 / s8 held channels-last, else on ref): nearest with
// every nearest_mode, and bilinear over H and W,
// with every coordinate_transformation_mode but tf_crop_and_resize. The semantics are ref's
// (kernels/ref/resize.cpp, itself ONNX's resize.py): output extents, source coordinates and rounding are
// computed here with the same double-precision formulas, once per axis, so nearest picks exactly the
// elements ref picks and bilinear differs from ref's float64 only by float rounding.
//
// Nearest is a gather through one index map per axis; a row whose source row is the previous output
// row's is a memcpy of that row, and a width map that repeats each source column s times (YOLO's and
// PP-OCR's 2x upsampling) is a broadcast loop. Bilinear reads two rows and two columns per output element
// with weights precomputed per axis.
//
// Scales and sizes are read at run time (constant or computed inputs alike). A run the fast paths do not
// cover (rank other than 4, bilinear that also scales N or C) is handed to ref's kernel for this node,
// prepared alongside, so a valid model never fails here.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/kernels/cpu/blocked_layout.h"
#include "runtime/kernels/cpu/cpu_kernels.h"
#include "runtime/kernels/ref/resize_geometry.h"

namespace npukit::runtime::cpu {

namespace {

struct ResizeSettings {
  bool linear = false;
  std::string coordinate_mode = "half_pixel";
  // "simple" is Resize-10's rounding: floor when enlarging, ceil when shrinking (as ref).
  std::string nearest_mode = "round_prefer_floor";
};

using ref::original_coordinate;
using ref::nearest_index;
using AxisGeometry = ref::ResizeAxis;

std::vector<int64_t> nearest_map(const AxisGeometry& axis, const ResizeSettings& settings) {
  std::vector<int64_t> map(static_cast<size_t>(axis.output_extent));
  for (int64_t x = 0; x < axis.output_extent; ++x) {
    map[static_cast<size_t>(x)] =
        nearest_index(original_coordinate(static_cast<double>(x), axis, settings.coordinate_mode), settings.nearest_mode, axis);
  }
  return map;
}

// The repeat count s when map[x] == x / s for every x (each source column repeated s times), else 0.
int64_t uniform_repeat(const std::vector<int64_t>& map, int64_t input_extent) {
  const int64_t output_extent = static_cast<int64_t>(map.size());
  if (input_extent == 0 || output_extent % input_extent != 0) return 0;
  const int64_t repeat = output_extent / input_extent;
  for (int64_t x = 0; x < output_extent; ++x) {
    if (map[static_cast<size_t>(x)] != x / repeat) return 0;
  }
  return repeat;
}

// ref's identity test: such an axis is skipped by ref's linear interpolation.
bool axis_is_identity(const AxisGeometry& axis, const ResizeSettings& settings) {
  return ref::axis_is_identity(axis, settings.coordinate_mode);
}

// The two source indices and weights of each output coordinate along one axis (ref's linear taps).
struct LinearTaps {
  std::vector<int64_t> first, second;
  std::vector<float> first_weight, second_weight;
};

LinearTaps linear_taps(const AxisGeometry& axis, const ResizeSettings& settings) {
  LinearTaps taps;
  const bool identity = axis_is_identity(axis, settings);
  for (int64_t x = 0; x < axis.output_extent; ++x) {
    if (identity) {
      taps.first.push_back(x);
      taps.second.push_back(x);
      taps.first_weight.push_back(1.0f);
      taps.second_weight.push_back(0.0f);
      continue;
    }
    const double original = original_coordinate(static_cast<double>(x), axis, settings.coordinate_mode);
    const double floor_value = std::floor(original);
    const int64_t base = static_cast<int64_t>(floor_value);
    const double ratio = original - floor_value;
    taps.first.push_back(std::clamp<int64_t>(base, 0, axis.input_extent - 1));
    taps.second.push_back(std::clamp<int64_t>(base + 1, 0, axis.input_extent - 1));
    taps.first_weight.push_back(static_cast<float>(1.0 - ratio));
    taps.second_weight.push_back(static_cast<float>(ratio));
  }
  return taps;
}

void resize_nearest(const Tensor& data, Tensor& output, const std::vector<AxisGeometry>& axes,
                    const ResizeSettings& settings) {
  std::vector<std::vector<int64_t>> maps;
  for (const AxisGeometry& axis : axes) maps.push_back(nearest_map(axis, settings));
  const std::vector<int64_t>& batch_map = maps[0];
  const std::vector<int64_t>& channel_map = maps[1];
  const std::vector<int64_t>& row_map = maps[2];
  const std::vector<int64_t>& column_map = maps[3];
  const int64_t input_channels = axes[1].input_extent, input_height = axes[2].input_extent, input_width = axes[3].input_extent;
  const int64_t channels = axes[1].output_extent, height = axes[2].output_extent, width = axes[3].output_extent;
  const int64_t planes = axes[0].output_extent * channels;
  const int64_t repeat = uniform_repeat(column_map, input_width);
  const float* source = data.data<float>();
  float* destination = output.data<float>();
  // One task per output plane: a row equal to the one above it is copied from the output just written.
#pragma omp parallel for schedule(static) if (output.element_count() > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const int64_t source_plane = batch_map[static_cast<size_t>(plane / channels)] * input_channels +
                                 channel_map[static_cast<size_t>(plane % channels)];
    const float* source_base = source + source_plane * input_height * input_width;
    float* target_plane = destination + plane * height * width;
    for (int64_t y = 0; y < height; ++y) {
      float* target = target_plane + y * width;
      if (y > 0 && row_map[static_cast<size_t>(y)] == row_map[static_cast<size_t>(y - 1)]) {
        std::memcpy(target, target - width, static_cast<size_t>(width) * sizeof(float));
        continue;
      }
      const float* row = source_base + row_map[static_cast<size_t>(y)] * input_width;
      if (repeat == 1) {
        std::memcpy(target, row, static_cast<size_t>(width) * sizeof(float));
      } else if (repeat == 2) {
        for (int64_t x = 0; x < input_width; ++x) target[2 * x] = target[2 * x + 1] = row[x];
      } else if (repeat > 2) {
        for (int64_t x = 0; x < input_width; ++x) std::fill(target + x * repeat, target + (x + 1) * repeat, row[x]);
      } else {
        for (int64_t x = 0; x < width; ++x) target[x] = row[column_map[static_cast<size_t>(x)]];
      }
    }
  }
}

void resize_bilinear(const Tensor& data, Tensor& output, const std::vector<AxisGeometry>& axes,
                     const ResizeSettings& settings) {
  const LinearTaps rows = linear_taps(axes[2], settings), columns = linear_taps(axes[3], settings);
  const int64_t input_height = axes[2].input_extent, input_width = axes[3].input_extent;
  const int64_t height = axes[2].output_extent, width = axes[3].output_extent;
  const int64_t planes = axes[0].output_extent * axes[1].output_extent;
  const float* source = data.data<float>();
  float* destination = output.data<float>();
#pragma omp parallel for schedule(static) if (output.element_count() > 32768)
  for (int64_t task = 0; task < planes * height; ++task) {
    const int64_t plane = task / height, y = task % height;
    const float* plane_source = source + plane * input_height * input_width;
    const float* top = plane_source + rows.first[static_cast<size_t>(y)] * input_width;
    const float* bottom = plane_source + rows.second[static_cast<size_t>(y)] * input_width;
    const float top_weight = rows.first_weight[static_cast<size_t>(y)];
    const float bottom_weight = rows.second_weight[static_cast<size_t>(y)];
    float* target = destination + task * width;
    for (int64_t x = 0; x < width; ++x) {
      const int64_t left = columns.first[static_cast<size_t>(x)], right = columns.second[static_cast<size_t>(x)];
      const float left_weight = columns.first_weight[static_cast<size_t>(x)];
      const float right_weight = columns.second_weight[static_cast<size_t>(x)];
      target[x] = top_weight * (left_weight * top[left] + right_weight * top[right]) +
                  bottom_weight * (left_weight * bottom[left] + right_weight * bottom[right]);
    }
  }
}

// Nearest over H and W of a blocked [1, C, H, W] tensor (blocked_layout.h): [C/block][H][W][block], each
// output pixel a copy of one source pixel's channel vector.
void resize_nearest_blocked(const Tensor& data, Tensor& output, const std::vector<AxisGeometry>& axes,
                            const ResizeSettings& settings, int64_t block) {
  const std::vector<int64_t> row_map = nearest_map(axes[2], settings), column_map = nearest_map(axes[3], settings);
  const int64_t planes = axes[1].output_extent / block;
  const int64_t input_height = axes[2].input_extent, input_width = axes[3].input_extent;
  const int64_t height = axes[2].output_extent, width = axes[3].output_extent;
  const size_t vector_bytes = static_cast<size_t>(block) * sizeof(float);
  const float* source = data.data<float>();
  float* destination = output.data<float>();
#pragma omp parallel for schedule(static) if (output.element_count() > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    for (int64_t y = 0; y < height; ++y) {
      float* target = destination + ((plane * height + y) * width) * block;
      if (y > 0 && row_map[static_cast<size_t>(y)] == row_map[static_cast<size_t>(y - 1)]) {
        std::memcpy(target, target - width * block, static_cast<size_t>(width) * vector_bytes);
        continue;
      }
      const float* row = source + ((plane * input_height + row_map[static_cast<size_t>(y)]) * input_width) * block;
      for (int64_t x = 0; x < width; ++x) {
        std::memcpy(target + x * block, row + column_map[static_cast<size_t>(x)] * block, vector_bytes);
      }
    }
  }
}

// Nearest over H and W of u8 / s8 bytes held channels-last (NHWC: a QDQ Resize between equal grids,
// qdq_integer_fusion.cpp): every output pixel is one source pixel's run of channels.
void resize_nearest_channels_last(const Tensor& data, Tensor& output, const std::vector<AxisGeometry>& axes,
                                  const ResizeSettings& settings) {
  const std::vector<int64_t> row_map = nearest_map(axes[2], settings), column_map = nearest_map(axes[3], settings);
  const int64_t images = axes[0].output_extent;
  const int64_t input_height = axes[2].input_extent, input_width = axes[3].input_extent;
  const int64_t height = axes[2].output_extent, width = axes[3].output_extent;
  const size_t pixel_bytes = static_cast<size_t>(axes[1].output_extent) * dtype_size(data.dtype());
  const auto* source = static_cast<const std::byte*>(data.raw_data());
  auto* destination = static_cast<std::byte*>(output.raw_data());
#pragma omp parallel for schedule(static) if (output.element_count() > 32768)
  for (int64_t image_row = 0; image_row < images * height; ++image_row) {
    const int64_t image = image_row / height, y = image_row % height;
    std::byte* target = destination + static_cast<size_t>(image_row * width) * pixel_bytes;
    const std::byte* row =
        source + static_cast<size_t>((image * input_height + row_map[static_cast<size_t>(y)]) * input_width) * pixel_bytes;
    for (int64_t x = 0; x < width; ++x) {
      std::memcpy(target + static_cast<size_t>(x) * pixel_bytes,
                  row + static_cast<size_t>(column_map[static_cast<size_t>(x)]) * pixel_bytes, pixel_bytes);
    }
  }
}

std::vector<double> double_values(const Tensor& tensor) {
  std::vector<double> values(static_cast<size_t>(tensor.element_count()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = tensor.value_as_double(static_cast<int64_t>(i));
  return values;
}

class ResizeExecutable final : public CpuExecutable {
 public:
  ResizeExecutable(const ir::Node& node, int64_t opset, bool blocked)
      : opset_(opset), blocked_(blocked), reference_(reference_backend().prepare(node, opset)) {
    settings_.linear = node.get_string("mode", "nearest") != "nearest";
    if (opset < 11) {
      settings_.coordinate_mode = "asymmetric";
      settings_.nearest_mode = "simple";
    } else {
      settings_.coordinate_mode = node.get_string("coordinate_transformation_mode", "half_pixel");
      settings_.nearest_mode = node.get_string("nearest_mode", "round_prefer_floor");
    }
  }

  void run(KernelContext& context) const override {
    const Tensor& data = context.input(0);
    const bool bytes = data.dtype() == DType::u8 || data.dtype() == DType::i8;
    // Bytes run here only held channels-last (the layout plan admits nearest with N and C unchanged); plain ones
    // go to ref, as every other dtype.
    if (data.rank() != 4 || (data.dtype() != DType::f32 && !(bytes && blocked_))) return reference_->run(context);
    std::vector<double> scales;
    std::vector<int64_t> sizes;
    if (opset_ < 11) {
      scales = double_values(context.input(1));
    } else {
      if (const Tensor* scales_input = context.optional_input(2)) scales = double_values(*scales_input);
      if (const Tensor* sizes_input = context.optional_input(3)) sizes = sizes_input->to_int64_vector();
      if (!scales.empty() && !sizes.empty()) context.invalid("only one of scales and sizes may be given");
      if (scales.empty() && sizes.empty()) context.invalid("one of scales and sizes must be given");
    }
    const std::vector<AxisGeometry> axes = ref::resize_axes(context, data, scales, sizes, {});
    Shape shape;
    for (const AxisGeometry& axis : axes) shape.push_back(axis.output_extent);
    // Bilinear here interpolates H and W only; scaling N or C as well is ref's job.
    if (settings_.linear && (!axis_is_identity(axes[0], settings_) || !axis_is_identity(axes[1], settings_))) {
      return reference_->run(context);
    }
    Tensor& output = context.allocate_output(0, data.dtype(), shape);
    if (output.element_count() == 0) return;
    if (data.element_count() == 0) context.invalid("cannot resize an empty tensor to a non-empty one");
    if (bytes) {
      if (settings_.linear || shape[0] != data.dim(0) || shape[1] != data.dim(1)) {
        context.fail(ErrorKind::internal, "a channels-last Resize must be nearest over H and W");
      }
      resize_nearest_channels_last(data, output, axes, settings_);
    } else if (blocked_) {
      // The layout rules admit only nearest with N and C unchanged (blocked_layout.cpp).
      if (settings_.linear || shape[0] != data.dim(0) || shape[1] != data.dim(1)) {
        context.fail(ErrorKind::internal, "a blocked Resize must be nearest over H and W");
      }
      resize_nearest_blocked(data, output, axes, settings_, channel_block());
    } else if (settings_.linear) {
      resize_bilinear(data, output, axes, settings_);
    } else {
      resize_nearest(data, output, axes, settings_);
    }
  }

 private:
  int64_t opset_;
  bool blocked_;
  ResizeSettings settings_;
  std::unique_ptr<NodeExecutable> reference_;
};

}  // namespace

std::optional<std::string> resize_unsupported_reason(const ir::Node& node, int64_t opset) {
  // Opset 18 added axes, antialias and keep_aspect_ratio_policy; ref (the fallback) stops at 17 too.
  if (opset < 10 || opset > 17) return "cpu Resize covers opsets 10 to 17";
  const ir::Value* data = node.input(0);
  const std::string mode = node.get_string("mode", "nearest");
  const bool bytes = data && (data->type.dtype == DType::u8 || data->type.dtype == DType::i8) && mode == "nearest";
  if (!data || (data->type.dtype != DType::f32 && data->type.dtype != DType::undefined && !bytes)) {
    return "cpu Resize runs f32 only (nearest also u8 / s8)";
  }
  if (data->type.shape && data->type.shape->size() != 4) return "cpu Resize needs a 4-D input";
  if (mode != "nearest" && mode != "linear" && mode != "bilinear") return "cpu Resize has no mode '" + mode + "'";
  if (opset >= 11) {
    static const std::vector<std::string> coordinate_modes{"half_pixel", "pytorch_half_pixel", "align_corners",
                                                           "asymmetric", "tf_half_pixel_for_nn"};
    const std::string coordinate_mode = node.get_string("coordinate_transformation_mode", "half_pixel");
    if (std::find(coordinate_modes.begin(), coordinate_modes.end(), coordinate_mode) == coordinate_modes.end()) {
      return "cpu Resize has no coordinate_transformation_mode '" + coordinate_mode + "'";
    }
    const std::string nearest_mode = node.get_string("nearest_mode", "round_prefer_floor");
    if (nearest_mode != "round_prefer_floor" && nearest_mode != "round_prefer_ceil" && nearest_mode != "floor" &&
        nearest_mode != "ceil") {
      return "cpu Resize has no nearest_mode '" + nearest_mode + "'";
    }
    if (mode != "nearest" && node.get_int("exclude_outside", 0) != 0) return "cpu Resize has no exclude_outside";
  }
  return std::nullopt;
}

std::unique_ptr<NodeExecutable> prepare_resize(const ir::Node& node, int64_t opset, const BlockedLayoutPlan& layouts) {
  return std::make_unique<ResizeExecutable>(node, opset, layouts.is_blocked(node.outputs[0]));
}

}  // namespace npukit::runtime::cpu
