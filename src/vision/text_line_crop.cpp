#include "vision/text_line_crop.h"

#include <algorithm>
#include <cmath>

#include "npukit/error.h"

namespace npukit::vision {

std::array<double, 9> perspective_transform(const Quad& from, const Quad& to) {
  // Eight unknowns (m22 = 1): for each pair u = (m0 x + m1 y + m2) / (m6 x + m7 y + 1), likewise v.
  double system[8][9] = {};
  for (int i = 0; i < 4; ++i) {
    const double x = from[i].x, y = from[i].y, u = to[i].x, v = to[i].y;
    double* first = system[i];
    double* second = system[i + 4];
    first[0] = x, first[1] = y, first[2] = 1, first[6] = -x * u, first[7] = -y * u, first[8] = u;
    second[3] = x, second[4] = y, second[5] = 1, second[6] = -x * v, second[7] = -y * v, second[8] = v;
  }
  for (int column = 0; column < 8; ++column) {  // Gaussian elimination with partial pivoting
    int pivot = column;
    for (int row = column + 1; row < 8; ++row) {
      if (std::fabs(system[row][column]) > std::fabs(system[pivot][column])) pivot = row;
    }
    if (std::fabs(system[pivot][column]) < 1e-12) {
      throw Error(ErrorKind::invalid_argument, "the text box has collinear corners: no perspective transform");
    }
    std::swap_ranges(system[column], system[column] + 9, system[pivot]);
    for (int row = 0; row < 8; ++row) {
      if (row == column) continue;
      const double factor = system[row][column] / system[column][column];
      for (int k = column; k < 9; ++k) system[row][k] -= factor * system[column][k];
    }
  }
  std::array<double, 9> matrix{};
  for (int i = 0; i < 8; ++i) matrix[i] = system[i][8] / system[i][i];
  matrix[8] = 1;
  return matrix;
}

namespace {

// OpenCV's bicubic weights (a = −0.75) for a sample at fraction t past the second of four pixels.
std::array<float, 4> cubic_weights(float t) {
  constexpr float a = -0.75f;
  std::array<float, 4> w;
  w[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  w[2] = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
  w[3] = 1 - w[0] - w[1] - w[2];
  return w;
}

}  // namespace

Image crop_text_line(const Image& image, const Quad& p) {
  auto distance = [](const PointF& a, const PointF& b) { return std::hypot(a.x - b.x, a.y - b.y); };
  const int width = static_cast<int>(std::max(distance(p[0], p[1]), distance(p[2], p[3])));
  const int height = static_cast<int>(std::max(distance(p[0], p[3]), distance(p[1], p[2])));
  Image crop;
  if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0) return crop;
  crop.width = width;
  crop.height = height;
  crop.pixels.resize(static_cast<size_t>(width) * height * 3);
  // The transform from the crop back to the picture: each crop pixel samples the picture there.
  const Quad target = {PointF{0, 0}, PointF{static_cast<double>(width), 0},
                       PointF{static_cast<double>(width), static_cast<double>(height)},
                       PointF{0, static_cast<double>(height)}};
  std::array<double, 9> m;
  try {
    m = perspective_transform(target, p);
  } catch (const Error&) {
    return Image{};  // unreachable for a target of positive size, kept so a bad box never ends the page
  }
  constexpr int table_size = 32;  // OpenCV's INTER_TAB_SIZE: positions on a 1/32 pixel grid
  for (int y = 0; y < height; ++y) {
    uint8_t* out = crop.row(y);
    for (int x = 0; x < width; ++x) {
      const double w = m[6] * x + m[7] * y + m[8];
      const double scale = w != 0 ? table_size / w : 0;
      const double sx = std::clamp((m[0] * x + m[1] * y + m[2]) * scale, -1e9, 1e9);
      const double sy = std::clamp((m[3] * x + m[4] * y + m[5]) * scale, -1e9, 1e9);
      const long fixed_x = std::lround(sx), fixed_y = std::lround(sy);
      const long ix = fixed_x >> 5, iy = fixed_y >> 5;  // floor division by 32
      const std::array<float, 4> wx = cubic_weights(static_cast<float>(fixed_x & (table_size - 1)) / table_size);
      const std::array<float, 4> wy = cubic_weights(static_cast<float>(fixed_y & (table_size - 1)) / table_size);
      float sum[3] = {0, 0, 0};
      for (int j = 0; j < 4; ++j) {
        const long row = std::clamp<long>(iy - 1 + j, 0, image.height - 1);  // replicated border
        const uint8_t* source = image.row(static_cast<int>(row));
        float line[3] = {0, 0, 0};
        for (int i = 0; i < 4; ++i) {
          const long column = std::clamp<long>(ix - 1 + i, 0, image.width - 1);
          for (int c = 0; c < 3; ++c) line[c] += wx[i] * source[3 * column + c];
        }
        for (int c = 0; c < 3; ++c) sum[c] += wy[j] * line[c];
      }
      for (int c = 0; c < 3; ++c) out[3 * x + c] = static_cast<uint8_t>(std::clamp(std::lround(sum[c]), 0L, 255L));
    }
  }
  if (crop.height >= 1.5 * crop.width) return rotate_counter_clockwise(crop);
  return crop;
}

Image rotate_counter_clockwise(const Image& image) {
  Image rotated;
  rotated.width = image.height;
  rotated.height = image.width;
  rotated.pixels.resize(image.pixels.size());
  for (int y = 0; y < rotated.height; ++y) {
    uint8_t* out = rotated.row(y);
    for (int x = 0; x < rotated.width; ++x) {
      // np.rot90: new[y][x] = old[x][W − 1 − y]
      const uint8_t* in = image.row(x) + 3 * (image.width - 1 - y);
      std::copy(in, in + 3, out + 3 * x);
    }
  }
  return rotated;
}

Image rotate_half_turn(const Image& image) {
  Image rotated = image;
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  for (size_t i = 0; i < pixels; ++i) {
    std::copy_n(image.pixels.data() + 3 * (pixels - 1 - i), 3, rotated.pixels.data() + 3 * i);
  }
  return rotated;
}

}  // namespace npukit::vision
