// One OpenCV DNN measurement for bench/run_benchmarks.py (bench only, not part of npukit):
//   opencv_runner MODEL THREADS WARMUP ITERATIONS N C H W   -> one JSON line
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr, "usage: opencv_runner MODEL THREADS WARMUP ITERATIONS N C H W\n");
    return 2;
  }
  try {
    cv::setNumThreads(std::atoi(argv[2]));
    cv::dnn::Net net = cv::dnn::readNetFromONNX(argv[1]);
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    const int dims[4] = {std::atoi(argv[5]), std::atoi(argv[6]), std::atoi(argv[7]), std::atoi(argv[8])};
    cv::Mat blob(4, dims, CV_32F);
    cv::randu(blob, 0.0f, 1.0f);
    const int warmup = std::atoi(argv[3]), iterations = std::atoi(argv[4]);
    std::vector<double> times;
    for (int i = 0; i < warmup + iterations; ++i) {
      const auto started = std::chrono::steady_clock::now();
      net.setInput(blob);
      std::vector<cv::Mat> outputs;
      net.forward(outputs, net.getUnconnectedOutLayersNames());
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      if (i >= warmup) times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    const size_t n = times.size();
    const double median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("{\"median_ms\": %.3f, \"min_ms\": %.3f, \"peak_rss_mib\": %.1f}\n", median, times.front(),
                usage.ru_maxrss / 1024.0);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  return 0;
}
