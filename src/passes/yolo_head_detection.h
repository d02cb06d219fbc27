// Finds the YOLO detection head and its post-processing (box decode, DFL, sigmoid, concat) by graph pattern,
// never by node name, so it works on any exporter's naming:
//   * YOLOv5 style (anchor-based): a Conv whose output is reshaped to 5-D [batch, anchors, 5 + classes, H, W]
//     and transposed to channels-last: that Conv is one level's raw head.
//   * YOLOv8 / YOLO11 style (anchor-free, DFL): a Softmax feeding a 1×1 Conv whose constant weight is
//     0, 1, …, reg_max-1 (the DFL expectation); walking back from it through data-movement ops reaches the
//     box Convs (4·reg_max channels) and, through the per-level Concat, the class Convs.
// The post-processing is then everything computed from those head Conv outputs.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace npukit::passes {

enum class YoloFamily { anchor_based, anchor_free };

struct YoloLevel {
  int64_t stride = 0;                 // input height / map height
  int64_t height = 0, width = 0;
  ir::Node* box_conv = nullptr;       // anchor-free: the box Conv; anchor-based: the joint head Conv
  ir::Node* class_conv = nullptr;     // anchor-free only
  std::vector<float> anchors;         // anchor-based: (w, h) pairs in pixels, when found in the graph
};

struct YoloHead {
  YoloFamily family = YoloFamily::anchor_free;
  int64_t class_count = 0;
  int64_t reg_max = 0;                // anchor-free: DFL bins
  int64_t anchors_per_cell = 0;       // anchor-based
  int64_t input_height = 0, input_width = 0;
  std::vector<YoloLevel> levels;      // sorted by stride, smallest first
  std::set<const ir::Node*> postprocess;  // every node computed from the head Conv outputs
};

// nullopt when the graph has no recognisable YOLO head.
std::optional<YoloHead> find_yolo_head(const ir::Graph& graph);

}  // namespace npukit::passes
