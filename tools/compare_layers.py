#!/usr/bin/python3
"""Layer-by-layer comparison of npukit with ONNX Runtime: where does an output start to drift?

    /usr/bin/python3 tools/compare_layers.py MODEL.onnx --input images=input.npy [--backend cpu] [--top 15]
                                             [--float64] [--all]

Runs the model on npukit with `--keep all` (every value the backend computes, copied out as produced, so
nothing about the run changes) and on ONNX Runtime with the same values added as graph outputs (a copy of
the model in a temporary folder; graph optimisations off, as tools/ort_reference.js), then prints for each
value, in the order npukit computes it, max|npukit - ORT| / max|ORT|. The first value over --threshold
and the values with the largest error are marked. Values the backend fused away (on cpu: a Conv output
inside its FusedConv, the Sigmoid of a SiLU) are not computed there and so are not compared.
--float64 also runs the same graph in double precision (weights and inputs widened, npukit's ref backend)
and shows how far the backend and ONNX Runtime each are from it: drift that both share is the model's own
sensitivity to float32 rounding; drift only the backend shows is the backend's (docs/fidelity.md).
Needs /usr/bin/python3 with numpy and onnx (Debian), node and third_party/ort (tools/make_models.sh).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy
import onnx

repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def with_every_value_as_output(model_path, names, copy_path):
    """Saves a copy of the model whose graph outputs also list `names` (ORT returns any listed value)."""
    model = onnx.load(model_path)
    inferred = onnx.shape_inference.infer_shapes(model)
    known = {info.name: info for info in list(inferred.graph.value_info) + list(inferred.graph.output)}
    present = {output.name for output in model.graph.output}
    produced = {name for node in model.graph.node for name in node.output}
    added = []
    for name in names:
        if name in present or name not in produced:
            continue
        # ORT needs an element type for an output; values shape inference could not type are typed float.
        info = known.get(name) or onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
        model.graph.output.append(info)
        added.append(name)
    onnx.save(model, copy_path)
    return added


def widened_to_float64(model_path, copy_path):
    """Saves a copy of the model computing in double: float weights, constants, casts and interface widened."""
    from onnx import numpy_helper
    model = onnx.load(model_path)
    graph = model.graph

    def widen(tensor):
        if tensor.data_type == onnx.TensorProto.FLOAT:
            tensor.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor).astype(numpy.float64), tensor.name))

    for tensor in graph.initializer:
        widen(tensor)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                widen(attribute.t)
            if node.op_type == "Cast" and attribute.name == "to" and attribute.i == onnx.TensorProto.FLOAT:
                attribute.i = onnx.TensorProto.DOUBLE
    for info in list(graph.input) + list(graph.output):
        if info.type.tensor_type.elem_type == onnx.TensorProto.FLOAT:
            info.type.tensor_type.elem_type = onnx.TensorProto.DOUBLE
    del graph.value_info[:]  # re-inferred on import, now in double
    onnx.save(model, copy_path)


def run_npukit(arguments, model, backend, inputs, directory):
    """npukit run --keep all; returns [(name, file)] with the kept values first, in the order computed."""
    command = [arguments.npukit, "run", model, "--backend", backend, "--threads", str(arguments.threads),
               "--keep", "all", "--output-dir", directory, "--json"]
    for item in inputs:
        command += ["--input", item]
    report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    # Kept values come in the order the backend computes them; the graph outputs are produced last.
    return [(entry["name"], entry["file"]) for entry in report["kept"] + report["outputs"]]


def relative_error(ours, theirs):
    ours = ours.astype(numpy.float64)
    theirs = theirs.astype(numpy.float64)
    finite = numpy.isfinite(theirs) & numpy.isfinite(ours)
    if not finite.any():
        return 0.0, 0.0, 0.0
    difference = numpy.abs(ours[finite] - theirs[finite]).max()
    magnitude = numpy.abs(theirs[finite]).max()
    return (difference / magnitude if magnitude > 0 else difference), difference, magnitude


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--input", action="append", default=[], help="NAME=FILE.npy (repeat per input)")
    parser.add_argument("--backend", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--npukit", default=os.path.join(repository, "build", "npukit"))
    parser.add_argument("--threshold", type=float, default=1e-4, help="relative error that counts as drift")
    parser.add_argument("--top", type=int, default=15, help="how many of the largest errors to list")
    parser.add_argument("--all", action="store_true", help="print every value, in order, not only the largest")
    parser.add_argument("--float64", action="store_true",
                        help="also compare the backend and ORT with the graph computed in double (npukit ref)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="compare_layers_") as work:
        ours = run_npukit(arguments, arguments.model, arguments.backend, arguments.input, os.path.join(work, "npukit"))

        copy_path = os.path.join(work, "model_with_intermediates.onnx")
        with_every_value_as_output(arguments.model, [name for name, _ in ours], copy_path)
        theirs_directory = os.path.join(work, "ort")
        subprocess.run(["node", os.path.join(repository, "tools", "ort_run.js"), copy_path, theirs_directory]
                       + arguments.input, check=True)
        with open(os.path.join(theirs_directory, "index.json")) as file:
            theirs = json.load(file)

        exact = {}
        if arguments.float64:
            wide_model = os.path.join(work, "model_float64.onnx")
            widened_to_float64(arguments.model, wide_model)
            wide_inputs = []
            for item in arguments.input:
                name, path = item.split("=", 1)
                array = numpy.load(path)
                wide_path = os.path.join(work, f"input_{len(wide_inputs)}.npy")
                numpy.save(wide_path, array.astype(numpy.float64) if array.dtype == numpy.float32 else array)
                wide_inputs.append(f"{name}={wide_path}")
            exact = dict(run_npukit(arguments, wide_model, "ref", wide_inputs, os.path.join(work, "float64")))

        rows = []
        for position, (name, file) in enumerate(ours):
            if name not in theirs:
                continue  # a value the backend's passes created (a FusedConv's weights folded, ...)
            mine, reference = numpy.load(file), numpy.load(theirs[name])
            if mine.shape != reference.shape:
                rows.append((position, name, float("inf"), 0.0, 0.0, "", f"shape {mine.shape} vs ORT {reference.shape}"))
                continue
            relative, absolute, magnitude = relative_error(mine, reference)
            against_exact = ""
            if name in exact:
                wide = numpy.load(exact[name])
                against_exact = f"{relative_error(mine, wide)[0]:.3g} / {relative_error(reference, wide)[0]:.3g}"
            rows.append((position, name, relative, absolute, magnitude, against_exact, ""))

    print(f"{len(rows)} values compared ({arguments.backend} against ONNX Runtime, relative = max|a-b| / max|ORT|)")
    line = "{:>5}  {:<60} {:>10} {:>10} {:>10} {:>21}  {}"
    header = line.format("order", "value", "relative", "max abs", "max |ORT|",
                         "f64: ours / ORT" if arguments.float64 else "", "")
    first = next((row for row in rows if row[2] > arguments.threshold), None)
    shown = rows if arguments.all else sorted(rows, key=lambda row: -row[2])[: arguments.top]
    if not arguments.all:
        print(f"largest {len(shown)}:")
    print(header)
    for position, name, relative, absolute, magnitude, against_exact, note in shown:
        mark = "<- first over threshold" if first and position == first[0] else note
        print(line.format(position, name[-60:], f"{relative:.3g}", f"{absolute:.3g}", f"{magnitude:.3g}",
                          against_exact, mark))
    if first:
        print(f"first value over {arguments.threshold:g}: {first[1]} (relative {first[2]:.3g})")
    else:
        print(f"no value over {arguments.threshold:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
