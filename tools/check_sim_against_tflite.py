#!/usr/bin/python3
"""The bit-exact bar of the sim backend: `npukit run MODEL --backend sim --target edgetpu` must equal the TFLite
integer reference (tools/tflite_reference.py) on every element of every output the reference computes, for
every QDQ model of tools/make_qdq_models.py and three inputs each: the model's test input, a wide one that
saturates (uniform in [-4, 4]), and one whose values sit exactly halfway between two grid points of the input
scale (the quantize rounding's ties). Outputs the reference cannot compute (an op TFLite runs with a kernel
not written there) are listed, never counted as passed. Exit 1 on the first model with a difference.

    /usr/bin/python3 tools/check_sim_against_tflite.py --npukit build/npukit --models models/generated/qdq
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def input_scale(model):
    constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] == model.graph.input[0].name:
            return float(constants[node.input[1]])
    raise SystemExit("no QuantizeLinear of the graph input")


def test_inputs(model_path):
    model = onnx.load(model_path)
    given = np.load(model_path[:-len(".onnx")] + ".input.npy")
    rng = np.random.default_rng(7)
    wide = rng.uniform(-4, 4, given.shape).astype(np.float32)
    scale = input_scale(model)
    ties = ((rng.integers(-40, 40, given.shape) + 0.5) * scale).astype(np.float32)
    return {"given": given, "wide": wide, "ties": ties}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--npukit", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--target", default="edgetpu")
    arguments = parser.parse_args()
    models = sorted(glob.glob(os.path.join(arguments.models, "*.onnx")))
    if not models:
        sys.exit(f"no models in {arguments.models} (tools/make_models.sh writes them)")
    compared = elements = 0
    skipped = []
    with tempfile.TemporaryDirectory() as work:
        for model in models:
            name = os.path.basename(model)[:-len(".onnx")]
            for kind, values in test_inputs(model).items():
                case = os.path.join(work, f"{name}_{kind}")
                os.makedirs(case)
                input_path = os.path.join(case, "input.npy")
                np.save(input_path, values)
                sim_dir, reference_dir = os.path.join(case, "sim"), os.path.join(case, "reference")
                run = subprocess.run([arguments.npukit, "run", model, "--backend", "sim", "--target", arguments.target,
                                      "--input", f"input={input_path}", "--output-dir", sim_dir, "--json"],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    sys.exit(f"{name} ({kind}): npukit run failed:\n{run.stderr}")
                report = subprocess.run([sys.executable, os.path.join(HERE, "tflite_reference.py"), model, "--input", input_path,
                                         "--output-dir", reference_dir, "--json"], capture_output=True, text=True)
                if report.returncode != 0:
                    sys.exit(f"{name} ({kind}): tflite_reference.py failed:\n{report.stderr}")
                for output, entry in json.loads(report.stdout).items():
                    if not entry["computed"]:
                        if kind == "given":
                            skipped.append(f"{name}/{output}: {entry['reason']}")
                        continue
                    expected = np.load(os.path.join(reference_dir, f"{output}.npy"))
                    actual = np.load(os.path.join(sim_dir, f"{output}.npy"))
                    if expected.shape != actual.shape or not np.array_equal(expected, actual):
                        differing = int(np.sum(expected != actual)) if expected.shape == actual.shape else -1
                        sys.exit(f"{name}/{output} ({kind} input): sim differs from the TFLite reference on {differing} of "
                                 f"{expected.size} elements; first: sim {actual.ravel()[:8]} reference {expected.ravel()[:8]}")
                    compared += 1
                    elements += expected.size
    print(f"sim --target {arguments.target} equals the TFLite reference: {compared} outputs, {elements} elements, "
          f"{len(models)} models x 3 inputs")
    for line in skipped:
        print(f"not compared (the reference has no kernel): {line}")


if __name__ == "__main__":
    main()
