#!/usr/bin/python3
"""Writes small QDQ ONNX models (QuantizeLinear / DequantizeLinear around every op, as ONNX Runtime's quantizer
lays them out) for the integer kernels, the `sim` backend and the int8 cpu backend (run with /usr/bin/python3:
Debian's python3-onnx, python3-numpy and python3-torch).

    /usr/bin/python3 tools/make_qdq_models.py --output models/generated/qdq

Layout of every model:
  * the float input goes through QuantizeLinear -> DequantizeLinear; every op reads dequantized values and its
    output goes through QuantizeLinear -> DequantizeLinear; the graph output is the last DequantizeLinear;
  * weights: int8 initializers, per output channel, symmetric, narrow [-127, 127] (the TFLite spec), read through
    a per-axis DequantizeLinear; biases: int32 initializers at scale s_x * s_w (per channel), zero point 0;
  * activations: int8 or uint8 (the name says which), asymmetric per tensor, min/max of a calibration batch
    (computed in float with torch on the fake-quantized values, so later layers see what the chip sees);
  * ops that keep their input's scale (MaxPool, AveragePool, Reshape, Transpose, Flatten, Slice, nearest
    Resize) get their input's scale and zero point on the output; Concat, Add and Mul get their own, so they
    exercise requantization; Sigmoid's output grid is TFLite's (1/256, zero point -128 int8 / 0 uint8), Tanh's
    1/128 (zero point 0 int8 / 128 uint8);
  * fused activations (Relu, Clip as Relu6) sit between the op and its QuantizeLinear, unquantized.
Each model NAME.onnx comes with NAME.input.npy: a deterministic test input (another seed than calibration).
Deterministic: fixed seeds, no time or machine dependence.
"""
import argparse
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as functional
from onnx import TensorProto, helper, numpy_helper

OPSET = 17

NUMPY_TYPES = {"int8": np.int8, "uint8": np.uint8}
ONNX_TYPES = {"int8": TensorProto.INT8, "uint8": TensorProto.UINT8}
GRIDS = {"int8": (-128, 127), "uint8": (0, 255)}


def quantize(values, scale, zero_point, dtype):
    """ONNX QuantizeLinear: round half to even, then saturate."""
    low, high = GRIDS[dtype]
    return np.clip(np.rint(values / np.float32(scale)) + zero_point, low, high).astype(NUMPY_TYPES[dtype])


def dequantize(q, scale, zero_point):
    return ((q.astype(np.int32) - zero_point).astype(np.float32) * np.float32(scale)).astype(np.float32)


class Tensor:
    """A quantized activation: the name of its DequantizeLinear output and its fake-quantized calibration value."""

    def __init__(self, name, value, scale, zero_point, dtype):
        self.name, self.value, self.scale, self.zero_point, self.dtype = name, value, scale, zero_point, dtype


