#!/usr/bin/env python3
"""The quantization bar for PP-OCRv4 recognition: character accuracy of the FP32 model and of its W8A8 QDQ
file from `npukit quantize`, both run by ONNX Runtime (tools/ort_run_batch.js) on the same rendered text lines.

Text lines are rendered with DejaVu Sans (fonts-dejavu-core) from tools/render_text_pages.py's word generator:
one set (seed --calibration-seed) to calibrate, another (seed --evaluation-seed) to evaluate, so no line is in
both. Each line is pre-processed as PaddleOCR's `resize_norm_img` does for rec_image_shape 3,48,320: resized to
height 48 keeping the aspect ratio (width capped at 320), scaled to [-1, 1], padded with zeros to width 320.
The model has a dynamic width; it is calibrated and evaluated at the fixed shape 1x3x48x320.

  tools/quantize_ocr_accuracy.py [--work DIR] [--target rk3588] [--calibration-lines 64] [--lines 300]
                                  [--method percentile] [--npukit build/npukit] [--sim] [--sim-lines N] [--json]

--sim also runs the QDQ file on npukit's sim backend for the target (`npukit run --backend sim --target T`, one
process per line) and reports its character accuracy beside ONNX Runtime's. --sim-lines N runs the sim on the
first N evaluation lines only (it takes seconds per line) and reports FP32 and ONNX Runtime on those same N lines
beside it, so the three compare.

Character accuracy = 1 - (sum of edit distances) / (sum of ground-truth characters), over every line.
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import time

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render_text_pages import FONT, make_line  # noqa: E402

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(REPOSITORY, "models", "ocr", "ch_PP-OCRv4_rec_infer.onnx")
KEYS = os.path.join(REPOSITORY, "models", "ocr", "ppocr_keys_v1.txt")
HEIGHT, WIDTH = 48, 320
MAX_CHARACTERS = 18  # lines longer than this would be squeezed below PaddleOCR's aspect ratio at width 320


def line_text(generator):
    """A line of the page generator's words and numbers, cut at a word boundary to fit width 320."""
    tokens = make_line(generator).split(" ")
    text = tokens[0][:MAX_CHARACTERS]
    for token in tokens[1:]:
        if len(text) + 1 + len(token) > MAX_CHARACTERS:
            break
        text += " " + token
    return text


def render_line(text, generator):
    """The text in black or dark grey on white, at a random size, cropped to its ink with a small margin."""
    size = generator.randint(24, 44)
    font = ImageFont.truetype(FONT, size)
    left, top, right, bottom = font.getbbox(text)
    margin_x, margin_y = generator.randint(2, 10), generator.randint(2, 8)
    picture = Image.new("RGB", (right - left + 2 * margin_x, bottom - top + 2 * margin_y), (255, 255, 255))
    shade = generator.randint(0, 70)
    ImageDraw.Draw(picture).text((margin_x - left, margin_y - top), text, font=font, fill=(shade, shade, shade))
    return np.asarray(picture)[:, :, ::-1]  # BGR, as cv2.imread gives PaddleOCR


def preprocess(bgr):
    """PaddleOCR's resize_norm_img for rec_image_shape [3, 48, 320]."""
    height, width = bgr.shape[:2]
    resized_width = min(WIDTH, int(math.ceil(HEIGHT * width / float(height))))
    resized = cv2.resize(bgr, (resized_width, HEIGHT)).astype("float32")
    resized = resized.transpose((2, 0, 1)) / 255.0
    resized = (resized - 0.5) / 0.5
    padded = np.zeros((3, HEIGHT, WIDTH), dtype=np.float32)
    padded[:, :, :resized_width] = resized
    return padded


def make_set(seed, count):
    generator = random.Random(seed)
    texts, tensors = [], []
    for _ in range(count):
        text = line_text(generator)
        texts.append(text)
        tensors.append(preprocess(render_line(text, generator)))
    return texts, np.stack(tensors)


