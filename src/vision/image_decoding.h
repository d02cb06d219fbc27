// Reading pictures: JPEG (libjpeg-turbo), PNG (libspng) and BMP (stb_image), told apart by their first bytes,
// never by the file name. Every decoder returns 8-bit RGB: grayscale is repeated into three channels, alpha is
// dropped (as cv2.imread and Ultralytics do), CMYK JPEGs are refused. JPEG EXIF orientation is applied.
//
// Hostile files are expected: the pixel count a header declares is checked against the tensor memory limit
// (--memory-limit) before a byte is decoded, and a truncated or corrupt file is an Error naming it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vision/image.h"

namespace npukit::vision {

enum class ImageFormat { jpeg, png, bmp, unknown };

ImageFormat detect_image_format(const uint8_t* data, size_t size);

// Decodes an in-memory file; `name` is the file name errors give. Throws Error(io) for a corrupt or truncated
// file, Error(unsupported) for a format or colour space it does not read, Error(resource_limit) for a picture
// larger than the limit.
Image decode_image(const uint8_t* data, size_t size, const std::string& name);
Image read_image(const std::string& path);

// The picture files in a directory (by extension .jpg .jpeg .png .bmp, any case), sorted by name. Throws
// Error(invalid_argument) when there is none.
std::vector<std::string> list_image_files(const std::string& directory);

// Throws Error(resource_limit) when a width × height RGB picture, or the f32 tensor made from it, exceeds the
// tensor memory limit. Called by the decoders with the header's size, before decoding.
void check_image_size(int64_t width, int64_t height, const std::string& name);

}  // namespace npukit::vision
