#!/usr/bin/env bash
# The four grey-MNIST recipes side by side on one GPU, evaluated, as one bounded job:
#   1. calibration: the four recipes at once for CAL_MINUTES (train.max_minutes), which gives each
#      one's iterations/s while they share the GPU and projects their full 78,100 iterations;
#   2. training: the four at once for MINUTES each (train.max_minutes), with the recipes' cheap
#      curves (IS on 2,000 samples, MSE on 1,000 test images every 1,000 iterations); each run then
#      measures MSE, IS, FID and latent KL with their full protocols and exports its model;
#   3. AIS at T=AIS_T with K=AIS_K chains on the shuffled binarized test set, with BDMC on simulated
#      items, for each run and for CARRY/model (a model trained longer elsewhere), all at once;
#   4. into $OUT (seven files): summary.json, gpu_mnist.log, model-metrics.json, and one archive per
#      recipe (config, logs, curves, metrics, pictures, and the export with its weights as bf16).
# CARRY is the folder bench/gpu_mnist_prepare.py makes (data, classifier, torch-fidelity wheel, model).
# Usage, from the repository root of a machine with CUDA and torch installed:
#   CARRY=.gpu OUT=gpu-results bash bench/gpu_mnist.sh
# A CPU rehearsal with small nets (what the tests of this script do):
#   DEVICE=cpu INSTALL=0 CAL_MINUTES=0.05 MINUTES=0.1 AIS_T=5 AIS_K=2 AIS_ITEMS=4 BDMC=2 MODEL_ITEMS=4 MODEL_BDMC=2 \
#     EXTRA="arch.latent_dim=8 train.batch_size=8" CARRY=... OUT=... bash bench/gpu_mnist.sh
set -uo pipefail
OUT=${OUT:-gpu-results}
CARRY=${CARRY:-.gpu}
DEVICE=${DEVICE:-cuda}
INSTALL=${INSTALL:-1}
RECIPES=${RECIPES:-svae-r-mnist svae-mnist alice-mnist ali-mnist}
CAL_MINUTES=${CAL_MINUTES:-0.75}
MINUTES=${MINUTES:-4.5}
AIS_T=${AIS_T:-1000}
AIS_K=${AIS_K:-16}
AIS_ITEMS=${AIS_ITEMS:-50}
BDMC=${BDMC:-5}
MODEL_ITEMS=${MODEL_ITEMS:-200}
MODEL_BDMC=${MODEL_BDMC:-10}
EXTRA=${EXTRA:-}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_mnist.log") 2>&1
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 MPLBACKEND=Agg OMP_NUM_THREADS=2
export GENZOO_MNIST_CLASSIFIER="$CARRY/mnist-classifier.safetensors"
DATA="$CARRY/data"
RUNS=$(mktemp -d)
log() { echo "== $(date +%T) $*"; }
quiet="train.progress=false train.tensorboard=false data.root=$DATA train.device=$DEVICE"
# Every command below runs in the background and is waited for; a limit keeps a hung one from
# eating the slot. The runs stop themselves at train.max_minutes; the margin is for start-up and
# the final evaluation.
limit() { python3 -c "print(int($1 * 60 + 240))"; }
pids=()
wait_all() { wait "${pids[@]}"; pids=(); }  # a bare `wait` would also wait for the log's tee

if [ "$INSTALL" = 1 ]; then
  log install
  python3 -c "import torch_fidelity" 2>/dev/null || python3 -m pip install -q --no-deps --no-index "$CARRY"/wheels/torch_fidelity-*.whl
  python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . 2>&1 | tail -2
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
python3 -c "import torch, torch_fidelity, genzoo; print('torch', torch.__version__, '| torch-fidelity', torch_fidelity.__version__, '| genzoo', genzoo.__version__)"

log "1. calibration: $RECIPES at once for $CAL_MINUTES min"
for recipe in $RECIPES; do
  timeout --signal=INT "$(limit "$CAL_MINUTES")" genzoo train "$recipe" $quiet train.max_minutes="$CAL_MINUTES" \
    eval.every=0 "eval.metrics=[mse]" train.picture_every=0 out="$RUNS/cal-$recipe" $EXTRA > "$RUNS/cal-$recipe.log" 2>&1 &
  pids+=($!)
done
wait_all
for recipe in $RECIPES; do tail -1 "$RUNS/cal-$recipe.log"; done

log "2. training: $RECIPES at once for $MINUTES min each"
for recipe in $RECIPES; do
  timeout --signal=INT "$(limit "$MINUTES")" genzoo train "$recipe" $quiet train.max_minutes="$MINUTES" \
    "eval.metrics=[mse,is,fid,latent_kl]" out="$RUNS/$recipe" $EXTRA > "$RUNS/$recipe.log" 2>&1 &
  pids+=($!)
