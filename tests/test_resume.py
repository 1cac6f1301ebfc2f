"""Checkpoints are safetensors written atomically, and resume continues exactly."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from genzoo import checkpoint
from genzoo.config import resolve
from genzoo.errors import GenzooError
from genzoo.trainer import train

SMALL = ["arch.width=32", "train.log_every=5", "train.checkpoint_every=10", "train.progress=false", "train.tensorboard=false"]


def _final_weights(run_dir):
    newest = checkpoint.list_checkpoints(run_dir / "checkpoints")[-1]
    return {k: v for k, v in load_file(str(newest)).items() if k.startswith("model.")}


@pytest.mark.parametrize("objective", ["svae_r", "wgan_gp"])
def test_resume_matches_an_uninterrupted_run_bit_for_bit(registry, tmp_path, objective):
    whole, _ = train(resolve(None, [f"objective={objective}", "steps=30", "out=whole", *SMALL], registry), registry)
    part, _ = train(resolve(None, [f"objective={objective}", "steps=20", "out=part", *SMALL], registry), registry)
    train(resolve(None, [f"objective={objective}", "steps=30", "out=part", "resume=true", *SMALL], registry), registry)
    a, b = _final_weights(whole), _final_weights(part)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    steps = [line for line in (part / "metrics.jsonl").read_text().splitlines()]
    assert len(steps) == 6, "resumed run must not repeat logged steps"
    assert resolve(str(part / "config.yaml"), [], registry).train.steps == 30, "config.yaml keeps the settings resumed with"


def test_resume_refuses_changed_hyperparameters(registry):
    train(resolve(None, ["steps=10", "out=run", *SMALL], registry), registry)
    with pytest.raises(GenzooError, match="changed settings objective.lam"):
        train(resolve(None, ["steps=20", "lambda=0.5", "out=run", "resume=true", *SMALL], registry), registry)


def test_keeps_only_the_newest_checkpoints_and_no_temp_files(registry, tmp_path):
    run_dir, _ = train(resolve(None, ["steps=50", "out=run", *SMALL], registry), registry)
    files = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert files == ["step-00000040.safetensors", "step-00000050.safetensors"]


def test_corrupt_newest_checkpoint_falls_back_to_previous(registry, capsys):
    run_dir, _ = train(resolve(None, ["steps=20", "out=run", *SMALL], registry), registry)
    newest = checkpoint.list_checkpoints(run_dir / "checkpoints")[-1]
    newest.write_bytes(newest.read_bytes()[:100])
    train(resolve(None, ["steps=30", "out=run", "resume=true", *SMALL], registry), registry)
    assert "resuming from step-00000010.safetensors" in capsys.readouterr().out


def test_checkpoint_is_not_a_pickle(registry):
    run_dir, _ = train(resolve(None, ["steps=10", "out=run", *SMALL], registry), registry)
    tensors, meta = checkpoint.load(checkpoint.list_checkpoints(run_dir / "checkpoints")[-1])
    assert meta["step"] == 10 and meta["config"]["objective"]["name"] == "svae_r"
    assert {"rng.torch", "rng.data"} <= tensors.keys()
    assert any(k.startswith("optim.critic.") for k in tensors)


def test_options_added_since_the_checkpoint_do_not_block_resume(registry):
    run_dir, _ = train(resolve(None, ["steps=10", "out=run", *SMALL], registry), registry)
    path = checkpoint.list_checkpoints(run_dir / "checkpoints")[-1]
    tensors, meta = checkpoint.load(path)
    del meta["config"]["train"]["divergence_retries"]  # as written by a version without that option
    checkpoint.save(path, tensors, meta)
    train(resolve(None, ["steps=20", "out=run", "resume=true", *SMALL], registry), registry)


def test_max_minutes_stops_with_a_checkpoint_and_export_and_resume_finishes_exactly(registry, capsys):
    """A slot's time limit ends training at a logged step like a finished run; --resume reaches `steps`
    with the weights an uninterrupted run has."""
    from genzoo.cli import main

    whole, _ = train(resolve(None, ["steps=30", "out=whole", *SMALL], registry), registry)
    assert main(["train", "steps=30", "train.max_minutes=1e-9", "out=slot", *SMALL]) == 0
    assert "stopped by train.max_minutes at iteration 5 of 30; go on with: genzoo train --resume slot" in capsys.readouterr().out
    metrics = json.loads(Path("slot/metrics.json").read_text())
    assert metrics["steps"] == 5 and metrics["stopped_at_max_minutes"] is True
    assert [p.name for p in Path("slot/checkpoints").iterdir()] == ["step-00000005.safetensors"]
    assert Path("slot/export/model.safetensors").is_file()
    assert main(["train", "--resume", "slot", "train.max_minutes=0"]) == 0
    assert "stopped_at_max_minutes" not in json.loads(Path("slot/metrics.json").read_text())
    a, b = _final_weights(whole), _final_weights(Path("slot"))
    assert all(torch.equal(a[k], b[k]) for k in a)
