#!/usr/bin/python3
"""An independent mAP: COCO's definition written again in numpy, to check `npukit eval` against.

    /usr/bin/python3 tools/evaluate_detections.py --dataset DIR --detections DETECTIONS.json [--json]
    /usr/bin/python3 tools/evaluate_detections.py --write-cases OUT.json [--seed S]

The first form reads a YOLO data set's labels (DIR/labels/*.txt, 'class cx cy w h' normalized) and a COCO-style
detections file as `npukit detect --conf 0.001 -o OUT` writes it (images with file_name, width, height;
annotations with image_id, category_id, bbox [x, y, w, h], score) and prints mAP50 and mAP50-95. The second
writes random detection / ground-truth sets with this script's results, for the C++ test
(tests/vision_eval_test.cpp) to compare with.

Written from the definition (pycocotools cocoeval.py, one area range, no crowd), not from npukit's C++:
  - per picture and class, detections by descending score (stable); each takes the unmatched ground-truth box
    with the highest IoU when that IoU >= t, for each t in np.linspace(0.5, 0.95, 10);
  - per class, all pictures' detections by descending score (stable, picture order for ties); cumulative
    TP / FP; recall = TP / ground truth; precision made non-increasing from the right; sampled at
    np.linspace(0, 1, 101) with searchsorted(side='left'), 0 past the end; AP = the mean of the 101 samples;
  - classes without ground truth left out; mAP = mean over classes (and thresholds).
  - precision / recall: at IoU 0.5 over the detections with score >= 0.25.
"""
import argparse
import json
import os

import numpy as np

IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_POINTS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def iou_matrix(detections, truths):
    """IoU of every detection (rows) with every ground-truth box (columns); boxes as x1 y1 x2 y2."""
    if len(detections) == 0 or len(truths) == 0:
        return np.zeros((len(detections), len(truths)))
    d, g = np.asarray(detections, float)[:, None, :], np.asarray(truths, float)[None, :, :]
    width = np.clip(np.minimum(d[..., 2], g[..., 2]) - np.maximum(d[..., 0], g[..., 0]), 0, None)
    height = np.clip(np.minimum(d[..., 3], g[..., 3]) - np.maximum(d[..., 1], g[..., 1]), 0, None)
    intersection = width * height
    union = (d[..., 2] - d[..., 0]) * (d[..., 3] - d[..., 1]) + (g[..., 2] - g[..., 0]) * (g[..., 3] - g[..., 1]) - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def match_picture(boxes, scores, truths):
    """TP flags [thresholds, detections] for one picture and class, detections in descending score order."""
    order = np.argsort(-np.asarray(scores, float), kind="mergesort")
    ious = iou_matrix([boxes[i] for i in order], truths)
    flags = np.zeros((len(IOU_THRESHOLDS), len(order)), bool)
    for t, threshold in enumerate(IOU_THRESHOLDS):
        taken = np.zeros(len(truths), bool)
        for row in range(len(order)):
            candidates = np.where(taken, -1.0, ious[row]) if len(truths) else np.zeros(0)
            if len(candidates) == 0:
                continue
            best = int(np.argmax(candidates))  # the first of equal IoUs
            if candidates[best] >= threshold:
                taken[best] = True
                flags[t, row] = True
    return order, flags


def average_precision(flags, truth_count):
    tp = np.cumsum(flags).astype(float)
    fp = np.cumsum(~flags).astype(float)
    recall = tp / truth_count
    precision = tp / np.maximum(tp + fp, np.finfo(float).eps)
    precision = np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision
    indices = np.searchsorted(recall, RECALL_POINTS, side="left")
    samples = np.array([precision[i] if i < len(precision) else 0.0 for i in indices])
    return samples.mean()


def evaluate(pictures, class_count, report_confidence=0.25):
    """pictures: [{"truth": [(class, x1, y1, x2, y2)], "detections": [(class, x1, y1, x2, y2, score)]}]."""
    per_class = []
    for c in range(class_count):
        truth_count = 0
        all_scores, all_flags = [], []
        for picture in pictures:
            truths = [t[1:5] for t in picture["truth"] if t[0] == c]
            own = [d for d in picture["detections"] if d[0] == c]
            truth_count += len(truths)
            if not own:
                continue
            order, flags = match_picture([d[1:5] for d in own], [d[5] for d in own], truths)
            all_scores.append(np.asarray([own[i][5] for i in order], float))
            all_flags.append(flags)
        detection_count = int(sum(len(s) for s in all_scores))
        if truth_count == 0:
            if detection_count:
                per_class.append({"class_id": c, "instances": 0, "detections": detection_count})
            continue
        scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
        flags = np.concatenate(all_flags, 1) if all_flags else np.zeros((len(IOU_THRESHOLDS), 0), bool)
        ranked = np.argsort(-scores, kind="mergesort")
        aps = [average_precision(flags[t, ranked], truth_count) for t in range(len(IOU_THRESHOLDS))]
        reported = scores[ranked] >= report_confidence
        tp = int(flags[0, ranked][reported].sum())
        per_class.append({"class_id": c, "instances": truth_count, "detections": detection_count,
                          "ap": aps, "map50": aps[0], "map50_95": float(np.mean(aps)),
                          "precision": tp / reported.sum() if reported.sum() else 0.0, "recall": tp / truth_count})
    evaluated = [p for p in per_class if p["instances"] > 0]
    mean = lambda key: float(np.mean([p[key] for p in evaluated])) if evaluated else 0.0  # noqa: E731
    return {"map50": mean("map50"), "map50_95": mean("map50_95"), "precision": mean("precision"),
            "recall": mean("recall"), "classes": per_class}


