// Reference GridSample (opset 16, 4-D): bilinear, nearest and bicubic sampling with zeros, border and
// reflection padding, align_corners on or off.
//
// The op comes from PyTorch's grid_sample and its tests are PyTorch's numbers, so coordinates are
// computed the way PyTorch does: unnormalize, apply the padding rule to the coordinate (for bicubic, to
// each integer tap), and read zero outside the image.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/dtype_traits.h"
#include "runtime/kernels/ref/compute_buffer.h"
#include "runtime/kernels/ref/ref_kernels.h"

namespace npukit::runtime::ref {

namespace {

enum class Padding { zeros, border, reflection };

struct Sampler {
  Padding padding = Padding::zeros;
  bool align_corners = false;

  // Grid value in [-1, 1] -> pixel coordinate.
  double unnormalize(double value, int64_t size) const {
    return align_corners ? (value + 1) / 2 * static_cast<double>(size - 1)
                         : ((value + 1) * static_cast<double>(size) - 1) / 2;
  }

  static double reflect(double value, double twice_low, double twice_high) {
    if (twice_low == twice_high) return 0;
    const double low = twice_low / 2, span = (twice_high - twice_low) / 2;
    value = std::fabs(value - low);
    const double extra = std::fmod(value, span);
    const int64_t flips = static_cast<int64_t>(std::floor(value / span));
    return flips % 2 == 0 ? extra + low : span - extra + low;
  }

  // Applies the padding rule to a coordinate (zeros: unchanged, read as zero later).
  double pad(double coordinate, int64_t size) const {
    if (padding == Padding::border) return std::clamp(coordinate, 0.0, static_cast<double>(size - 1));
    if (padding == Padding::reflection) {
      coordinate = align_corners ? reflect(coordinate, 0, 2.0 * static_cast<double>(size - 1))
                                 : reflect(coordinate, -1, 2.0 * static_cast<double>(size) - 1);
      return std::clamp(coordinate, 0.0, static_cast<double>(size - 1));
    }
    return coordinate;
  }
};

// The pixel at integer coordinates given as doubles; zero outside the image (NaN and huge grid values
// included, so they never reach an integer conversion).
template <typename C>
double pixel(const C* plane, int64_t height, int64_t width, double y, double x) {
  if (!(y >= 0 && y < static_cast<double>(height) && x >= 0 && x < static_cast<double>(width))) return 0;
  return static_cast<double>(plane[static_cast<int64_t>(y) * width + static_cast<int64_t>(x)]);
}

// Cubic convolution weights with A = -0.75 (PyTorch's and OpenCV's choice) for a fraction t in [0, 1).
void cubic_weights(double t, double weights[4]) {
  constexpr double a = -0.75;
  auto near = [](double x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };       // |x| <= 1
  auto far = [](double x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };  // 1 < |x| < 2
  weights[0] = far(t + 1);
  weights[1] = near(t);
  weights[2] = near(1 - t);
  weights[3] = far(2 - t);
}

void grid_sample_kernel(KernelContext& context) {
  const Tensor& input = context.input(0);
  const Tensor& grid = context.input(1);
  if (input.rank() != 4) context.unsupported("GridSample on a rank " + std::to_string(input.rank()) + " input is not supported (4-D only)");
  if (grid.rank() != 4 || grid.dim(0) != input.dim(0) || grid.dim(3) != 2) {
    context.invalid("grid " + shape_to_string(grid.shape()) + " must have shape [N, H_out, W_out, 2]");
  }
  if (grid.dtype() != input.dtype()) context.invalid("grid must have the element type of X");
  const std::string mode = context.attribute_string("mode", "bilinear");
  const std::string padding_mode = context.attribute_string("padding_mode", "zeros");
  Sampler sampler;
  sampler.align_corners = context.attribute_int("align_corners", 0) != 0;
  if (padding_mode == "zeros") {
    sampler.padding = Padding::zeros;
  } else if (padding_mode == "border") {
    sampler.padding = Padding::border;
  } else if (padding_mode == "reflection") {
    sampler.padding = Padding::reflection;
  } else {
    context.unsupported("padding_mode '" + padding_mode + "' is not supported");
  }
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic" && mode != "linear" && mode != "cubic") {
    context.unsupported("mode '" + mode + "' is not supported");
  }
  const int64_t batch = input.dim(0), channels = input.dim(1), height = input.dim(2), width = input.dim(3);
  const int64_t out_height = grid.dim(1), out_width = grid.dim(2);
  Tensor& output = context.allocate_output(0, input.dtype(), {batch, channels, out_height, out_width});
  dispatch_float(input.dtype(), "GridSample", [&]<typename T>() {
    using C = compute_type_t<T>;
    std::vector<C> input_storage, grid_storage;
    const C* source = compute_view<T, C>(input, input_storage);
    const C* coordinates = compute_view<T, C>(grid, grid_storage);
    ComputeOutput<T, C> result(output);
    C* destination = result.data();
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t oy = 0; oy < out_height; ++oy) {
        for (int64_t ox = 0; ox < out_width; ++ox) {
          const C* point = coordinates + ((n * out_height + oy) * out_width + ox) * 2;
          const double x = sampler.unnormalize(static_cast<double>(point[0]), width);
          const double y = sampler.unnormalize(static_cast<double>(point[1]), height);
          for (int64_t c = 0; c < channels; ++c) {
            const C* plane = source + (n * channels + c) * height * width;
            double value = 0;
            if (mode == "nearest") {
              const double px = sampler.pad(x, width), py = sampler.pad(y, height);
              value = pixel(plane, height, width, std::nearbyint(py), std::nearbyint(px));
            } else if (mode == "bilinear" || mode == "linear") {
              const double px = sampler.pad(x, width), py = sampler.pad(y, height);
              const double x0 = std::floor(px), y0 = std::floor(py);
              const double tx = px - x0, ty = py - y0;
              value = (1 - ty) * ((1 - tx) * pixel(plane, height, width, y0, x0) + tx * pixel(plane, height, width, y0, x0 + 1)) +
                      ty * ((1 - tx) * pixel(plane, height, width, y0 + 1, x0) + tx * pixel(plane, height, width, y0 + 1, x0 + 1));
            } else {
              // Bicubic pads each of the 16 integer taps, not the sampling point.
              const double x0 = std::floor(x), y0 = std::floor(y);
              double weights_x[4], weights_y[4];
              cubic_weights(x - x0, weights_x);
              cubic_weights(y - y0, weights_y);
              for (int64_t j = 0; j < 4; ++j) {
                double row = 0;
                for (int64_t i = 0; i < 4; ++i) {
                  const double tap_x = sampler.pad(x0 - 1 + static_cast<double>(i), width);
                  const double tap_y = sampler.pad(y0 - 1 + static_cast<double>(j), height);
                  row += weights_x[i] * pixel(plane, height, width, tap_y, tap_x);
                }
                value += weights_y[j] * row;
              }
            }
            destination[((n * channels + c) * out_height + oy) * out_width + ox] = static_cast<C>(value);
          }
        }
      }
    }
    result.finish();
  });
}

}  // namespace

void register_grid_sample_kernels(KernelRegistry& registry) { registry.add("GridSample", grid_sample_kernel, 16, 17); }

}  // namespace npukit::runtime::ref
