// Where the detection pipeline's frames come from: picture files (a directory or one file), a video file, or a
// synthetic stream for benchmarks (one generated picture, JPEG-encoded once in memory, decoded for every frame,
// so the decode stage does real work without a disk in the measurement).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/detection_frame.h"

namespace npukit::pipeline {

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Fills frame `index` (called in order, from one thread at a time); false at the end of the stream.
  // Throws Error naming the file (and frame) when the stream fails.
  virtual bool read(int64_t index, DetectionFrame& frame) = 0;
  // Frames the stream will give, when known in advance (pictures; a video's declared count); else 0.
  virtual int64_t expected_frames() const = 0;
  // "48 pictures in models/detector/validation/images", "video.mp4 (h264, 640x480, 25 fps)", ...
  virtual std::string description() const = 0;
  // True when frames arrive decoded (video): the decode stage then has nothing to do and its time is the source's.
  virtual bool decodes_in_source() const = 0;
};

struct PictureSourceOptions {
  // Read every file into memory before the run and hand out copies, so the run measures no disk.
  bool preload = false;
  // Frames to give: 0 = each picture once; more than the pictures (needs preload) goes round them again.
  int64_t frames = 0;
};

// A directory (its pictures by name: list_image_files) or one picture file. Error(io) when neither.
std::unique_ptr<FrameSource> open_picture_source(const std::string& path, const PictureSourceOptions& options = {});
// A video file through FFmpeg (vision/video.h); `frames` > 0 stops after that many.
std::unique_ptr<FrameSource> open_video_source(const std::string& path, int64_t frames = 0);
// `frames` frames of one generated width × height picture (shapes on a gradient), JPEG-encoded once.
std::unique_ptr<FrameSource> make_synthetic_source(int width, int height, int64_t frames);

// True when the file starts like a JPEG, PNG or BMP (anything else is taken for a video).
bool is_picture_file(const std::string& path);
// SOURCE as the command line takes it: "synthetic" or "synthetic:WxH" (`frames` frames, default 640x480), a
// directory or picture (`frames` > 0: preloaded, going round), or a video (`frames` > 0: at most that many).
std::unique_ptr<FrameSource> open_frame_source(const std::string& source, int64_t frames, bool preload_pictures);

}  // namespace npukit::pipeline