def read_pictures(dataset, detections_path):
    with open(detections_path) as file:
        coco = json.load(file)
    by_image = {image["id"]: image for image in coco["images"]}
    detections = {image_id: [] for image_id in by_image}
    for a in coco["annotations"]:
        x, y, w, h = a["bbox"]
        detections[a["image_id"]].append((a["category_id"], x, y, x + w, y + h, a["score"]))
    pictures = []
    for image_id, image in by_image.items():
        stem = os.path.splitext(image["file_name"])[0]
        truth = []
        label = os.path.join(dataset, "labels", stem + ".txt")
        if os.path.exists(label):
            for line in open(label):
                fields = line.split()
                if not fields:
                    continue
                c, cx, cy, w, h = int(fields[0]), *map(float, fields[1:5])
                W, H = image["width"], image["height"]
                truth.append((c, (cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H))
        pictures.append({"truth": truth, "detections": detections[image_id]})
    class_count = len(coco.get("categories", [])) or 1 + max([d[0] for p in pictures for d in p["detections"]] +
                                                             [t[0] for p in pictures for t in p["truth"]])
    return pictures, class_count


def random_cases(seed):
    """Detection sets with the awkward parts: ties in score, duplicates, empty pictures, classes without ground
    truth or without detections, boxes just around the IoU thresholds."""
    rng = np.random.default_rng(seed)
    cases = []
    for case in range(8):
        class_count = int(rng.integers(1, 5))
        pictures = []
        for _ in range(int(rng.integers(1, 25))):
            truth, detections = [], []
            for _ in range(int(rng.integers(0, 8))):
                c = int(rng.integers(0, class_count))
                x, y = rng.uniform(0, 300, 2)
                w, h = rng.uniform(5, 120, 2)
                truth.append((c, round(x, 2), round(y, 2), round(x + w, 2), round(y + h, 2)))
            for t in truth:
                for _ in range(int(rng.integers(0, 3))):  # near-misses and duplicates
                    jitter = rng.normal(0, 0.12 * (t[3] - t[1]), 4)
                    c = t[0] if rng.random() < 0.85 else int(rng.integers(0, class_count))
                    box = sorted((t[1] + jitter[0], t[3] + jitter[2])) + sorted((t[2] + jitter[1], t[4] + jitter[3]))
                    score = round(float(rng.choice([rng.uniform(0, 1), 0.5])), 3)  # some exact ties
                    detections.append((c, round(box[0], 2), round(box[2], 2), round(box[1], 2), round(box[3], 2), score))
            for _ in range(int(rng.integers(0, 4))):  # false positives anywhere
                x, y = rng.uniform(0, 300, 2)
                w, h = rng.uniform(5, 120, 2)
                detections.append((int(rng.integers(0, class_count)), round(x, 2), round(y, 2), round(x + w, 2),
                                   round(y + h, 2), round(float(rng.uniform(0, 1)), 3)))
            if case == 7 and class_count > 1:  # a class with detections only
                truth = [t for t in truth if t[0] != class_count - 1]
            pictures.append({"truth": truth, "detections": detections})
        result = evaluate(pictures, class_count)
        cases.append({"class_count": class_count, "pictures": pictures, "expected": result})
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset")
    parser.add_argument("--detections")
    parser.add_argument("--write-cases")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    if arguments.write_cases:
        with open(arguments.write_cases, "w") as file:
            json.dump({"generator": "tools/evaluate_detections.py --write-cases (seed %d)" % arguments.seed,
                       "cases": random_cases(arguments.seed)}, file, separators=(",", ":"))
            file.write("\n")
        return
    if not (arguments.dataset and arguments.detections):
        parser.error("give --dataset and --detections, or --write-cases")
    pictures, class_count = read_pictures(arguments.dataset, arguments.detections)
    result = evaluate(pictures, class_count)
    if arguments.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{len(pictures)} pictures, {sum(len(p['truth']) for p in pictures)} objects, "
          f"{sum(len(p['detections']) for p in pictures)} detections")
    for c in result["classes"]:
        if c["instances"]:
            print(f"  class {c['class_id']}: instances {c['instances']} detections {c['detections']} "
                  f"P {c['precision']:.3f} R {c['recall']:.3f} mAP50 {c['map50']:.4f} mAP50-95 {c['map50_95']:.4f}")
    print(f"mAP50 {result['map50']:.4f}  mAP50-95 {result['map50_95']:.4f}")


if __name__ == "__main__":
    main()
