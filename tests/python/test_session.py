# npukit.Session: runs a model to the CLI's outputs bit for bit, hands outputs to numpy without a copy, and
# turns every npukit error into npukit.Error with the CLI's message.
import os

import numpy as np
import pytest

import npukit
from conftest import cli_error


def random_inputs(session, seed=0):
    generator = np.random.default_rng(seed)
    inputs = {}
    for value in session.inputs:
        shape = [dim if dim is not None else 1 for dim in value["shape"]]
        inputs[value["name"]] = generator.standard_normal(shape).astype(value["dtype"])
    return inputs


@pytest.mark.parametrize("backend", ["cpu", "ref"])
def test_run_matches_the_cli_bit_for_bit(cli, small_model, tmp_path, backend):
    session = npukit.Session(small_model, backend=backend, threads=1)
    inputs = random_inputs(session)
    arguments = []
    for name, array in inputs.items():
        np.save(tmp_path / f"{name}.npy", array)
        arguments += ["-i", f"{name}={tmp_path / (name + '.npy')}"]
    cli("run", small_model, *arguments, "--backend", backend, "--threads", "1", "-o", tmp_path / "cli")
    outputs = session.run(inputs)
    assert sorted(outputs) == sorted(value["name"] for value in session.outputs)
    for name, array in outputs.items():
        expected = np.load(tmp_path / "cli" / f"{name}.npy")
        assert array.dtype == expected.dtype and array.shape == expected.shape
        assert array.tobytes() == expected.tobytes(), f"output {name} differs from `npukit run`"


def test_default_backend_is_cpu_and_outputs_are_not_copied(small_model):
    session = npukit.Session(small_model)
    inputs = random_inputs(session, seed=1)
    outputs = session.run(inputs)
    reference = npukit.Session(small_model, backend="ref").run(inputs)
    for name, array in outputs.items():
        # The array's memory belongs to the npukit tensor the capsule keeps alive, not to numpy.
        assert not array.flags["OWNDATA"]
        assert type(array.base).__name__ == "PyCapsule"
        np.testing.assert_allclose(array, reference[name], rtol=1e-3, atol=1e-3)
    # A later run does not write into the arrays an earlier run handed out.
    first = {name: array.copy() for name, array in outputs.items()}
    session.run(random_inputs(session, seed=2))
    for name, array in outputs.items():
        assert np.array_equal(array, first[name])
    # The outputs stay valid after the session that made them is gone.
    first = {name: array.copy() for name, array in outputs.items()}
    del session
    for name, array in outputs.items():
        assert np.array_equal(array, first[name])


def test_inputs_and_outputs_describe_the_model(small_model, cli_json):
    session = npukit.Session(small_model)
    report = cli_json("inspect", small_model)
    assert [value["name"] for value in session.inputs] == [value["name"] for value in report["inputs"]]
    assert [value["name"] for value in session.outputs] == [value["name"] for value in report["outputs"]]
    assert session.inputs[0]["dtype"] == "float32"
    assert list(session.inputs[0]["shape"]) == report["inputs"][0]["shape"]


def test_a_missing_file_raises_npukit_error_with_the_cli_message(cli, tmp_path):
    missing = str(tmp_path / "missing.onnx")
    with pytest.raises(npukit.Error) as raised:
        npukit.Session(missing)
    assert isinstance(raised.value, RuntimeError)
    assert str(raised.value) == cli_error(cli("run", missing, "--random-input", expect_success=False))
    assert raised.value.kind == "io" and raised.value.file == missing


def test_wrong_inputs_raise_npukit_error(small_model):
    session = npukit.Session(small_model)
    inputs = random_inputs(session)
    name = session.inputs[0]["name"]
    with pytest.raises(npukit.Error, match="has no input named 'nonsense'"):
        session.run({**inputs, "nonsense": inputs[name]})
    with pytest.raises(npukit.Error) as raised:
        session.run({name: inputs[name].astype(np.float64)})
    assert raised.value.kind == "invalid_argument"
    with pytest.raises(npukit.Error) as raised:
        session.run({name: inputs[name][..., :3]})
    assert raised.value.kind == "invalid_argument"
    with pytest.raises(npukit.Error):
        npukit.Session(os.devnull)
    with pytest.raises(npukit.Error, match="backend"):
        npukit.Session(small_model, backend="no-such-backend")


def test_version_is_the_cli_version(cli):
    assert cli("version").stdout.splitlines()[0] == "npukit " + npukit.version()
    assert npukit.build_description() == cli("version").stdout.rstrip("\n")


def test_backends_bytes_and_input_shapes(small_model, models):
    assert npukit.available_backends()[0] == "cpu" and "ref" in npukit.available_backends()
    with open(small_model, "rb") as file:
        from_memory = npukit.Session.from_bytes(file.read(), name="in-memory.onnx")
    from_file = npukit.Session(small_model)
    inputs = random_inputs(from_file, seed=4)
    expected = from_file.run(inputs)
    for name, array in from_memory.run(inputs).items():
        assert array.tobytes() == expected[name].tobytes()
    dynamic = os.path.join(models, "generated", "yolo_v8_dynamic_batch.onnx")
    session = npukit.Session(dynamic, input_shapes={"images": [2, 3, 64, 64]})
    assert tuple(session.inputs[0]["shape"]) == (2, 3, 64, 64)
    outputs = session.run({"images": np.zeros((2, 3, 64, 64), np.float32)})
    assert all(array.shape[0] == 2 for array in outputs.values())
    with pytest.raises(npukit.Error) as raised:
        npukit.Session.from_bytes(b"not a model", name="junk.onnx")
    assert "junk.onnx" in str(raised.value)