def load_characters():
    with open(KEYS, encoding="utf-8") as file:
        keys = [line.rstrip("\n").rstrip("\r") for line in file]
    return ["<blank>"] + keys + [" "]  # PaddleOCR's CTCLabelDecode with use_space_char=True


def ctc_decode(probabilities, characters):
    texts = []
    for sequence in probabilities.argmax(axis=2):
        text, previous = [], -1
        for index in sequence:
            if index != previous and index != 0:
                text.append(characters[index])
            previous = index
        texts.append("".join(text))
    return texts


def edit_distance(a, b):
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[len(b)]


def character_accuracy(predictions, truths):
    edits = sum(edit_distance(p, t) for p, t in zip(predictions, truths))
    return 1.0 - edits / float(sum(len(t) for t in truths))


def run_ort(model, batch_path, output_path):
    subprocess.run(["node", os.path.join(REPOSITORY, "tools", "ort_run_batch.js"), model, "x", batch_path, output_path],
                   check=True)
    return np.load(output_path)


def run_sim(npukit, model, target, evaluation, work):
    """The QDQ file on npukit's sim backend (the target's integer arithmetic), one line per run."""
    outputs = []
    for index, tensor in enumerate(evaluation):
        line_path = os.path.join(work, "sim_line.npy")
        output_directory = os.path.join(work, "sim_output")
        np.save(line_path, tensor[None])
        subprocess.run([npukit, "run", model, "--backend", "sim", "--target", target, "--input", "x=" + line_path,
                        "--output-dir", output_directory], check=True, stdout=subprocess.DEVNULL)
        files = sorted(os.listdir(output_directory))
        if len(files) != 1:
            raise SystemExit("expected one output of the recognizer in %s, found %s" % (output_directory, files))
        outputs.append(np.load(os.path.join(output_directory, files[0])))
    return np.concatenate(outputs, axis=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="/tmp/npukit_quantize_ocr")
    parser.add_argument("--target", default="rk3588")
    parser.add_argument("--calibration-lines", type=int, default=64)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--calibration-seed", type=int, default=1001)
    parser.add_argument("--evaluation-seed", type=int, default=2002)
    parser.add_argument("--method", default="percentile")
    parser.add_argument("--weights", help="npukit quantize --weights (int8, int4; default: the target's)")
    parser.add_argument("--group-size", type=int, help="npukit quantize --group-size (weights per group)")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="further npukit quantize arguments")
    parser.add_argument("--npukit", default=os.path.join(REPOSITORY, "build", "npukit"))
    parser.add_argument("--sim", action="store_true", help="also run the QDQ file on npukit's sim backend")
    parser.add_argument("--sim-lines", type=int, help="run the sim on the first N evaluation lines only")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()

    os.makedirs(arguments.work, exist_ok=True)
    calibration_directory = os.path.join(arguments.work, "calibration")
    os.makedirs(calibration_directory, exist_ok=True)
    calibration_texts, calibration = make_set(arguments.calibration_seed, arguments.calibration_lines)
    for index, tensor in enumerate(calibration):
        np.save(os.path.join(calibration_directory, "line_%03d.npy" % index), tensor[None])
    texts, evaluation = make_set(arguments.evaluation_seed, arguments.lines)
    overlap = len(set(texts) & set(calibration_texts))
    batch_path = os.path.join(arguments.work, "evaluation.npy")
    np.save(batch_path, evaluation)

    weight_options = []
    scheme = "W8A8"
    if arguments.weights:
        weight_options += ["--weights", arguments.weights]
        scheme = "W%sA8" % arguments.weights.replace("uint", "").replace("int", "")
    if arguments.group_size:
        weight_options += ["--group-size", str(arguments.group_size)]
        scheme += " per group of %d" % arguments.group_size
    quantized = os.path.join(arguments.work, "rec_%s_%s_%s.onnx" % (arguments.target, arguments.method,
                                                                   scheme.replace(" ", "_")))
    started = time.time()
    subprocess.run([arguments.npukit, "quantize", MODEL, "--target", arguments.target, "--calibration",
                    calibration_directory, "--input-shape", "x=1,3,%d,%d" % (HEIGHT, WIDTH), "--method",
                    arguments.method, "-o", quantized] + weight_options + arguments.extra, check=True,
                   stdout=subprocess.DEVNULL)
    quantize_seconds = time.time() - started

    characters = load_characters()
    float_texts = ctc_decode(run_ort(MODEL, batch_path, os.path.join(arguments.work, "float.npy")), characters)
    quantized_texts = ctc_decode(run_ort(quantized, batch_path, os.path.join(arguments.work, "quantized.npy")), characters)
    float_accuracy = character_accuracy(float_texts, texts)
    quantized_accuracy = character_accuracy(quantized_texts, texts)
    result = {
        "model": os.path.relpath(MODEL, REPOSITORY),
        "target": arguments.target,
        "method": arguments.method,
        "scheme": scheme,
        "input_shape": [1, 3, HEIGHT, WIDTH],
        "calibration_lines": arguments.calibration_lines,
        "evaluation_lines": arguments.lines,
        "evaluation_characters": sum(len(t) for t in texts),
        "lines_in_both_sets": overlap,
        "fp32_character_accuracy": float_accuracy,
        "qdq_character_accuracy": quantized_accuracy,
        "drop_points": 100.0 * (float_accuracy - quantized_accuracy),
        "lines_that_differ": sum(a != b for a, b in zip(float_texts, quantized_texts)),
        "quantize_seconds": quantize_seconds,
    }
    if arguments.sim:
        started = time.time()
        count = len(texts) if arguments.sim_lines is None else max(1, min(arguments.sim_lines, len(texts)))
        sim_texts = ctc_decode(run_sim(arguments.npukit, quantized, arguments.target, evaluation[:count],
                                       arguments.work), characters)
        subset_float = character_accuracy(float_texts[:count], texts[:count])
        result["sim_lines"] = count
        result["sim_character_accuracy"] = character_accuracy(sim_texts, texts[:count])
        result["sim_fp32_character_accuracy"] = subset_float
        result["sim_ort_qdq_character_accuracy"] = character_accuracy(quantized_texts[:count], texts[:count])
        result["sim_drop_points"] = 100.0 * (subset_float - result["sim_character_accuracy"])
        result["sim_lines_that_differ_from_ort_qdq"] = sum(a != b for a, b in zip(sim_texts, quantized_texts))
        result["sim_seconds"] = time.time() - started
    if arguments.json:
        print(json.dumps(result, indent=1))
    else:
        print("PP-OCRv4 rec, %d evaluation lines (%d characters), ONNX Runtime on both files" %
              (arguments.lines, result["evaluation_characters"]))
        print("  FP32 character accuracy: %.2f%%" % (100 * float_accuracy))
        print("  QDQ  character accuracy: %.2f%% (%s %s, %s, %d calibration lines)" %
              (100 * quantized_accuracy, arguments.target, scheme, arguments.method, arguments.calibration_lines))
        print("  drop: %.2f points; %d lines read differently" % (result["drop_points"], result["lines_that_differ"]))
        if arguments.sim:
            print("  sim  character accuracy: %.2f%% on the first %d lines (npukit --backend sim --target %s; FP32 "
                  "%.2f%% and ONNX Runtime QDQ %.2f%% on those lines; drop %.2f points; %d lines read differently "
                  "from ONNX Runtime on the same file)" %
                  (100 * result["sim_character_accuracy"], result["sim_lines"], arguments.target,
                   100 * result["sim_fp32_character_accuracy"], 100 * result["sim_ort_qdq_character_accuracy"],
                   result["sim_drop_points"], result["sim_lines_that_differ_from_ort_qdq"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
