#include "vision/image_encoding.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <turbojpeg.h>

#include "npukit/error.h"

namespace npukit::vision {

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream stream(temporary, std::ios::binary | std::ios::trunc);
    stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    stream.flush();  // a full disk may only show when the last buffer goes out
    if (!stream) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      throw Error(ErrorKind::io, "cannot write the file", path);
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    throw Error(ErrorKind::io, "cannot move the written file into place", path);
  }
}

void write_jpeg(const Image& image, const std::string& path, int quality) {
  std::unique_ptr<void, int (*)(tjhandle)> encoder(tjInitCompress(), tjDestroy);
  if (!encoder) throw Error(ErrorKind::internal, "libjpeg-turbo could not create an encoder", path);
  unsigned char* compressed = nullptr;
  unsigned long size = 0;
  if (tjCompress2(encoder.get(), image.pixels.data(), image.width, 0, image.height, TJPF_RGB, &compressed, &size,
                  TJSAMP_420, quality, TJFLAG_ACCURATEDCT) != 0) {
    tjFree(compressed);
    throw Error(ErrorKind::io, std::string("JPEG encoding failed: ") + tjGetErrorStr2(encoder.get()), path);
  }
  std::string bytes(reinterpret_cast<const char*>(compressed), size);
  tjFree(compressed);
  write_file_atomically(path, bytes);
}

}  // namespace npukit::vision