class QdqModel:
    def __init__(self, name, dtype, input_shape, seed):
        self.name, self.dtype = name, dtype
        self.rng = np.random.default_rng(seed)
        self.nodes, self.initializers = [], []
        self.counter = 0
        self.input_shape = input_shape
        self.calibration = self.rng.uniform(-1.0, 1.0, input_shape).astype(np.float32)
        self.test_input = np.random.default_rng(seed + 1000).uniform(-1.0, 1.0, input_shape).astype(np.float32)

    # --- helpers ---------------------------------------------------------------------------------------------
    def fresh(self, stem):
        self.counter += 1
        return f"{stem}_{self.counter}"

    def constant(self, stem, array):
        name = self.fresh(stem)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def activation_params(self, value):
        """Asymmetric min/max parameters, the range widened to hold 0 (so zero is exact)."""
        low, high = GRIDS[self.dtype]
        minimum, maximum = min(float(value.min()), 0.0), max(float(value.max()), 0.0)
        if maximum - minimum < 1e-6:
            maximum = minimum + 1e-6
        scale = np.float32((maximum - minimum) / (high - low))
        zero_point = int(np.clip(np.rint(low - minimum / scale), low, high))
        return scale, zero_point

    def quantize_dequantize(self, float_name, value, scale=None, zero_point=None):
        """Adds Q -> DQ after a float value; returns the quantized activation."""
        if scale is None:
            scale, zero_point = self.activation_params(value)
        scale_name = self.constant(f"{float_name}_scale", np.float32(scale))
        zero_name = self.constant(f"{float_name}_zero_point", np.array(zero_point, dtype=NUMPY_TYPES[self.dtype]))
        quantized_name, dequantized_name = f"{float_name}_quantized", f"{float_name}_dequantized"
        self.nodes.append(helper.make_node("QuantizeLinear", [float_name, scale_name, zero_name], [quantized_name],
                                           name=f"{float_name}_QuantizeLinear"))
        self.nodes.append(helper.make_node("DequantizeLinear", [quantized_name, scale_name, zero_name], [dequantized_name],
                                           name=f"{float_name}_DequantizeLinear"))
        fake = dequantize(quantize(value, scale, zero_point, self.dtype), scale, zero_point)
        return Tensor(dequantized_name, fake, np.float32(scale), zero_point, self.dtype)

    def input(self):
        return self.quantize_dequantize("input", self.calibration)

    def weight(self, stem, weights, axis):
        """Per-channel symmetric narrow int8 weights along `axis`, read through a DequantizeLinear."""
        reduce_axes = tuple(a for a in range(weights.ndim) if a != axis)
        absmax = np.maximum(np.abs(weights).max(axis=reduce_axes), 1e-8)
        scales = (absmax / 127.0).astype(np.float32)
        shape = [1] * weights.ndim
        shape[axis] = -1
        q = np.clip(np.rint(weights / scales.reshape(shape)), -127, 127).astype(np.int8)
        q_name = self.constant(f"{stem}_weight_quantized", q)
        scale_name = self.constant(f"{stem}_weight_scale", scales)
        zero_name = self.constant(f"{stem}_weight_zero_point", np.zeros(len(scales), dtype=np.int8))
        name = self.fresh(f"{stem}_weight")
        self.nodes.append(helper.make_node("DequantizeLinear", [q_name, scale_name, zero_name], [name],
                                           name=f"{name}_DequantizeLinear", axis=axis))
        return name, (q.astype(np.float32) * scales.reshape(shape)).astype(np.float32), scales

    def bias(self, stem, bias, input_scale, weight_scales):
        scales = (np.float32(input_scale) * weight_scales).astype(np.float32)
        q = np.clip(np.rint(bias / scales), -2**31, 2**31 - 1).astype(np.int32)
        q_name = self.constant(f"{stem}_bias_quantized", q)
        scale_name = self.constant(f"{stem}_bias_scale", scales)
        zero_name = self.constant(f"{stem}_bias_zero_point", np.zeros(len(scales), dtype=np.int32))
        name = self.fresh(f"{stem}_bias")
        self.nodes.append(helper.make_node("DequantizeLinear", [q_name, scale_name, zero_name], [name],
                                           name=f"{name}_DequantizeLinear", axis=0))
        return name, (q.astype(np.float64) * scales).astype(np.float32)

    def activation(self, float_name, value, activation):
        """A fused Relu / Relu6 (Clip 0..6) / Clip(low, high) between an op and its QuantizeLinear."""
        if activation is None:
            return float_name, value
        out = self.fresh(f"{float_name}_{activation[0].lower()}")
        if activation[0] == "Relu":
            self.nodes.append(helper.make_node("Relu", [float_name], [out], name=out))
            return out, np.maximum(value, 0)
        low, high = activation[1], activation[2]
        self.nodes.append(helper.make_node("Clip", [float_name, self.constant("clip_min", np.float32(low)),
                                                    self.constant("clip_max", np.float32(high))], [out], name=out))
        return out, np.clip(value, low, high)

    # --- ops ---------------------------------------------------------------------------------------------------
    def conv(self, x, out_channels, kernel, stride=1, pads=None, dilation=1, group=1, activation=None, bias=True):
        in_channels = x.value.shape[1]
        pads = pads if pads is not None else [kernel // 2 * dilation] * 4
        weights = (self.rng.standard_normal((out_channels, in_channels // group, kernel, kernel)) /
                   np.sqrt(in_channels // group * kernel * kernel)).astype(np.float32)
        name = self.fresh("conv")
        w_name, w_fake, w_scales = self.weight(name, weights, 0)
        inputs = [x.name, w_name]
        b_fake = None
        if bias:
            b_name, b_fake = self.bias(name, self.rng.standard_normal(out_channels).astype(np.float32) * 0.2, x.scale, w_scales)
            inputs.append(b_name)
        self.nodes.append(helper.make_node("Conv", inputs, [name], name=name, kernel_shape=[kernel, kernel],
                                           strides=[stride, stride], pads=pads, dilations=[dilation, dilation], group=group))
        padded = functional.pad(torch.from_numpy(x.value), (pads[1], pads[3], pads[0], pads[2]))
        value = functional.conv2d(padded, torch.from_numpy(w_fake), None if b_fake is None else torch.from_numpy(b_fake),
                                  stride=stride, dilation=dilation, groups=group).numpy()
        name, value = self.activation(name, value, activation)
        return self.quantize_dequantize(name, value)

    def gemm(self, x, out_features, activation=None):
        in_features = x.value.shape[1]
        weights = (self.rng.standard_normal((out_features, in_features)) / np.sqrt(in_features)).astype(np.float32)
        name = self.fresh("gemm")
        w_name, w_fake, w_scales = self.weight(name, weights, 0)
        b_name, b_fake = self.bias(name, self.rng.standard_normal(out_features).astype(np.float32) * 0.2, x.scale, w_scales)
        self.nodes.append(helper.make_node("Gemm", [x.name, w_name, b_name], [name], name=name, transB=1))
        value = x.value @ w_fake.T + b_fake
        name, value = self.activation(name, value, activation)
        return self.quantize_dequantize(name, value)

    def matmul(self, x, out_features):
        """MatMul with a [K, N] weight, per channel along axis 1 (the output features)."""
        in_features = x.value.shape[-1]
        weights = (self.rng.standard_normal((in_features, out_features)) / np.sqrt(in_features)).astype(np.float32)
        name = self.fresh("matmul")
        w_name, w_fake, _ = self.weight(name, weights, 1)
        self.nodes.append(helper.make_node("MatMul", [x.name, w_name], [name], name=name))
        return self.quantize_dequantize(name, x.value @ w_fake)

    def binary(self, op, a, b, activation=None):
        name = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, [a.name, b.name], [name], name=name))
        value = a.value + b.value if op == "Add" else a.value * b.value
        name, value = self.activation(name, value, activation)
        return self.quantize_dequantize(name, value)

    def concat(self, tensors, axis=1):
        name = self.fresh("concat")
        self.nodes.append(helper.make_node("Concat", [t.name for t in tensors], [name], name=name, axis=axis))
        return self.quantize_dequantize(name, np.concatenate([t.value for t in tensors], axis=axis))

    def shared(self, x, op, value, inputs=(), **attributes):
        """An op whose output keeps its input's scale and zero point."""
        name = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, [x.name, *inputs], [name], name=name, **attributes))
        return self.quantize_dequantize(name, value, x.scale, x.zero_point)

    def max_pool(self, x, kernel, stride, pads):
        padded = functional.pad(torch.from_numpy(x.value), (pads[1], pads[3], pads[0], pads[2]), value=-np.inf)
        value = functional.max_pool2d(padded, kernel, stride).numpy()
        return self.shared(x, "MaxPool", value, kernel_shape=[kernel, kernel], strides=[stride, stride], pads=pads)

    def average_pool(self, x, kernel, stride, pads):
        # count_include_pad = 0 (the ONNX default): the divisor counts the elements inside the input only
        value = functional.avg_pool2d(torch.from_numpy(x.value), kernel, stride, padding=pads[0],
                                      count_include_pad=False).numpy()
        return self.shared(x, "AveragePool", value, kernel_shape=[kernel, kernel], strides=[stride, stride], pads=pads)

    def global_average_pool(self, x):
        return self.shared(x, "GlobalAveragePool", x.value.mean(axis=(2, 3), keepdims=True))

    def resize_nearest(self, x, factor):
        scales = self.constant("resize_scales", np.array([1, 1, factor, factor], dtype=np.float32))
        value = x.value.repeat(factor, axis=2).repeat(factor, axis=3)
        return self.shared(x, "Resize", value, inputs=("", scales), mode="nearest",
                           coordinate_transformation_mode="asymmetric", nearest_mode="floor")

    def reshape(self, x, shape):
        return self.shared(x, "Reshape", x.value.reshape(shape), inputs=(self.constant("shape", np.array(shape, dtype=np.int64)),))

    def transpose(self, x, perm):
        return self.shared(x, "Transpose", x.value.transpose(perm), perm=perm)

    def flatten(self, x):
        return self.shared(x, "Flatten", x.value.reshape(x.value.shape[0], -1), axis=1)

    def slice(self, x, starts, ends, axes, steps):
        index = [slice(None)] * x.value.ndim
        for start, end, axis, step in zip(starts, ends, axes, steps):
            index[axis] = slice(start, end, step)
        inputs = tuple(self.constant(stem, np.array(v, dtype=np.int64))
                       for stem, v in (("starts", starts), ("ends", ends), ("axes", axes), ("steps", steps)))
        return self.shared(x, "Slice", x.value[tuple(index)], inputs=inputs)

    def unary(self, op, x):
        name = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, [x.name], [name], name=name))
        tensor = torch.from_numpy(x.value)
        if op == "Sigmoid":
            return self.quantize_dequantize(name, torch.sigmoid(tensor).numpy(), 1.0 / 256, -128 if self.dtype == "int8" else 0)
        if op == "Tanh":
            return self.quantize_dequantize(name, torch.tanh(tensor).numpy(), 1.0 / 128, 0 if self.dtype == "int8" else 128)
        if op == "HardSwish":
            return self.quantize_dequantize(name, functional.hardswish(tensor).numpy())
        raise ValueError(op)

    def silu(self, x):
        """SiLU as exporters write it: Mul(x, Sigmoid(x)), the sigmoid quantized on its own grid."""
        return self.binary("Mul", x, self.unary("Sigmoid", x))

    # --- output ------------------------------------------------------------------------------------------------
    def finish(self, *outputs):
        graph_outputs = []
        for index, tensor in enumerate(outputs):
            name = "output" if len(outputs) == 1 else f"output{index}"
            self.nodes.append(helper.make_node("Identity", [tensor.name], [name], name=f"{name}_identity"))
            graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(tensor.value.shape)))
        graph = helper.make_graph(self.nodes, self.name,
                                  [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(self.input_shape))],
                                  graph_outputs, initializer=self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="npukit make_qdq_models")
        model.ir_version = 8
        onnx.checker.check_model(model)
        model = onnx.shape_inference.infer_shapes(model)
        return model, self.test_input


