#include "vision/letterbox.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "npukit/error.h"

namespace npukit::vision {

namespace {

// Pixel values in [0, 255] to the nearest integer, halves up as OpenCV's fixed-point resize rounds; a plain
// add-and-truncate, because nearbyint is a library call on baseline x86-64 (no SSE4.1 round instruction).
inline float round_pixel(float value) { return static_cast<float>(static_cast<int>(value + 0.5f)); }

// Python's round(): half to even (the default floating-point rounding mode), which Ultralytics relies on.
int python_round(double value) { return static_cast<int>(std::nearbyint(value)); }

// For each output coordinate of the resized picture: the two source coordinates and the weight of the second,
// as cv2.resize(INTER_LINEAR) computes them (half-pixel centres, clamped at the borders).
struct AxisSamples {
  std::vector<int> first;
  std::vector<int> second;
  std::vector<float> weight;  // of `second`
};

AxisSamples sample_axis(int source_size, int destination_size) {
  AxisSamples samples;
  samples.first.resize(destination_size);
  samples.second.resize(destination_size);
  samples.weight.resize(destination_size);
  const double scale = static_cast<double>(source_size) / destination_size;
  for (int d = 0; d < destination_size; ++d) {
    const double position = (d + 0.5) * scale - 0.5;
    int index = static_cast<int>(std::floor(position));
    float fraction = static_cast<float>(position - index);
    if (index < 0) {
      index = 0;
      fraction = 0;
    }
    if (index >= source_size - 1) {
      index = source_size - 1;
      fraction = 0;
    }
    samples.first[d] = index;
    samples.second[d] = std::min(index + 1, source_size - 1);
    samples.weight[d] = fraction;
  }
  return samples;
}

// Calls write(x, y, r, g, b) for every output pixel, in row order; the resize happens here, once.
template <typename Write>
void for_each_letterbox_pixel(const Image& image, const LetterboxGeometry& geometry, uint8_t pad, Write&& write) {
  const AxisSamples columns = sample_axis(image.width, geometry.resized_width);
  const AxisSamples rows = sample_axis(image.height, geometry.resized_height);
  const float padding = pad;
  std::vector<float> top_row(static_cast<size_t>(geometry.resized_width) * 3);
  std::vector<float> bottom_row(top_row.size());
  // Horizontal interpolation of one source row into `out`.
  auto interpolate_row = [&](int source_y, std::vector<float>& out) {
    const uint8_t* source = image.row(source_y);
    for (int x = 0; x < geometry.resized_width; ++x) {
      const uint8_t* a = source + 3 * columns.first[x];
      const uint8_t* b = source + 3 * columns.second[x];
      const float w = columns.weight[x];
      for (int c = 0; c < 3; ++c) out[3 * x + c] = a[c] + (b[c] - a[c]) * w;
    }
  };
  int cached_top = -1, cached_bottom = -1;
  for (int y = 0; y < geometry.output_height; ++y) {
    const int resized_y = y - geometry.top;
    if (resized_y < 0 || resized_y >= geometry.resized_height) {
      for (int x = 0; x < geometry.output_width; ++x) write(x, y, padding, padding, padding);
      continue;
    }
    // Consecutive output rows mostly share source rows: interpolate each source row once.
    const int first = rows.first[resized_y], second = rows.second[resized_y];
    if (first != cached_top) {
      if (first == cached_bottom) std::swap(top_row, bottom_row), cached_bottom = -1;
      else interpolate_row(first, top_row);
      cached_top = first;
    }
    if (second != cached_bottom) {
      if (second == cached_top) bottom_row = top_row;
      else interpolate_row(second, bottom_row);
      cached_bottom = second;
    }
    const float w = rows.weight[resized_y];
    for (int x = 0; x < geometry.output_width; ++x) {
      const int resized_x = x - geometry.left;
      if (resized_x < 0 || resized_x >= geometry.resized_width) {
        write(x, y, padding, padding, padding);
        continue;
      }
      const float* a = top_row.data() + 3 * resized_x;
      const float* b = bottom_row.data() + 3 * resized_x;
      write(x, y, a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, a[2] + (b[2] - a[2]) * w);
    }
  }
}

}  // namespace

LetterboxGeometry compute_letterbox(int image_width, int image_height, const LetterboxOptions& options) {
  if (image_width <= 0 || image_height <= 0 || options.width <= 0 || options.height <= 0) {
    throw Error(ErrorKind::invalid_argument, "letterbox: picture and input sizes must be positive");
  }
  LetterboxGeometry geometry;
  geometry.input_width = image_width;
  geometry.input_height = image_height;
  double ratio = std::min(static_cast<double>(options.height) / image_height,
                          static_cast<double>(options.width) / image_width);
  if (!options.scaleup) ratio = std::min(ratio, 1.0);
  geometry.resized_width = python_round(image_width * ratio);
  geometry.resized_height = python_round(image_height * ratio);
  double pad_width = options.width - geometry.resized_width;
  double pad_height = options.height - geometry.resized_height;
  if (options.auto_stride) {
    pad_width = std::fmod(pad_width, options.stride);
    pad_height = std::fmod(pad_height, options.stride);
  } else if (options.scale_fill) {
    pad_width = pad_height = 0;
    geometry.resized_width = options.width;
    geometry.resized_height = options.height;
  }
  if (options.center) {
    pad_width /= 2;
    pad_height /= 2;
  }
  geometry.top = options.center ? python_round(pad_height - 0.1) : 0;
  geometry.left = options.center ? python_round(pad_width - 0.1) : 0;
  const int bottom = python_round(pad_height + 0.1);
  const int right = python_round(pad_width + 0.1);
  geometry.output_width = geometry.left + geometry.resized_width + right;
  geometry.output_height = geometry.top + geometry.resized_height + bottom;
  // The ratio itself, not resized / original: Ultralytics' scale_boxes maps boxes back with the ratio.
  geometry.scale_x = options.scale_fill ? static_cast<double>(options.width) / image_width : ratio;
  geometry.scale_y = options.scale_fill ? static_cast<double>(options.height) / image_height : ratio;
  return geometry;
}

Image letterbox_image(const Image& image, const LetterboxOptions& options) {
  const LetterboxGeometry geometry = compute_letterbox(image.width, image.height, options);
  Image result;
  result.width = geometry.output_width;
  result.height = geometry.output_height;
  result.pixels.resize(static_cast<size_t>(result.width) * result.height * 3);
  auto to_byte = [](float value) { return static_cast<uint8_t>(std::clamp(round_pixel(value), 0.0f, 255.0f)); };
  for_each_letterbox_pixel(image, geometry, options.pad_value, [&](int x, int y, float r, float g, float b) {
    uint8_t* pixel = result.row(y) + 3 * x;
    pixel[0] = to_byte(r);
    pixel[1] = to_byte(g);
    pixel[2] = to_byte(b);
  });
  return result;
}

Tensor letterbox_to_tensor(const Image& image, const LetterboxOptions& options, const Normalization& normalization,
                           LetterboxGeometry* geometry_out) {
  const LetterboxGeometry geometry = compute_letterbox(image.width, image.height, options);
  if (geometry_out != nullptr) *geometry_out = geometry;
  const int64_t height = geometry.output_height, width = geometry.output_width;
  const bool nchw = normalization.layout == TensorLayout::nchw;
  Tensor tensor(DType::f32, nchw ? Shape{1, 3, height, width} : Shape{1, height, width, 3});
  float* out = tensor.data<float>();
  const size_t plane = static_cast<size_t>(height) * width;
  // Tensor channel c takes picture channel source[c] (RGB, or reversed for BGR).
  const int red = normalization.bgr ? 2 : 0, blue = normalization.bgr ? 0 : 2;
  const auto& mean = normalization.mean;
  const auto& scale = normalization.scale;
  for_each_letterbox_pixel(image, geometry, options.pad_value, [&](int x, int y, float r, float g, float b) {
    // OpenCV stores the resized picture as uint8 before Ultralytics divides it: round the same way.
    const float values[3] = {round_pixel(r), round_pixel(g), round_pixel(b)};
    const float channel[3] = {values[red], values[1], values[blue]};
    const size_t pixel = static_cast<size_t>(y) * width + x;
    if (nchw) {
      out[pixel] = (channel[0] - mean[0]) * scale[0];
      out[plane + pixel] = (channel[1] - mean[1]) * scale[1];
      out[2 * plane + pixel] = (channel[2] - mean[2]) * scale[2];
    } else {
      out[3 * pixel] = (channel[0] - mean[0]) * scale[0];
      out[3 * pixel + 1] = (channel[1] - mean[1]) * scale[1];
      out[3 * pixel + 2] = (channel[2] - mean[2]) * scale[2];
    }
  });
  return tensor;
}

}  // namespace npukit::vision
