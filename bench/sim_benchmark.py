#!/usr/bin/env python3
"""The sim backend's speed: sim vs the cpu backend on the same QDQ file vs npukit FP32, and a section of
docs/benchmarks.md.

    /usr/bin/python3 bench/sim_benchmark.py [--models mobilenetv2,resnet50,yolov8n] [--target rk3588]
                                            [--rounds 3] [--iterations 10] [--no-write] [--baseline BINARY]

Each float model (models/generated/NAME.onnx, or any .onnx path) is quantized once with
`npukit quantize --target T --method minmax --calibration models/detector/demo` (pictures), then measured
three ways, each a fresh `npukit bench` process with warm-up and N timed runs at 1 thread, the three taking
turns inside every round (order rotated): `--backend sim --target T` on the QDQ file, `--backend cpu` on the
same QDQ file (its int8 kernels where they apply, DQ -> float -> Q elsewhere) and `--backend cpu` on the float
model. Reported: the median over rounds of each run's median, images per second (1000 / ms) and the ratios.
The issue's bar: sim no more than 3x the cpu backend's time on the QDQ file. A benchmark, not a test.
--baseline BINARY adds a fourth run in every round: the sim of another npukit build (an earlier commit) on the same
QDQ file, and two columns (its time, this build's sim / its sim): a before / after in one run.
"""
import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_benchmarks  # noqa: E402  (run_json, machine_description)

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODELS = "mobilenetv2,resnet50,yolov8n"
SECTION = "## sim backend speed, --target %s (bench/sim_benchmark.py)"


def quantize(arguments, float_path, qdq_path):
    subprocess.run([arguments.npukit, "quantize", float_path, "--target", arguments.target, "--method", "minmax",
                    "--calibration", arguments.calibration, "-o", qdq_path], check=True, stdout=subprocess.DEVNULL,
                   timeout=arguments.timeout)


def measure(arguments, path, backend, binary=None):
    command = [binary or arguments.npukit, "bench", path, "--threads", "1", "--warmup", str(arguments.warmup),
               "--iterations", str(arguments.iterations), "--json", "--backend", backend]
    if backend == "sim":
        command += ["--target", arguments.target]
    result = run_benchmarks.run_json(command, arguments.timeout)
    return result if "error" in result else {"median_ms": result["latency_ms"]["p50"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=DEFAULT_MODELS, help="names under models/generated, or .onnx paths")
    parser.add_argument("--target", default="rk3588")
    parser.add_argument("--calibration", default=os.path.join(REPOSITORY, "models", "detector", "demo"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--npukit", default=os.path.join(REPOSITORY, "build", "npukit"))
    parser.add_argument("--output", default=os.path.join(REPOSITORY, "docs", "benchmarks.md"))
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--baseline", help="another npukit binary whose sim is measured alongside (before / after)")
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="npukit_sim_bench_")
    models = []
    for entry in arguments.models.split(","):
        float_path = entry if entry.endswith(".onnx") else os.path.join(REPOSITORY, "models", "generated", entry + ".onnx")
        label = os.path.splitext(os.path.basename(float_path))[0]
        qdq_path = os.path.join(work, label + ".qdq.onnx")
        print("quantizing %s for %s" % (label, arguments.target), file=sys.stderr)
        quantize(arguments, float_path, qdq_path)
        models.append((label, float_path, qdq_path))
    runs = [("sim", lambda m: measure(arguments, m[2], "sim")),
            ("int8", lambda m: measure(arguments, m[2], "cpu")),
            ("fp32", lambda m: measure(arguments, m[1], "cpu"))]
    if arguments.baseline:
        runs.append(("baseline", lambda m: measure(arguments, m[2], "sim", arguments.baseline)))
    samples = {}
    for round_index in range(arguments.rounds):
        for model in models:
            order = runs[round_index % len(runs):] + runs[:round_index % len(runs)]
            for name, run in order:
                result = run(model)
                samples.setdefault((model[0], name), []).append(result)
                print("round %d %s %s: %s" % (round_index + 1, model[0], name,
                                              result.get("median_ms", result.get("error"))), file=sys.stderr)

    def median(key):
        values = [s["median_ms"] for s in samples.get(key, []) if "median_ms" in s]
        return statistics.median(values) if values else None

    def show(value):
        return "%.1f" % value if value is not None else "unknown (failed)"

    def per_second(value):
        return "%.2f" % (1000.0 / value) if value else "unknown"

    def ratio(a, b):
        return "%.2f" % (a / b) if a and b else "unknown"

    section = SECTION % arguments.target
    lines = [section, "",
             "`bench/sim_benchmark.py` (%s; %d rounds x %d runs at 1 thread, median of medians, the three runs of a "
             "model interleaved in every round). Machine: %s. The QDQ files: `npukit quantize --target %s --method "
             "minmax --calibration models/detector/demo`. sim = `--backend sim --target %s` on the QDQ file; cpu int8 = "
             "`--backend cpu` on the same QDQ file (its int8 kernels take symmetric weights; groups with weight zero "
             "points run DQ -> float -> Q); FP32 = `--backend cpu` on the float model. The bar (issue 10): sim / cpu int8 <= 3." % (
                 datetime.date.today().isoformat(), arguments.rounds, arguments.iterations,
                 run_benchmarks.machine_description(), arguments.target, arguments.target),
             "", "| model | sim ms | sim images/s | cpu int8 ms | FP32 ms | sim / cpu int8 | sim / FP32 |" +
             (" baseline sim ms | sim / baseline sim |" if arguments.baseline else ""),
             "|---|---|---|---|---|---|---|" + ("---|---|" if arguments.baseline else "")]
    if arguments.baseline:
        lines[2] += " Baseline: `%s`." % arguments.baseline
    for model in models:
        sim, int8, fp32 = (median((model[0], n)) for n in ("sim", "int8", "fp32"))
        row = "| %s | %s | %s | %s | %s | %s | %s |" % (model[0], show(sim), per_second(sim), show(int8), show(fp32),
                                                       ratio(sim, int8), ratio(sim, fp32))
        if arguments.baseline:
            baseline = median((model[0], "baseline"))
            row += " %s | %s |" % (show(baseline), ratio(sim, baseline))
        lines.append(row)
    table = "\n".join(lines) + "\n"
    print(table)
    if arguments.no_write:
        return
    text = open(arguments.output).read() if os.path.exists(arguments.output) else ""
    start = text.find(section)
    if start >= 0:
        end = text.find("\n## ", start + len(section))
        text = text[:start] + table + ("\n" + text[end + 1:] if end >= 0 else "")  # keep the blank line before the next section
    else:
        text = text.rstrip("\n") + "\n\n" + table
    with open(arguments.output, "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
