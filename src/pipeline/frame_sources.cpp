#include "pipeline/frame_sources.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include <turbojpeg.h>

#include "npukit/error.h"
#include "vision/image_decoding.h"
#include "vision/video.h"

namespace npukit::pipeline {

namespace {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorKind::io, "cannot open the picture (is it there and readable?)", path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) throw Error(ErrorKind::io, "cannot read the picture", path);
  return bytes;
}

class PictureSource final : public FrameSource {
 public:
  PictureSource(std::vector<std::string> files, std::string description, const PictureSourceOptions& options)
      : files_(std::move(files)), description_(std::move(description)), preload_(options.preload) {
    frames_ = options.frames > 0 ? options.frames : static_cast<int64_t>(files_.size());
    if (frames_ > static_cast<int64_t>(files_.size()) && !preload_) {
      throw Error(ErrorKind::invalid_argument, "going round the pictures more than once needs them preloaded", description_);
    }
    if (preload_) {
      for (const std::string& file : files_) bytes_.push_back(read_file_bytes(file));
    }
  }

  bool read(int64_t index, DetectionFrame& frame) override {
    if (index >= frames_) return false;
    const size_t which = static_cast<size_t>(index % static_cast<int64_t>(files_.size()));
    frame.path = files_[which];
    frame.name = std::filesystem::path(files_[which]).filename().string();
    frame.encoded = preload_ ? bytes_[which] : read_file_bytes(files_[which]);
    return true;
  }
  int64_t expected_frames() const override { return frames_; }
  std::string description() const override {
    return description_ + (preload_ ? ", read into memory before the run" : "") +
           (frames_ > static_cast<int64_t>(files_.size()) ? ", " + std::to_string(frames_) + " frames going round them" : "");
  }
  bool decodes_in_source() const override { return false; }

 private:
  std::vector<std::string> files_;
  std::string description_;
  bool preload_;
  int64_t frames_ = 0;
  std::vector<std::vector<uint8_t>> bytes_;
};

class VideoSource final : public FrameSource {
 public:
  VideoSource(const std::string& path, int64_t frames) : path_(path), reader_(path), frame_limit_(frames) {}

  bool read(int64_t index, DetectionFrame& frame) override {
    if (frame_limit_ > 0 && index >= frame_limit_) return false;
    if (!reader_.read(frame.image)) return false;
    frame.name = "frame " + std::to_string(index);
    if (reader_.frames_per_second() > 0) frame.video_seconds = static_cast<double>(index) / reader_.frames_per_second();
    return true;
  }
  int64_t expected_frames() const override {
    const int64_t declared = reader_.declared_frame_count();
    return frame_limit_ > 0 && (declared == 0 || frame_limit_ < declared) ? frame_limit_ : declared;
  }
  std::string description() const override {
    const double rate = reader_.frames_per_second();
    return path_ + " (" + reader_.codec_name() + ", " + std::to_string(reader_.width()) + "x" + std::to_string(reader_.height()) +
           ", " + (rate > 0 ? std::to_string(static_cast<int>(rate + 0.5)) + " fps" : std::string("frame rate unknown")) +
           "; FFmpeg decodes in the source, in stream order)";
  }
  bool decodes_in_source() const override { return true; }
  const vision::VideoReader& reader() const { return reader_; }

 private:
  std::string path_;
  vision::VideoReader reader_;
  int64_t frame_limit_;
};

// Shapes on a gradient: enough edges and colour for the JPEG to cost what a photo of that size costs to decode.
vision::Image synthetic_picture(int width, int height) {
  vision::Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    uint8_t* row = image.row(y);
    for (int x = 0; x < width; ++x) {
      const bool square = ((x / 48) + (y / 48)) % 5 == 0;
      const bool disc = (x - width / 3) * (x - width / 3) + (y - height / 2) * (y - height / 2) < (height / 6) * (height / 6);
      row[3 * x + 0] = static_cast<uint8_t>(square ? 220 : (x * 255) / std::max(width - 1, 1));
      row[3 * x + 1] = static_cast<uint8_t>(disc ? 30 : (y * 255) / std::max(height - 1, 1));
      row[3 * x + 2] = static_cast<uint8_t>(disc ? 200 : ((x ^ y) & 0x3f) + 60);
    }
  }
  return image;
}

