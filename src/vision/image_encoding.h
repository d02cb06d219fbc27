// Writing pictures: JPEG through libjpeg-turbo, to a temporary name renamed into place, so a failed or
// interrupted write never leaves half a file under the real name.
#pragma once

#include <string>

#include "vision/image.h"

namespace npukit::vision {

// Throws Error(io) naming the path when it cannot be written.
void write_jpeg(const Image& image, const std::string& path, int quality = 90);

// Writes `text` to path.tmp, then renames it to path.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace npukit::vision