# --- the models ------------------------------------------------------------------------------------------------
def conv_relu(dtype):
    m = QdqModel(f"conv_relu_{dtype}", dtype, (1, 3, 12, 12), 11)
    return m.finish(m.conv(m.input(), 8, 3, activation=("Relu",)))


def conv_strided_dilated(dtype):
    m = QdqModel(f"conv_strided_dilated_{dtype}", dtype, (1, 4, 13, 11), 12)
    return m.finish(m.conv(m.input(), 6, 3, stride=2, pads=[1, 0, 2, 3], dilation=2))


def conv_grouped(dtype):
    m = QdqModel(f"conv_grouped_{dtype}", dtype, (1, 6, 9, 9), 13)
    return m.finish(m.conv(m.input(), 4, 3, group=2, activation=("Clip", 0.0, 6.0)))


def conv_depthwise(dtype):
    m = QdqModel(f"conv_depthwise_{dtype}", dtype, (1, 8, 10, 10), 14)
    return m.finish(m.conv(m.input(), 8, 3, stride=2, group=8, activation=("Clip", 0.0, 6.0)))


def conv_depthwise_edges(dtype):
    """Depthwise convolutions on a kernel's edges: 37 channels (whole vectors of 16 / 8 and a tail), stride 1 with
    pads, stride 2 with TensorFlow's asymmetric pads, a 5x5 window (an odd tap count) without bias, between an NCHW
    input and an NCHW output."""
    m = QdqModel(f"conv_depthwise_edges_{dtype}", dtype, (1, 37, 13, 11), 31)
    y = m.conv(m.input(), 37, 3, group=37, activation=("Clip", 0.0, 6.0))
    y = m.conv(y, 37, 3, stride=2, pads=[0, 0, 1, 1], group=37)
    return m.finish(m.conv(y, 37, 5, group=37, bias=False, activation=("Relu",)))


