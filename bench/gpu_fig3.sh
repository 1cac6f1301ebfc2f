#!/usr/bin/env bash
# The Fig. 3 grid (zoo_configs/toy-fig3.yaml, 5,760 runs of 1,600 iterations) as one bounded GPU job:
#   1. calibration: the grid at 100 iterations for CAL seconds with one worker process, then with
#      WORKERS processes sharing the GPU (its kernels are tiny, so the time goes to launching them);
#   2. the projected time of the whole grid for each layout;
#   3. the grid itself at full length with the faster layout until the slot (TIME seconds) is over.
#      Runs are resumable: give the archive an earlier slot brought back as RESUME=fig3-runs.tgz
#      and only the missing runs are trained;
#   4. into $OUT (six files): results.csv, the report (fig3.png, table.png, summary.csv), the
#      grid's log, and fig3-runs.tgz, the sweep folder for the next slot.
# Usage, from the repository root of a machine with CUDA and torch installed:
#   OUT=gpu-results bash bench/gpu_fig3.sh
# A CPU rehearsal with a tiny grid (what the tests of this script do):
#   DEVICE=cpu SWEEP=toy-reference CAL_STEPS=10 CAL=20 TIME=60 WORKERS=2 OUT=rehearsal bash bench/gpu_fig3.sh
set -uo pipefail
OUT=${OUT:-gpu-results}
SWEEP=${SWEEP:-toy-fig3}
DEVICE=${DEVICE:-cuda}
CAL=${CAL:-30}
CAL_STEPS=${CAL_STEPS:-100}
TIME=${TIME:-420}
WORKERS=${WORKERS:-8}
mkdir -p "$OUT"
SWEEP_DIR=$(mktemp -d)/fig3
mkdir -p "$SWEEP_DIR"
if [ -n "${RESUME:-}" ]; then tar xzf "$RESUME" -C "$SWEEP_DIR"; fi
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 MPLBACKEND=Agg
SCRATCH=$(mktemp -d)
log() { echo "== $(date +%T) $*"; }
seconds_since() { python3 -c "import time; print(round(time.time() - $1, 1))"; }
count_runs() { ls "$1/runs" 2>/dev/null | grep -c '\.json$'; }

total=$(python3 -c "
from genzoo.registry import default_registry
from genzoo.sweep import load_sweep
sweep = load_sweep('$SWEEP', [], default_registry())
print(len(sweep.runs), sweep.runs[0].raw['train']['steps'])")
read -r grid_runs grid_steps <<< "$total"
log "$SWEEP: $grid_runs runs of $grid_steps iterations on $DEVICE"

best_rate=0
best_workers=1
for workers in 1 "$WORKERS"; do
  log "1. calibration: $CAL s of the grid at $CAL_STEPS iterations, workers=$workers"
  start=$(python3 -c "import time; print(time.time())")
  timeout "$CAL" genzoo sweep "$SWEEP" train.steps="$CAL_STEPS" train.device="$DEVICE" workers="$workers" \
    out="$SCRATCH/cal-$workers" > "$SCRATCH/calibration-$workers.log" 2>&1
  elapsed=$(seconds_since "$start")
  finished=$(count_runs "$SCRATCH/cal-$workers")
  rate=$(python3 -c "print($finished * $CAL_STEPS / $elapsed)")
  echo "workers=$workers: $finished runs of $CAL_STEPS iterations in $elapsed s (start-up included): $rate run-iterations/s"
  python3 -c "r=$rate; print('2. projected whole grid: %.0f min' % ($grid_runs * $grid_steps / r / 60) if r else '2. no stack finished: calibrate longer')"
  if python3 -c "import sys; sys.exit(0 if $rate > $best_rate else 1)"; then best_rate=$rate; best_workers=$workers; fi
done

log "3. the grid at full length, workers=$best_workers, for $TIME s"
before=$(count_runs "$SWEEP_DIR")
timeout --signal=INT "$TIME" genzoo sweep "$SWEEP" train.device="$DEVICE" workers="$best_workers" out="$SWEEP_DIR" \
  > "$OUT/grid.log" 2>&1
echo "grid: $(count_runs "$SWEEP_DIR") of $grid_runs runs finished ($before before this slot)"
tail -2 "$OUT/grid.log"

log "4. report"
tar czf "$OUT/fig3-runs.tgz" -C "$SWEEP_DIR" .
if [ -f "$SWEEP_DIR/results.csv" ]; then
  cp "$SWEEP_DIR/results.csv" "$OUT/results.csv"
  genzoo report "$SWEEP_DIR" && cp "$SWEEP_DIR/fig3.png" "$SWEEP_DIR/table.png" "$SWEEP_DIR/summary.csv" "$OUT/"
fi
log end
