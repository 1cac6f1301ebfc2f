"""The example objective passes genzoo's contract suite, and a short run learns the toy mixture."""

import json

from genzoo.cli import main
from genzoo.testing import ObjectiveContract


class TestAVBContract(ObjectiveContract):
    objective = "avb"
    arch = "toy_mlp"


def test_avb_trains_on_the_toy_mixture(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "objective=avb", "steps=300", "out=avb", "train.progress=false", "train.tensorboard=false"]) == 0
    metrics = json.loads((tmp_path / "avb" / "metrics.json").read_text())
    assert metrics["mse"] < 0.5, metrics  # the toy data's variance is 3.24: reconstructions carry information
