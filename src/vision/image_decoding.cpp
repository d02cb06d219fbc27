#include "vision/image_decoding.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>

#include <spng.h>
#include <stb/stb_image.h>
#include <turbojpeg.h>

#include "npukit/error.h"
#include "npukit/tensor.h"
#include "vision/exif_orientation.h"

namespace npukit::vision {

namespace {

Image decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  std::unique_ptr<void, int (*)(tjhandle)> decoder(tjInitDecompress(), tjDestroy);
  if (!decoder) throw Error(ErrorKind::internal, "libjpeg-turbo could not create a decoder", name);
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(decoder.get(), data, static_cast<unsigned long>(size), &width, &height, &subsampling,
                          &colorspace) != 0) {
    throw Error(ErrorKind::io, std::string("not a readable JPEG: ") + tjGetErrorStr2(decoder.get()), name);
  }
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    throw Error(ErrorKind::unsupported,
                "CMYK JPEG (a print colour space): convert it to RGB first, e.g. `convert in.jpg -colorspace sRGB "
                "out.jpg`", name);
  }
  check_image_size(width, height, name);
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  // TJFLAG_STOPONWARNING: a truncated file is a warning to libjpeg (it fills the rest grey); here it is an error,
  // a detector should not run on half a picture in silence.
  if (tjDecompress2(decoder.get(), data, static_cast<unsigned long>(size), image.pixels.data(), width, 0, height,
                    TJPF_RGB, TJFLAG_STOPONWARNING | TJFLAG_ACCURATEDCT) != 0) {
    throw Error(ErrorKind::io, std::string("corrupt or truncated JPEG: ") + tjGetErrorStr2(decoder.get()), name);
  }
  const int orientation = jpeg_exif_orientation(data, size);
  if (orientation != 1) return apply_exif_orientation(image, orientation);
  return image;  // moved (a conditional expression here would copy the pixels)
}

Image decode_png(const uint8_t* data, size_t size, const std::string& name) {
  std::unique_ptr<spng_ctx, void (*)(spng_ctx*)> context(spng_ctx_new(0), spng_ctx_free);
  if (!context) throw Error(ErrorKind::internal, "libspng could not create a decoder", name);
  // libspng's own chunk limits guard against huge metadata chunks; the pixel limit is ours, below.
  spng_set_crc_action(context.get(), SPNG_CRC_ERROR, SPNG_CRC_ERROR);
  spng_set_png_buffer(context.get(), data, size);
  spng_ihdr header{};
  if (int status = spng_get_ihdr(context.get(), &header); status != 0) {
    throw Error(ErrorKind::io, std::string("not a readable PNG: ") + spng_strerror(status), name);
  }
  check_image_size(header.width, header.height, name);
  // RGBA8 from every PNG colour type and depth (palette, grayscale, 16-bit); the alpha is dropped below.
  size_t decoded_size = 0;
  if (int status = spng_decoded_image_size(context.get(), SPNG_FMT_RGBA8, &decoded_size); status != 0) {
    throw Error(ErrorKind::io, std::string("PNG: ") + spng_strerror(status), name);
  }
  std::vector<uint8_t> rgba(decoded_size);
  if (int status = spng_decode_image(context.get(), rgba.data(), rgba.size(), SPNG_FMT_RGBA8, SPNG_DECODE_TRNS);
      status != 0) {
    throw Error(ErrorKind::io, std::string("corrupt or truncated PNG: ") + spng_strerror(status), name);
  }
  Image image;
  image.width = static_cast<int>(header.width);
  image.height = static_cast<int>(header.height);
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  image.pixels.resize(pixels * 3);
  for (size_t i = 0; i < pixels; ++i) {
    image.pixels[3 * i] = rgba[4 * i];
    image.pixels[3 * i + 1] = rgba[4 * i + 1];
    image.pixels[3 * i + 2] = rgba[4 * i + 2];
  }
  return image;
}

Image decode_bmp(const uint8_t* data, size_t size, const std::string& name) {
  int width = 0, height = 0, channels = 0;
  if (size > static_cast<size_t>(INT32_MAX) ||
      !stbi_info_from_memory(data, static_cast<int>(size), &width, &height, &channels)) {
    throw Error(ErrorKind::io, std::string("not a readable BMP: ") + stbi_failure_reason(), name);
  }
  check_image_size(width, height, name);
  std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(data, static_cast<int>(size), &width, &height, &channels, 3), stbi_image_free);
  if (!decoded) throw Error(ErrorKind::io, std::string("corrupt or truncated BMP: ") + stbi_failure_reason(), name);
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.assign(decoded.get(), decoded.get() + static_cast<size_t>(width) * height * 3);
  return image;
}

}  // namespace

void check_image_size(int64_t width, int64_t height, const std::string& name) {
  if (width <= 0 || height <= 0) {
    throw Error(ErrorKind::io, "the picture declares a size of " + std::to_string(width) + "x" + std::to_string(height),
                name);
  }
  // The largest buffer pre-processing may hold for it is the f32 RGB tensor of the same size.
  const double bytes = static_cast<double>(width) * static_cast<double>(height) * 3 * sizeof(float);
  if (bytes > static_cast<double>(tensor_memory_limit())) {
    throw Error(ErrorKind::resource_limit,
                "the picture declares " + std::to_string(width) + "x" + std::to_string(height) +
                    " pixels, beyond the memory limit (" + std::to_string(tensor_memory_limit()) +
                    " bytes; raise it with --memory-limit if the picture is real)",
                name);
  }
}

ImageFormat detect_image_format(const uint8_t* data, size_t size) {
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::jpeg;
  if (size >= 8 && data[0] == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G') return ImageFormat::png;
  if (size >= 2 && data[0] == 'B' && data[1] == 'M') return ImageFormat::bmp;
  return ImageFormat::unknown;
}

Image decode_image(const uint8_t* data, size_t size, const std::string& name) {
  switch (detect_image_format(data, size)) {
    case ImageFormat::jpeg: return decode_jpeg(data, size, name);
    case ImageFormat::png: return decode_png(data, size, name);
    case ImageFormat::bmp: return decode_bmp(data, size, name);
    case ImageFormat::unknown: break;
  }
  throw Error(ErrorKind::unsupported,
              size == 0 ? "the file is empty" : "not a JPEG, PNG or BMP picture (by its first bytes)", name);
}

Image read_image(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw Error(ErrorKind::io, "no such picture file", path);
  }
  std::ifstream stream(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  if (!stream.good() && !stream.eof()) throw Error(ErrorKind::io, "cannot read the file", path);
  return decode_image(bytes.data(), bytes.size(), path);
}

std::vector<std::string> list_image_files(const std::string& directory) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (!entry.is_regular_file()) continue;
    std::string extension = entry.path().extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (extension == ".jpg" || extension == ".jpeg" || extension == ".png" || extension == ".bmp") {
      files.push_back(entry.path().string());
    }
  }
  if (error) throw Error(ErrorKind::io, "cannot list the directory: " + error.message(), directory);
  if (files.empty()) throw Error(ErrorKind::invalid_argument, "no .jpg, .jpeg, .png or .bmp picture in the directory", directory);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace npukit::vision
