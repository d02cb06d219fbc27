# npukit.inspect / check / patch return the dicts the CLI's --json prints, from the same report code.
import json
import os

import pytest

import npukit
from conftest import cli_error


def test_inspect_equals_the_cli_json(small_model, cli_json):
    assert npukit.inspect(small_model) == cli_json("inspect", small_model)


def test_inspect_with_an_input_shape_equals_the_cli_json(models, cli_json):
    model = os.path.join(models, "generated", "yolo_v8_dynamic_batch.onnx")
    report = npukit.inspect(model, input_shapes={"images": [2, 3, 64, 64]})
    assert report == cli_json("inspect", model, "--input-shape", "images=2,3,64,64")
    assert report["inputs"][0]["shape"] == [2, 3, 64, 64]


@pytest.mark.parametrize("target", ["rk3588", "all"])
def test_check_equals_the_cli_json(small_model, cli_json, target):
    report = npukit.check(small_model, target=target)
    assert report == cli_json("check", small_model, "--target", target)
    assert report["targets"][0]["nodes"], "a check lists every node"


def test_patch_to_a_file_equals_the_cli_json_and_writes_the_same_model(small_model, cli_json, tmp_path):
    output = str(tmp_path / "patched.onnx")
    expected = cli_json("patch", small_model, "--target", "rk3588", "-o", output)
    with open(output, "rb") as file:
        written_by_cli = file.read()
    sidecar_by_cli = None
    if expected["sidecar"]:
        with open(expected["sidecar"]) as file:
            sidecar_by_cli = file.read()
    os.remove(output)
    report = npukit.patch(small_model, target="rk3588", output=output)
    assert report == expected
    with open(output, "rb") as file:
        assert file.read() == written_by_cli
    if sidecar_by_cli is not None:
        with open(report["sidecar"]) as file:
            assert file.read() == sidecar_by_cli


def test_patch_to_bytes_writes_nothing_and_gives_the_same_model(small_model, cli_json, tmp_path):
    output = str(tmp_path / "patched.onnx")
    expected = cli_json("patch", small_model, "--target", "rk3588", "-o", output)
    report = npukit.patch(small_model, target="rk3588")
    with open(output, "rb") as file:
        assert report.pop("model_bytes") == file.read()
    sidecar_json = report.pop("sidecar_json")
    if expected["sidecar"]:
        with open(expected["sidecar"]) as file:
            assert json.loads(sidecar_json) == json.loads(file.read())
    else:
        assert sidecar_json is None
    # Only where the files went differs.
    assert report["output"] == "" and report["sidecar"] is None
    for key in ("output", "sidecar"):
        report.pop(key)
        expected.pop(key)
    assert report == expected


def test_errors_carry_the_cli_message(cli, small_model, tmp_path):
    with pytest.raises(npukit.Error) as raised:
        npukit.check(small_model, target="no-such-board")
    assert str(raised.value) == cli_error(cli("check", small_model, "--target", "no-such-board", expect_success=False))
    with pytest.raises(npukit.Error) as raised:
        npukit.check(small_model)
    assert str(raised.value) == cli_error(cli("check", small_model, expect_success=False))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07\x12\x04junk")
    with pytest.raises(npukit.Error) as raised:
        npukit.inspect(str(broken))
    assert raised.value.kind == "invalid_model"
    assert str(raised.value) == cli_error(cli("inspect", broken, expect_success=False))
    with pytest.raises(npukit.Error) as raised:
        npukit.patch(small_model, target="rk3588", output=str(tmp_path / "no-such-folder" / "out.onnx"))
    assert str(raised.value) == cli_error(
        cli("patch", small_model, "--target", "rk3588", "-o", tmp_path / "no-such-folder" / "out.onnx", expect_success=False))
