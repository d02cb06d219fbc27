#!/usr/bin/env python3
"""int8 on the cpu backend vs ONNX Runtime on the same QDQ file vs npukit FP32, and a section of docs/benchmarks.md.

    /usr/bin/python3 bench/int8_benchmark.py [--models small_cnn_uint8,...] [--threads 1,2] [--rounds 3]
                                             [--iterations 20] [--no-write] [--whole-models] [--calibration-time]

--whole-models adds MobileNetV2, ResNet50, YOLOv5s and YOLOv8n (models/generated/*.onnx) quantized here by
`npukit quantize MODEL --target edgetpu --method minmax --calibration` a few random pictures of the model's input
size (a .npy batch: 4 at 224x224, 2 at 640x640), the way docs/benchmarks.md's files were made; --activations uint8
makes uint8-activation files (the ones ONNX Runtime's x86 CPU EP runs as QLinearConv / QLinearMatMul). --calibration-time
also writes 100 generated pictures (random PNG, 640x640) and times `npukit quantize` of YOLOv5s calibrated on
them (one run; the table says so).

Each QDQ model (models/generated/qdq/NAME.onnx, tools/make_qdq_models.py, or any QDQ file given as a path) is
measured three ways, each a fresh process with warm-up and N timed runs, the three taking turns inside every
round (order rotated): npukit `bench --backend cpu` on the QDQ file (QDQ groups run as int8 QLinearConv /
QLinearMatMul, the rest as DQ -> float -> Q), ONNX Runtime 1.30 with its default optimisations on the same file
(bench/ort_runner.js), and npukit on the float model the QDQ file was made from (the QDQ pairs removed and the
weights dequantized here: same graph, FP32). Reported: the median over rounds of each median, and the ratios.
A benchmark, not a test: nothing fails on a slow result.
"""
import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_benchmarks  # noqa: E402  (run_json, machine_description)

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODELS = "small_cnn_uint8,small_cnn_int8"
SECTION = "## int8 on the cpu backend (QDQ files)"


def float_model_of(qdq_path, output_path):
    """The same graph in FP32: constant DequantizeLinear inputs become float initializers, activation
    QuantizeLinear -> DequantizeLinear pairs are bypassed."""
    model = onnx.load(qdq_path)
    graph = model.graph
    initializers = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producers = {output: node for node in graph.node for output in node.output}
    rename, keep, new_initializers = {}, [], []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in initializers:
            q = initializers[node.input[0]].astype(np.float64)
            scale = initializers[node.input[1]].astype(np.float64)
            zero = initializers[node.input[2]].astype(np.float64) if len(node.input) > 2 and node.input[2] else 0.0
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            if np.ndim(scale) == 1 and scale.size > 1:
                shape = [1] * q.ndim
                shape[axis] = -1
                scale, zero = scale.reshape(shape), np.reshape(zero, shape) if np.ndim(zero) else zero
            new_initializers.append(numpy_helper.from_array(((q - zero) * scale).astype(np.float32), node.output[0]))
            continue
        if node.op_type == "DequantizeLinear":
            producer = producers.get(node.input[0])
            if producer is not None and producer.op_type == "QuantizeLinear":
                rename[node.output[0]] = producer.input[0]
                continue
        if node.op_type == "QuantizeLinear":
            continue
        keep.append(node)

    def resolve(name):
        while name in rename:
            name = rename[name]
        return name

    for node in keep:
        for i, name in enumerate(node.input):
            node.input[i] = resolve(name)
    graph_outputs = {o.name for o in graph.output}
    for node in keep:  # a graph output fed by a removed Q -> DQ: the float value takes the output's name
        for i, name in enumerate(node.output):
            for output in graph_outputs:
                if resolve(output) == name and output != name:
                    node.output[i] = output
    del graph.node[:]
    graph.node.extend(keep)
    used = {name for node in keep for name in node.input}
    kept_initializers = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept_initializers + [i for i in new_initializers if i.name in used])
    onnx.save(model, output_path)


WHOLE_MODELS = [("mobilenetv2", 224, 4), ("resnet50", 224, 4), ("yolov5s", 640, 2), ("yolov8n", 640, 2)]


