// YOLO box decoding on the CPU, as Ultralytics computes it, in two situations:
//
//  * full exports, with the decode still in the graph: YOLOv8 / YOLO11 write [1, 4 + classes, N] (cx, cy, w, h
//    in input pixels, then class probabilities), YOLOv5 writes [1, N, 5 + classes] (cx, cy, w, h, objectness,
//    class probabilities);
//  * heads cut by `npukit patch` (docs/sidecar.md): per level a box map and a score map of logits. Anchor-free:
//    softmax over each side's reg_max bins, expectation = distance in cells, dist2bbox around the cell centre
//    (x + 0.5, y + 0.5), times the stride. Anchor-based: xy = (sigmoid·2 − 0.5 + cell)·stride,
//    wh = (sigmoid·2)²·anchor.
//
// Every decoder appends the candidates whose score exceeds `confidence` (the best class only, as Ultralytics'
// single-label predict does), in the model input's pixels, as corner boxes; NMS comes after.
#pragma once

#include <vector>

#include "npukit/tensor.h"
#include "vision/detection.h"

namespace npukit::vision {

// [1, 4 + classes, N]
void decode_yolov8_output(const Tensor& output, float confidence, std::vector<Detection>& candidates);
// [1, N, 5 + classes]
void decode_yolov5_output(const Tensor& output, float confidence, std::vector<Detection>& candidates);

// One level of a cut anchor-free head: boxes [1, 4·reg_max, H, W] and scores [1, classes, H, W] logits.
// `first_anchor`: the anchor index of this level's first cell (the cells of the levels before it).
void decode_dfl_level(const Tensor& boxes, const Tensor& scores, int stride, int reg_max, float confidence,
                      std::vector<Detection>& candidates, int64_t first_anchor = 0);
// One level of a cut YOLOv5 head: boxes [1, A·4, H, W], scores [1, A·(1 + classes), H, W] logits, `anchors` the
// level's A (w, h) pairs in pixels.
void decode_anchor_level(const Tensor& boxes, const Tensor& scores, int stride, const std::vector<float>& anchors,
                         float confidence, std::vector<Detection>& candidates, int64_t first_anchor = 0);

}  // namespace npukit::vision
