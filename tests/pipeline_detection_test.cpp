// `npukit pipeline` and `npukit bench --end-to-end` on the project's detector (models/detector/shapes_yolov8.onnx,
// 320x320): the pipeline with several workers gives exactly the boxes `npukit detect` gives, in source order;
// faults (a truncated picture or video mid-stream, a sink writing to a full disk) stop it with an error naming
// the file, keep every frame already computed in detections.json and the annotated files written before it.
// The flow graph's own tests (order, backpressure, worker errors, threads) are in tests/pipeline/.
#include <gtest/gtest.h>

#include "cli_runner.h"

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "pipeline/frame_sources.h"
#include "vision/image.h"
#include "vision/image_decoding.h"
#include "vision/video.h"

namespace npukit::pipeline {
namespace {

using npukit::testing::CommandResult;
using npukit::testing::read_text;

std::string detector_model() { return std::string(NPUKIT_MODELS_DIR) + "/detector/shapes_yolov8.onnx"; }
std::string demo_pictures() { return std::string(NPUKIT_MODELS_DIR) + "/detector/demo"; }

std::string truncated_bytes(const std::string& file, double share) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.substr(0, static_cast<size_t>(static_cast<double>(bytes.size()) * share));
}

class PipelineCommand : public npukit::testing::CliRunner {
 protected:
  void SetUp() override {
    CliRunner::SetUp();
    ASSERT_TRUE(std::filesystem::exists(detector_model())) << "models/detector is part of the repository";
  }
  // A folder of the four demo pictures, named so that `extra` (if any) sorts after the second.
  std::string picture_folder(const std::string& name, const std::function<void(const std::string&)>& extra = {}) {
    const std::string folder = path(name);
    std::filesystem::create_directories(folder);
    for (const auto& entry : std::filesystem::directory_iterator(demo_pictures())) {
      std::filesystem::copy_file(entry.path(), folder + "/" + entry.path().filename().string());
    }
    if (extra) extra(folder);
    return folder;
  }
};

// Boxes per picture file name from detect's COCO detections.json.
std::map<std::string, nlohmann::json> boxes_of_detect(const nlohmann::json& coco) {
  std::map<int, std::string> names;
  for (const auto& image : coco["images"]) names[image["id"].get<int>()] = image["file_name"];
  std::map<std::string, nlohmann::json> boxes;
  for (const auto& [id, name] : names) boxes[name] = nlohmann::json::array();
  for (const auto& annotation : coco["annotations"]) {
    const auto& box = annotation["bbox"];
    const double x = box[0], y = box[1], w = box[2], h = box[3];
    boxes[names[annotation["image_id"].get<int>()]].push_back(
        {annotation["category_id"], annotation["score"], x, y, x + w, y + h});
  }
  return boxes;
}

TEST_F(PipelineCommand, WorkersGiveTheBoxesDetectGivesInSourceOrder) {
  CommandResult detect = run("detect '" + detector_model() + "' '" + demo_pictures() + "' -o '" + path("detect") + "'");
  ASSERT_EQ(detect.exit_code, 0) << detect.err;
  const auto expected = boxes_of_detect(nlohmann::json::parse(read_text(path("detect") + "/detections.json")));
  size_t boxes_expected = 0;
  for (const auto& [name, boxes] : expected) boxes_expected += boxes.size();
  ASSERT_GT(boxes_expected, 0u) << "the demo pictures show shapes the detector finds";

  for (int workers : {1, 3}) {
    const std::string out = path("pipeline" + std::to_string(workers));
    CommandResult result = run("pipeline '" + detector_model() + "' '" + demo_pictures() + "' --workers " + std::to_string(workers) +
                               " -o '" + out + "' --json");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const nlohmann::json printed = nlohmann::json::parse(result.out);
    const nlohmann::json written = nlohmann::json::parse(read_text(out + "/detections.json"));
    EXPECT_EQ(printed["frames"], written["frames"]);
    ASSERT_EQ(written["frames"].size(), expected.size());
    EXPECT_EQ(written["workers"], workers);
    EXPECT_EQ(written["statistics"]["frames_completed"], 4);
    EXPECT_EQ(written["statistics"]["frames_failed"], 0);
    EXPECT_TRUE(written["statistics"]["threads_joined"].get<bool>());
    EXPECT_EQ(written["statistics"]["stopped_by"], nullptr);
    EXPECT_EQ(written["boxes"], boxes_expected);
    std::string previous;
    for (size_t i = 0; i < written["frames"].size(); ++i) {
      const nlohmann::json& frame = written["frames"][i];
      EXPECT_EQ(frame["index"], i);
      const std::string name = frame["name"];
      EXPECT_LT(previous, name) << "frames leave in source (name) order";
      previous = name;
      ASSERT_TRUE(expected.count(name)) << name;
      const nlohmann::json& want = expected.at(name);
      ASSERT_EQ(frame["detections"].size(), want.size()) << name;
      for (size_t b = 0; b < want.size(); ++b) {
        const nlohmann::json& got = frame["detections"][b];
        EXPECT_EQ(got["class_id"], want[b][0]) << name;
        EXPECT_NEAR(got["score"].get<double>(), want[b][1].get<double>(), 1e-6) << name;
        for (int k = 0; k < 4; ++k) EXPECT_NEAR(got["box_xyxy"][k].get<double>(), want[b][2 + k].get<double>(), 1e-3) << name;
      }
      const std::string annotated = frame["annotated"];
      EXPECT_TRUE(std::filesystem::exists(annotated)) << annotated;
      const vision::Image picture = vision::read_image(annotated);
      EXPECT_GT(picture.width, 0);
    }
    // Per-stage statistics: every stage saw the 4 frames (decode and pre-processing included).
    for (const auto& stage : written["statistics"]["stages"]) EXPECT_EQ(stage["frames"], 4) << stage["stage"];
  }
}

TEST_F(PipelineCommand, PrintsATablePerStageAndThroughput) {
  CommandResult result = run("pipeline '" + detector_model() + "' synthetic:320x240 --frames 6 --workers 2 -o '" + path("out") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* text : {"source", "decode", "pre-process", "inference", "post-process + NMS", "sink", "frames/s", "p99",
                           "2 workers x 1 thread", "6 frames"}) {
    EXPECT_NE(result.out.find(text), std::string::npos) << text << "\n" << result.out;
  }
  EXPECT_TRUE(std::filesystem::exists(path("out") + "/frame_5.jpg"));
}

TEST_F(PipelineCommand, ATruncatedPictureMidStreamStopsWithEarlierFramesKept) {
  const std::string folder = picture_folder("pictures", [](const std::string& folder) {
    std::ofstream(folder + "/scene_0001b.jpg", std::ios::binary) << truncated_bytes(demo_pictures() + "/scene_0001.jpg", 0.4);
  });
  const std::string out = path("out");
  CommandResult result = run("pipeline '" + detector_model() + "' '" + folder + "' --workers 2 -o '" + out + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find(folder + "/scene_0001b.jpg"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("stopped at frame 2 (decode)"), std::string::npos) << result.err;
  const nlohmann::json written = nlohmann::json::parse(read_text(out + "/detections.json"));
  const nlohmann::json& frames = written["frames"];
  ASSERT_GE(frames.size(), 3u);
  EXPECT_EQ(frames[0]["name"], "scene_0000.jpg");
  EXPECT_EQ(frames[1]["name"], "scene_0001.jpg");
  EXPECT_TRUE(std::filesystem::exists(frames[0]["annotated"].get<std::string>()));
  EXPECT_TRUE(std::filesystem::exists(frames[1]["annotated"].get<std::string>()));
  EXPECT_EQ(frames[2]["error"]["stage"], "decode");
  EXPECT_EQ(written["statistics"]["stopped_by"]["frame"], 2);
  // Frames in flight beside the failure were computed: they are kept, with their boxes.
  EXPECT_EQ(written["statistics"]["frames_completed"].get<size_t>(), frames.size() - 1);
  EXPECT_EQ(written["frames_with_results"].get<size_t>(), frames.size() - 1);
  EXPECT_FALSE(std::filesystem::exists(out + "/scene_0001b.jpg"));
  EXPECT_FALSE(std::filesystem::exists(out + "/detections.json.tmp"));
}

TEST_F(PipelineCommand, AVideoThatEndsMidStreamKeepsItsFramesInACompleteVideo) {
  const std::string whole = path("whole.mp4");
  {
    vision::VideoWriter writer(whole, 160, 128, 10.0);
    const vision::Image picture = vision::read_image(demo_pictures() + "/scene_0003.jpg");
    for (int i = 0; i < 16; ++i) {
      vision::Image frame;
      frame.width = 160;
      frame.height = 128;
      frame.pixels.resize(160 * 128 * 3);
      for (int y = 0; y < 128; ++y) {
        for (int x = 0; x < 160; ++x) {
          for (int c = 0; c < 3; ++c) {
            frame.pixels[(y * 160 + x) * 3 + c] = picture.pixels[(((y + i) % picture.height) * picture.width + x * 2) * 3 + c];
          }
        }
      }
      writer.write(frame);
    }
    writer.finish();
  }
  // The frames' data in the middle of the file is overwritten (the index at the end stays readable), so the first
  // frames decode and a later one fails: a stream that breaks mid-way.
  const std::string cut = path("cut.mp4");
  {
    std::ifstream in(whole, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t i = bytes.size() * 4 / 10; i < bytes.size() * 7 / 10; ++i) bytes[i] = '\x5a';
    std::ofstream(cut, std::ios::binary) << bytes;
  }
  const std::string out = path("out");
  CommandResult result = run("pipeline '" + detector_model() + "' '" + cut + "' --workers 2 -o '" + out + "'");
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.err.find(cut), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("(source)"), std::string::npos) << result.err;
  const nlohmann::json written = nlohmann::json::parse(read_text(out + "/detections.json"));
  const int64_t kept = written["frames_with_results"];
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 16);
  EXPECT_EQ(written["statistics"]["stopped_by"]["stage"], "source");
  // The frames before the cut make a whole video that reads back to the end.
  ASSERT_TRUE(written["annotated_video"].is_string()) << written.dump(1);
  vision::VideoReader reader(written["annotated_video"].get<std::string>());
  vision::Image frame;
  int64_t read_back = 0;
  while (reader.read(frame)) ++read_back;
  EXPECT_EQ(read_back, kept);
  EXPECT_FALSE(std::filesystem::exists(out + "/cut.annotated.mp4.partial"));
}

