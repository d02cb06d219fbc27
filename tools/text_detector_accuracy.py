#!/usr/bin/env python3
"""The detection bar on a detector no one here trained: PP-OCRv4 det (models/ocr/ch_PP-OCRv4_det_infer.onnx),
FP32 against its QDQ files from `npukit quantize`, scored as box mAP50-95 on rendered text pages.

Pages: 640 x 480, white, 4-8 lines of tools/render_text_pages.py's words and numbers in DejaVu Sans
(fonts-dejavu-core) at 18-34 px, dark ink, random left margins. The truth of each line is its ink box as PIL
draws it (ImageDraw.textbbox), so it is known exactly, not estimated. One seed makes the calibration pages,
another the evaluation pages: no page is in both. The evaluation pages are written as a YOLO-format data set
(WORK/evaluation/images/page_NNN.png, labels/page_NNN.txt with class 0 'text', data.yaml).

Pre-processing: PaddleOCR's DetResizeForTest (limit 960, max: 640 x 480 stays as it is, both sides multiples
of 32) and NormalizeImage (ImageNet mean / std on the BGR picture as cv2.imread gives it), CHW, batch 1; the model's
dynamic input is fixed at 1x3x480x640 for quantization.

Post-processing: PaddleOCR's own DBPostProcess + filter_tag_det_res (tools/ppocr_reference.py: PaddleOCR's
code on OpenCV and pyclipper, which tests/vision_ocr*_test.cpp check npukit's C++ against), at PaddleOCR's
defaults: threshold 0.3, box threshold 0.6, unclip ratio 1.5. Each quadrilateral becomes its axis-aligned
bounding box, scored with the box's mean probability (DB's box score).

Scoring: the detections are written as COCO-style JSON (WORK/detections/RUN.json) and scored by
`npukit eval --detections RUN.json --dataset WORK/evaluation` (COCO box mAP50 and mAP50-95, 101-point AP, one
class, the truth read from the data set's label files); tools/evaluate_detections.py, the independent numpy
evaluator, scores the same files and a warning says if it disagrees.

  tools/text_detector_accuracy.py --self-test   the pieces on one page, no npukit or ONNX Runtime (a ctest)
  tools/text_detector_accuracy.py [--work DIR] [--pages 40] [--calibration-pages 32] [--npukit build/npukit]
                                  [--variant NAME='QUANTIZE ARGS' ...] [--sim] [--json]

Default variants: 'w8a8-default' (--target rk3588, the default range method) and 'w8a8-minmax' (--target rk3588
--method minmax). Each variant is quantized with `npukit quantize` (its arguments as given, plus the calibration
folder, the input shape and -o) and run by ONNX Runtime (tools/ort_run_batch.js, graph optimizations at ORT's
default); --sim also runs it on npukit's sim backend for the variant's --target (one `npukit run` per page).
The time of each step is printed with the machine's load average.
"""
import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_detections import evaluate, read_pictures  # noqa: E402
from ppocr_reference import detect_boxes  # noqa: E402
from render_text_pages import FONT, make_line  # noqa: E402

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(REPOSITORY, "models", "ocr", "ch_PP-OCRv4_det_infer.onnx")
WIDTH, HEIGHT = 640, 480
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)  # PaddleOCR NormalizeImage, applied to BGR as loaded
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
DEFAULT_VARIANTS = ["w8a8-default=--target rk3588", "w8a8-minmax=--target rk3588 --method minmax"]


def render_page(generator):
    """A WIDTH x HEIGHT page of text lines and each line's ink box [x1, y1, x2, y2] (pixels, exclusive ends)."""
    page = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    boxes = []
    y = generator.randint(16, 40)
    for _ in range(generator.randint(4, 8)):
        size = generator.randint(18, 34)
        font = ImageFont.truetype(FONT, size)
        text = make_line(generator)
        while font.getlength(text) > WIDTH - 60 and " " in text:
            text = text.rsplit(" ", 1)[0]
        x = generator.randint(16, max(17, int(WIDTH - 30 - font.getlength(text))))
        box = draw.textbbox((x, y), text, font=font)
        if box[3] > HEIGHT - 12:
            break
        draw.text((x, y), text, font=font, fill=generator.choice([(0, 0, 0), (30, 30, 30), (50, 40, 90), (90, 20, 20)]))
        boxes.append(list(box))
        y += int(size * generator.uniform(1.7, 2.6))
    return page, boxes


