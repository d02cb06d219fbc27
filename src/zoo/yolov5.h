// YOLOv5 (ultralytics v6.0 architecture) built directly as an ir::Model.
//
// Layer for layer what `export.py` writes for yolov5{n,s,m,l,x}.pt: 6x6/2 stem Conv, C3 blocks, SPPF, a
// PANet neck with nearest Resize x2 and Concat, and the Detect head with the box decode in the graph
// (Sigmoid, Split, grid and anchor arithmetic, Pow) ending in one [batch, anchors, 5 + classes] output
// "output0". BatchNorm is folded into Conv biases and SiLU is Sigmoid + Mul, as in the ONNX export.
// The weights are deterministic pseudo-random (He-style), not trained: the model is for counting,
// running and benchmarking, its detections mean nothing.
#pragma once

#include <cstdint>
#include <string>

#include "ir/graph.h"

namespace npukit::zoo {

struct Yolov5Config {
  std::string variant = "s";       // n, s, m, l, x: sets the two multiples below
  double depth_multiple = 0.33;
  double width_multiple = 0.50;
  int64_t batch = 1;
  int64_t image_height = 640;      // multiples of 32
  int64_t image_width = 640;
  int64_t class_count = 80;
  uint64_t seed = 20211012;        // the v6.0 release date

  // Throws Error(invalid_argument) for an unknown variant.
  static Yolov5Config for_variant(const std::string& variant);
};

// Throws Error(invalid_argument) when the sizes are not positive multiples of 32.
ir::Model build_yolov5(const Yolov5Config& config);

}  // namespace npukit::zoo
