// cut-yolo-postprocess: removes a YOLO model's decode (grid, anchors, DFL, sigmoid, concat, NMS) and makes
// the raw head maps the model's outputs, one box output and one score output per level, so INT8 never has
// to share one scale between pixel coordinates and 0–1 scores.
//   * anchor-free heads (YOLOv8, YOLO11) already have separate box and class Convs: they become outputs.
//   * anchor-based heads (YOLOv5) have one Conv per level computing anchors × (4 box + 1 object + classes)
//     channels: it is split into two Convs (the same weights, rows regrouped), box channels and score
//     channels, which compute exactly the same numbers as the original.
//   * raw heads (exported without decode) have nothing to cut: their maps are split or un-joined the same way.
// The sidecar JSON (passes/yolo_sidecar.h, docs/sidecar.md) tells the CPU post-processor what it needs. When no
// head is found or it cannot be cut, the notes say why; the graph is then left as it was.
#pragma once

#include <string>

#include "ir/graph.h"
#include "passes/pass.h"

namespace npukit::passes {

struct YoloCutResult {
  PassResult pass;
  std::string sidecar_json;  // empty when no YOLO head was found
};

YoloCutResult cut_yolo_postprocess(ir::Model& model);

}  // namespace npukit::passes