def preprocess(page):
    """PaddleOCR's det pre-processing of a picture cv2.imread would give (BGR): normalize, CHW, batch 1."""
    bgr = np.asarray(page, dtype=np.float32)[:, :, ::-1] / 255.0
    return ((bgr - MEAN) / STD).transpose(2, 0, 1)[None].astype(np.float32)


def write_pages(directory, seed, count, as_dataset):
    """Renders `count` pages with `seed`; writes pictures (+ YOLO labels) or .npy tensors; returns their truth."""
    generator = random.Random(seed)
    pages = []
    for subdirectory in (["images", "labels"] if as_dataset else [""]):
        os.makedirs(os.path.join(directory, subdirectory), exist_ok=True)
    for index in range(count):
        page, boxes = render_page(generator)
        stem = "page_%03d" % index
        if as_dataset:
            page.save(os.path.join(directory, "images", stem + ".png"))
            with open(os.path.join(directory, "labels", stem + ".txt"), "w") as file:
                for x1, y1, x2, y2 in boxes:
                    file.write("0 %.6f %.6f %.6f %.6f\n" % ((x1 + x2) / 2 / WIDTH, (y1 + y2) / 2 / HEIGHT,
                                                           (x2 - x1) / WIDTH, (y2 - y1) / HEIGHT))
        else:
            np.save(os.path.join(directory, stem + ".npy"), preprocess(page))
        pages.append({"file": stem + ".png", "page": page, "boxes": boxes})
    if as_dataset:
        with open(os.path.join(directory, "data.yaml"), "w") as file:
            file.write("names: [text]\n")
    return pages


def boxes_from_map(probability):
    """PaddleOCR's DB post-processing at its defaults; quadrilaterals to (x1, y1, x2, y2, score)."""
    result = []
    for entry in detect_boxes(probability, WIDTH, HEIGHT):
        corners = np.array(entry["box"], dtype=np.float64)
        result.append((corners[:, 0].min(), corners[:, 1].min(), corners[:, 0].max(), corners[:, 1].max(),
                       entry["score"]))
    return result


def score(pages, detections):
    """COCO mAP (tools/evaluate_detections.py) of per-page detections against the rendered ink boxes."""
    pictures = [{"truth": [(0, *box) for box in page["boxes"]],
                 "detections": [(0, *d) for d in found]} for page, found in zip(pages, detections)]
    return evaluate(pictures, 1)


