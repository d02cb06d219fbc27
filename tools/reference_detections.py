#!/usr/bin/python3
"""Detections of tools/train_anchor_detector.py's model made without any npukit code, to check `npukit eval` end
to end (pre-processing, inference, decode, NMS, boxes mapped back), not only its mAP arithmetic:

    /usr/bin/python3 tools/reference_detections.py --model models/detector/glyphs_yolov5.onnx \
        --images models/detector/glyphs_validation/images --output DETECTIONS.json [--conf 0.001] [--iou 0.7]

  - pictures read by OpenCV (cv2.imread, BGR turned to RGB), letterboxed as Ultralytics' LetterBox with cv2.resize
    and cv2.copyMakeBorder (train_anchor_detector.letterbox: 256 × 320, centred, grey 114, /255);
  - the network run by PyTorch, its weights read back from the ONNX's initializers;
  - YOLOv5 decode in the graph (the export's own), then YOLOv5's filter: objectness > conf, score = objectness ·
    best class score > conf (one label per box, as `npukit detect` and Ultralytics' predict take it);
  - torchvision.ops.batched_nms (class-aware), at most --max-det boxes, best first;
  - boxes mapped back as Ultralytics' scale_boxes (minus the padding, divided by the ratio, clipped).

The output is the COCO-style file `npukit detect -o DIR` writes (DIR/detections.json), so
tools/evaluate_detections.py reads either.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_glyph_scenes import CLASS_NAMES  # noqa: E402
from train_anchor_detector import folded_model_from_onnx, letterbox  # noqa: E402


def detect(model, path, confidence, iou, max_detections):
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"{path}: OpenCV cannot read this picture")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    pixels, ratio, left, top = letterbox(rgb)
    tensor = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))).float().unsqueeze(0) / 255
    with torch.no_grad():
        rows = model(tensor)[0]  # [N, 5 + classes]
    rows = rows[rows[:, 4] > confidence]
    class_scores, classes = rows[:, 5:].max(1)
    scores = rows[:, 4] * class_scores
    keep = scores > confidence
    rows, scores, classes = rows[keep], scores[keep], classes[keep]
    boxes = torch.cat((rows[:, :2] - rows[:, 2:4] / 2, rows[:, :2] + rows[:, 2:4] / 2), 1)
    kept = torchvision.ops.batched_nms(boxes, scores, classes, iou)[:max_detections]
    height, width = rgb.shape[:2]
    result = []
    for i in kept.tolist():
        x1, y1, x2, y2 = boxes[i].tolist()
        x1, x2 = [min(max((v - left) / ratio, 0.0), float(width)) for v in (x1, x2)]
        y1, y2 = [min(max((v - top) / ratio, 0.0), float(height)) for v in (y1, y2)]
        result.append((int(classes[i]), x1, y1, x2, y2, float(scores[i])))
    return width, height, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--images", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--conf", type=float, default=0.001)
    parser.add_argument("--iou", type=float, default=0.7)
    parser.add_argument("--max-det", type=int, default=300)
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    model = folded_model_from_onnx(arguments.model)
    model.export_mode = True
    images, annotations = [], []
    names = sorted(n for n in os.listdir(arguments.images) if n.lower().endswith((".jpg", ".jpeg", ".png", ".bmp")))
    for index, name in enumerate(names):
        width, height, boxes = detect(model, os.path.join(arguments.images, name), arguments.conf, arguments.iou,
                                      arguments.max_det)
        images.append({"id": index, "file_name": name, "width": width, "height": height})
        for c, x1, y1, x2, y2, score in boxes:
            annotations.append({"image_id": index, "category_id": c, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
    categories = [{"id": i, "name": n} for i, n in enumerate(CLASS_NAMES)]
    with open(arguments.output, "w") as file:
        json.dump({"images": images, "annotations": annotations, "categories": categories,
                   "generator": "tools/reference_detections.py (OpenCV, PyTorch, torchvision; no npukit)"}, file)
        file.write("\n")


if __name__ == "__main__":
    main()