TEST_F(PipelineCommand, ASinkOnAFullDiskStopsAndKeepsEveryResultInTheJson) {
  const std::string folder = picture_folder("pictures");
  const std::string out = path("out");
  std::filesystem::create_directories(out);
  // The third picture's temporary file is /dev/full: writing it fails with "No space left on device".
  std::filesystem::create_symlink("/dev/full", out + "/scene_0002.jpg.tmp");
  CommandResult result = run("pipeline '" + detector_model() + "' '" + folder + "' --workers 2 -o '" + out + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find(out + "/scene_0002.jpg"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("(sink)"), std::string::npos) << result.err;
  const nlohmann::json written = nlohmann::json::parse(read_text(out + "/detections.json"));
  const nlohmann::json& frames = written["frames"];
  // Frame 3 is there when the source had read it before the sink failed (it usually has: 4 pictures, 6 in flight).
  ASSERT_GE(frames.size(), 3u) << frames.dump(1);
  EXPECT_EQ(written["statistics"]["stopped_by"]["frame"], 2);
  EXPECT_EQ(written["frames_annotated"], 2);
  for (size_t i = 0; i < frames.size(); ++i) EXPECT_TRUE(frames[i]["detections"].is_array()) << i;
  EXPECT_TRUE(std::filesystem::exists(out + "/scene_0000.jpg"));
  EXPECT_TRUE(std::filesystem::exists(out + "/scene_0001.jpg"));
  EXPECT_FALSE(std::filesystem::exists(out + "/scene_0002.jpg"));
  EXPECT_FALSE(std::filesystem::exists(out + "/scene_0003.jpg"));
}

TEST_F(PipelineCommand, BadArgumentsAreErrorsThatSayWhatToDo) {
  CommandResult zero = run("pipeline '" + detector_model() + "' synthetic -o '" + path("out") + "' --workers 0");
  EXPECT_EQ(zero.exit_code, 1);
  EXPECT_NE(zero.err.find("--workers must be between 1 and"), std::string::npos) << zero.err;
  CommandResult missing = run("pipeline '" + detector_model() + "' '" + path("nothing") + "' -o '" + path("out") + "'");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find(path("nothing") + ": no such picture, video or directory"), std::string::npos) << missing.err;
  CommandResult size = run("pipeline '" + detector_model() + "' synthetic:12by4 -o '" + path("out") + "'");
  EXPECT_EQ(size.exit_code, 1);
  EXPECT_NE(size.err.find("synthetic:WIDTHxHEIGHT"), std::string::npos) << size.err;
  CommandResult not_detector = run("pipeline '" + std::string(NPUKIT_MODELS_DIR) + "/generated/speech_if.onnx' synthetic -o '" +
                                   path("out") + "'");
  EXPECT_EQ(not_detector.exit_code, 1);
  CommandResult workers_alone = run("bench '" + detector_model() + "' --workers 2");
  EXPECT_EQ(workers_alone.exit_code, 1);
  EXPECT_NE(workers_alone.err.find("add --end-to-end"), std::string::npos) << workers_alone.err;
}

