"""bench/gpu_mnist.sh, the prepared GPU job for the grey-MNIST recipes, rehearsed on the CPU with small
batches and short limits: it calibrates, trains the recipes side by side until train.max_minutes,
scores them and a model made from another run's checkpoint with AIS, and brings back seven files."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import torch
from genzoo_plugins.metrics.mnist_classifier import train_classifier
from safetensors.torch import load_file

from genzoo.cli import main
from tests.test_datasets import SHARED_DATA, needs_shared

ROOT = Path(__file__).resolve().parents[1]
SMALL = "arch.latent_dim=8 train.batch_size=8 train.log_every=5 train.checkpoint_every=20"


@needs_shared
def test_the_mnist_job_calibrates_trains_scores_and_brings_back_seven_files(tmp_path):
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (300,), generator=gen)
    images = torch.randint(0, 256, (300, 1, 28, 28), generator=gen, dtype=torch.uint8)
    train_classifier(images[:250], labels[:250], images[250:], labels[250:], tmp_path / "c.safetensors", epochs=1, progress=False)
    assert main(["train", "svae-r-mnist", f"data.root={SHARED_DATA}", "steps=10", *SMALL.split(), "eval.every=0",
                 "eval.metrics=[mse]", "train.progress=false", "train.tensorboard=false", "out=elsewhere"]) == 0
    prepare = [sys.executable, str(ROOT / "bench" / "gpu_mnist_prepare.py"), "carry", "--data", str(SHARED_DATA),
               "--classifier", "c.safetensors", "--run", "elsewhere"]
    assert "model: elsewhere at iteration 10" in subprocess.run(prepare, check=True, capture_output=True, text=True).stdout

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DEVICE": "cpu", "INSTALL": "0",
           "RECIPES": "svae-r-mnist alice-mnist", "CAL_MINUTES": "0.05", "MINUTES": "0.1", "AIS_T": "5", "AIS_K": "2",
           "AIS_ITEMS": "4", "BDMC": "2", "MODEL_ITEMS": "4", "MODEL_BDMC": "2", "EXTRA": SMALL,
           "CARRY": str(tmp_path / "carry"), "OUT": str(tmp_path / "out"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu_mnist.sh")], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["alice-mnist.tgz", "gpu_mnist.log", "model-metrics.json", "summary.json", "svae-r-mnist.tgz"]
    summary = json.loads((out / "summary.json").read_text())
    for recipe in ("svae-r-mnist", "alice-mnist"):
        run = summary["runs"][recipe]
        assert run["calibration"]["iterations_per_s"] > 0 and run["calibration"]["projected_full_length_h"] > 0
        final = run["final"]
        assert 5 <= final["steps"] < 78_100 and final["mse"] > 0 and final["is"] >= 1 and final["fid"] > 0
        assert final["ais"] < 0 and final["bdmc_upper"] >= final["bdmc_lower"] and final["ais_protocol"]["steps_T"] == 5
        with tarfile.open(out / f"{recipe}.tgz") as tar:
            names = set(tar.getnames())
            assert {f"{recipe}/eval-curve.jsonl", f"{recipe}/train.log", f"{recipe}/ais.log", f"{recipe}/export/model-bf16.safetensors"} <= names
            assert not any(n.endswith("/model.safetensors") or "/checkpoints" in n for n in names)
            tar.extractall(tmp_path / "back", filter="data")
        weights = load_file(str(tmp_path / "back" / recipe / "export" / "model-bf16.safetensors"))
        assert {v.dtype for v in weights.values() if v.is_floating_point()} == {torch.bfloat16}
    model = summary["model"]
    assert model["trained"]["steps"] == 10 and model["final"]["ais_protocol"]["items"] == 4
    assert "cpu model" in done.stdout and "BDMC gap" in done.stdout
