"""A short sVAE-r run on the real grey MNIST learns to reconstruct."""

import json

import pytest

from genzoo.config import resolve
from genzoo.evaluate import evaluate
from genzoo.trainer import Trainer, train
from tests.test_datasets import SHARED_DATA, needs_shared


@needs_shared
@pytest.mark.slow
def test_svae_r_mnist_reconstruction_beats_untrained(registry, tmp_path):
    overrides = [f"data.root={SHARED_DATA}", "steps=300", "out=mnist", "train.progress=false", "train.picture_every=150", "eval.metrics=[mse]", "eval.every=0"]
    config = resolve("svae-r-mnist", overrides, registry)
    untrained = Trainer(config, registry, tmp_path / "unused")
    before = evaluate(untrained.model, untrained.dataset, ["mse"], registry)["mse"]
    run_dir, _ = train(config, registry)
    after = json.loads((run_dir / "metrics.json").read_text())["mse"]
    # Measured: 0.2500 untrained -> 0.1574 after 300 steps (seed 0, CPU).
    assert after < 0.8 * before, (before, after)
    for name in ("samples.png", "reconstructions.png", "pictures/samples-00000150.png", "pictures/reconstructions-00000300.png"):
        assert (run_dir / name).stat().st_size > 1000
