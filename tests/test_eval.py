"""`genzoo eval` on a trained model, the AIS metric plugin, and the MNIST classifier trainer."""

import json

import torch

from genzoo.cli import main
from genzoo_plugins.metrics.mnist_classifier import load_classifier, register, train_classifier


def test_eval_writes_metrics_with_protocols_and_refreshes_the_card(tmp_path):
    assert main(["train", "objective=vae", "steps=30", "out=run", "train.progress=false", "train.tensorboard=false"]) == 0
    assert main(["eval", "run", "metrics=mse,ais", "ais.steps=20", "ais.chains=2", "ais.items=8", "ais.bdmc=4", "ais.progress=false"]) == 0
    metrics = json.loads((tmp_path / "run" / "export" / "metrics.json").read_text())
    ais = metrics["details"]["ais"]
    assert ais["protocol"]["steps_T"] == 20 and ais["protocol"]["chains_K"] == 2 and ais["protocol"]["items"] == 8
    assert ais["bdmc_upper"] >= ais["bdmc_lower"] and metrics["is"] is not None  # the training-time IS is kept
    assert "| ais |" in (tmp_path / "run" / "export" / "README.md").read_text()


def test_eval_refuses_ais_on_an_implicit_decoder(capsys):
    assert main(["train", "steps=5", "out=run", "train.progress=false", "train.tensorboard=false"]) == 0
    assert main(["eval", "run", "metrics=ais", "ais.steps=5"]) == 2
    assert "metric ais needs an explicit decoder" in capsys.readouterr().err


def test_classifier_trains_saves_safetensors_and_registers(tmp_path):
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (660,), generator=gen)
    images = (labels[:, None, None, None] * 200 + torch.randint(0, 40, (660, 1, 28, 28), generator=gen)).to(torch.uint8)
    result = train_classifier(images[:550], labels[:550], images[550:], labels[550:], tmp_path / "c.safetensors", epochs=2, progress=False)
    assert result["test_accuracy"] > 0.9
    assert load_classifier(tmp_path / "c.safetensors")(images[:3])[1].shape == (3, 10)
    assert register(tmp_path / "c.safetensors") == f"genzoo-mnist-{result['sha256'][:12]}"