def quantize_whole_models(arguments, work):
    """QDQ files of the whole models, calibrated on random pictures (a .npy batch); returns their paths."""
    paths = []
    for name, size, count in WHOLE_MODELS:
        source = os.path.join(REPOSITORY, "models", "generated", name + ".onnx")
        batch = os.path.join(work, "calibration_%d.npy" % size)
        if not os.path.exists(batch):
            np.save(batch, np.random.default_rng(0).random((count, 3, size, size), dtype=np.float32))
        suffix = "_qdq" if not arguments.activations else "_qdq_" + arguments.activations
        output = os.path.join(work, name + suffix + ".onnx")
        command = [arguments.npukit, "quantize", source, "--target", "edgetpu", "--method", "minmax",
                   "--calibration", batch, "-o", output]
        if arguments.activations:
            command += ["--activations", arguments.activations]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit("npukit quantize %s failed: %s" % (name, done.stderr.strip()[-300:]))
        paths.append(output)
    return paths


def time_calibration(arguments, work):
    """Seconds `npukit quantize` takes on YOLOv5s calibrated on 100 generated 640x640 pictures."""
    from PIL import Image
    folder = os.path.join(work, "pictures")
    os.makedirs(folder, exist_ok=True)
    generator = np.random.default_rng(1)
    for index in range(100):
        pixels = generator.integers(0, 256, (640, 640, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, "picture_%03d.png" % index))
    start = time.monotonic()
    done = subprocess.run([arguments.npukit, "quantize", os.path.join(REPOSITORY, "models", "generated", "yolov5s.onnx"),
                           "--target", "edgetpu", "--method", "minmax", "--calibration", folder,
                           "-o", os.path.join(work, "yolov5s_100.onnx")], capture_output=True, text=True)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        return "unknown (npukit quantize failed: %s)" % done.stderr.strip()[-200:]
    return "%.1f s" % seconds


def input_shape(path):
    model = onnx.load(path)
    first = model.graph.input[0]
    return first.name, [d.dim_value if d.dim_value > 0 else 1 for d in first.type.tensor_type.shape.dim]


def measure_npukit(arguments, path, name, shape, threads, binary=None):
    result = run_benchmarks.run_json([binary or arguments.npukit, "bench", path, "--backend", "cpu", "--threads", str(threads),
                                      "--warmup", str(arguments.warmup), "--iterations", str(arguments.iterations),
                                      "--json", "--input-shape", "%s=%s" % (name, ",".join(map(str, shape)))],
                                     arguments.timeout)
    return result if "error" in result else {"median_ms": result["latency_ms"]["p50"]}


