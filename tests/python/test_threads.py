# Loading models from a Python program that runs threads: the ONNX checker runs in the npukit-validate helper
# (fork+exec), never in a fork of this multi-threaded interpreter, and a model that crashes libonnx still gives
# an npukit.Error naming the node.
import os
import threading

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import npukit


def conv_crash_model(path):
    # libonnx 1.12's Conv inference indexes the weight's dims by the input's rank; with the weight's rank known
    # only after inference (it comes out of an Identity) inference crashes (tests/bad_model_test.cpp).
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["x_relu"], name="relu"),
         helper.make_node("Identity", ["w"], ["w_copy"], name="copy"),
         helper.make_node("Conv", ["x_relu", "w_copy"], ["y"], name="conv")],
        "conv_crash",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [-1, -1])],
        [helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 2, 2], [1, 2, 3, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_the_helper_is_found():
    path = npukit.validation_helper_path()
    assert path and os.access(path, os.X_OK)


def test_a_crashing_model_gives_an_error_naming_the_node(tmp_path):
    path = conv_crash_model(str(tmp_path / "conv_crash.onnx"))
    with pytest.raises(npukit.Error) as raised:
        npukit.Session(path)
    assert "shape inference (libonnx 1.12) crashed" in str(raised.value)
    assert raised.value.node == "'conv' (Conv)" and raised.value.file == path


def test_loading_from_threads_while_other_threads_run(small_model, tmp_path):
    crash = conv_crash_model(str(tmp_path / "conv_crash.onnx"))
    running = npukit.Session(small_model, threads=2)
    value = running.inputs[0]
    inputs = {value["name"]: np.random.default_rng(3).standard_normal(value["shape"]).astype(np.float32)}
    expected = running.run(inputs)
    failures = []
    stop = threading.Event()

    def keep_running():
        session = npukit.Session(small_model, threads=2)
        while not stop.is_set():
            outputs = session.run(inputs)
            if any(not np.array_equal(outputs[name], expected[name]) for name in expected):
                failures.append("a run gave other outputs")

    def load_models():
        try:
            for _ in range(3):
                session = npukit.Session(small_model)
                outputs = session.run(inputs)
                if any(not np.array_equal(outputs[name], expected[name]) for name in expected):
                    failures.append("a session loaded in a thread gave other outputs")
                try:
                    npukit.Session(crash)
                    failures.append("the crashing model loaded")
                except npukit.Error as error:
                    if "'conv' (Conv)" not in str(error):
                        failures.append(f"unexpected error: {error}")
                npukit.check(small_model, target="rk3588")
        except Exception as error:  # reported below, with the thread's failure
            failures.append(repr(error))

    runners = [threading.Thread(target=keep_running) for _ in range(2)]
    loaders = [threading.Thread(target=load_models) for _ in range(3)]
    for thread in runners + loaders:
        thread.start()
    for thread in loaders:
        thread.join(timeout=300)
    stop.set()
    for thread in runners:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in runners + loaders), "a thread hangs"
    assert failures == []
