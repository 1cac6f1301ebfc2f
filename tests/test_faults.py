"""Fault injection: killed runs resume to identical weights, interrupted checkpoint writes lose
nothing, diverging runs stop cleanly, and broken plugins in an installed distribution are isolated."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import genzoo.checkpoint
from genzoo import checkpoint
from genzoo.cli import main
from genzoo.config import resolve
from genzoo.errors import GenzooError, Interrupted
from genzoo.interfaces import LossOut
from genzoo.registry import Registry, hookimpl
from genzoo.trainer import train
from genzoo_plugins.objectives.svae_r import SVAER

FAST = ["arch.width=32", "train.progress=false", "train.tensorboard=false", "train.picture_every=0"]


def final_weights(run_dir: Path) -> dict:
    newest = checkpoint.list_checkpoints(run_dir / "checkpoints")[-1]
    return {k: v for k, v in load_file(str(newest)).items() if k.startswith("model.")}


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_gives_identical_weights(registry, tmp_path):
    steps = 300
    args = [f"steps={steps}", "train.checkpoint_every=1", "train.log_every=10", *FAST]
    train(resolve(None, [*args, "out=whole"], registry), registry)

    cmd = [sys.executable, "-m", "genzoo", "train", *args, "out=killed"]
    rng = random.Random(1234)
    kills, killed_at = 0, []
    newest = lambda: (checkpoint.list_checkpoints(tmp_path / "killed" / "checkpoints") or [Path("none")])[-1].name
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while kills < 4:
        seen, deadline = newest(), time.time() + 60
        while newest() == seen and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)  # wait until this process is training and has written a checkpoint
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        killed_at.append(newest())
        proc = subprocess.Popen([sys.executable, "-m", "genzoo", "train", "--resume", "killed"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc.wait() == 0
    assert kills >= 3, "the run finished before it could be killed three times; make it longer"
    assert len(set(killed_at)) == len(killed_at), f"every kill must land at a later step: {killed_at}"
    a, b = final_weights(tmp_path / "whole"), final_weights(tmp_path / "killed")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not list((tmp_path / "killed" / "checkpoints").glob(".*.tmp"))


def test_crash_in_the_middle_of_a_checkpoint_write_keeps_the_previous_one(registry, monkeypatch):
    args = ["train.checkpoint_every=10", *FAST]
    train(resolve(None, [*args, "steps=20", "out=run"], registry), registry)
    before = final_weights(Path("run"))
    real_save = genzoo.checkpoint.save_file

    def dying_save(tensors, path, metadata=None):
        Path(path).write_bytes(b"half a file")
        raise KeyboardInterrupt  # the process dies mid-write

    monkeypatch.setattr(genzoo.checkpoint, "save_file", dying_save)
    with pytest.raises(Interrupted, match="genzoo train --resume run"):
        train(resolve(None, [*args, "steps=30", "out=run", "resume=true"], registry), registry)
    monkeypatch.setattr(genzoo.checkpoint, "save_file", real_save)
    assert [p.name for p in checkpoint.list_checkpoints(Path("run/checkpoints"))][-1] == "step-00000020.safetensors"
    assert all(torch.equal(before[k], v) for k, v in final_weights(Path("run")).items())
    train(resolve(None, [*args, "steps=30", "out=run", "resume=true"], registry), registry)
    assert checkpoint.list_checkpoints(Path("run/checkpoints"))[-1].name == "step-00000030.safetensors"


@pytest.mark.parametrize("damage", ["pickle", "truncated", "shapes"])
def test_hostile_checkpoint_files_are_refused(registry, damage, tmp_path):
    train(resolve(None, ["steps=10", "out=run", "train.checkpoint_every=10", "train.keep_checkpoints=1", *FAST], registry), registry)
    path = checkpoint.list_checkpoints(Path("run/checkpoints"))[-1]
    if damage == "pickle":
        import pickle

        path.write_bytes(pickle.dumps({"model.x": 1}))
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:-50])
    else:
        tensors, meta = checkpoint.load(path)
        key = next(k for k in tensors if k.startswith("model.") and tensors[k].dim() == 2)
        tensors[key] = torch.zeros(3, 3)
        checkpoint.save(path, tensors, meta)
    with pytest.raises(GenzooError, match="unreadable|does not fit"):
        train(resolve(None, ["steps=20", "out=run", "resume=true", *FAST], registry), registry)


class NanAfterTen(SVAER):
    """sVAE-r whose generator loss turns NaN from the 11th call on."""

    calls = 0

    def generator_loss(self, model, x, weights):
        out = super().generator_loss(model, x, weights)
        type(self).calls += 1
        if type(self).calls > 10:
            out = LossOut(out.loss * float("nan"), {**out.logs, "generator": out.loss.detach() * float("nan")})
        return out


class NanOnceAtEleven(SVAER):
    """sVAE-r whose 11th generator loss, and only that one, is NaN."""

    calls = 0

    def generator_loss(self, model, x, weights):
        out = super().generator_loss(model, x, weights)
        type(self).calls += 1
        if type(self).calls == 11:
            out = LossOut(out.loss * float("nan"), {**out.logs, "generator": out.loss.detach() * float("nan")})
        return out


class NanPlugin:
    @staticmethod
    @hookimpl
    def genzoo_objectives():
        return {"nan_after_ten": NanAfterTen, "nan_once": NanOnceAtEleven}


def test_divergence_stops_with_the_step_and_loss_and_keeps_the_last_good_checkpoint(monkeypatch, capsys):
    import genzoo.registry

    monkeypatch.setattr(genzoo.registry, "_default", Registry(extra_plugins=(NanPlugin,)))
    code = main(["train", "objective=nan_after_ten", "steps=20", "train.generator_steps=1", "train.log_every=1",
                 "train.checkpoint_every=5", "out=run", *FAST])
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert err.startswith("genzoo: error: step 11: loss") and "= nan" in err and len(err.splitlines()) == 1
    assert checkpoint.list_checkpoints(Path("run/checkpoints"))[-1].name == "step-00000010.safetensors"


def test_divergence_retry_resumes_from_the_checkpoint_with_a_lower_learning_rate(monkeypatch, capsys):
    import genzoo.registry

    monkeypatch.setattr(genzoo.registry, "_default", Registry(extra_plugins=(NanPlugin,)))
    code = main(["train", "objective=nan_once", "steps=20", "train.generator_steps=1", "train.log_every=1",
                 "train.checkpoint_every=5", "train.divergence_retries=1", "out=run", *FAST])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "step 11: loss" in captured.out and "retrying from the last checkpoint with learning rates x0.5" in captured.out
    tensors, meta = checkpoint.load(checkpoint.list_checkpoints(Path("run/checkpoints"))[-1])
    assert meta["step"] == 20 and meta["optimizers"]["generator"]["param_groups"][0]["lr"] == pytest.approx(5e-4)


def write_dist(site: Path, name: str, modules: dict[str, str], entry_points: dict[str, str]) -> None:
    """A real installed distribution: a .dist-info folder with METADATA and entry_points.txt."""
    site.mkdir(parents=True, exist_ok=True)
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[genzoo]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source)


def test_broken_plugins_in_an_installed_distribution_are_isolated(tmp_path):
    site = tmp_path / "site"
    write_dist(site, "bad-plugins", {
        "bad_import": "raise ImportError('missing dependency xyz')\n",
        "bad_duplicate": (
            "from genzoo.registry import hookimpl\n"
            "from genzoo_plugins.objectives.svae import SVAE\n"
            "@hookimpl\ndef genzoo_objectives():\n    return {'svae': SVAE}\n"
        ),
        "bad_type": "from genzoo.registry import hookimpl\n@hookimpl\ndef genzoo_archs():\n    return {'not_an_arch': dict}\n",
    }, {"broken": "bad_import", "dup": "bad_duplicate", "wrong": "bad_type"})
    env = {**os.environ, "PYTHONPATH": str(site)}

    listing = subprocess.run([sys.executable, "-m", "genzoo", "list"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    out = listing.stdout
    assert "svae_r" in out and "toy_mlp" in out
    assert "bad-plugins 0.1: entry point 'broken' failed to load: ImportError('missing dependency xyz')" in out
    assert any(line.strip().startswith("bad-plugins:svae") and "[bad-plugins 0.1]" in line for line in out.splitlines())
    assert "bad-plugins 0.1: archs 'not_an_arch' is not a subclass of Arch" in out

    run = subprocess.run([sys.executable, "-m", "genzoo", "train", "objective=svae", "steps=5", "out=x", *FAST], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr  # the reused name keeps meaning the built-in
    assert "objective 'svae' is provided by genzoo 0.1.0 and bad-plugins 0.1; using genzoo:svae" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "genzoo", "train", "steps=5", "out=y", *FAST], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
