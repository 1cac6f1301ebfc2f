#!/usr/bin/env bash
# The trainer's CUDA paths and the first GPU benchmarks, as one bounded job (about 8 minutes on an H100/H200).
#   1. calibration: a 200-iteration toy run on the GPU;
#   2. the conv recipes (mnist_conv, cifar_dcgan) for a few iterations each with precision=bf16,
#      precision=fp16 (GradScaler), compile=true, and fused Adam + decoder EMA;
#   3. bench/throughput.py (eager fp32/bf16, compiled bf16) and bench/overhead.py;
#   4. a one-minute stacked run of the Fig. 3 grid (at 100 iterations), to project the whole grid's time.
# Usage, from the repository root of a machine with CUDA and torch installed:
#   DATA=/path/with/MNIST-and-cifar10 OUT=gpu-results bash bench/gpu_check.sh
set -uo pipefail
OUT=${OUT:-gpu-results}
DATA=${DATA:-../shared/data}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 MPLBACKEND=Agg
RUNS=$(mktemp -d)
log() { echo "== $(date +%T) $*"; }
quiet="train.progress=false train.tensorboard=false train.picture_every=0 eval.every=0 eval.metrics=[mse]"

log install
python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . 2>&1 | tail -2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, genzoo; print('torch', torch.__version__, '| genzoo', genzoo.__version__, '|', torch.cuda.get_device_name())"

log "1. calibration: 200 toy iterations"
start=$(date +%s.%N)
timeout 120 genzoo train steps=200 device=cuda train.progress=false out="$RUNS/toy" | head -1
echo "calibration wall $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"

log "2. CUDA paths of the trainer"
for recipe in svae-r-mnist svae-r-cifar; do
  for variant in "precision=bf16" "precision=fp16" "compile=true" "ema=0.999 optim.fused=true"; do
    name="$recipe-$(echo "$variant" | tr ' =.' '_-_')"
    start=$(date +%s.%N)
    timeout 150 genzoo train "$recipe" data.root="$DATA" steps=40 device=cuda $variant $quiet \
      train.log_every=10 train.checkpoint_every=20 out="$RUNS/$name" > "$RUNS/$name.log" 2>&1
    rc=$?
    echo "$name: exit $rc, wall $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s; $(grep -m1 '^done\|error' "$RUNS/$name.log")"
  done
done
python3 - "$RUNS" "$OUT/cuda-paths.json" <<'EOF'
import json, pathlib, sys
runs, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
found = {}
for folder in sorted(p for p in runs.iterdir() if p.is_dir() and p.name.startswith("svae-r")):
    last = (folder / "metrics.jsonl").read_text().splitlines()[-1] if (folder / "metrics.jsonl").is_file() else None
    metrics = json.loads((folder / "metrics.json").read_text()) if (folder / "metrics.json").is_file() else None
    found[folder.name] = {"last_logged": json.loads(last) if last else None,
                          "metrics": {k: v for k, v in (metrics or {}).items() if k != "details"}}
out.write_text(json.dumps(found, indent=1) + "\n")
print(f"wrote {out}: {len(found)} runs")
EOF

log "3a. throughput, eager"
timeout 150 python3 bench/throughput.py --iters 20 --archs mnist_conv,cifar_dcgan --modes eager --precisions fp32,bf16
log "3b. throughput, compiled bf16"
timeout 120 python3 bench/throughput.py --iters 20 --archs mnist_conv,cifar_dcgan --modes compile --precisions bf16
log "3c. trainer overhead"
timeout 120 python3 bench/overhead.py --steps 200 --rounds 3 --data-root "$DATA"

log "4. Fig. 3 grid at 100 of its 1,600 iterations, 60 s of stacked runs"
start=$(date +%s.%N)
timeout 60 genzoo sweep toy-fig3 train.steps=100 out="$RUNS/fig3" > "$RUNS/fig3.log" 2>&1
elapsed=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
done_runs=$(ls "$RUNS/fig3/runs" 2>/dev/null | grep -c '\.json$')
echo "fig3: $done_runs of 5760 runs (100 iterations each) finished in $elapsed s, start-up included"
python3 -c "d=$done_runs; e=$elapsed; print('projected whole grid at 1,600 iterations: %.0f min' % (5760 / d * e * 16 / 60) if d else 'no stack finished: the projection needs a longer slot')"
tail -3 "$RUNS/fig3.log"
log end
