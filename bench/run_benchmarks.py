#!/usr/bin/env python3
"""npukit cpu vs ONNX Runtime vs OpenCV DNN, side by side, and docs/benchmarks.md.

    /usr/bin/python3 bench/run_benchmarks.py [--rounds 3] [--iterations 10] [--threads 1,2]
                                             [--models mobilenetv2,resnet50,...] [--no-opencv]

The machine is noisy (setup-notes: the same run can be 1.5-3x slower for a minute), so every measurement is
a fresh process with warm-up and N timed runs, the runtimes take turns inside each round (interleaved, the
order rotated every round), and the table reports the median over rounds of each runtime's median, and the
ratio npukit / ORT of those medians. It is a benchmark, not a test: nothing here fails on a slow result.
Needs: build/npukit (Release), node + onnxruntime-node@1.30.0 (tools/make_models.sh puts it in
third_party/ort; --ort-dir to point elsewhere), libopencv-dev for the OpenCV runner (compiled here).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name, file under models/, input name, input shape (fixed so every runtime sees the same work)
MODELS = {
    "mobilenetv2": ("generated/mobilenetv2.onnx", "input", [1, 3, 224, 224]),
    "resnet50": ("generated/resnet50.onnx", "input", [1, 3, 224, 224]),
    "yolov5s": ("generated/yolov5s.onnx", "images", [1, 3, 640, 640]),
    "yolov8n": ("generated/yolov8n.onnx", "images", [1, 3, 640, 640]),
    "ocr_det": ("ocr/ch_PP-OCRv4_det_infer.onnx", "x", [1, 3, 640, 640]),
}
LABELS = {"mobilenetv2": "MobileNetV2 224", "resnet50": "ResNet50 224", "yolov5s": "YOLOv5s 640",
          "yolov8n": "YOLOv8n 640", "ocr_det": "PP-OCRv4 det 640"}


def run_json(command, timeout):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after %d s" % timeout}
    if done.returncode != 0:
        lines = [l.strip("> ").strip() for l in (done.stderr or done.stdout).strip().splitlines()]
        lines = [l for l in lines if l]
        # OpenCV prints the cause mid-stream ("Node [Clip@ai.onnx] ... parse error"): prefer that line.
        named = [l for l in lines if "parse error" in l or "error:" in l.lower()]
        return {"error": (named or lines or ["exit %d" % done.returncode])[-1][:160]}
    try:
        return json.loads(done.stdout)  # npukit bench --json: one indented document
    except json.JSONDecodeError:
        pass
    for line in reversed(done.stdout.strip().splitlines()):  # the runners: one JSON line after any chatter
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    return {"error": "no JSON in the output"}


def measure_npukit(arguments, model, threads):
    path, input_name, shape = MODELS[model]
    result = run_json([arguments.npukit, "bench", os.path.join(arguments.models_dir, path), "--backend", "cpu",
                       "--threads", str(threads), "--warmup", str(arguments.warmup), "--iterations",
                       str(arguments.iterations), "--json", "--input-shape",
                       "%s=%s" % (input_name, ",".join(map(str, shape)))], arguments.timeout)
    if "error" in result:
        return result
    return {"median_ms": result["latency_ms"]["p50"], "peak_rss_mib": result["peak_rss_mib"]}


def measure_ort(arguments, model, threads):
    path, input_name, shape = MODELS[model]
    env_command = ["node", os.path.join(REPOSITORY, "bench", "ort_runner.js"), os.path.join(arguments.models_dir, path),
                   str(threads), str(arguments.warmup), str(arguments.iterations),
                   "%s=%s" % (input_name, ",".join(map(str, shape)))]
    os.environ["NPUKIT_ORT_DIR"] = arguments.ort_dir
    return run_json(env_command, arguments.timeout)


def measure_opencv(arguments, model, threads):
    path, _, shape = MODELS[model]
    return run_json([arguments.opencv_runner, os.path.join(arguments.models_dir, path), str(threads),
                     str(arguments.warmup), str(arguments.iterations)] + [str(d) for d in shape], arguments.timeout)


def build_opencv_runner(arguments):
    target = os.path.join(REPOSITORY, "build", "bench", "opencv_runner")
    source = os.path.join(REPOSITORY, "bench", "opencv_runner.cpp")
    if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(source):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "opencv4"], capture_output=True, text=True)
    if flags.returncode != 0:
        print("OpenCV runner: pkg-config opencv4 failed (apt-get install libopencv-dev); OpenCV left out", file=sys.stderr)
        return None
    compiled = subprocess.run(["g++", "-O2", "-std=c++17", source, "-o", target] + flags.stdout.split())
    return target if compiled.returncode == 0 else None


def machine_description():
    model, flags = "", []
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                present = set(line.split(":", 1)[1].split())
                flags = [f for f in ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni") if f in present]
    return "%s, %d logical CPUs, %s, %s" % (model, os.cpu_count(), " ".join(flags), platform.platform())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--models-dir", default=os.path.join(REPOSITORY, "models"))
    parser.add_argument("--npukit", default=os.path.join(REPOSITORY, "build", "npukit"))
    parser.add_argument("--ort-dir", default=os.path.join(REPOSITORY, "third_party", "ort"))
    parser.add_argument("--no-opencv", action="store_true")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--output", default=os.path.join(REPOSITORY, "docs", "benchmarks.md"))
    arguments = parser.parse_args()
    models = arguments.models.split(",")
    thread_counts = [int(t) for t in arguments.threads.split(",")]
    arguments.opencv_runner = None if arguments.no_opencv else build_opencv_runner(arguments)
    runtimes = [("npukit", measure_npukit), ("ort", measure_ort)]
    if arguments.opencv_runner:
        runtimes.append(("opencv", measure_opencv))

    samples = {}  # (model, threads, runtime) -> list of per-round results
    for round_index in range(arguments.rounds):
        for model in models:
            for threads in thread_counts:
                order = runtimes[round_index % len(runtimes):] + runtimes[:round_index % len(runtimes)]
                for name, measure in order:
                    result = measure(arguments, model, threads)
                    samples.setdefault((model, threads, name), []).append(result)
                    shown = "%.1f ms" % result["median_ms"] if "median_ms" in result else result["error"]
                    print("round %d  %-12s %d thread(s)  %-7s %s" % (round_index + 1, model, threads, name, shown),
                          flush=True)

    def summary(model, threads, name):
        results = samples.get((model, threads, name), [])
        good = [r for r in results if "median_ms" in r]
        if not good:
            return None, (results[0]["error"] if results else "not run")
        return {"ms": statistics.median(r["median_ms"] for r in good),
                "rss": max(r["peak_rss_mib"] for r in good),
                "baseline": max(r.get("node_baseline_rss_mib", 0) for r in good),
                "per_round": [round(r["median_ms"], 1) for r in good]}, None

    lines = ["# Benchmarks: npukit cpu vs ONNX Runtime vs OpenCV DNN", "",
             "Written by `bench/run_benchmarks.py` on %s UTC. Do not edit this section by hand; rerun the script"
             " (it replaces only this section)." %
             datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), "",
             "- Machine: %s" % machine_description(),
             "- npukit: backend `cpu` (oneDNN %s + own kernels, ref fallback), `npukit bench --warmup %d --iterations %d`" %
             ("2.6.3", arguments.warmup, arguments.iterations),
             "- ONNX Runtime: onnxruntime-node 1.30.0 from Node, graph optimisation `all`, sequential, intra-op threads = N",
             "- OpenCV DNN: 4.6.0 (`libopencv-dev`), `DNN_BACKEND_OPENCV`, `cv::setNumThreads(N)`",
             "- Method: %d interleaved rounds; in each round every runtime measures every model in a fresh process"
             " (the order rotates each round); a cell is the median over rounds of the per-process median latency."
             " Random-weight exports (tools/make_models.sh), batch 1, fp32." % arguments.rounds,
             "- Peak RSS is the process's maximum resident set. ORT runs inside Node, whose own baseline"
             " (measured before ORT loads) is given apart; npukit and OpenCV are plain C++ processes.", "",
             "| model | threads | npukit ms | ORT ms | OpenCV ms | npukit / ORT | bar ≤ 1.00 | npukit RSS MiB | ORT RSS MiB (Node baseline) |",
             "|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for model in models:
        for threads in thread_counts:
            ours, our_error = summary(model, threads, "npukit")
            ort, ort_error = summary(model, threads, "ort")
            cv, cv_error = summary(model, threads, "opencv") if arguments.opencv_runner else (None, "not run")
            ratio = ours["ms"] / ort["ms"] if ours and ort else None
            lines.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                LABELS.get(model, model), threads,
                "%.1f" % ours["ms"] if ours else "failed: " + our_error,
                "%.1f" % ort["ms"] if ort else "failed: " + ort_error,
                "%.1f" % cv["ms"] if cv else "failed: " + str(cv_error)[:60],
                "%.2f" % ratio if ratio else "-",
                ("met" if ratio <= 1.0 else "**not met**") if ratio else "-",
                "%.0f" % ours["rss"] if ours else "-",
                "%.0f (%.0f)" % (ort["rss"], ort["baseline"]) if ort else "-"))
    lines += ["", "Per-round medians (ms), for judging the noise:", ""]
    for model in models:
        for threads in thread_counts:
            parts = []
            for name, _ in runtimes:
                result, _ = summary(model, threads, name)
                parts.append("%s %s" % (name, result["per_round"] if result else "-"))
            lines.append("- %s, %d thread(s): %s" % (LABELS.get(model, model), threads, "; ".join(parts)))
    replace_section(arguments.output, "\n".join(lines))
    print("wrote its section of", arguments.output)


BEGIN_MARKER = "<!-- cpu fp32 benchmark: begin (written by bench/run_benchmarks.py; the rest of this file is kept) -->"
END_MARKER = "<!-- cpu fp32 benchmark: end -->"


def replace_section(path, body):
    """Writes `body` between this script's markers in `path`, keeping every other section (vision, pipeline,
    int8, ... written by other scripts or by hand); a file without the markers gets the section at its top."""
    section = BEGIN_MARKER + "\n" + body.rstrip("\n") + "\n" + END_MARKER + "\n"
    text = open(path).read() if os.path.exists(path) else ""
    if BEGIN_MARKER in text and END_MARKER in text:
        start = text.index(BEGIN_MARKER)
        end = text.index(END_MARKER) + len(END_MARKER) + 1
        text = text[:start] + section + text[end:]
    else:
        text = section + ("\n" + text if text else "")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = path + ".partial"
    with open(temporary, "w") as out:
        out.write(text)
    os.replace(temporary, path)


if __name__ == "__main__":
    main()