def gemm(dtype):
    m = QdqModel(f"gemm_{dtype}", dtype, (2, 3, 4, 4), 15)
    return m.finish(m.gemm(m.flatten(m.input()), 10, activation=("Relu",)))


def matmul(dtype):
    m = QdqModel(f"matmul_{dtype}", dtype, (2, 5, 16), 16)
    return m.finish(m.matmul(m.input(), 12))


def add(dtype):
    m = QdqModel(f"add_{dtype}", dtype, (1, 4, 6, 6), 17)
    x = m.input()
    return m.finish(m.binary("Add", x, m.conv(x, 4, 1), activation=("Relu",)))


def mul(dtype):
    m = QdqModel(f"mul_{dtype}", dtype, (1, 4, 6, 6), 18)
    x = m.input()
    return m.finish(m.binary("Mul", x, m.conv(x, 4, 1)))


def concat(dtype):
    m = QdqModel(f"concat_{dtype}", dtype, (1, 3, 6, 6), 19)
    x = m.input()
    return m.finish(m.concat([x, m.conv(x, 5, 3), m.conv(x, 2, 1, activation=("Relu",))]))


def pools(dtype):
    m = QdqModel(f"pools_{dtype}", dtype, (1, 4, 11, 11), 20)
    x = m.input()
    return m.finish(m.max_pool(x, 3, 2, [1, 1, 1, 1]), m.average_pool(x, 3, 2, [1, 1, 1, 1]), m.global_average_pool(x),
                    m.average_pool(x, 2, 2, [0, 0, 0, 0]))