TEST_F(PipelineCommand, BenchEndToEndDeclaresItsConditionsAndEveryWorkerCount) {
  CommandResult result = run("bench '" + detector_model() + "' --end-to-end synthetic:320x240 --workers 1,2 -n 6 --warmup 1 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json json = nlohmann::json::parse(result.out);
  ASSERT_EQ(json["runs"].size(), 2u);
  EXPECT_EQ(json["batch"], 1);
  for (size_t i = 0; i < 2; ++i) {
    const nlohmann::json& run = json["runs"][i];
    EXPECT_EQ(run["workers"], i + 1);
    EXPECT_EQ(run["end_to_end"]["frames_completed"], 6);
    EXPECT_EQ(run["model_only"]["frames_completed"], 6);
    EXPECT_GT(run["end_to_end"]["throughput_per_second"].get<double>(), 0);
    EXPECT_GT(run["end_to_end"]["latency_ms"]["p99"].get<double>(), 0);
    EXPECT_GE(run["end_to_end"]["latency_ms"]["p99"].get<double>(), run["end_to_end"]["latency_ms"]["p50"].get<double>());
  }
  EXPECT_DOUBLE_EQ(json["runs"][0]["speedup_vs_first"].get<double>(), 1.0);
  for (const char* condition : {"timed", "scenario", "workers", "frequency governor", "libraries", "head and NMS", "batch",
                                "dtype / quantization", "load on the machine"}) {
    EXPECT_TRUE(json["conditions"].contains(condition)) << condition;
  }
  EXPECT_NE(json["conditions"]["head and NMS"].get<std::string>().find("IoU 0.70"), std::string::npos);

  CommandResult table = run("bench '" + detector_model() + "' --end-to-end --workers 1 -n 4 --warmup 0");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const char* text : {"e2e frames/s", "model-only frames/s", "p90", "conditions", "synthetic: 4 frames", "batch 1"}) {
    EXPECT_NE(table.out.find(text), std::string::npos) << text << "\n" << table.out;
  }
}

}  // namespace
}  // namespace npukit::pipeline
