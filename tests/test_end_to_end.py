"""Real training runs on the toy mixture through the CLI, checked against the paper's toy claims."""

import json

import pytest

from genzoo.cli import main


@pytest.mark.slow
def test_default_run_reaches_reference_quality(tmp_path, capsys):
    """Plain `genzoo train`: sVAE-r, lambda 0.1, full spec 4.2 protocol (about 30 s on 2 cores)."""
    assert main(["train", "out=default", "train.progress=false"]) == 0
    out = capsys.readouterr().out
    assert "metrics: default/metrics.json" in out and "picture: default/toy.png" in out
    metrics = json.loads((tmp_path / "default" / "metrics.json").read_text())
    assert metrics["is"] >= 4.8, metrics
    assert metrics["mse"] <= 0.05, metrics
    assert metrics["details"]["is"]["protocol"]["samples"] == 10_000
    assert (tmp_path / "default" / "toy.png").stat().st_size > 10_000
    assert (tmp_path / "default" / "config.yaml").exists()


def test_short_svae_r_run_learns_the_mixture(tmp_path):
    """A quarter of the protocol already covers the modes and reconstructs."""
    assert main(["train", "steps=400", "out=short", "train.progress=false", "train.tensorboard=false"]) == 0
    metrics = json.loads((tmp_path / "short" / "metrics.json").read_text())
    assert metrics["is"] >= 4.5, metrics
    assert metrics["mse"] <= 0.1, metrics
