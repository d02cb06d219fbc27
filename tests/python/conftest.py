# The Python tests run against the module the build put in build/python (PYTHONPATH), and compare it with the
# npukit binary of the same build (NPUKIT_CLI): ctest sets both (CMakeLists.txt, test "python_bindings").
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("NPUKIT_CLI", os.path.join(ROOT, "build", "npukit"))
    assert os.access(path, os.X_OK), f"no npukit binary at {path}: build it, or set NPUKIT_CLI"

    def run(*arguments, expect_success=True):
        result = subprocess.run([path, *map(str, arguments)], capture_output=True, text=True)
        if expect_success:
            assert result.returncode == 0, result.stderr
        return result

    return run


@pytest.fixture(scope="session")
def cli_json(cli):
    return lambda *arguments: json.loads(cli(*arguments, "--json").stdout)


@pytest.fixture(scope="session")
def models():
    return os.environ.get("NPUKIT_MODELS_DIR", os.path.join(ROOT, "models"))


@pytest.fixture(scope="session")
def small_model(models):
    # A YOLOv5-shaped model with a raw head (about 120 KB): fast everywhere, Conv/SiLU/Concat/Resize inside.
    path = os.path.join(models, "generated", "yolo_v5_raw.onnx")
    assert os.path.exists(path), f"{path} is missing: run tools/make_models.sh"
    return path


def cli_error(result):
    """The message the CLI printed for an error, without its "npukit: error: " prefix."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("npukit: error: ")]
    assert lines, result.stderr
    return lines[-1][len("npukit: error: "):]