def measure_ort(arguments, path, name, shape, threads):
    os.environ["NPUKIT_ORT_DIR"] = arguments.ort_dir
    return run_benchmarks.run_json(["node", os.path.join(REPOSITORY, "bench", "ort_runner.js"), path, str(threads),
                                    str(arguments.warmup), str(arguments.iterations),
                                    "%s=%s" % (name, ",".join(map(str, shape)))], arguments.timeout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=DEFAULT_MODELS, help="names under models/generated/qdq, or .onnx paths")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--npukit", default=os.path.join(REPOSITORY, "build", "npukit"))
    parser.add_argument("--baseline", default="",
                        help="another npukit binary (e.g. main's, for before / after): its int8 run takes its turn in "
                             "every round too, and the table gains its time and its ratio to ORT")
    parser.add_argument("--ort-dir", default=os.path.join(REPOSITORY, "third_party", "ort"))
    parser.add_argument("--output", default=os.path.join(REPOSITORY, "docs", "benchmarks.md"))
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--whole-models", action="store_true",
                        help="also quantize and measure MobileNetV2, ResNet50, YOLOv5s, YOLOv8n")
    parser.add_argument("--activations", default="",
                        help="with --whole-models: npukit quantize --activations (int8 | uint8; default the target's, "
                             "int8 for edgetpu). ONNX Runtime on x86 runs Conv / MatMul as integer kernels for uint8 only")
    parser.add_argument("--calibration-time", action="store_true",
                        help="also time npukit quantize of YOLOv5s on 100 generated pictures")
    arguments = parser.parse_args()
    threads_list = [int(t) for t in arguments.threads.split(",")]
    work = tempfile.mkdtemp(prefix="npukit_int8_bench_")
    entries = [entry for entry in arguments.models.split(",") if entry]
    if arguments.whole_models:
        entries += quantize_whole_models(arguments, work)
    calibration = time_calibration(arguments, work) if arguments.calibration_time else None
    load_before = os.getloadavg()
    models = []
    for entry in entries:
        path = entry if entry.endswith(".onnx") else os.path.join(REPOSITORY, "models", "generated", "qdq", entry + ".onnx")
        label = os.path.splitext(os.path.basename(path))[0]
        float_path = os.path.join(work, label + ".fp32.onnx")
        float_model_of(path, float_path)
        models.append((label, path, float_path) + input_shape(path))
    runtimes = [("int8", lambda a, m, t: measure_npukit(a, m[1], m[3], m[4], t)),
                ("ort", lambda a, m, t: measure_ort(a, m[1], m[3], m[4], t)),
                ("fp32", lambda a, m, t: measure_npukit(a, m[2], m[3], m[4], t))]
    if arguments.baseline:
        runtimes.append(("baseline", lambda a, m, t: measure_npukit(a, m[1], m[3], m[4], t, a.baseline)))
    samples = {}
    for round_index in range(arguments.rounds):
        for model in models:
            for threads in threads_list:
                order = runtimes[round_index % len(runtimes):] + runtimes[:round_index % len(runtimes)]
                for name, measure in order:
                    result = measure(arguments, model, threads)
                    samples.setdefault((model[0], threads, name), []).append(result)
                    print("round %d %s %d thread(s) %s: %s" % (round_index + 1, model[0], threads, name,
                                                              result.get("median_ms", result.get("error"))), file=sys.stderr)

    def median(key):
        values = [s["median_ms"] for s in samples.get(key, []) if "median_ms" in s]
        return statistics.median(values) if values else None

    def show(value):
        return "%.3f" % value if value is not None else "unknown (failed)"

    lines = [SECTION, "",
             "`bench/int8_benchmark.py` (%s; %d rounds x %d runs, median of medians). Machine: %s. "
             "int8 = npukit `--backend cpu` on the QDQ file; ORT = ONNX Runtime 1.30, default optimisations, same "
             "file; FP32 = npukit on the same graph without its Q/DQ." % (
                 datetime.date.today().isoformat(), arguments.rounds, arguments.iterations,
                 run_benchmarks.machine_description()),
             "",
             "Load average of the machine (1, 5, 15 min) at the start: %.1f %.1f %.1f; at the end: %.1f %.1f %.1f." % (
                 load_before + os.getloadavg()),
             "", "| model | threads | int8 ms | ORT ms | FP32 ms | int8 / ORT | int8 / FP32 |" +
             (" int8 before ms | before / ORT |" if arguments.baseline else ""),
             "|---|---|---|---|---|---|---|" + ("---|---|" if arguments.baseline else "")]
    if arguments.baseline:
        lines[2] += " Before = `--baseline %s`, its int8 run one more turn in every round." % arguments.baseline
    for model in models:
        for threads in threads_list:
            int8, ort, fp32, before = (median((model[0], threads, n)) for n in ("int8", "ort", "fp32", "baseline"))
            ratio = lambda a, b: "%.2f" % (a / b) if a and b else "unknown"
            line = "| %s %s | %d | %s | %s | %s | %s | %s |" % (model[0], "x".join(map(str, model[4])), threads,
                                                               show(int8), show(ort), show(fp32),
                                                               ratio(int8, ort), ratio(int8, fp32))
            if arguments.baseline:
                line += " %s | %s |" % (show(before), ratio(before, ort))
            lines.append(line)
    if calibration is not None:
        lines += ["", "Calibration time: `npukit quantize` of YOLOv5s (edgetpu, minmax) on 100 generated 640x640 "
                  "pictures, one run, decode and pre-processing included: %s." % calibration]
    table = "\n".join(lines) + "\n"
    print(table)
    if arguments.no_write:
        return
    text = open(arguments.output).read() if os.path.exists(arguments.output) else ""
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + table + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + table
    with open(arguments.output, "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
