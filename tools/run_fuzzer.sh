#!/usr/bin/env bash
# Builds the fuzzers (clang, libFuzzer, AddressSanitizer) and runs each for a bounded time: the ONNX loader
# (parsing, structural checks, IR conversion, IR shape inference) and the picture decoders (JPEG, PNG, BMP, EXIF).
# Exits non-zero when the fuzzer finds a crash, a sanitizer report, an escaping exception or a time-out;
# the input that triggered it is left in BUILD_DIR/fuzz-artifacts/.
#
#   tools/run_fuzzer.sh [SECONDS] [BUILD_DIR]      defaults: 60 seconds, <repo>/build-fuzz
#
# FUZZ_SEED (default 1) and FUZZ_RUNS (default 400000 executions, -1 = no limit) keep a CI run close to
# reproducible: the same sources, seed corpus and seed replay nearly the same inputs (libFuzzer's corpus growth
# still varies a little between runs: 382 vs 398 new units in two runs here), so CI rarely turns red by chance. Explore further with e.g. FUZZ_SEED=0 FUZZ_RUNS=-1 tools/run_fuzzer.sh 600 (seed 0 = random).
#
# Reproduce one finding:  BUILD_DIR/onnx_loader_fuzzer BUILD_DIR/fuzz-artifacts/crash-<hash>
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${2:-$root/build-fuzz}
jobs=$(nproc 2>/dev/null || echo 2)

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNPUKIT_FUZZ=ON -DNPUKIT_BUILD_TESTS=OFF
cmake --build "$build" -j"$jobs" --target onnx_loader_fuzzer image_decoding_fuzzer preprocessing_spec_fuzzer

# Seed corpus: the ONNX conformance models (small, valid, nearly every op) and the corpus of earlier runs.
corpus=$build/fuzz-corpus/onnx_loader
artifacts=$build/fuzz-artifacts/
mkdir -p "$corpus" "$artifacts"
if [ -d /usr/share/libonnx-testdata/data/node ]; then
  for model in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
    cp -n "$model" "$corpus/$(basename "$(dirname "$model")").onnx"
  done
fi

# detect_leaks=0: libonnx and protobuf keep their schema registries alive until exit on purpose.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 "$build/onnx_loader_fuzzer" "$corpus" \
  -seed="${FUZZ_SEED:-1}" -runs="${FUZZ_RUNS:-400000}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$artifacts" -print_final_stats=1

# The picture decoders, seeded with the small pictures the vision tests use (every format, grey, alpha, EXIF).
picture_corpus=$build/fuzz-corpus/image_decoding
mkdir -p "$picture_corpus"
if [ -z "$(ls -A "$picture_corpus")" ]; then
  pictures=$(mktemp -d)
  /usr/bin/python3 "$root/tools/make_vision_fixtures.py" "$pictures" >/dev/null
  find "$pictures" \( -name '*.jpg' -o -name '*.png' -o -name '*.bmp' \) -size -64k -exec cp {} "$picture_corpus/" \;
  rm -rf "$pictures"
fi
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$build/image_decoding_fuzzer" "$picture_corpus" \
  -seed="${FUZZ_SEED:-1}" -runs="${FUZZ_RUNS:-200000}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$artifacts" -print_final_stats=1

# The pre-processing spec parser (--preprocess text), seeded with the specs the documentation shows.
spec_corpus=$build/fuzz-corpus/preprocessing_spec
mkdir -p "$spec_corpus"
printf 'letterbox=640,mean=0,std=255,rgb,nchw' >"$spec_corpus/ultralytics"
printf 'center_crop=224,shorter=256,mean=123.675/116.28/103.53,std=58.395/57.12/57.375' >"$spec_corpus/imagenet"
printf 'resize=320x240,bgr,nhwc,dtype=i8,scale=0.0078125,zero_point=-128,pad=0' >"$spec_corpus/quantized"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$build/preprocessing_spec_fuzzer" "$spec_corpus" \
  -seed="${FUZZ_SEED:-1}" -runs="${FUZZ_RUNS:-200000}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -artifact_prefix="$artifacts" -print_final_stats=1
