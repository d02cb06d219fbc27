// Video files (vision/video.h) and `npukit detect MODEL VIDEO`: a small video is written at test time with
// VideoWriter (MPEG-4 in mp4), read back, run through detect; truncated, garbage and empty files are errors
// that name the file, and leave nothing written.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "npukit/error.h"
#include "vision/video.h"

namespace npukit::vision {
namespace {

// Frame `index` of the test video: a grey background with a bright square moving right.
Image test_frame(int index, int width = 96, int height = 64) {
  Image image;
  image.width = width, image.height = height;
  image.pixels.assign(static_cast<size_t>(width) * height * 3, 60);
  for (int y = 20; y < 44; ++y) {
    for (int x = 10 + 4 * index; x < 34 + 4 * index && x < width; ++x) {
      uint8_t* pixel = image.row(y) + x * 3;
      pixel[0] = 230, pixel[1] = 200, pixel[2] = 40;
    }
  }
  return image;
}

double mean_absolute_difference(const Image& a, const Image& b) {
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
  return sum / a.pixels.size();
}

std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

class VisionVideoTest : public npukit::testing::CliRunner {
 protected:
  std::string write_video(const std::string& name, int frames) {
    const std::string file = path(name);
    VideoWriter writer(file, 96, 64, 10.0);
    for (int i = 0; i < frames; ++i) writer.write(test_frame(i));
    writer.finish();
    return file;
  }
  std::string truncated_copy(const std::string& source, const std::string& name, double share) {
    std::ifstream in(source, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string file = path(name);
    std::ofstream(file, std::ios::binary) << bytes.substr(0, static_cast<size_t>(bytes.size() * share));
    return file;
  }
};

TEST_F(VisionVideoTest, WrittenFramesReadBackInOrderAndCloseToTheOriginals) {
  const std::string file = write_video("moving.mp4", 12);
  EXPECT_FALSE(std::filesystem::exists(file + ".partial"));
  VideoReader reader(file);
  EXPECT_EQ(reader.width(), 96);
  EXPECT_EQ(reader.height(), 64);
  EXPECT_NEAR(reader.frames_per_second(), 10.0, 1e-6);
  EXPECT_EQ(reader.codec_name(), "mpeg4");
  Image frame;
  int count = 0;
  while (reader.read(frame)) {
    ASSERT_EQ(frame.width, 96);
    ASSERT_EQ(frame.height, 64);
    // Lossy (MPEG-4, 4:2:0 chroma), but the frame is this one and not its neighbour: the square moved 4 pixels.
    const double own = mean_absolute_difference(frame, test_frame(count));
    EXPECT_LT(own, 6.0) << "frame " << count;
    if (count > 0) EXPECT_LT(own, mean_absolute_difference(frame, test_frame(count - 1))) << "frame " << count;
    ++count;
  }
  EXPECT_EQ(count, 12);
  EXPECT_EQ(reader.frames_read(), 12);
  EXPECT_FALSE(reader.read(frame));  // stays at the end
}

TEST_F(VisionVideoTest, UnfinishedWriterLeavesNoFile) {
  const std::string file = path("unfinished.mp4");
  {
    VideoWriter writer(file, 96, 64, 10.0);
    writer.write(test_frame(0));
    EXPECT_NE(error_message([&] { writer.write(test_frame(0, 64, 64)); }).find("a frame of 64x64 in a video of 96x64"),
              std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_FALSE(std::filesystem::exists(file + ".partial"));
}

TEST_F(VisionVideoTest, TruncatedGarbageAndEmptyFilesAreErrorsNamingTheFile) {
  const std::string file = write_video("whole.mp4", 12);
  const std::string truncated = truncated_copy(file, "truncated.mp4", 0.6);
  const std::string message = error_message([&] {
    VideoReader reader(truncated);
    Image frame;
    while (reader.read(frame)) {
    }
  });
  EXPECT_NE(message.find(truncated + ": "), std::string::npos) << message;
  EXPECT_TRUE(message.find("FFmpeg can read") != std::string::npos || message.find("truncated") != std::string::npos)
      << message;

  const std::string garbage = path("garbage.mp4");
  std::ofstream(garbage, std::ios::binary) << std::string(4096, '\x5a');
  EXPECT_NE(error_message([&] { VideoReader reader(garbage); }).find(garbage + ": not a picture (JPEG, PNG, BMP) nor a video"),
            std::string::npos);
  const std::string empty = path("empty.mp4");
  std::ofstream(empty, std::ios::binary).flush();
  EXPECT_NE(error_message([&] { VideoReader reader(empty); }).find(empty + ": "), std::string::npos);
  EXPECT_NE(error_message([&] { VideoReader reader(path("missing.mp4")); }).find("no such video file"), std::string::npos);
}

TEST_F(VisionVideoTest, DetectOnAVideoWritesAnAnnotatedVideoAndPerFrameJson) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v8_concat_stride_after.onnx";
  ASSERT_TRUE(std::filesystem::exists(model)) << "run tools/make_models.sh";
  const std::string video = write_video("clip.mp4", 6);
  npukit::testing::CommandResult result = run("detect '" + model + "' '" + video + "' -o '" + path("out") + "' --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["frame_count"], 6);
  EXPECT_EQ(report["width"], 96);
  EXPECT_EQ(report["codec"], "mpeg4");
  ASSERT_EQ(report["frames"].size(), 6u);
  EXPECT_EQ(report["frames"][5]["index"], 5);
  EXPECT_NEAR(report["frames"][5]["seconds"].get<double>(), 0.5, 1e-9);
  const std::string annotated = path("out") + "/clip.annotated.mp4";
  EXPECT_EQ(report["annotated_video"], annotated);
  const nlohmann::json written = nlohmann::json::parse(npukit::testing::read_text(path("out") + "/clip.detections.json"));
  EXPECT_EQ(written["frames"].size(), 6u);
  VideoReader reader(annotated);
  Image frame;
  int frames = 0;
  while (reader.read(frame)) ++frames;
  EXPECT_EQ(frames, 6);

  result = run("detect '" + model + "' '" + video + "' -o '" + path("table") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("6 frames of 96x64 (mpeg4, 10 fps)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("annotated video: "), std::string::npos);
}

TEST_F(VisionVideoTest, DetectOnABrokenVideoFailsAndWritesNothing) {
  const std::string model = std::string(NPUKIT_MODELS_DIR) + "/generated/yolo_v8_concat_stride_after.onnx";
  const std::string truncated = truncated_copy(write_video("whole.mp4", 8), "cut.mp4", 0.5);
  npukit::testing::CommandResult result = run("detect '" + model + "' '" + truncated + "' -o '" + path("out") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find(truncated), std::string::npos) << result.err;
  EXPECT_TRUE(result.out.empty());
  const std::filesystem::path out = path("out");
  EXPECT_TRUE(!std::filesystem::exists(out) || std::filesystem::is_empty(out));

  const std::string text = path("notes.txt");
  std::ofstream(text) << "not a video\n";
  result = run("detect '" + model + "' '" + text + "' -o '" + path("out2") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("not a picture (JPEG, PNG, BMP) nor a video FFmpeg can read"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace npukit::vision
