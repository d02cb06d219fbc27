#!/usr/bin/env bash
# The main job on the built-in default model: what a newcomer sees first.
#   tools/demo.sh NPUKIT_BINARY MODEL
set -euo pipefail
npukit=${1:?usage: tools/demo.sh NPUKIT_BINARY MODEL}
model=${2:-builtin:yolov5s}
output_dir=${DEMO_OUTPUT_DIR:-build/demo-output}

step() { printf '\n\033[1m== %s\033[0m\n%s\n\n' "$1" "$2"; }

step "1/2 inspect: what is in the model" \
     "npukit inspect $model — inputs and outputs, parameters, multiply-accumulates (MACs), peak activation memory."
"$npukit" inspect "$model" --layers 15

step "2/2 run: one inference on the reference backend" \
     "npukit run $model --random-input — the plain C++ oracle every faster backend is checked against."
"$npukit" run "$model" --backend ref --random-input --seed 1 --output-dir "$output_dir"

printf '\nOutputs are in %s (NumPy .npy). Next: npukit inspect YOUR_MODEL.onnx, npukit conformance.\n' "$output_dir"
