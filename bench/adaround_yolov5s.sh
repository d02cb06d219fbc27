#!/usr/bin/env bash
# Issue 11's benchmark: calibration plus AdaRound on YOLOv5s (models/generated/yolov5s.onnx, 640x640, random
# weights) with 128 pictures finishes on a 2-core machine in under 15 minutes, with a progress bar.
#   bench/adaround_yolov5s.sh [NPUKIT] [BUDGET_SECONDS] [OUTPUT_DIR]
# The pictures are 128 synthetic scenes (tools/make_detection_scenes.py, seed 2025). AdaRound gets a time budget
# (--time-budget, default 480 s): it re-simulates the model's inputs x̃ as often as 30 % of it pays for and gives
# each layer a share of the rest in proportion to its size (docs/quantization.md, "AdaRound"). The load average
# before and after is printed: other work on the machine shares its cores, and that is reported, not hidden.
# The process's CPU time (user + system, from /usr/bin/time) is printed too: on a shared machine it is what the
# work itself costs. The budget is wall-clock time, so under load AdaRound learns less within it.
set -euo pipefail
npukit=${1:-build/npukit}
budget=${2:-480}
output=${3:-build/bench-adaround}
mkdir -p "$output"
if [ ! -d "$output/calibration/images" ] || [ "$(ls "$output/calibration/images" | wc -l)" -ne 128 ]; then
  /usr/bin/python3 tools/make_detection_scenes.py --output "$output/calibration" --count 128 --seed 2025 >/dev/null
fi
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
start=$(date +%s)
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f "%U %S" -o "$output/cpu_seconds.txt")
"${timer[@]}" "$npukit" quantize models/generated/yolov5s.onnx --target rk3588 --calibration "$output/calibration/images" \
  --algorithm adaround --time-budget "$budget" -o "$output/yolov5s_adaround.onnx" --report "$output/yolov5s_adaround.md" |
  sed -n '/algorithm/,/numerics spec/p'
end=$(date +%s)
echo "== wall time: $((end - start)) s (calibration of 128 pictures plus AdaRound); load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -s "$output/cpu_seconds.txt" ]; then
  read -r user system < <(tail -n 1 "$output/cpu_seconds.txt")
  echo "== CPU time of the npukit process: ${user} s user + ${system} s system"
else
  echo "== CPU time: unknown (/usr/bin/time is not installed)"
fi
