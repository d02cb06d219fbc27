#!/usr/bin/python3
"""An independent numpy implementation of TensorFlow Lite's reference int8 / uint8 kernels, run on a QDQ ONNX
model as a TFLite converter would lay it out: every DequantizeLinear -> op -> [Relu | Clip] -> QuantizeLinear
group is one TFLite op on the integers. It is the oracle of `npukit run --backend sim --target edgetpu` (the
Edge TPU compiler takes full-integer TFLite models; its reference arithmetic is TFLite's). No TFLite here: the
formulas are those of tensorflow/lite/kernels/internal/{common.h, quantization_util.cc,
reference/integer_ops/*.h} and gemmlowp's fixedpoint.h as quant_anchors.md §3.2 quotes them, written again in
numpy without sharing code with npukit (run with /usr/bin/python3: Debian's python3-onnx and python3-numpy).

    /usr/bin/python3 tools/tflite_reference.py MODEL.onnx --input X.npy [--output-dir DIR] [--json]

Kernels (int64 numpy arithmetic; results exactly TFLite's int32 arithmetic):
  QUANTIZE (float input)  q = clamp(TfLiteRound(x / s) + zp), x / s in float32, TfLiteRound half away from 0
  CONV_2D, DEPTHWISE_CONV_2D (per channel), FULLY_CONNECTED, BATCH_MATMUL:
                          acc = sum (q_x - zp_x) * q_w + bias;  MultiplyByQuantizedMultiplier(acc, M[c]) + zp_y,
                          clamped to the fused activation range; M = double(s_x) * double(s_w) / double(s_y)
  ADD                     left_shift 20, inputs rescaled to twice the larger input scale, then to the output
  MUL                     MultiplyByQuantizedMultiplier((q_a - zp_a) * (q_b - zp_b), s_a s_b / s_y)
  CONCATENATION           inputs at other scales first go through a QUANTIZE int8 -> int8 (Requantize)
  AVERAGE_POOL_2D         (sum +- count / 2) / count over the window inside the input (GlobalAveragePool: the
                          whole plane); MAX_POOL_2D, RESHAPE, TRANSPOSE, SLICE, RESIZE_NEAREST_NEIGHBOR on the
                          integers, then a Requantize when the output's scale differs
  LOGISTIC, TANH          a table over the input grid: clamp(TfLiteRound(f(s_x (q - zp_x)) / s_y) + zp_y), as
                          TFLite's LUT kernels build it (computed in double here and in npukit)
MultiplyByQuantizedMultiplier: SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (double rounding).
Ops outside this list (HardSwish, ...) are not computed: the outputs that depend on them are reported as
"unsupported" with the op, never guessed. The graph outputs leave through their DequantizeLinear (ONNX).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
GRIDS = {np.dtype(np.int8): (-128, 127), np.dtype(np.uint8): (0, 255), np.dtype(np.int32): (INT32_MIN, INT32_MAX)}


class Unsupported(Exception):
    pass


# --- fixed-point arithmetic (gemmlowp / TFLite) -----------------------------------------------------------------
def quantize_multiplier(real):
    """TFLite QuantizeMultiplier: real = q_fixed * 2^(shift - 31), q_fixed in [2^30, 2^31)."""
    if real == 0:
        return 0, 0
    fraction, shift = math.frexp(real)
    q_fixed = int(math.floor(fraction * 2**31 + 0.5))  # std::round of a positive value
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def truncating_divide(numerator, denominator):
    """C integer division (toward zero) of int64 arrays by a positive int."""
    quotient = np.abs(numerator) // denominator
    return np.where(numerator < 0, -quotient, quotient)


def saturating_rounding_doubling_high_mul(a, b):
    a = a.astype(np.int64)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    product = a * np.int64(b)
    nudge = np.where(product >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    result = truncating_divide(product + nudge, np.int64(1 << 31))
    return np.where(overflow, INT32_MAX, result)


def rounding_divide_by_pot(x, exponent):
    x = x.astype(np.int64)
    mask = np.int64((1 << exponent) - 1)
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(x, real_multiplier):
    q_fixed, shift = quantize_multiplier(real_multiplier)
    left, right = max(shift, 0), max(-shift, 0)
    shifted = np.clip(x.astype(np.int64) * (1 << left), INT32_MIN, INT32_MAX)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, q_fixed), right)


def per_channel(x, multipliers, axis):
    """MultiplyByQuantizedMultiplier with one multiplier per index along `axis`."""
    result = np.empty_like(x, dtype=np.int64)
    for channel, multiplier in enumerate(multipliers):
        index = [slice(None)] * x.ndim
        index[axis] = channel
        result[tuple(index)] = multiply_by_quantized_multiplier(x[tuple(index)], multiplier)
    return result


def tflite_round(values):
    """TfLiteRound / std::round: half away from zero."""
    values = np.asarray(values, dtype=np.float64)
    return np.sign(values) * np.floor(np.abs(values) + 0.5)


# --- tensors ------------------------------------------------------------------------------------------------------
class Quantized:
    """An integer tensor with its scale and zero point (per tensor), or per-channel weights (axis)."""

    def __init__(self, values, scale, zero_point, axis=None):
        self.values = values
        self.scale = np.asarray(scale, dtype=np.float32)
        self.zero_point = np.asarray(zero_point).astype(np.int64)
        self.axis = axis
        self.dtype = values.dtype

    def grid(self):
        return GRIDS[np.dtype(self.dtype)]

    def same_grid(self, other):
        return (self.dtype == other.dtype and self.scale.size == 1 and other.scale.size == 1 and
                float(self.scale) == float(other.scale) and int(self.zero_point) == int(other.zero_point))


def finish(accumulator, zero_point, low, high, dtype):
    return np.clip(accumulator + zero_point, low, high).astype(dtype)


def requantize(x, target):
    """TFLite QUANTIZE int8 -> int8: MultiplyByQuantizedMultiplier(q - zp_in, s_in / s_out) + zp_out."""
    if x.same_grid(target):
        return x.values
    multiplier = float(np.float64(x.scale) / np.float64(target.scale))
    low, high = target.grid()
    scaled = multiply_by_quantized_multiplier(x.values.astype(np.int64) - int(x.zero_point), multiplier)
    return finish(scaled, int(target.zero_point), low, high, target.dtype)


# --- the model ----------------------------------------------------------------------------------------------------
class Reference:
    def __init__(self, model):
        self.graph = model.graph
        self.constants = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.producer = {}
        self.consumers = {}
        for node in self.graph.node:
            for name in node.output:
                self.producer[name] = node
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.integers = {}      # Q output name -> Quantized
        self.dequantized = {}   # DQ output name -> the integer name it reads
        self.unsupported = {}   # value name -> why it cannot be computed

    def params(self, node):
        scale = self.constants[node.input[1]]
        zero_point = self.constants[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros_like(scale, dtype=np.int64)
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        return scale, zero_point, axis

    def source(self, float_name):
        """The integer tensor a DequantizeLinear output reads."""
        if float_name in self.unsupported:
            raise Unsupported(self.unsupported[float_name])
        node = self.producer.get(float_name)
        if node is None or node.op_type != "DequantizeLinear":
            raise Unsupported(f"'{float_name}' is not read through a DequantizeLinear")
        integer_name = node.input[0]
        scale, zero_point, axis = self.params(node)
        if integer_name in self.constants:
            values = self.constants[integer_name]
            return Quantized(values, scale, zero_point, axis if scale.size > 1 else None)
        if integer_name in self.unsupported:
            raise Unsupported(self.unsupported[integer_name])
        if integer_name not in self.integers:
            # Written by a node this reference left out (e.g. a Relu between its own DequantizeLinear and
            # QuantizeLinear): not computed, instead of a KeyError.
            raise Unsupported(f"'{integer_name}' has no integer value here (the op writing it has no kernel)")
        return self.integers[integer_name]

    def output_of(self, node):
        """(activation node or None, the QuantizeLinear, its output name and grid)."""
        consumers = self.consumers.get(node.output[0], [])
        activation = None
        if len(consumers) == 1 and consumers[0].op_type in ("Relu", "Clip"):
            activation = consumers[0]
            consumers = self.consumers.get(activation.output[0], [])
        if len(consumers) != 1 or consumers[0].op_type != "QuantizeLinear":
            raise Unsupported(f"the output of '{node.name}' is not quantized")
        quantize = consumers[0]
        scale, zero_point, _ = self.params(quantize)
        dtype = self.constants[quantize.input[2]].dtype if len(quantize.input) > 2 else np.uint8
        grid = Quantized(np.zeros(0, dtype=dtype), scale, zero_point)
        return activation, quantize.output[0], grid

    def activation_range(self, activation, grid):
        """TFLite CalculateActivationRangeQuantized: zp + TfLiteRound(bound / scale) (float32 division)."""
        low, high = grid.grid()
        if activation is None:
            return low, high
        scale, zero_point = np.float32(grid.scale), int(grid.zero_point)
        on_grid = lambda bound: zero_point + int(tflite_round(np.float32(bound) / scale))
        if activation.op_type == "Relu":
            return max(low, on_grid(0.0)), high
        bounds = [self.constants[name] if name else None for name in list(activation.input[1:3]) + [""] * (3 - len(activation.input))]
        if bounds[0] is not None:
            low = max(low, on_grid(float(bounds[0])))
        if bounds[1] is not None:
            high = min(high, on_grid(float(bounds[1])))
        return low, high

    # --- kernels --------------------------------------------------------------------------------------------------
    def bias_values(self, bias_name, input_scale, weight_scales, channels):
        if not bias_name:
            return np.zeros(channels, dtype=np.int64)
        bias = self.source(bias_name)
        values = bias.values.astype(np.int64)
        expected = np.float64(input_scale) * weight_scales.astype(np.float64) * np.ones(channels)
        stored = bias.scale.astype(np.float64) * np.ones(channels)
        mismatch = np.abs(stored - expected) > 1e-6 * expected
        # a bias stored at another scale than s_x * s_w is brought to it (half away from zero), as npukit does
        rescaled = tflite_round(values * stored / expected).astype(np.int64)
        return np.where(mismatch, rescaled, values)

    def conv(self, node, x, w, bias_name, out_grid, low, high):
        attributes = {a.name: list(a.ints) if a.ints else a.i for a in node.attribute}
        strides = attributes.get("strides", [1, 1])
        dilations = attributes.get("dilations", [1, 1])
        pads = attributes.get("pads", [0, 0, 0, 0])
        group = attributes.get("group", 1)
        values = x.values.astype(np.int64) - int(x.zero_point)
        padded = np.pad(values, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))  # padding is (zp - zp) = 0
        weights = w.values.astype(np.int64) - w.zero_point.reshape(-1, 1, 1, 1)
        out_channels, group_channels, kernel_h, kernel_w = weights.shape
        batch, _, height, width = padded.shape
        out_h = (height - dilations[0] * (kernel_h - 1) - 1) // strides[0] + 1
        out_w = (width - dilations[1] * (kernel_w - 1) - 1) // strides[1] + 1
        accumulator = np.zeros((batch, out_channels, out_h, out_w), dtype=np.int64)
        per_group = out_channels // group
        for g in range(group):
            for kh in range(kernel_h):
                for kw in range(kernel_w):
                    top, left = kh * dilations[0], kw * dilations[1]
                    patch = padded[:, g * group_channels:(g + 1) * group_channels,
                                   top:top + strides[0] * (out_h - 1) + 1:strides[0],
                                   left:left + strides[1] * (out_w - 1) + 1:strides[1]]
                    filters = weights[g * per_group:(g + 1) * per_group, :, kh, kw]
                    accumulator[:, g * per_group:(g + 1) * per_group] += np.einsum("nchw,mc->nmhw", patch, filters)
        weight_scales = w.scale.reshape(-1)
        accumulator += self.bias_values(bias_name, x.scale, weight_scales, out_channels).reshape(1, -1, 1, 1)
        multipliers = [float(np.float64(x.scale) * np.float64(s) / np.float64(out_grid.scale))
                       for s in np.broadcast_to(weight_scales, (out_channels,))]
        scaled = per_channel(accumulator, multipliers, 1)
        return finish(scaled, int(out_grid.zero_point), low, high, out_grid.dtype)

    def fully_connected(self, node, a, b, bias_name, out_grid, low, high):
        weights = b.values.astype(np.int64)
        transposed = any(attr.name == "transB" and attr.i for attr in node.attribute)
        column_axis = 0 if transposed else 1
        if b.scale.size > 1:
            shape = [1, 1]
            shape[column_axis] = -1
            weights = weights - b.zero_point.reshape(shape)
        else:
            weights = weights - int(b.zero_point)
        if transposed:
            weights = weights.T
        if a.scale.size != 1:
            raise Unsupported("per-channel activations")
        accumulator = np.matmul(a.values.astype(np.int64) - int(a.zero_point), weights)
        columns = weights.shape[-1]
        weight_scales = np.broadcast_to(b.scale.reshape(-1), (columns,))
        accumulator = accumulator + self.bias_values(bias_name, a.scale, weight_scales, columns)
        multipliers = [float(np.float64(a.scale) * np.float64(s) / np.float64(out_grid.scale)) for s in weight_scales]
        scaled = per_channel(accumulator, multipliers, accumulator.ndim - 1)
        return finish(scaled, int(out_grid.zero_point), low, high, out_grid.dtype)

    def add(self, a, b, out_grid, low, high):
        left_shift = 20
        twice_max = 2 * np.float64(max(np.float32(a.scale), np.float32(b.scale)))
        a_multiplier = float(np.float64(a.scale) / twice_max)
        b_multiplier = float(np.float64(b.scale) / twice_max)
        output_multiplier = float(twice_max / (np.float64(1 << left_shift) * np.float64(out_grid.scale)))
        a_scaled = multiply_by_quantized_multiplier((a.values.astype(np.int64) - int(a.zero_point)) * (1 << left_shift), a_multiplier)
        b_scaled = multiply_by_quantized_multiplier((b.values.astype(np.int64) - int(b.zero_point)) * (1 << left_shift), b_multiplier)
        raw = multiply_by_quantized_multiplier(a_scaled + b_scaled, output_multiplier)
        return finish(raw, int(out_grid.zero_point), low, high, out_grid.dtype)

    def mul(self, a, b, out_grid, low, high):
        multiplier = float(np.float64(a.scale) * np.float64(b.scale) / np.float64(out_grid.scale))
        product = (a.values.astype(np.int64) - int(a.zero_point)) * (b.values.astype(np.int64) - int(b.zero_point))
        return finish(multiply_by_quantized_multiplier(product, multiplier), int(out_grid.zero_point), low, high, out_grid.dtype)

    @staticmethod
    def pool_windows(node, x):
        attributes = {a.name: list(a.ints) if a.ints else a.i for a in node.attribute}
        if node.op_type == "GlobalAveragePool":
            return [x.shape[2], x.shape[3]], [1, 1], [0, 0, 0, 0], 0
        if attributes.get("ceil_mode", 0):
            raise Unsupported("ceil_mode")
        return attributes["kernel_shape"], attributes.get("strides", [1, 1]), attributes.get("pads", [0, 0, 0, 0]), \
            attributes.get("count_include_pad", 0)

    def pool(self, node, x, average):
        kernel, strides, pads, include_pad = self.pool_windows(node, x.values)
        values = x.values.astype(np.int64)
        batch, channels, height, width = values.shape
        out_h = (height + pads[0] + pads[2] - kernel[0]) // strides[0] + 1
        out_w = (width + pads[1] + pads[3] - kernel[1]) // strides[1] + 1
        result = np.zeros((batch, channels, out_h, out_w), dtype=np.int64)
        for oh in range(out_h):
            for ow in range(out_w):
                top, left = oh * strides[0] - pads[0], ow * strides[1] - pads[1]
                window = values[:, :, max(top, 0):min(top + kernel[0], height), max(left, 0):min(left + kernel[1], width)]
                if not average:
                    result[:, :, oh, ow] = window.max(axis=(2, 3))
                    continue
                total = window.sum(axis=(2, 3))
                count = window.shape[2] * window.shape[3]
                if include_pad:
                    count = (min(top + kernel[0], height + pads[2]) - top) * (min(left + kernel[1], width + pads[3]) - left)
                # TFLite: acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count (C division)
                result[:, :, oh, ow] = np.where(total > 0, truncating_divide(total + count // 2, count),
                                                truncating_divide(total - count // 2, count))
        return result.astype(x.dtype)

    @staticmethod
    def resize_nearest(node, x, reference):
        scales = reference.constants[node.input[2]] if len(node.input) > 2 and node.input[2] else None
        sizes = reference.constants[node.input[3]] if len(node.input) > 3 and node.input[3] else None
        attributes = {a.name: a.s.decode() for a in node.attribute if a.s}
        if attributes.get("coordinate_transformation_mode", "half_pixel") != "asymmetric" or attributes.get("nearest_mode", "round_prefer_floor") != "floor":
            raise Unsupported("Resize other than asymmetric / floor (TFLite align_corners=false, half_pixel_centers=false)")
        height, width = x.shape[2], x.shape[3]
        out_h, out_w = (int(sizes[2]), int(sizes[3])) if sizes is not None else (int(math.floor(height * scales[2])), int(math.floor(width * scales[3])))
        # TFLite ResizeNearestNeighbor: in = min(floor(out * (in_size / out_size)), in_size - 1), in float32
        rows = np.minimum(np.floor(np.arange(out_h, dtype=np.float32) * np.float32(height / out_h)).astype(np.int64), height - 1)
        columns = np.minimum(np.floor(np.arange(out_w, dtype=np.float32) * np.float32(width / out_w)).astype(np.int64), width - 1)
        return x[:, :, rows][:, :, :, columns]

    def data_movement(self, node, x):
        values = x.values
        op = node.op_type
        attributes = {a.name: (list(a.ints) if a.ints else a.i) for a in node.attribute}
        if op == "Reshape":
            shape = [int(d) for d in self.constants[node.input[1]]]
            shape = [values.shape[i] if d == 0 else d for i, d in enumerate(shape)]
            return values.reshape(shape)
        if op == "Transpose":
            return values.transpose(attributes["perm"])
        if op == "Flatten":
            axis = attributes.get("axis", 1)
            return values.reshape(int(np.prod(values.shape[:axis])), -1)
        if op == "Slice":
            starts, ends = self.constants[node.input[1]], self.constants[node.input[2]]
            axes = self.constants[node.input[3]] if len(node.input) > 3 and node.input[3] else range(len(starts))
            steps = self.constants[node.input[4]] if len(node.input) > 4 and node.input[4] else [1] * len(starts)
            index = [slice(None)] * values.ndim
            for start, end, axis, step in zip(starts, ends, axes, steps):
                index[int(axis)] = slice(int(start), int(min(end, values.shape[int(axis)])), int(step))
            return values[tuple(index)]
        if op == "MaxPool":
            return self.pool(node, x, average=False)
        if op == "Resize":
            return self.resize_nearest(node, values, self)
        raise Unsupported(f"no TFLite kernel written here for {op}")

    def lookup_table(self, op, x, out_grid):
        function = {"Sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)), "Tanh": np.tanh}.get(op)
        if function is None:
            raise Unsupported(f"{op} (TFLite computes it with its own fixed-point kernel, not written here)")
        low, high = x.grid()
        grid = np.arange(low, high + 1, dtype=np.int64)
        real = np.float64(x.scale) * (grid - int(x.zero_point)).astype(np.float64)
        out_low, out_high = out_grid.grid()
        table = np.clip(tflite_round(function(real) / np.float64(out_grid.scale)) + int(out_grid.zero_point), out_low, out_high)
        return table.astype(np.int64)[x.values.astype(np.int64) - low].astype(out_grid.dtype)

    # --- the walk ---------------------------------------------------------------------------------------------------
    def run(self, inputs):
        for node in self.graph.node:
            op = node.op_type
            if op == "DequantizeLinear":
                continue
            if op == "QuantizeLinear":
                if node.input[0] in inputs:  # TFLite QUANTIZE of a float input: x / s in float32, half away from zero
                    scale, zero_point, _ = self.params(node)
                    dtype = self.constants[node.input[2]].dtype
                    low, high = GRIDS[np.dtype(dtype)]
                    real = np.asarray(inputs[node.input[0]], dtype=np.float32)
                    q = np.clip(tflite_round(real / np.float32(scale)) + int(zero_point), low, high).astype(dtype)
                    self.integers[node.output[0]] = Quantized(q, scale, zero_point)
                continue
            if op in ("Relu", "Clip", "Identity"):
                continue  # fused activations are handled with their op; Identity passes names to the graph outputs
            try:
                activation, output_name, out_grid = self.output_of(node)
                low, high = self.activation_range(activation, out_grid)
                sources = [self.source(name) if name and name not in self.constants else None for name in node.input]
                if op == "Conv":
                    values = self.conv(node, sources[0], sources[1], node.input[2] if len(node.input) > 2 else "", out_grid, low, high)
                elif op in ("Gemm", "MatMul"):
                    values = self.fully_connected(node, sources[0], sources[1], node.input[2] if len(node.input) > 2 else "", out_grid, low, high)
                elif op == "Add":
                    values = self.add(sources[0], sources[1], out_grid, low, high)
                elif op == "Mul":
                    values = self.mul(sources[0], sources[1], out_grid, low, high)
                elif op == "Concat":
                    axis = next(a.i for a in node.attribute if a.name == "axis")
                    values = np.concatenate([requantize(s, out_grid) for s in sources], axis=axis)
                elif op in ("AveragePool", "GlobalAveragePool"):
                    x = sources[0]
                    values = requantize(Quantized(self.pool(node, x, average=True), x.scale, x.zero_point), out_grid)
                elif op in ("Sigmoid", "Tanh", "HardSwish"):
                    values = self.lookup_table(op, sources[0], out_grid)
                else:
                    x = sources[0]
                    values = requantize(Quantized(self.data_movement(node, x), x.scale, x.zero_point), out_grid)
                self.integers[output_name] = Quantized(values, out_grid.scale, out_grid.zero_point)
            except Unsupported as reason:
                for name in node.output:
                    self.unsupported[name] = f"{node.name} ({op}): {reason}"
                try:
                    _, output_name, _ = self.output_of(node)
                    self.unsupported[output_name] = f"{node.name} ({op}): {reason}"
                except Unsupported:
                    pass
        results = {}
        for output in self.graph.output:
            name = output.name
            node = self.producer[name]
            if node.op_type == "Identity":
                name = node.input[0]
                node = self.producer[name]
            try:
                q = self.source(name)
                results[output.name] = ((q.values.astype(np.int32) - q.zero_point.astype(np.int32)).astype(np.float32) * q.scale, None)
            except Unsupported as reason:
                results[output.name] = (None, str(reason))
        return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--input", action="append", default=[], help="NAME=FILE.npy or FILE.npy (the only input)")
    parser.add_argument("--output-dir", help="write each computed output as NAME.npy")
    parser.add_argument("--json", action="store_true", help="print which outputs were computed, and why not")
    arguments = parser.parse_args()
    model = onnx.load(arguments.model)
    graph_inputs = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    inputs = {}
    for item in arguments.input:
        name, _, path = item.rpartition("=")
        inputs[name or graph_inputs[0]] = np.load(path)
    missing = [name for name in graph_inputs if name not in inputs]
    if missing:
        sys.exit(f"{arguments.model}: give --input for {', '.join(missing)}")
    results = Reference(model).run(inputs)
    if arguments.output_dir:
        os.makedirs(arguments.output_dir, exist_ok=True)
        for name, (values, _) in results.items():
            if values is not None:
                np.save(os.path.join(arguments.output_dir, f"{name}.npy"), values)
    report = {name: ({"computed": True, "shape": list(values.shape)} if values is not None else {"computed": False, "reason": reason})
              for name, (values, reason) in results.items()}
    if arguments.json:
        print(json.dumps(report, indent=2))
    else:
        for name, entry in report.items():
            print(f"{name}: " + (f"computed {entry['shape']}" if entry["computed"] else f"unsupported: {entry['reason']}"))


if __name__ == "__main__":
    main()
