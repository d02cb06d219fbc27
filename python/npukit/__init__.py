"""npukit: take an ONNX model to an edge NPU, and tell the truth about it.

    import numpy as np, npukit
    session = npukit.Session("yolov5s.onnx")                 # backend="cpu", threads=1
    outputs = session.run({"images": np.zeros((1, 3, 640, 640), np.float32)})
    report = npukit.check("yolov5s.onnx", target="rk3588")   # the dict `npukit check --json` prints

Errors raise npukit.Error (a RuntimeError) with the message the command line prints; its attributes kind,
reason, file and node give the parts.
"""
import json as _json

import numpy as _numpy

from . import _npukit
from ._npukit import Error, available_backends, build_description, validation_helper_path, version

__all__ = ["Error", "Session", "inspect", "check", "patch", "version", "build_description", "available_backends",
           "validation_helper_path"]


def _value_text(name, value):
    """An --input-value in the form the command line takes: "16000", "1,2,3" or "FILE.npy"."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    values = _numpy.asarray(value).reshape(-1)
    if values.size == 0:
        raise Error(f"input value '{name}' is empty")
    return ",".join(str(item) for item in values.tolist())


def _model_options(input_shapes, input_values):
    shapes = {str(name): [int(dim) for dim in dims] for name, dims in (input_shapes or {}).items()}
    values = {str(name): _value_text(name, value) for name, value in (input_values or {}).items()}
    return shapes, values


def _value_arrays(input_values):
    return {str(name): _numpy.asarray(value) for name, value in (input_values or {}).items()}


class Session:
    """A loaded model, ready to run.

    Session(path, backend="cpu", threads=1, input_shapes=None, input_values=None)
      backend: "cpu" (fast) or "ref" (the plain reference kernels); npukit.available_backends() lists them
      threads: intra-op threads of the cpu backend (0: all cores)
      input_shapes: {"images": [1, 3, 640, 640]} fixes dynamic input dims (the CLI's --input-shape)
      input_values: {"sr": np.array(16000)} holds an input at a value; the model is specialized for it and the
                    input leaves session.inputs (the CLI's --input-value)
    Session.from_bytes(model_bytes, ...) loads a model held in memory.
    """

    def __init__(self, path, backend="cpu", threads=1, input_shapes=None, input_values=None, _session=None):
        if _session is not None:
            self._session = _session
            return
        self._session = _npukit._Session(str(path), backend, int(threads), _model_options(input_shapes, None)[0],
                                         _value_arrays(input_values))

    @classmethod
    def from_bytes(cls, model_bytes, backend="cpu", threads=1, input_shapes=None, input_values=None, name="<memory>"):
        """A session on an ONNX model held in memory; `name` stands for the file in error messages."""
        session = _npukit._Session.from_bytes(bytes(model_bytes), backend, int(threads),
                                              _model_options(input_shapes, None)[0], _value_arrays(input_values), name)
        return cls(None, _session=session)

    @property
    def inputs(self):
        """The model's inputs: dicts with name, dtype (numpy's name), shape (None for a dynamic dim), dim_names."""
        return self._session.inputs

    @property
    def outputs(self):
        return self._session.outputs

    def run(self, inputs):
        """Runs the model: {"images": array} in, {"output0": array} out (the outputs are not copied)."""
        return self._session.run({str(name): _numpy.asarray(array) for name, array in inputs.items()})


def inspect(path, input_shapes=None, input_values=None):
    """What `npukit inspect PATH --json` prints, as a dict."""
    shapes, values = _model_options(input_shapes, input_values)
    return _json.loads(_npukit._inspect_json(str(path), shapes, values))


def check(path, target=None, target_file=None, input_shapes=None, input_values=None):
    """What `npukit check PATH --target TARGET --json` prints, as a dict (target may be "all")."""
    shapes, values = _model_options(input_shapes, input_values)
    return _json.loads(_npukit._check_json(str(path), target or "", str(target_file or ""), shapes, values))


def patch(path, target=None, output=None, target_file=None, sidecar=None, keep_postprocess=False,
          allow_retraining=False, silu_to_relu=False, input_shapes=None, input_values=None):
    """What `npukit patch PATH --target TARGET -o OUTPUT --json` does and prints, as a dict.

    Without output, nothing is written: the dict gets two more keys, "model_bytes" (the patched ONNX model)
    and "sidecar_json" (the post-processing sidecar's text, or None when no head was cut).
    """
    shapes, values = _model_options(input_shapes, input_values)
    text, model_bytes, sidecar_json = _npukit._patch(
        str(path), target or "", str(target_file or ""), str(output or ""), str(sidecar or ""),
        bool(keep_postprocess), bool(allow_retraining), bool(silu_to_relu), shapes, values)
    report = _json.loads(text)
    if not output:
        report["model_bytes"] = model_bytes
        report["sidecar_json"] = sidecar_json or None
    return report
