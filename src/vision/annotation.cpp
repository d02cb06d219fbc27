#include "vision/annotation.h"

#include <algorithm>
#include <array>
#include <cmath>

#define STB_EASY_FONT_IMPLEMENTATION
#include <stb/stb_easy_font.h>

namespace npukit::vision {

namespace {

using Colour = std::array<uint8_t, 3>;

// Ultralytics' palette (ultralytics/utils/plotting.py Colors), so pictures look as users know them.
constexpr std::array<Colour, 20> palette = {{
    {255, 56, 56}, {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49}, {72, 249, 10}, {146, 204, 23},
    {61, 219, 134}, {26, 147, 52}, {0, 212, 187}, {44, 153, 168}, {0, 194, 255}, {52, 69, 147}, {100, 115, 255},
    {0, 24, 236}, {132, 56, 255}, {82, 0, 133}, {203, 56, 255}, {255, 149, 200}, {255, 55, 199},
}};

void fill_rectangle(Image& image, int x1, int y1, int x2, int y2, const Colour& colour) {
  x1 = std::max(x1, 0);
  y1 = std::max(y1, 0);
  x2 = std::min(x2, image.width);
  y2 = std::min(y2, image.height);
  for (int y = y1; y < y2; ++y) {
    uint8_t* row = image.row(y);
    for (int x = x1; x < x2; ++x) std::copy(colour.begin(), colour.end(), row + 3 * x);
  }
}

// Text at (x, y) top-left, each stroke pixel `scale` pixels wide.
void draw_text(Image& image, int x, int y, const std::string& text, int scale, const Colour& colour) {
  // stb_easy_font writes 4 vertices of 16 bytes per quad; ~270 bytes per character is its documented worst case.
  std::vector<char> buffer(text.size() * 300 + 64);
  std::string mutable_text = text;
  unsigned char white[4] = {255, 255, 255, 255};  // unused: only the quads are read
  const int quads = stb_easy_font_print(0, 0, mutable_text.data(), white, buffer.data(), static_cast<int>(buffer.size()));
  for (int q = 0; q < quads; ++q) {
    const float* first = reinterpret_cast<const float*>(buffer.data() + q * 64);
    const float* third = reinterpret_cast<const float*>(buffer.data() + q * 64 + 32);
    fill_rectangle(image, x + static_cast<int>(first[0]) * scale, y + static_cast<int>(first[1]) * scale,
                   x + static_cast<int>(third[0]) * scale, y + static_cast<int>(third[1]) * scale, colour);
  }
}

}  // namespace

void draw_detections(Image& image, const std::vector<Detection>& detections, const std::vector<std::string>& labels) {
  // Line and text sizes grow with the picture, as Ultralytics' do.
  const int thickness = std::max(1, static_cast<int>(std::lround((image.width + image.height) / 2.0 * 0.003)));
  const int scale = std::max(1, thickness);
  for (size_t i = 0; i < detections.size(); ++i) {
    const Detection& d = detections[i];
    const Colour& colour = palette[static_cast<size_t>(std::max(d.class_id, 0)) % palette.size()];
    const int x1 = static_cast<int>(d.x1), y1 = static_cast<int>(d.y1);
    const int x2 = static_cast<int>(d.x2), y2 = static_cast<int>(d.y2);
    fill_rectangle(image, x1, y1, x2, y1 + thickness, colour);
    fill_rectangle(image, x1, y2 - thickness, x2, y2, colour);
    fill_rectangle(image, x1, y1, x1 + thickness, y2, colour);
    fill_rectangle(image, x2 - thickness, y1, x2, y2, colour);
    if (i >= labels.size() || labels[i].empty()) continue;
    std::string text = labels[i];
    const int text_width = stb_easy_font_width(text.data()) * scale, text_height = 10 * scale;
    // The label sits above the box, or inside it at the top edge of the picture.
    const int label_y = y1 - text_height - 2 >= 0 ? y1 - text_height - 2 : y1;
    fill_rectangle(image, x1, label_y, x1 + text_width + 4, label_y + text_height + 2, colour);
    draw_text(image, x1 + 2, label_y + 2, text, scale, {255, 255, 255});
  }
}

}  // namespace npukit::vision
