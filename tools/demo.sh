#!/usr/bin/env bash
# The main job on the built-in default model: what a newcomer sees first.
#   tools/demo.sh NPUKIT_BINARY MODEL
set -euo pipefail
npukit=${1:?usage: tools/demo.sh NPUKIT_BINARY MODEL}
model=${2:-builtin:yolov5s}
target=${DEMO_TARGET:-rk3588}
output_dir=${DEMO_OUTPUT_DIR:-build/demo-output}
mkdir -p "$output_dir"

step() { printf '\n\033[1m== %s\033[0m\n%s\n\n' "$1" "$2"; }

step "1/6 inspect: what is in the model" \
     "npukit inspect $model — inputs and outputs, parameters, multiply-accumulates (MACs), peak activation memory."
"$npukit" inspect "$model" --layers 15

step "2/6 targets: the NPUs npukit knows" \
     "npukit targets — profiles as data (targets/*.json), every fact with its source."
"$npukit" targets

step "3/6 check on every target" \
     "npukit check $model --target all — share of MACs on each accelerator, segments, transfers per inference."
"$npukit" check "$model" --target all --report "$output_dir/check.md"

step "4/6 check on $target: which nodes leave the NPU, and why" \
     "npukit check $model --target $target — the failed rule in words and the patch that fixes it."
"$npukit" check "$model" --target "$target"

step "5/6 patch for $target" \
     "npukit patch $model --target $target -o $output_dir/patched.onnx — cuts the YOLO decode, fixes what the NPU refuses."
"$npukit" patch "$model" --target "$target" -o "$output_dir/patched.onnx"

step "6/6 check the patched model" \
     "npukit check $output_dir/patched.onnx --target $target"
"$npukit" check "$output_dir/patched.onnx" --target "$target"

step "run: one inference of the patched model on the CPU" \
     "npukit run $output_dir/patched.onnx --random-input — backend cpu (oneDNN and own kernels; the reference backend for the rest)."
"$npukit" run "$output_dir/patched.onnx" --backend cpu --random-input --seed 1 --output-dir "$output_dir"

step "estimate: the latency of the patched model on every board, with its error band" \
     "npukit estimate $output_dir/patched.onnx --target all --report $output_dir/estimate.html — a per-layer model fitted on published figures."
"$npukit" estimate "$output_dir/patched.onnx" --target all --report "$output_dir/estimate.html"

printf '\nOutputs, the patched model, its post-processing sidecar, check.md and estimate.html are in %s.\n' "$output_dir"
printf 'Next: npukit check YOUR_MODEL.onnx --target all, npukit patch YOUR_MODEL.onnx --target %s -o out.onnx\n' "$target"
