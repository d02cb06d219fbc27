#include "vision/video.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include "npukit/error.h"
#include "vision/image_decoding.h"

namespace npukit::vision {

namespace {

std::string ffmpeg_error(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

}  // namespace

struct VideoReader::State {
  std::string path;
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  SwsContext* scaler = nullptr;
  AVPacket* packet = nullptr;
  AVFrame* frame = nullptr;
  int stream = -1;
  bool draining = false;
  bool ended = false;
  int64_t frames = 0;

  ~State() {
    sws_freeContext(scaler);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&format);
  }

  [[noreturn]] void fail(const std::string& reason) const {
    throw Error(ErrorKind::io, reason + " (after " + std::to_string(frames) + " frame" + (frames == 1 ? "" : "s") +
                    "): the video is corrupt or truncated", path);
  }
};

VideoReader::VideoReader(const std::string& path) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.path = path;
  av_log_set_level(AV_LOG_QUIET);  // errors come back as codes and become npukit errors naming the file
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) throw Error(ErrorKind::io, "no such video file", path);
  int code = avformat_open_input(&s.format, path.c_str(), nullptr, nullptr);
  if (code < 0) {
    throw Error(ErrorKind::io, "not a picture (JPEG, PNG, BMP) nor a video FFmpeg can read: " + ffmpeg_error(code), path);
  }
  code = avformat_find_stream_info(s.format, nullptr);
  if (code < 0) throw Error(ErrorKind::io, "cannot read the video's streams: " + ffmpeg_error(code), path);
  const AVCodec* decoder = nullptr;
  s.stream = av_find_best_stream(s.format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (s.stream < 0 || !decoder) {
    throw Error(ErrorKind::invalid_argument,
                s.stream == AVERROR_DECODER_NOT_FOUND ? "no decoder for the video's codec in this FFmpeg"
                                                      : "the file has no video stream", path);
  }
  const AVCodecParameters* parameters = s.format->streams[s.stream]->codecpar;
  if (parameters->width <= 0 || parameters->height <= 0) {
    throw Error(ErrorKind::io, "the video stream declares no frame size", path);
  }
  check_image_size(parameters->width, parameters->height, path);
  s.codec = avcodec_alloc_context3(decoder);
  if (!s.codec || avcodec_parameters_to_context(s.codec, parameters) < 0) {
    throw Error(ErrorKind::resource_limit, "cannot set up the video decoder", path);
  }
  s.codec->thread_count = 1;
  s.codec->err_recognition |= AV_EF_EXPLODE;  // a damaged frame is an error, not a concealed one
  code = avcodec_open2(s.codec, decoder, nullptr);
  if (code < 0) throw Error(ErrorKind::io, "cannot open the video decoder: " + ffmpeg_error(code), path);
  s.packet = av_packet_alloc();
  s.frame = av_frame_alloc();
  if (!s.packet || !s.frame) throw Error(ErrorKind::resource_limit, "out of memory for video frames", path);
}

VideoReader::~VideoReader() = default;

