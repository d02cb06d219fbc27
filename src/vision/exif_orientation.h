// EXIF orientation: cameras store the sensor's pixels and a tag saying how to turn them upright. Ultralytics
// (through PIL's exif_transpose in its loaders) and every photo viewer apply it; a detector fed the raw sensor
// order sees people lying on their side.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vision/image.h"

namespace npukit::vision {

// The orientation tag (1..8) of a JPEG file's APP1 Exif segment; 1 (upright) when there is none or it cannot
// be read (a damaged Exif block is not a reason to refuse the picture).
int jpeg_exif_orientation(const uint8_t* data, size_t size);

// Turns the image upright for an EXIF orientation 1..8 (2: mirrored, 3: 180°, 6: 90° clockwise, ...).
Image apply_exif_orientation(const Image& image, int orientation);

}  // namespace npukit::vision
