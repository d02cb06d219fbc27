#!/usr/bin/python3
"""Output SQNR of quantized models against their float model, on held-out samples, on ONNX Runtime and on
npukit's sim backend (the target's integer arithmetic). For the numbers of docs/quantization.md
"Algorithms (issue 11)".

    # samples: N .npy files of uniform [0, 1) values (what the random-weight exports' BatchNorm saw)
    /usr/bin/python3 tools/quantized_output_sqnr.py --make-samples DIR --count 32 --seed 1 --shape 1,3,224,224
    # SQNR of each QDQ file against FLOAT on the samples of DIR
    /usr/bin/python3 tools/quantized_output_sqnr.py FLOAT.onnx QDQ.onnx [QDQ2.onnx ...] --samples DIR \
        --target rk3588 [--npukit build/npukit] [--no-sim] [--json]

SQNR = 10 log10(sum ref^2 / sum (ref - quantized)^2) over every output element of every sample together.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_samples(directory, count, seed, shape):
    os.makedirs(directory, exist_ok=True)
    generator = np.random.default_rng(seed)
    for index in range(count):
        np.save(os.path.join(directory, "sample_%03d.npy" % index), generator.random(shape, dtype=np.float32))
    print("%d samples of %s in %s (seed %d)" % (count, list(shape), directory, seed))


def input_name(model):
    import onnx
    graph = onnx.load(model, load_external_data=False).graph
    initializers = {tensor.name for tensor in graph.initializer}
    names = [value.name for value in graph.input if value.name not in initializers]
    if len(names) != 1:
        raise SystemExit("%s: expected one input, found %s" % (model, names))
    return names[0]


def run_ort(model, batch_path, work):
    output_path = os.path.join(work, "ort_output.npy")
    subprocess.run(["node", os.path.join(REPOSITORY, "tools", "ort_run_batch.js"), model, input_name(model), batch_path,
                    output_path], check=True)
    return np.load(output_path)


def run_sim(npukit, model, target, files, work):
    name = input_name(model)
    outputs = []
    for path in files:
        directory = os.path.join(work, "sim_output")
        subprocess.run([npukit, "run", model, "--backend", "sim", "--target", target, "--input", name + "=" + path,
                        "--output-dir", directory], check=True, stdout=subprocess.DEVNULL)
        produced = sorted(os.listdir(directory))
        outputs.append(np.load(os.path.join(directory, produced[0])))
    return np.concatenate(outputs, axis=0)


def sqnr(reference, measured):
    noise = float(np.sum((reference.astype(np.float64) - measured) ** 2))
    signal = float(np.sum(reference.astype(np.float64) ** 2))
    return float("inf") if noise == 0 else 10.0 * np.log10(signal / noise)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help="FLOAT.onnx then one or more QDQ files")
    parser.add_argument("--samples", help="folder of .npy samples (batch 1 each)")
    parser.add_argument("--target", default="rk3588")
    parser.add_argument("--npukit", default=os.path.join(REPOSITORY, "build", "npukit"))
    parser.add_argument("--no-sim", action="store_true", help="ONNX Runtime only")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--make-samples", metavar="DIR")
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shape", default="1,3,224,224")
    arguments = parser.parse_args()
    if arguments.make_samples:
        make_samples(arguments.make_samples, arguments.count, arguments.seed, tuple(int(d) for d in arguments.shape.split(",")))
        return
    if len(arguments.models) < 2 or not arguments.samples:
        parser.error("give FLOAT.onnx, at least one QDQ file and --samples DIR")
    files = sorted(os.path.join(arguments.samples, name) for name in os.listdir(arguments.samples) if name.endswith(".npy"))
    if not files:
        raise SystemExit("no .npy file in %s" % arguments.samples)
    with tempfile.TemporaryDirectory(prefix="npukit_sqnr_") as work:
        batch_path = os.path.join(work, "batch.npy")
        np.save(batch_path, np.concatenate([np.load(path) for path in files], axis=0))
        reference = run_ort(arguments.models[0], batch_path, work)
        rows = []
        for model in arguments.models[1:]:
            row = {"model": model, "samples": len(files), "ort_sqnr_db": sqnr(reference, run_ort(model, batch_path, work))}
            if not arguments.no_sim:
                row["sim_sqnr_db"] = sqnr(reference, run_sim(arguments.npukit, model, arguments.target, files, work))
                row["target"] = arguments.target
            rows.append(row)
    if arguments.json:
        print(json.dumps(rows, indent=2))
        return
    print("output SQNR against %s on %d held-out samples" % (arguments.models[0], len(files)))
    for row in rows:
        sim = " sim (%s) %.2f dB" % (row["target"], row["sim_sqnr_db"]) if "sim_sqnr_db" in row else ""
        print("  %s: ONNX Runtime %.2f dB%s" % (row["model"], row["ort_sqnr_db"], sim))


if __name__ == "__main__":
    sys.exit(main())