bool VideoReader::read(Image& output) {
  State& s = *state_;
  while (!s.ended) {
    int code = avcodec_receive_frame(s.codec, s.frame);
    if (code == 0) {
      const int width = s.frame->width, height = s.frame->height;
      check_image_size(width, height, s.path);
      s.scaler = sws_getCachedContext(s.scaler, width, height, static_cast<AVPixelFormat>(s.frame->format), width,
                                      height, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr);
      if (!s.scaler) s.fail("cannot convert the frame's pixel format to RGB");
      output.width = width;
      output.height = height;
      output.pixels.resize(static_cast<size_t>(width) * height * 3);
      uint8_t* planes[1] = {output.pixels.data()};
      const int strides[1] = {width * 3};
      sws_scale(s.scaler, s.frame->data, s.frame->linesize, 0, height, planes, strides);
      av_frame_unref(s.frame);
      s.frames += 1;
      return true;
    }
    if (code == AVERROR_EOF) {
      s.ended = true;
      break;
    }
    if (code != AVERROR(EAGAIN)) s.fail("decoding failed: " + ffmpeg_error(code));
    if (s.draining) s.fail("the decoder stopped without reaching the end");
    code = av_read_frame(s.format, s.packet);
    if (code == AVERROR_EOF) {
      avcodec_send_packet(s.codec, nullptr);  // flush the frames the decoder still holds
      s.draining = true;
      continue;
    }
    if (code < 0) s.fail("reading failed: " + ffmpeg_error(code));
    if (s.packet->stream_index != s.stream) {
      av_packet_unref(s.packet);
      continue;
    }
    code = avcodec_send_packet(s.codec, s.packet);
    av_packet_unref(s.packet);
    if (code < 0 && code != AVERROR(EAGAIN)) s.fail("decoding failed: " + ffmpeg_error(code));
  }
  const int64_t declared = declared_frame_count();
  if (declared > 0 && s.frames < declared) {
    s.fail("the video ends before the " + std::to_string(declared) + " frames its header declares");
  }
  if (s.frames == 0) s.fail("the video has no frame");
  return false;
}

int VideoReader::width() const { return state_->codec->width; }
int VideoReader::height() const { return state_->codec->height; }
double VideoReader::frames_per_second() const {
  const AVRational rate = state_->format->streams[state_->stream]->avg_frame_rate;
  return rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
}
int64_t VideoReader::declared_frame_count() const { return state_->format->streams[state_->stream]->nb_frames; }
int64_t VideoReader::frames_read() const { return state_->frames; }
std::string VideoReader::codec_name() const { return state_->codec->codec ? state_->codec->codec->name : "unknown"; }

struct VideoWriter::State {
  std::string path, partial;
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  AVStream* stream = nullptr;
  SwsContext* scaler = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  int width = 0, height = 0;
  int64_t next_pts = 0;
  bool finished = false;

  ~State() {
    if (format && format->pb) avio_closep(&format->pb);
    if (!finished && !partial.empty()) std::remove(partial.c_str());
    sws_freeContext(scaler);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_free_context(format);
  }

  [[noreturn]] void fail(const std::string& reason, int code) const {
    throw Error(ErrorKind::io, reason + ": " + ffmpeg_error(code), path);
  }

  // Moves every packet the encoder has ready into the file.
  void drain() {
    while (true) {
      const int code = avcodec_receive_packet(codec, packet);
      if (code == AVERROR(EAGAIN) || code == AVERROR_EOF) return;
      if (code < 0) fail("encoding failed", code);
      // One frame long: without a duration the mp4 edit list ends at the last frame's start, and demuxers
      // then drop that frame.
      if (packet->duration <= 0) packet->duration = 1;
      av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
      packet->stream_index = stream->index;
      const int written = av_interleaved_write_frame(format, packet);
      if (written < 0) fail("writing the video failed", written);
    }
  }
};