std::vector<uint8_t> encode_jpeg(const vision::Image& image, int quality) {
  std::unique_ptr<void, int (*)(tjhandle)> encoder(tjInitCompress(), tjDestroy);
  if (!encoder) throw Error(ErrorKind::internal, "libjpeg-turbo could not create an encoder");
  unsigned char* compressed = nullptr;
  unsigned long size = 0;
  if (tjCompress2(encoder.get(), image.pixels.data(), image.width, 0, image.height, TJPF_RGB, &compressed, &size, TJSAMP_420,
                  quality, TJFLAG_ACCURATEDCT) != 0) {
    tjFree(compressed);
    throw Error(ErrorKind::internal, std::string("libjpeg-turbo could not encode the synthetic picture: ") + tjGetErrorStr2(encoder.get()));
  }
  std::vector<uint8_t> bytes(compressed, compressed + size);
  tjFree(compressed);
  return bytes;
}

class SyntheticSource final : public FrameSource {
 public:
  SyntheticSource(int width, int height, int64_t frames) : width_(width), height_(height), frames_(frames) {
    if (width < 1 || height < 1 || width > 8192 || height > 8192) {
      throw Error(ErrorKind::invalid_argument, "a synthetic picture must be between 1x1 and 8192x8192 (got " +
                                                   std::to_string(width) + "x" + std::to_string(height) + ")");
    }
    if (frames < 1) throw Error(ErrorKind::invalid_argument, "a synthetic source needs 1 frame or more (--frames)");
    bytes_ = encode_jpeg(synthetic_picture(width, height), 90);
  }
  bool read(int64_t index, DetectionFrame& frame) override {
    if (index >= frames_) return false;
    frame.name = "synthetic " + std::to_string(index);
    frame.encoded = bytes_;
    return true;
  }
  int64_t expected_frames() const override { return frames_; }
  std::string description() const override {
    return "synthetic: " + std::to_string(frames_) + " frames of one generated " + std::to_string(width_) + "x" +
           std::to_string(height_) + " picture, JPEG (" + std::to_string(bytes_.size()) + " bytes) decoded for every frame";
  }
  bool decodes_in_source() const override { return false; }

 private:
  int width_, height_;
  int64_t frames_;
  std::vector<uint8_t> bytes_;
};

}  // namespace

bool is_picture_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  uint8_t head[16] = {};
  file.read(reinterpret_cast<char*>(head), sizeof head);
  return vision::detect_image_format(head, static_cast<size_t>(file.gcount())) != vision::ImageFormat::unknown;
}

std::unique_ptr<FrameSource> open_picture_source(const std::string& path, const PictureSourceOptions& options) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    std::vector<std::string> files = vision::list_image_files(path);
    const std::string description = std::to_string(files.size()) + " picture" + (files.size() == 1 ? "" : "s") + " in " + path;
    return std::make_unique<PictureSource>(std::move(files), description, options);
  }
  if (std::filesystem::is_regular_file(path, error)) return std::make_unique<PictureSource>(std::vector<std::string>{path}, path, options);
  throw Error(ErrorKind::io, "no such picture, video or directory", path);
}

std::unique_ptr<FrameSource> open_video_source(const std::string& path, int64_t frames) {
  return std::make_unique<VideoSource>(path, frames);
}

std::unique_ptr<FrameSource> make_synthetic_source(int width, int height, int64_t frames) {
  return std::make_unique<SyntheticSource>(width, height, frames);
}

std::unique_ptr<FrameSource> open_frame_source(const std::string& source, int64_t frames, bool preload_pictures) {
  if (frames < 0) throw Error(ErrorKind::invalid_argument, "--frames must be 0 (the whole source) or more");
  if (source == "synthetic" || source.starts_with("synthetic:")) {
    int width = 640, height = 480;
    if (source.size() > 10) {
      const std::string size = source.substr(10);
      const size_t x = size.find('x');
      try {
        size_t used_width = 0, used_height = 0;
        if (x == std::string::npos) throw std::invalid_argument("no x");
        width = std::stoi(size.substr(0, x), &used_width);
        height = std::stoi(size.substr(x + 1), &used_height);
        if (used_width != x || used_height != size.size() - x - 1) throw std::invalid_argument("trailing text");
      } catch (const std::exception&) {
        throw Error(ErrorKind::invalid_argument, "a synthetic source is written synthetic or synthetic:WIDTHxHEIGHT (e.g. synthetic:640x480); got '" + source + "'");
      }
    }
    return make_synthetic_source(width, height, frames > 0 ? frames : 100);
  }
  std::error_code error;
  if (std::filesystem::is_regular_file(source, error) && !is_picture_file(source)) return open_video_source(source, frames);
  PictureSourceOptions options;
  options.frames = frames;
  options.preload = preload_pictures || frames > 0;
  return open_picture_source(source, options);
}

}  // namespace npukit::pipeline