done
wait_all
for recipe in $RECIPES; do grep -m1 "^done\|error" "$RUNS/$recipe.log"; done

log "3. AIS T=$AIS_T K=$AIS_K: $AIS_ITEMS test items and BDMC on $BDMC per run; $MODEL_ITEMS and $MODEL_BDMC for $CARRY/model"
ais="metrics=ais ais.steps=$AIS_T ais.chains=$AIS_K ais.progress=false data.root=$DATA device=$DEVICE"
for recipe in $RECIPES; do
  timeout 150 genzoo eval "$RUNS/$recipe" $ais ais.items="$AIS_ITEMS" ais.bdmc="$BDMC" > "$RUNS/ais-$recipe.log" 2>&1 &
  pids+=($!)
done
if [ -f "$CARRY/model/config.json" ]; then
  timeout 150 genzoo eval "$CARRY/model" $ais ais.items="$MODEL_ITEMS" ais.bdmc="$MODEL_BDMC" > "$RUNS/ais-model.log" 2>&1 &
  pids+=($!)
fi
wait_all
for name in $RECIPES model; do [ -f "$RUNS/ais-$name.log" ] && echo "$name: $(head -1 "$RUNS/ais-$name.log")"; done

log "4. results"
python3 - "$RUNS" "$CARRY" "$OUT" $RECIPES <<'EOF'
import json, shutil, sys, tarfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

runs, carry, out, recipes = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:]
FULL = 78_100


def read(path):
    return json.loads(path.read_text()) if path.is_file() else None


def scores(metrics):
    if metrics is None:
        return None
    ais = metrics["details"].get("ais", {})
    keep = {k: metrics.get(k) for k in ("steps", "wall_time_s", "device", "mse", "is", "fid", "ais")}
    return {**keep, **{k: ais[k] for k in ("bdmc_lower", "bdmc_upper", "bdmc_gap") if k in ais},
            "ais_protocol": ais.get("protocol")}


summary = {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu", "torch": torch.__version__, "runs": {}}
for recipe in recipes:
    cal = read(runs / f"cal-{recipe}" / "metrics.json")
    rate = cal["steps"] / cal["wall_time_s"] if cal and cal["wall_time_s"] else None
    summary["runs"][recipe] = {
        "calibration": cal and {"steps": cal["steps"], "wall_time_s": cal["wall_time_s"], "iterations_per_s": rate,
                                "projected_full_length_h": FULL / rate / 3600 if rate else None},
        "final": scores(read(runs / recipe / "export" / "metrics.json")),
    }
    folder = runs / recipe
    if not folder.is_dir():
        continue
    shutil.copyfile(runs / f"{recipe}.log", folder / "train.log")
    if (runs / f"ais-{recipe}.log").is_file():
        shutil.copyfile(runs / f"ais-{recipe}.log", folder / "ais.log")
    weights = folder / "export" / "model.safetensors"
    if weights.is_file():  # the archive carries bf16 weights, half the size; the fp32 file stays out
        save_file({k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in load_file(str(weights)).items()},
                  str(folder / "export" / "model-bf16.safetensors"))
    with tarfile.open(out / f"{recipe}.tgz", "w:gz") as tar:
        tar.add(folder, arcname=recipe, filter=lambda t: None if t.name.endswith(("/checkpoints", "/model.safetensors")) else t)
model = read(carry / "model" / "metrics.json")
if model is not None:
    summary["model"] = {"trained": read(carry / "model" / "trained.json"), "final": scores(model)}
    shutil.copyfile(carry / "model" / "metrics.json", out / "model-metrics.json")
(out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
print(f"{'run':<16}{'it/s (cal)':>11}{'full h':>8}{'steps':>7}{'MSE':>8}{'IS':>7}{'FID':>8}{'AIS':>9}{'BDMC gap':>10}")
rows = [(r, v["calibration"] or {}, v["final"] or {}) for r, v in summary["runs"].items()]
rows += [("cpu model", {}, summary["model"]["final"])] if model is not None else []
fmt = lambda v, f: format(v, f) if isinstance(v, (int, float)) else "-"
for name, cal, fin in rows:
    print(f"{name:<16}{fmt(cal.get('iterations_per_s'), '11.1f')}{fmt(cal.get('projected_full_length_h'), '8.2f')}"
          f"{fmt(fin.get('steps'), '7d')}{fmt(fin.get('mse'), '8.4f')}{fmt(fin.get('is'), '7.2f')}{fmt(fin.get('fid'), '8.2f')}"
          f"{fmt(fin.get('ais'), '9.2f')}{fmt(fin.get('bdmc_gap'), '10.2f')}")
EOF
ls -la "$OUT"
log end
