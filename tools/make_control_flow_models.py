#!/usr/bin/python3
"""Writes small models whose work lives inside control flow, for the tests of subgraph counting and If
specialization (run with /usr/bin/python3: Debian's python3-onnx and python3-numpy).

    /usr/bin/python3 tools/make_control_flow_models.py --output models/generated

  speech_if.onnx     shaped like a voice-activity detector: all the work (Conv1d stacks and an LSTM) sits in the
                     two branches of one If chosen by a sample-rate input (16000 -> then, 8000 -> else)
  loop_constant.onnx a Loop of 4 iterations (constant trip count) whose body does a MatMul and a Tanh
  loop_dynamic.onnx  the same body, its trip count a graph input
Deterministic (seeded weights).
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def initializer(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def conv_branch(name, rng, kernels, channels, hidden):
    """Unsqueeze the audio chunk to [1, 1, 512], Conv1d + Relu per kernel, then an LSTM over time and a score."""
    nodes, weights = [], []
    nodes.append(helper.make_node("Unsqueeze", ["input", f"{name}_axes"], [f"{name}_x0"], name=f"{name}_unsqueeze"))
    weights.append(numpy_helper.from_array(np.array([1], dtype=np.int64), f"{name}_axes"))
    previous, previous_channels = f"{name}_x0", 1
    for index, (kernel, out_channels) in enumerate(zip(kernels, channels)):
        w = rng.standard_normal((out_channels, previous_channels, kernel)).astype(np.float32) / np.sqrt(previous_channels * kernel)
        b = rng.standard_normal(out_channels).astype(np.float32) * 0.1
        weights += [initializer(f"{name}_conv{index}_w", w), initializer(f"{name}_conv{index}_b", b)]
        nodes.append(helper.make_node("Conv", [previous, f"{name}_conv{index}_w", f"{name}_conv{index}_b"],
                                      [f"{name}_conv{index}"], name=f"{name}_conv{index}",
                                      kernel_shape=[kernel], strides=[2], pads=[kernel // 2, kernel // 2]))
        nodes.append(helper.make_node("Relu", [f"{name}_conv{index}"], [f"{name}_relu{index}"], name=f"{name}_relu{index}"))
        previous, previous_channels = f"{name}_relu{index}", out_channels
    # [1, C, T] -> [T, 1, C] for the LSTM (layout 0: sequence, batch, input)
    nodes.append(helper.make_node("Transpose", [previous], [f"{name}_sequence"], name=f"{name}_to_sequence", perm=[2, 0, 1]))
    w = rng.standard_normal((1, 4 * hidden, previous_channels)).astype(np.float32) * 0.1
    r = rng.standard_normal((1, 4 * hidden, hidden)).astype(np.float32) * 0.1
    b = np.zeros((1, 8 * hidden), dtype=np.float32)
    weights += [initializer(f"{name}_lstm_w", w), initializer(f"{name}_lstm_r", r), initializer(f"{name}_lstm_b", b)]
    nodes.append(helper.make_node("LSTM", [f"{name}_sequence", f"{name}_lstm_w", f"{name}_lstm_r", f"{name}_lstm_b", "", "state", "state"],
                                  ["", f"{name}_hidden"], name=f"{name}_lstm", hidden_size=hidden))
    # [1, 1, hidden] -> a score in (0, 1)
    head = rng.standard_normal((1, hidden)).astype(np.float32) * 0.2
    weights.append(initializer(f"{name}_head_w", head))
    nodes.append(helper.make_node("Reshape", [f"{name}_hidden", f"{name}_flat_shape"], [f"{name}_flat"], name=f"{name}_flatten"))
    weights.append(numpy_helper.from_array(np.array([1, hidden], dtype=np.int64), f"{name}_flat_shape"))
    nodes.append(helper.make_node("Gemm", [f"{name}_flat", f"{name}_head_w"], [f"{name}_logit"], name=f"{name}_head", transB=1))
    nodes.append(helper.make_node("Sigmoid", [f"{name}_logit"], [f"{name}_probability"], name=f"{name}_sigmoid"))
    output = helper.make_tensor_value_info(f"{name}_probability", TensorProto.FLOAT, [1, 1])
    return helper.make_graph(nodes, name, [], [output], initializer=weights)


def speech_if():
    rng = np.random.default_rng(16000)
    hidden = 32
    then_branch = conv_branch("sr16k", rng, kernels=[5, 3, 3], channels=[16, 32, 32], hidden=hidden)
    else_branch = conv_branch("sr8k", rng, kernels=[3, 3, 3], channels=[16, 16, 32], hidden=hidden)
    nodes = [
        helper.make_node("Equal", ["sr", "sixteen_khz"], ["is_16k"], name="is_16k"),
        helper.make_node("If", ["is_16k"], ["probability"], name="by_sample_rate",
                         then_branch=then_branch, else_branch=else_branch),
    ]
    graph = helper.make_graph(
        nodes, "speech_if",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 512]),
         helper.make_tensor_value_info("sr", TensorProto.INT64, []),
         helper.make_tensor_value_info("state", TensorProto.FLOAT, [1, 1, hidden])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [1, 1])],
        initializer=[numpy_helper.from_array(np.array(16000, dtype=np.int64), "sixteen_khz")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="npukit-tests")


def loop_model(constant_trip_count):
    rng = np.random.default_rng(4)
    w = (rng.standard_normal((16, 16)) / 4).astype(np.float32)
    body = helper.make_graph(
        [helper.make_node("Identity", ["condition_in"], ["condition_out"], name="keep_going"),
         helper.make_node("MatMul", ["carried_in", "loop_w"], ["product"], name="body_matmul"),
         helper.make_node("Tanh", ["product"], ["carried_out"], name="body_tanh")],
        "body",
        [helper.make_tensor_value_info("iteration", TensorProto.INT64, []),
         helper.make_tensor_value_info("condition_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("carried_in", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("condition_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("carried_out", TensorProto.FLOAT, [1, 16])])
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])]
    initializers = [initializer("loop_w", w), numpy_helper.from_array(np.array(True), "always")]
    if constant_trip_count:
        initializers.append(numpy_helper.from_array(np.array(4, dtype=np.int64), "trip_count"))
    else:
        inputs.append(helper.make_tensor_value_info("trip_count", TensorProto.INT64, []))
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trip_count", "always", "x"], ["y"], name="repeat", body=body)],
        "loop_constant" if constant_trip_count else "loop_dynamic", inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])], initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="npukit-tests")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args()
    os.makedirs(arguments.output, exist_ok=True)
    for name, model in [("speech_if", speech_if()), ("loop_constant", loop_model(True)), ("loop_dynamic", loop_model(False))]:
        model.ir_version = 8
        onnx.checker.check_model(model, full_check=True)
        path = os.path.join(arguments.output, name + ".onnx")
        onnx.save(model, path + ".partial")
        os.replace(path + ".partial", path)
        print(f"  {name}: {path}")


if __name__ == "__main__":
    main()