def shapes(dtype):
    m = QdqModel(f"shapes_{dtype}", dtype, (1, 4, 6, 6), 21)
    x = m.input()
    y = m.resize_nearest(x, 2)
    y = m.slice(y, [1, 0], [11, 12], [2, 3], [2, 1])
    y = m.transpose(y, [0, 2, 3, 1])
    y = m.reshape(y, [1, 30, 8])
    return m.finish(y, m.flatten(x))


def nonlinear(dtype):
    m = QdqModel(f"nonlinear_{dtype}", dtype, (1, 4, 5, 5), 22)
    x = m.conv(m.input(), 4, 3)  # a wider range than the input's [-1, 1]
    return m.finish(m.unary("Sigmoid", x), m.silu(x), m.unary("HardSwish", x), m.unary("Tanh", x))


def small_cnn(dtype):
    """Conv+Relu stem, a depthwise-separable block with a residual Add, a Concat of two branches, pools, SiLU and
    a Sigmoid gate, GlobalAveragePool and a Gemm classifier."""
    m = QdqModel(f"small_cnn_{dtype}", dtype, (1, 3, 32, 32), 23)
    x = m.conv(m.input(), 16, 3, stride=2, activation=("Relu",))
    y = m.conv(x, 16, 3, group=16, activation=("Clip", 0.0, 6.0))
    y = m.conv(y, 16, 1)
    x = m.binary("Add", x, y, activation=("Relu",))
    x = m.max_pool(x, 2, 2, [0, 0, 0, 0])
    a = m.silu(m.conv(x, 8, 3))
    b = m.conv(x, 8, 1, activation=("Relu",))
    x = m.concat([a, b])
    x = m.average_pool(x, 3, 1, [1, 1, 1, 1])
    gate = m.unary("Sigmoid", m.conv(x, 16, 1))
    x = m.binary("Mul", x, gate)
    x = m.global_average_pool(x)
    x = m.flatten(x)
    return m.finish(m.gemm(x, 10))


