#!/usr/bin/python3
"""npukit's vision steps against OpenCV and numpy, side by side in one run; writes the vision section of
docs/benchmarks.md (between its markers; the rest of the file is bench/run_benchmarks.py's).

    /usr/bin/python3 bench/vision_benchmark.py [--rounds 5] [--iterations 20] [--no-write]

1. Pre-processing a 1920x1080 JPEG into a 640x640 letterboxed f32 NCHW tensor: npukit (libjpeg-turbo decode +
   one-pass letterbox) vs OpenCV as Ultralytics runs it (cv2.imdecode + cv2.resize(INTER_LINEAR) +
   copyMakeBorder + BGR->RGB + HWC->CHW + float32 / 255), both single-threaded.
2. YOLOv8n decode + NMS over 8400 anchors (cut head, random logits, same distribution both sides): npukit vs
   the usual numpy implementation (softmax DFL, dist2bbox, sigmoid, threshold, greedy NMS in numpy).
Rounds alternate the two sides; a cell is the median over rounds of per-round medians. A benchmark, not a test.
Needs: build/npukit_vision_bench (Release), python3-opencv, python3-numpy, python3-pil.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time

import cv2
import numpy as np
from PIL import Image

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPOSITORY, "build", "npukit_vision_bench")
BEGIN, END = "<!-- vision benchmark: begin -->", "<!-- vision benchmark: end -->"


def frame_1080p(path):
    """A 1920x1080 scene with gradients, blocks and noise (tools/make_vision_fixtures.py's kind), JPEG quality 90."""
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:1080, 0:1920]
    image = np.stack([x * 255 // 1919, y * 255 // 1079, (x + y) % 256], axis=-1)
    for _ in range(6):
        x0, y0 = rng.integers(0, 1920), rng.integers(0, 1080)
        image[y0:y0 + 270, x0:x0 + 480] = rng.integers(0, 256, 3)
    image = np.clip(image + rng.integers(-20, 21, image.shape), 0, 255).astype(np.uint8)
    Image.fromarray(image).save(path, quality=90)


def opencv_preprocess(data):
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    r = min(640 / h, 640 / w)
    new_w, new_h = int(round(w * r)), int(round(h * r))
    image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    dw, dh = (640 - new_w) / 2, (640 - new_h) / 2
    image = cv2.copyMakeBorder(image, int(round(dh - 0.1)), int(round(dh + 0.1)), int(round(dw - 0.1)),
                               int(round(dw + 0.1)), cv2.BORDER_CONSTANT, value=(114, 114, 114))
    return np.ascontiguousarray(image[:, :, ::-1].transpose(2, 0, 1)).astype(np.float32)[None] / 255.0


def numpy_decode_nms(maps, conf=0.25, iou=0.7, max_det=300):
    """The decode users write after cutting the head: per level DFL softmax, dist2bbox, then greedy NMS."""
    boxes_all, scores_all = [], []
    for stride, (box, cls) in zip((8, 16, 32), maps):
        _, _, h, w = cls.shape
        b = box.reshape(4, 16, h * w)
        e = np.exp(b - b.max(axis=1, keepdims=True))
        distance = (e / e.sum(axis=1, keepdims=True) * np.arange(16, dtype=np.float32)[None, :, None]).sum(axis=1)
        gy, gx = np.mgrid[0:h, 0:w]
        cx, cy = gx.reshape(-1) + 0.5, gy.reshape(-1) + 0.5
        boxes_all.append(np.stack([cx - distance[0], cy - distance[1], cx + distance[2], cy + distance[3]], 1) * stride)
        scores_all.append(1 / (1 + np.exp(-cls.reshape(cls.shape[1], -1).T)))
    boxes, scores = np.concatenate(boxes_all), np.concatenate(scores_all)
    classes = scores.argmax(1)
    best = scores[np.arange(len(scores)), classes]
    keep = best > conf
    boxes, best, classes = boxes[keep], best[keep], classes[keep]
    offset = boxes + classes[:, None] * 7680.0
    order = best.argsort()[::-1]
    areas = (offset[:, 2] - offset[:, 0]) * (offset[:, 3] - offset[:, 1])
    kept = []
    while order.size and len(kept) < max_det:
        i = order[0]
        kept.append(i)
        xx1 = np.maximum(offset[i, 0], offset[order[1:], 0])
        yy1 = np.maximum(offset[i, 1], offset[order[1:], 1])
        xx2 = np.minimum(offset[i, 2], offset[order[1:], 2])
        yy2 = np.minimum(offset[i, 3], offset[order[1:], 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        order = order[1:][inter / (areas[i] + areas[order[1:]] - inter) <= iou]
    return boxes[kept], best[kept], classes[kept]


def median_ms(function, iterations):
    for _ in range(3):
        function()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    arguments = parser.parse_args()
    cv2.setNumThreads(1)
    rng = np.random.default_rng(1)
    maps = [(rng.normal(0, 2, (1, 64, s, s)).astype(np.float32), rng.normal(-8, 2, (1, 80, s, s)).astype(np.float32))
            for s in (80, 40, 20)]
    results = {"npukit_pre": [], "npukit_decode": [], "npukit_letterbox": [], "opencv_pre": [], "npukit_post": [],
               "numpy_post": []}
    with tempfile.TemporaryDirectory() as folder:
        picture = os.path.join(folder, "frame.jpg")
        frame_1080p(picture)
        data = open(picture, "rb").read()
        for _ in range(arguments.rounds):
            pre = json.loads(subprocess.check_output([BENCH, "preprocess", picture, str(arguments.iterations)]))
            results["npukit_pre"].append(pre["total_ms"])
            results["npukit_decode"].append(pre["decode_ms"])
            results["npukit_letterbox"].append(pre["letterbox_ms"])
            results["opencv_pre"].append(median_ms(lambda: opencv_preprocess(data), arguments.iterations))
            post = json.loads(subprocess.check_output([BENCH, "postprocess", str(arguments.iterations * 5), "1"]))
            results["npukit_post"].append(post["decode_nms_ms"])
            results["numpy_post"].append(median_ms(lambda: numpy_decode_nms(maps), arguments.iterations))
    cell = {key: statistics.median(values) for key, values in results.items()}
    _, numpy_scores, classes = numpy_decode_nms(maps)
    lines = [
        BEGIN,
        "## Vision pre- and post-processing (bench/vision_benchmark.py)",
        "",
        f"Written on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} logical CPUs; OpenCV {cv2.__version__} (python3-opencv, 1 thread), numpy {np.__version__}. "
        f"Median over {arguments.rounds} rounds of per-round medians ({arguments.iterations} runs each, after warm-up).",
        "",
        "| step | npukit ms | reference ms | npukit / reference |",
        "|---|---:|---:|---:|",
        f"| 1920x1080 JPEG → 640 letterbox f32 NCHW | {cell['npukit_pre']:.2f} (decode {cell['npukit_decode']:.2f} + "
        f"letterbox {cell['npukit_letterbox']:.2f}) | OpenCV {cell['opencv_pre']:.2f} | "
        f"{cell['npukit_pre'] / cell['opencv_pre']:.2f} |",
        f"| YOLOv8n decode + NMS, 8400 anchors (npukit's draw: {post['candidates']} candidates, {post['kept']} kept; "
        f"numpy's draw of the same distribution: {len(classes)} kept) | {cell['npukit_post']:.3f} | "
        f"numpy {cell['numpy_post']:.2f} | "
        f"{cell['npukit_post'] / cell['numpy_post']:.3f} |",
        "",
        "Per-round medians (ms): " + "; ".join(f"{key} {[round(v, 3) for v in values]}" for key, values in results.items()),
        END,
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if arguments.no_write:
        return
    path = os.path.join(REPOSITORY, "docs", "benchmarks.md")
    text = open(path).read() if os.path.exists(path) else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section.rstrip("\n") + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    open(path, "w").write(text)


if __name__ == "__main__":
    main()
