// npukit's vision steps timed alone, for bench/vision_benchmark.py (a benchmark, not a test):
//   npukit_vision_bench preprocess PICTURE.jpg ITERATIONS  -> JSON: median ms of decode, letterbox, both
//   npukit_vision_bench postprocess ITERATIONS SEED         -> JSON: median ms of YOLOv8n decode + NMS, 8400 anchors
// One thread, as a pre/post-processing stage beside an NPU runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "vision/image_decoding.h"
#include "vision/letterbox.h"
#include "vision/non_maximum_suppression.h"
#include "vision/yolo_decoding.h"

namespace {

using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int preprocess(const char* path, int iterations) {
  std::ifstream file(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<double> decode, letterbox, total;
  for (int i = 0; i < iterations + 3; ++i) {  // 3 untimed warm-up rounds
    const auto start = Clock::now();
    const npukit::vision::Image image = npukit::vision::decode_image(bytes.data(), bytes.size(), path);
    const double decoded = milliseconds_since(start);
    const auto letterbox_start = Clock::now();
    const npukit::Tensor tensor = npukit::vision::letterbox_to_tensor(image, {}, {});
    const double letterboxed = milliseconds_since(letterbox_start);
    if (i < 3) continue;
    decode.push_back(decoded);
    letterbox.push_back(letterboxed);
    total.push_back(decoded + letterboxed);
  }
  std::printf("{\"decode_ms\": %.3f, \"letterbox_ms\": %.3f, \"total_ms\": %.3f}\n", median(decode), median(letterbox),
              median(total));
  return 0;
}

// YOLOv8n's cut head at 640: box maps [1, 64, S, S] and score maps [1, 80, S, S] for S = 80, 40, 20 (8400
// anchors). Random logits: box bins N(0, 2); class logits N(-8, 2), so about two hundred anchors pass 0.25, as on
// a busy street scene.
int postprocess(int iterations, unsigned seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> bins(0, 2), classes(-8, 2);
  std::vector<npukit::Tensor> boxes, scores;
  for (int size : {80, 40, 20}) {
    boxes.emplace_back(npukit::DType::f32, npukit::Shape{1, 64, size, size});
    scores.emplace_back(npukit::DType::f32, npukit::Shape{1, 80, size, size});
    for (float& v : boxes.back().values<float>()) v = bins(generator);
    for (float& v : scores.back().values<float>()) v = classes(generator);
  }
  std::vector<double> times;
  size_t candidates = 0, kept = 0;
  for (int i = 0; i < iterations + 3; ++i) {
    const auto start = Clock::now();
    std::vector<npukit::vision::Detection> found;
    int64_t first_anchor = 0;
    for (size_t level = 0; level < 3; ++level) {
      npukit::vision::decode_dfl_level(boxes[level], scores[level], 8 << level, 16, 0.25f, found, first_anchor);
      first_anchor += scores[level].dim(2) * scores[level].dim(3);
    }
    candidates = found.size();
    kept = npukit::vision::non_maximum_suppression(std::move(found), {}).size();
    if (i >= 3) times.push_back(milliseconds_since(start));
  }
  std::printf("{\"decode_nms_ms\": %.4f, \"candidates\": %zu, \"kept\": %zu}\n", median(times), candidates, kept);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 4 && std::string(argv[1]) == "preprocess") return preprocess(argv[2], std::atoi(argv[3]));
    if (argc == 4 && std::string(argv[1]) == "postprocess") return postprocess(std::atoi(argv[2]), std::atoi(argv[3]));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "npukit_vision_bench: %s\n", error.what());
    return 1;
  }
  std::fprintf(stderr, "usage: npukit_vision_bench preprocess PICTURE.jpg N | postprocess N SEED\n");
  return 2;
}
