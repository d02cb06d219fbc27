#!/usr/bin/env bash
# The pipeline's worker scaling on this machine (issue 13's bar: 2 workers >= 1.7x one worker on 2 cores), as in
# docs/benchmarks.md "End-to-end pipeline": npukit's detector at 320x320 on the bundled validation pictures, one
# intra-op thread per worker, RUNS repetitions, each printed with the load average before and after (other work on
# the machine shares its cores; that is reported, not hidden).
#   bench/pipeline_scaling.sh [NPUKIT] [RUNS] [FRAMES]
set -euo pipefail
npukit=${1:-build/npukit}
runs=${2:-3}
frames=${3:-300}
model=models/detector/shapes_yolov8.onnx
pictures=models/detector/validation/images
for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$npukit" bench "$model" --end-to-end "$pictures" --workers 1,2 --threads 1 -n "$frames" --warmup 10 \
    ${REPORT:+--report "$REPORT"}
  echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