VideoWriter::VideoWriter(const std::string& path, int width, int height, double frames_per_second)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.path = path;
  s.partial = path + ".partial";
  // MPEG-4 part 2 with 4:2:0 chroma needs even sizes: an odd last row or column is dropped.
  s.width = width & ~1;
  s.height = height & ~1;
  if (s.width < 2 || s.height < 2) throw Error(ErrorKind::invalid_argument, "a video frame needs at least 2x2 pixels", path);
  av_log_set_level(AV_LOG_QUIET);
  int code = avformat_alloc_output_context2(&s.format, nullptr, "mp4", s.partial.c_str());
  if (code < 0 || !s.format) s.fail("cannot set up the mp4 container", code);
  const AVCodec* encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (!encoder) throw Error(ErrorKind::unsupported, "this FFmpeg has no MPEG-4 encoder", path);
  s.stream = avformat_new_stream(s.format, nullptr);
  s.codec = avcodec_alloc_context3(encoder);
  if (!s.stream || !s.codec) throw Error(ErrorKind::resource_limit, "cannot set up the video encoder", path);
  const double rate = frames_per_second > 0 && std::isfinite(frames_per_second) ? frames_per_second : 25.0;
  s.codec->width = s.width;
  s.codec->height = s.height;
  s.codec->framerate = av_d2q(rate, 100000);
  s.codec->time_base = av_inv_q(s.codec->framerate);
  s.codec->pix_fmt = AV_PIX_FMT_YUV420P;
  s.codec->gop_size = 12;
  s.codec->thread_count = 1;
  s.codec->flags |= AV_CODEC_FLAG_QSCALE;
  s.codec->global_quality = FF_QP2LAMBDA * 3;  // fixed quantizer 3: sharp boxes and labels
  if (s.format->oformat->flags & AVFMT_GLOBALHEADER) s.codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  code = avcodec_open2(s.codec, encoder, nullptr);
  if (code < 0) s.fail("cannot open the MPEG-4 encoder", code);
  code = avcodec_parameters_from_context(s.stream->codecpar, s.codec);
  if (code < 0) s.fail("cannot set up the video stream", code);
  s.stream->time_base = s.codec->time_base;
  code = avio_open(&s.format->pb, s.partial.c_str(), AVIO_FLAG_WRITE);
  if (code < 0) s.fail("cannot create the video file", code);
  code = avformat_write_header(s.format, nullptr);
  if (code < 0) s.fail("cannot write the video header", code);
  s.frame = av_frame_alloc();
  s.packet = av_packet_alloc();
  if (!s.frame || !s.packet) throw Error(ErrorKind::resource_limit, "out of memory for video frames", path);
  s.frame->format = AV_PIX_FMT_YUV420P;
  s.frame->width = s.width;
  s.frame->height = s.height;
  code = av_frame_get_buffer(s.frame, 0);
  if (code < 0) s.fail("cannot allocate a video frame", code);
  s.scaler = sws_getContext(s.width, s.height, AV_PIX_FMT_RGB24, s.width, s.height, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                            nullptr, nullptr, nullptr);
  if (!s.scaler) throw Error(ErrorKind::resource_limit, "cannot set up the RGB to YUV conversion", path);
}

VideoWriter::~VideoWriter() = default;

void VideoWriter::write(const Image& image) {
  State& s = *state_;
  if ((image.width & ~1) != s.width || (image.height & ~1) != s.height) {
    throw Error(ErrorKind::invalid_argument, "a frame of " + std::to_string(image.width) + "x" +
                    std::to_string(image.height) + " in a video of " + std::to_string(s.width) + "x" +
                    std::to_string(s.height), s.path);
  }
  int code = av_frame_make_writable(s.frame);
  if (code < 0) s.fail("cannot reuse the video frame", code);
  const uint8_t* planes[1] = {image.pixels.data()};
  const int strides[1] = {image.width * 3};
  sws_scale(s.scaler, planes, strides, 0, s.height, s.frame->data, s.frame->linesize);
  s.frame->pts = s.next_pts++;
  code = avcodec_send_frame(s.codec, s.frame);
  if (code < 0) s.fail("encoding failed", code);
  s.drain();
}

void VideoWriter::finish() {
  State& s = *state_;
  if (s.finished) return;
  int code = avcodec_send_frame(s.codec, nullptr);
  if (code < 0) s.fail("encoding failed", code);
  s.drain();
  code = av_write_trailer(s.format);
  if (code < 0) s.fail("writing the video's index failed", code);
  avio_closep(&s.format->pb);
  std::error_code error;
  std::filesystem::rename(s.partial, s.path, error);
  if (error) throw Error(ErrorKind::io, "cannot move the finished video into place: " + error.message(), s.path);
  s.finished = true;
}

}  // namespace npukit::vision
