// Finds the YOLO detection head and its post-processing (box decode, DFL, sigmoid, concat) by graph pattern,
// never by node name, so it works on any exporter's naming and head code:
//   * The head Convs are the last Convs before the graph outputs: walking back from every output through
//     decode ops only (data movement, elementwise arithmetic, sigmoid, softmax, the DFL) reaches them.
//   * YOLOv8 / YOLO11 (anchor-free, DFL): a Softmax feeding the DFL expectation — a 1×1 Conv or a MatMul
//     whose constant is 0, 1, …, reg_max-1. The Convs behind the Softmax are the box Convs (4·reg_max
//     channels); the other head Convs of the same map sizes are the class Convs. Box and class outputs
//     joined or apart, the stride applied before or after dist2bbox: the decode is never matched op by op.
//   * YOLOv5 (anchor-based): a head Conv reshaped to 5-D [batch, anchors, 5 + classes, H, W] and transposed
//     channels-last; the anchors are read from the decode's constant anchor grid.
//   * Raw heads (exported without decode): the outputs are the head maps themselves — per map size one Conv
//     of 3·(5 + classes) channels (YOLOv5) or two Convs, 4·reg_max box and class channels (YOLOv8).
// The post-processing is everything computed from the head Conv outputs.
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
  int64_t stride = 0;                 // input height / map height; 0 when the input size is not static
  int64_t height = 0, width = 0;
  ir::Node* box_conv = nullptr;       // anchor-free: the box Conv; anchor-based: the joint head Conv
  ir::Node* class_conv = nullptr;     // anchor-free only
  std::vector<float> anchors;         // anchor-based: (w, h) pairs in pixels, when found in the graph
};

struct YoloHead {
  YoloFamily family = YoloFamily::anchor_free;
  bool decode_in_graph = true;        // false: a raw head, the graph outputs are (joins of) the head maps
  int64_t class_count = 0;
  int64_t reg_max = 0;                // anchor-free: DFL bins
  int64_t anchors_per_cell = 0;       // anchor-based
  int64_t input_height = 0, input_width = 0;  // 0 when not static
  std::vector<YoloLevel> levels;      // sorted by map size, largest (smallest stride) first
  std::set<const ir::Node*> postprocess;  // every node computed from the head Conv outputs
  std::vector<std::string> notes;     // what was assumed, or could not be read from the graph
};

struct YoloHeadSearch {
  std::optional<YoloHead> head;
  // Without a head: why a graph that looks like a detector (a DFL, a 5-D anchor reshape) was not matched.
  // Empty when nothing in the graph looks like a YOLO head.
  std::vector<std::string> notes;
};

YoloHeadSearch search_yolo_head(const ir::Graph& graph);

// search_yolo_head(graph).head: nullopt when the graph has no recognisable YOLO head.
std::optional<YoloHead> find_yolo_head(const ir::Graph& graph);

}  // namespace npukit::passes
