#include "vision/exif_orientation.h"

namespace npukit::vision {

namespace {

// Reads a 16- or 32-bit TIFF integer in the byte order the Exif header declared.
uint32_t read_unsigned(const uint8_t* p, int bytes, bool little_endian) {
  uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    const int shift = little_endian ? 8 * i : 8 * (bytes - 1 - i);
    value |= static_cast<uint32_t>(p[i]) << shift;
  }
  return value;
}

// The orientation tag (0x0112) in the first image file directory of a TIFF block; 1 when absent.
int orientation_in_tiff(const uint8_t* tiff, size_t size) {
  if (size < 8) return 1;
  bool little_endian;
  if (tiff[0] == 'I' && tiff[1] == 'I') little_endian = true;
  else if (tiff[0] == 'M' && tiff[1] == 'M') little_endian = false;
  else return 1;
  const uint32_t directory = read_unsigned(tiff + 4, 4, little_endian);
  if (directory > size - 2) return 1;
  const uint32_t entries = read_unsigned(tiff + directory, 2, little_endian);
  for (uint32_t i = 0; i < entries; ++i) {
    const size_t entry = directory + 2 + static_cast<size_t>(i) * 12;
    if (entry + 12 > size) return 1;
    if (read_unsigned(tiff + entry, 2, little_endian) != 0x0112) continue;
    const uint32_t value = read_unsigned(tiff + entry + 8, 2, little_endian);  // SHORT, left-justified
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

}  // namespace

int jpeg_exif_orientation(const uint8_t* data, size_t size) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return 1;
  size_t position = 2;
  // Walk the marker segments up to the start of scan; Exif is APP1 (0xFFE1) starting "Exif\0\0".
  while (position + 4 <= size) {
    if (data[position] != 0xFF) return 1;
    const uint8_t marker = data[position + 1];
    if (marker == 0xDA || marker == 0xD9) return 1;
    const size_t length = (static_cast<size_t>(data[position + 2]) << 8) | data[position + 3];
    if (length < 2 || position + 2 + length > size) return 1;
    const uint8_t* segment = data + position + 4;
    const size_t segment_size = length - 2;
    if (marker == 0xE1 && segment_size >= 6 && segment[0] == 'E' && segment[1] == 'x' && segment[2] == 'i' &&
        segment[3] == 'f' && segment[4] == 0 && segment[5] == 0) {
      return orientation_in_tiff(segment + 6, segment_size - 6);
    }
    position += 2 + length;
  }
  return 1;
}

Image apply_exif_orientation(const Image& image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  // Orientations 5..8 swap the axes.
  const bool transposed = orientation >= 5;
  Image result;
  result.width = transposed ? image.height : image.width;
  result.height = transposed ? image.width : image.height;
  result.pixels.resize(image.pixels.size());
  const int w = image.width, h = image.height;
  for (int y = 0; y < result.height; ++y) {
    uint8_t* destination = result.row(y);
    for (int x = 0; x < result.width; ++x) {
      // (sx, sy): the stored pixel shown at (x, y) once upright, per the EXIF 2.3 table.
      int sx = 0, sy = 0;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sx = x; sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        case 8: sx = w - 1 - y; sy = x; break;
      }
      const uint8_t* source = image.row(sy) + static_cast<size_t>(sx) * 3;
      destination[3 * x] = source[0];
      destination[3 * x + 1] = source[1];
      destination[3 * x + 2] = source[2];
    }
  }
  return result;
}

}  // namespace npukit::vision
