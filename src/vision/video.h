// Video files through FFmpeg's libraries: frames in as 8-bit RGB Images (libavformat demuxes, libavcodec
// decodes, libswscale converts), and annotated frames out as an MPEG-4 video. Corrupt data is an error, not
// a concealed grey frame (the decoder runs with AV_EF_EXPLODE), and a video that ends before the frame count
// its header declares is reported as truncated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "vision/image.h"

namespace npukit::vision {

class VideoReader {
 public:
  // Opens the file and its best video stream. Throws Error(io) naming the file when FFmpeg cannot read it,
  // Error(invalid_argument) when it has no video stream, Error(resource_limit) for frames beyond the limit.
  explicit VideoReader(const std::string& path);
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  // The next frame; false at the end. Throws Error(io) naming the file and frame for corrupt or truncated data.
  bool read(Image& frame);

  int width() const;
  int height() const;
  double frames_per_second() const;  // 0 when the file does not say
  int64_t declared_frame_count() const;  // 0 when the header does not say
  int64_t frames_read() const;
  std::string codec_name() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Writes an MPEG-4 (part 2) video in an .mp4 container: to PATH.partial first, renamed to PATH by finish(), so
// an interrupted run leaves no half video under the real name.
class VideoWriter {
 public:
  VideoWriter(const std::string& path, int width, int height, double frames_per_second);
  ~VideoWriter();  // without finish(): the partial file is removed
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  void write(const Image& frame);  // the frame must have the size given to the constructor
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace npukit::vision