def coco_json(pages, detections):
    images = [{"id": i, "file_name": p["file"], "width": WIDTH, "height": HEIGHT} for i, p in enumerate(pages)]
    annotations = [{"image_id": i, "category_id": 0, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": s}
                   for i, found in enumerate(detections) for x1, y1, x2, y2, s in found]
    return {"images": images, "annotations": annotations, "categories": [{"id": 0, "name": "text"}]}


def load_average():
    with open("/proc/loadavg") as file:
        return " ".join(file.read().split()[:3])


class Timer:
    def __init__(self, log, what):
        self.log, self.what = log, what

    def __enter__(self):
        self.started, self.cpu = time.time(), os.times()
        self.load = load_average()
        return self

    def __exit__(self, *exc):
        now = os.times()
        cpu = (now.children_user + now.children_system + now.user + now.system
               - self.cpu.children_user - self.cpu.children_system - self.cpu.user - self.cpu.system)
        self.seconds = time.time() - self.started
        self.log.append({"step": self.what, "wall_s": round(self.seconds, 1), "cpu_s": round(cpu, 1),
                         "load_average_before": self.load, "load_average_after": load_average()})
        print("  %-40s %7.1f s wall, %7.1f s CPU (load average %s -> %s)" %
              (self.what, self.seconds, cpu, self.load, load_average()), file=sys.stderr)


def run_ort(model, batch_path, output_path):
    subprocess.run(["node", os.path.join(REPOSITORY, "tools", "ort_run_batch.js"), model, "x", batch_path, output_path,
                    "--threads", "2"], check=True)
    return np.load(output_path)


def run_sim(npukit, model, target, tensors, work):
    """The QDQ file on npukit's sim backend (the target's integer arithmetic), one `npukit run` per page."""
    maps = []
    for tensor in tensors:
        page_path = os.path.join(work, "sim_page.npy")
        output_directory = os.path.join(work, "sim_output")
        np.save(page_path, tensor[None])
        subprocess.run([npukit, "run", model, "--backend", "sim", "--target", target, "--input", "x=" + page_path,
                        "--output-dir", output_directory], check=True, stdout=subprocess.DEVNULL)
        files = sorted(f for f in os.listdir(output_directory) if f.endswith(".npy"))
        if len(files) != 1:
            raise SystemExit("expected one output of the detector in %s, found %s" % (output_directory, files))
        maps.append(np.load(os.path.join(output_directory, files[0])))
    return np.concatenate(maps, axis=0)


def write_fp32_truth(directory, pages, detections):
    """FP32's own boxes as a YOLO data set (the evaluation pictures, FP32's boxes as labels): the quantized
    model's agreement with the float one, free of how the rendered ink boxes differ from DB's box convention."""
    os.makedirs(os.path.join(directory, "labels"), exist_ok=True)
    images = os.path.join(directory, "images")
    if not os.path.islink(images):
        os.symlink(os.path.abspath(os.path.join(directory, "..", "evaluation", "images")), images)
    for page, found in zip(pages, detections):
        with open(os.path.join(directory, "labels", page["file"][:-4] + ".txt"), "w") as file:
            for x1, y1, x2, y2, _ in found:
                file.write("0 %.6f %.6f %.6f %.6f\n" % ((x1 + x2) / 2 / WIDTH, (y1 + y2) / 2 / HEIGHT,
                                                       (x2 - x1) / WIDTH, (y2 - y1) / HEIGHT))


def npukit_eval(npukit, detections_path, dataset):
    evaluated = subprocess.run([npukit, "eval", "--detections", detections_path, "--dataset", dataset, "--json"],
                               check=True, capture_output=True, text=True)
    return json.loads(evaluated.stdout)


def evaluate_maps(name, maps, pages, work, results, npukit):
    detections = [boxes_from_map(probability[0]) for probability in maps]
    os.makedirs(os.path.join(work, "detections"), exist_ok=True)
    detections_path = os.path.join(work, "detections", name + ".json")
    with open(detections_path, "w") as file:
        json.dump(coco_json(pages, detections), file)
    if name == "fp32-ort":
        write_fp32_truth(os.path.join(work, "fp32_truth"), pages, detections)
    # npukit's own COCO evaluator scores the file; the numpy one (tools/evaluate_detections.py) must agree.
    metrics = npukit_eval(npukit, detections_path, os.path.join(work, "evaluation"))
    against_fp32 = npukit_eval(npukit, detections_path, os.path.join(work, "fp32_truth"))
    independent = evaluate(*read_pictures(os.path.join(work, "evaluation"), detections_path))  # the same label files
    for key in ("map50", "map50_95"):
        if abs(independent[key] - metrics[key]) > 1e-9:
            print("  warning: npukit eval --detections and tools/evaluate_detections.py disagree on %s of %s: %r vs %r"
                  % (key, name, metrics[key], independent[key]), file=sys.stderr)
    results[name] = {"map50_95": metrics["map50_95"], "map50": metrics["map50"], "precision": metrics["precision"],
                     "recall": metrics["recall"], "detections": sum(len(d) for d in detections),
                     "map50_95_against_fp32": against_fp32["map50_95"], "map50_against_fp32": against_fp32["map50"],
                     **box_fit(pages, detections)}
    print("  %s: mAP50-95 %.4f, mAP50 %.4f; against FP32's boxes %.4f" % (name, metrics["map50_95"], metrics["map50"],
                                                                         against_fp32["map50_95"]), file=sys.stderr)
    return metrics


def cached_maps(path, recipe, compute):
    """The maps of an earlier run when they were made from the same recipe, else `compute()` (saved to `path`)."""
    recipe_path = path + ".recipe"
    if os.path.exists(path) and os.path.exists(recipe_path) and open(recipe_path).read() == recipe:
        print("  using %s again (same model and pages)" % path, file=sys.stderr)
        return np.load(path)
    maps = compute()
    np.save(path, maps)
    with open(recipe_path, "w") as file:
        file.write(recipe)
    return maps


def box_fit(pages, detections):
    """How the boxes sit on the ink: each line's best IoU with a detection, and that detection's size against
    the ink box (DB's unclipped boxes are larger than the ink; a drift in size moves mAP50-95, not mAP50)."""
    ious, widths, heights = [], [], []
    for page, found in zip(pages, detections):
        for x1, y1, x2, y2 in page["boxes"]:
            best, best_box = 0.0, None
            for d in found:
                w = max(0.0, min(x2, d[2]) - max(x1, d[0]))
                h = max(0.0, min(y2, d[3]) - max(y1, d[1]))
                union = (x2 - x1) * (y2 - y1) + (d[2] - d[0]) * (d[3] - d[1]) - w * h
                if union > 0 and w * h / union > best:
                    best, best_box = w * h / union, d
            ious.append(best)
            if best_box is not None:
                widths.append((best_box[2] - best_box[0]) / (x2 - x1))
                heights.append((best_box[3] - best_box[1]) / (y2 - y1))
    mean = lambda values: float(np.mean(values)) if values else float("nan")  # noqa: E731
    return {"mean_best_iou": mean(ious), "width_ratio": mean(widths), "height_ratio": mean(heights)}


def target_of(arguments):
    words = shlex.split(arguments)
    for index, word in enumerate(words):
        if word in ("--target", "-t") and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--target="):
            return word.split("=", 1)[1]
    raise SystemExit("variant '%s' names no --target (the sim backend needs one)" % arguments)


def self_test():
    """The script's pieces on one page, without npukit or ONNX Runtime (ctest: text_detector_accuracy_pieces)."""
    from ppocr_reference import normalize_image
    page, boxes = render_page(random.Random(7))
    assert len(boxes) >= 3, boxes
    for x1, y1, x2, y2 in boxes:
        assert 0 <= x1 < x2 <= WIDTH and 0 <= y1 < y2 <= HEIGHT, boxes
    tensor = preprocess(page)
    assert tensor.shape == (1, 3, HEIGHT, WIDTH) and tensor.dtype == np.float32
    expected = normalize_image(np.asarray(page)[:, :, ::-1]).transpose(2, 0, 1)  # PaddleOCR's own, on BGR
    assert np.abs(tensor[0] - expected).max() < 1e-5
    # A map with a text kernel inside each line (the line shrunk by a fifth of its height on every side,
    # probability 0.9): DB's unclip (ratio 1.5) grows each kernel back over its line.
    probability = np.zeros((HEIGHT, WIDTH), np.float32)
    for x1, y1, x2, y2 in boxes:
        d = (y2 - y1) / 5
        probability[int(round(y1 + d)):int(round(y2 - d)), int(round(x1 + d)):int(round(x2 - d))] = 0.9
    found = boxes_from_map(probability)
    assert len(found) == len(boxes), (found, boxes)
    fit = box_fit([{"boxes": boxes}], [found])
    assert fit["mean_best_iou"] > 0.6, fit
    metrics = score([{"boxes": boxes}], [found])
    assert metrics["map50"] == 1.0, metrics
    perfect = score([{"boxes": boxes}], [[(*b, 1.0) for b in boxes]])
    assert perfect["map50_95"] == 1.0, perfect
    assert score([{"boxes": boxes}], [[]])["map50_95"] == 0.0
    report = coco_json([{"file": "page_000.png"}], [found])
    assert len(report["annotations"]) == len(found) and report["images"][0]["width"] == WIDTH
    print("text_detector_accuracy: pieces OK (%d lines, DB boxes mean IoU %.3f with the ink)" %
          (len(boxes), fit["mean_best_iou"]))


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="/tmp/text_detector_accuracy")
    parser.add_argument("--pages", type=int, default=40, help="evaluation pages (default 40)")
    parser.add_argument("--calibration-pages", type=int, default=32)
    parser.add_argument("--calibration-seed", type=int, default=501)
    parser.add_argument("--evaluation-seed", type=int, default=502)
    parser.add_argument("--npukit", default=os.path.join(REPOSITORY, "build", "npukit"))
    parser.add_argument("--variant", action="append", metavar="NAME='QUANTIZE ARGS'",
                        help="a quantization to compare with FP32 (repeatable; default: %s)" % DEFAULT_VARIANTS)
    parser.add_argument("--sim", action="store_true", help="also run each QDQ file on the sim backend")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    if arguments.pages < 1 or arguments.calibration_pages < 1:
        parser.error("--pages and --calibration-pages must be at least 1")
    if not os.path.exists(FONT):
        sys.exit("text_detector_accuracy: %s is missing (apt-get install fonts-dejavu-core)" % FONT)
    if not os.path.exists(arguments.npukit):
        sys.exit("text_detector_accuracy: %s not found: build it (make) or give --npukit" % arguments.npukit)
    variants = []
    for text in arguments.variant or DEFAULT_VARIANTS:
        if "=" not in text:
            parser.error("--variant takes NAME='QUANTIZE ARGS', got '%s'" % text)
        name, quantize_arguments = text.split("=", 1)
        variants.append((name, quantize_arguments, target_of(quantize_arguments)))
    work = arguments.work
    os.makedirs(work, exist_ok=True)
    log, results = [], {}

    with Timer(log, "render %d + %d pages" % (arguments.calibration_pages, arguments.pages)):
        write_pages(os.path.join(work, "calibration"), arguments.calibration_seed, arguments.calibration_pages, False)
        pages = write_pages(os.path.join(work, "evaluation"), arguments.evaluation_seed, arguments.pages, True)
        batch = np.concatenate([preprocess(p["page"]) for p in pages], axis=0)
        batch_path = os.path.join(work, "evaluation.npy")
        np.save(batch_path, batch)
    pages_recipe = [arguments.evaluation_seed, arguments.pages]
    with Timer(log, "FP32 on ONNX Runtime"):
        maps = cached_maps(os.path.join(work, "fp32_maps.npy"), json.dumps(["fp32", pages_recipe]),
                           lambda: run_ort(MODEL, batch_path, os.path.join(work, "fp32_maps.npy")))
    evaluate_maps("fp32-ort", maps, pages, work, results, arguments.npukit)

    for name, quantize_arguments, target in variants:
        qdq = os.path.join(work, name + ".onnx")
        # A QDQ file from an earlier run on the same calibration pages with the same arguments is used again
        # (calibrating the detector takes minutes); anything else is quantized afresh.
        recipe = json.dumps([quantize_arguments, arguments.calibration_seed, arguments.calibration_pages])
        recipe_path = qdq + ".recipe"
        if os.path.exists(qdq) and os.path.exists(recipe_path) and open(recipe_path).read() == recipe:
            print("  %s: using %s again (same arguments and calibration pages)" % (name, qdq), file=sys.stderr)
        else:
            with Timer(log, "quantize " + name):
                subprocess.run([arguments.npukit, "quantize", MODEL, *shlex.split(quantize_arguments), "--calibration",
                                os.path.join(work, "calibration"), "--input-shape", "x=1,3,%d,%d" % (HEIGHT, WIDTH),
                                "-o", qdq], check=True, stdout=subprocess.DEVNULL)
            with open(recipe_path, "w") as file:
                file.write(recipe)
        with Timer(log, name + " on ONNX Runtime"):
            maps = cached_maps(os.path.join(work, name + "_maps.npy"), json.dumps([recipe, pages_recipe]),
                               lambda: run_ort(qdq, batch_path, os.path.join(work, name + "_maps.npy")))
        evaluate_maps(name + "-ort", maps, pages, work, results, arguments.npukit)
        if arguments.sim:
            with Timer(log, name + " on sim " + target):
                maps = cached_maps(os.path.join(work, name + "_sim_maps.npy"), json.dumps([recipe, pages_recipe, target]),
                                   lambda: run_sim(arguments.npukit, qdq, target, batch, work))
            evaluate_maps(name + "-sim", maps, pages, work, results, arguments.npukit)

    objects = sum(len(p["boxes"]) for p in pages)
    report = {"model": MODEL, "pages": arguments.pages, "objects": objects, "results": results,
              "variants": {n: a for n, a, _ in variants}, "times": log}
    with open(os.path.join(work, "results.json"), "w") as file:
        json.dump(report, file, indent=1)
    if arguments.json:
        print(json.dumps(report, indent=1))
        return
    fp32 = results["fp32-ort"]["map50_95"]
    print("PP-OCRv4 det on %d rendered pages (%d text lines), DB at PaddleOCR's defaults, COCO box mAP:" %
          (arguments.pages, objects))
    print("  %-24s %9s %7s %8s %6s %6s %10s %9s %11s %14s" % ("run", "mAP50-95", "mAP50", "vs FP32", "P", "R",
                                                                "detections", "mean IoU", "box w / h", "vs FP32 boxes"))
    for name, r in results.items():
        print("  %-24s %9.4f %7.4f %+8.2f %6.3f %6.3f %10d %9.3f %5.3f/%5.3f %14.4f" % (
            name, r["map50_95"], r["map50"], 100 * (r["map50_95"] - fp32), r["precision"], r["recall"],
            r["detections"], r["mean_best_iou"], r["width_ratio"], r["height_ratio"], r["map50_95_against_fp32"]))
    print("  (mean IoU: each line's best IoU with a detection; box w / h: that detection's width and height over the "
          "ink box's;\n   vs FP32 boxes: mAP50-95 with FP32's own boxes as the truth)")


if __name__ == "__main__":
    main()