def tie_conv(dtype):
    """A 1x1 Conv whose requantization multiplier is exactly 0.5 (input scale 1, weight 1 at scale 1, output scale
    2), so every odd accumulator is a tie: targets that round ties differently give different integers here."""
    m = QdqModel(f"tie_conv_{dtype}", dtype, (1, 1, 1, 12), 24)
    x = m.quantize_dequantize("input", m.calibration, 1.0, 0 if dtype == "int8" else 128)
    q_name = m.constant("tie_weight_quantized", np.ones((1, 1, 1, 1), dtype=np.int8))
    scale_name = m.constant("tie_weight_scale", np.ones(1, dtype=np.float32))
    zero_name = m.constant("tie_weight_zero_point", np.zeros(1, dtype=np.int8))
    m.nodes.append(helper.make_node("DequantizeLinear", [q_name, scale_name, zero_name], ["tie_weight"],
                                    name="tie_weight_DequantizeLinear", axis=0))
    m.nodes.append(helper.make_node("Conv", [x.name, "tie_weight"], ["tie_conv"], name="tie_conv", kernel_shape=[1, 1]))
    y = m.quantize_dequantize("tie_conv", x.value, 2.0, 0 if dtype == "int8" else 128)
    m.test_input = np.arange(-6, 6, dtype=np.float32).reshape(1, 1, 1, 12)
    return m.finish(y)


def requantize(dtype):
    """Add, then a Relu on its own grid (zero point at the bottom) and a Clip(-0.3, 0.5) whose grid is not: groups
    ORT computes in float, run here as QLinearClip tables. (A bare DQ -> Q onto other parameters is not one: ORT's
    DoubleQDQPairsRemover merges the two pairs' parameters.)"""
    m = QdqModel(f"requantize_{dtype}", dtype, (1, 4, 6, 6), 26)
    x = m.input()
    y = m.binary("Add", x, m.conv(x, 4, 1))
    name, value = m.activation(y.name, y.value, ("Relu",))
    y = m.quantize_dequantize(name, value)
    name, value = m.activation(y.name, y.value, ("Clip", -0.3, 0.5))
    return m.finish(m.quantize_dequantize(name, value, 0.004, -20 if dtype == "int8" else 100))


def byte_sweep(dtype):
    """Every input byte once (scale 1/16: x in [-8, 8)), through Sigmoid, SiLU and a Mul of the SiLU by x: the
    lookup tables of QLinearSigmoid / QLinearSiLU and QLinearMul checked against ONNX Runtime on all 256 inputs."""
    m = QdqModel(f"byte_sweep_{dtype}", dtype, (1, 4, 8, 8), 25)
    zero_point = 0 if dtype == "int8" else 128
    m.calibration = ((np.arange(256) - 128) / 16.0).astype(np.float32).reshape(1, 4, 8, 8)
    x = m.quantize_dequantize("input", m.calibration, 1.0 / 16, zero_point)
    silu = m.silu(x)
    m.test_input = m.calibration.copy()
    return m.finish(m.unary("Sigmoid", x), silu, m.binary("Mul", silu, x))


def sppf(dtype):
    """YOLO's SPPF between convolutions: three 5x5 MaxPools on their input's grid, a Concat of the four on that same
    grid (ORT's QLinearConcat copies the bytes), then a Concat with a Conv and a Split part on other grids
    (requantized by tables), channel counts off the 16-channel block."""
    m = QdqModel(f"sppf_{dtype}", dtype, (1, 3, 12, 12), 27)
    x = m.conv(m.input(), 6, 1)
    p1 = m.max_pool(x, 5, 1, [2, 2, 2, 2])
    p2 = m.max_pool(p1, 5, 1, [2, 2, 2, 2])
    p3 = m.max_pool(p2, 5, 1, [2, 2, 2, 2])
    name = m.fresh("concat")
    m.nodes.append(helper.make_node("Concat", [x.name, p1.name, p2.name, p3.name], [name], name=name, axis=1))
    y = m.quantize_dequantize(name, np.concatenate([x.value, p1.value, p2.value, p3.value], axis=1), x.scale, x.zero_point)
    # A Split on channels (YOLOv8's C2f) whose parts keep the input's grid, as ORT's QDQ Split selector wants.
    parts = [m.fresh("split_a"), m.fresh("split_b")]
    m.nodes.append(helper.make_node("Split", [x.name, m.constant("split", np.array([2, 4], dtype=np.int64))], parts,
                                    name=m.fresh("split"), axis=1))
    a = m.quantize_dequantize(parts[0], x.value[:, :2], x.scale, x.zero_point)
    b = m.quantize_dequantize(parts[1], x.value[:, 2:], x.scale, x.zero_point)
    # A Slice of channels and rows with a step (YOLOv8 exports slice C2f's halves), on its input's grid.
    s = m.slice(y, [1, 1], [4, 11], [1, 2], [1, 2])
    y = m.concat([y, m.conv(x, 5, 3, pads=[1, 1, 1, 1]), b])
    u = m.resize_nearest(p3, 2)  # the neck's 2x upsampling
    return m.finish(m.conv(y, 7, 1, activation=("Relu",)), m.conv(a, 3, 1), m.conv(s, 2, 1), m.conv(u, 2, 1))


