#include "vision/ocr_annotation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#define STB_EASY_FONT_IMPLEMENTATION
#include <stb/stb_easy_font.h>

namespace npukit::vision {

namespace {

using Colour = std::array<uint8_t, 3>;

constexpr std::array<Colour, 6> palette = {{{255, 56, 56}, {0, 160, 255}, {26, 170, 52}, {255, 140, 0}, {160, 60, 255}, {0, 190, 170}}};

void fill_rectangle(Image& image, int x1, int y1, int x2, int y2, const Colour& colour) {
  x1 = std::max(x1, 0), y1 = std::max(y1, 0);
  x2 = std::min(x2, image.width), y2 = std::min(y2, image.height);
  for (int y = y1; y < y2; ++y) {
    uint8_t* row = image.row(y);
    for (int x = x1; x < x2; ++x) std::copy(colour.begin(), colour.end(), row + 3 * x);
  }
}

// A segment `thickness` pixels wide: a square stamped at each step of the longer axis.
void draw_segment(Image& image, const PointF& a, const PointF& b, int thickness, const Colour& colour) {
  const int steps = std::max(1, static_cast<int>(std::ceil(std::max(std::fabs(b.x - a.x), std::fabs(b.y - a.y)))));
  const int half = thickness / 2;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const int x = static_cast<int>(std::lround(a.x + (b.x - a.x) * t));
    const int y = static_cast<int>(std::lround(a.y + (b.y - a.y) * t));
    fill_rectangle(image, x - half, y - half, x - half + thickness, y - half + thickness, colour);
  }
}

void draw_label(Image& image, int x, int y, const std::string& text, int scale, const Colour& background) {
  std::vector<char> buffer(text.size() * 300 + 64);
  std::string mutable_text = text;
  unsigned char white[4] = {255, 255, 255, 255};
  const int quads = stb_easy_font_print(0, 0, mutable_text.data(), white, buffer.data(), static_cast<int>(buffer.size()));
  const int text_width = stb_easy_font_width(mutable_text.data()) * scale;
  const int text_height = 8 * scale;
  // The tag sits above the corner when there is room, else inside the box.
  const int top = y - text_height - 2 * scale >= 0 ? y - text_height - 2 * scale : y;
  fill_rectangle(image, x, top, x + text_width + 2 * scale, top + text_height + 2 * scale, background);
  for (int q = 0; q < quads; ++q) {
    const float* first = reinterpret_cast<const float*>(buffer.data() + q * 64);
    const float* third = reinterpret_cast<const float*>(buffer.data() + q * 64 + 32);
    fill_rectangle(image, x + scale + static_cast<int>(first[0]) * scale, top + scale + static_cast<int>(first[1]) * scale,
                   x + scale + static_cast<int>(third[0]) * scale, top + scale + static_cast<int>(third[1]) * scale,
                   {255, 255, 255});
  }
}

}  // namespace

void draw_text_boxes(Image& image, const std::vector<Quad>& boxes) {
  const int thickness = std::max(1, static_cast<int>(std::lround((image.width + image.height) / 2.0 * 0.003)));
  const int scale = std::max(2, thickness);  // line numbers twice the font's pixels at least: readable at a glance
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Colour& colour = palette[i % palette.size()];
    for (size_t side = 0; side < 4; ++side) draw_segment(image, boxes[i][side], boxes[i][(side + 1) % 4], thickness, colour);
  }
  // Labels last, so no outline crosses a number.
  for (size_t i = 0; i < boxes.size(); ++i) {
    draw_label(image, static_cast<int>(boxes[i][0].x), static_cast<int>(boxes[i][0].y), std::to_string(i + 1), scale,
               palette[i % palette.size()]);
  }
}

}  // namespace npukit::vision