def softmax_head(dtype):
    """YOLOv8's DFL: a Reshape to (1, 4, 16, 80) on its input's grid, a Transpose with no Q / DQ of its own, Softmax over
    the 16 bins (axis 1), its own output grid, then a 1x1 Conv; and a Softmax along the last axis (80 elements) read
    straight from a DequantizeLinear. ORT runs both softmaxes as QLinearSoftmax (an exp table and float sums, not the
    float softmax quantized: they differ in the last bit), moving the Transpose onto the bytes."""
    m = QdqModel(f"softmax_head_{dtype}", dtype, (1, 64, 2, 40), 28)
    m.calibration *= 6.0  # logits of a few units, as a detector's box branch gives
    m.test_input *= 7.0
    x = m.reshape(m.input(), [1, 4, 16, 80])
    transposed = m.fresh("transpose")
    m.nodes.append(helper.make_node("Transpose", [x.name], [transposed], name=transposed, perm=[0, 2, 1, 3]))
    outputs = []
    for source, value, axis in ((transposed, x.value.transpose(0, 2, 1, 3), 1), (x.name, x.value, -1)):
        name = m.fresh("softmax")
        m.nodes.append(helper.make_node("Softmax", [source], [name], name=name, axis=axis))
        outputs.append(m.quantize_dequantize(name, torch.softmax(torch.from_numpy(value), dim=axis).numpy()))
    return m.finish(m.conv(outputs[0], 1, 1, bias=False), outputs[1])


def softmax_sweep(dtype):
    """20000 rows of 16 bytes (x on 0.4, y on 1/255) through a Softmax over axis 1, rows of every spread and offset: ORT's
    QLinearSoftmax table and float sums against the cpu kernel on enough rows to tell a float logarithm in its table
    from a double one (12 of these 320000 outputs differ)."""
    m = QdqModel(f"softmax_sweep_{dtype}", dtype, (1, 16, 20000), 29)
    low, _ = GRIDS[dtype]
    rows = m.rng.integers(0, 256, (20000, 16)) // m.rng.integers(1, 8, (20000, 1)) + m.rng.integers(0, 200, (20000, 1))
    m.test_input = np.ascontiguousarray(((np.clip(rows, 0, 255).T[None] - 128) * np.float32(0.4)).astype(np.float32))
    m.calibration = m.test_input.copy()
    x = m.quantize_dequantize("input", m.calibration, 0.4, 128 + low)
    name = m.fresh("softmax")
    m.nodes.append(helper.make_node("Softmax", [x.name], [name], name=name, axis=1))
    value = torch.softmax(torch.from_numpy(x.value), dim=1).numpy()
    return m.finish(m.quantize_dequantize(name, value, np.float32(1.0 / 255), 3 + low))


BUILDERS = [conv_relu, conv_strided_dilated, conv_grouped, conv_depthwise, conv_depthwise_edges, gemm, matmul, add,
            mul, concat, pools, shapes, nonlinear, small_cnn, tie_conv, byte_sweep, requantize, sppf, softmax_head,
            softmax_sweep]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="folder to write NAME.onnx and NAME.input.npy into")
    arguments = parser.parse_args()
    os.makedirs(arguments.output, exist_ok=True)
    torch.manual_seed(0)
    for builder in BUILDERS:
        for dtype in ("int8", "uint8"):
            model, test_input = builder(dtype)
            path = os.path.join(arguments.output, f"{model.graph.name}.onnx")
            onnx.save(model, path + ".partial")
            os.replace(path + ".partial", path)
            np.save(os.path.join(arguments.output, f"{model.graph.name}.input.npy"), test_input)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
