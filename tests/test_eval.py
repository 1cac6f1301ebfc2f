"""`genzoo eval` on a trained model, the AIS metric plugin, and the MNIST classifier trainer."""

import json
import struct
from pathlib import Path

import pytest
import torch

from genzoo.cli import main
from genzoo_plugins.metrics.mnist_classifier import describe, file_hash, load_classifier, register, train_classifier


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
    record = describe(tmp_path / "c.safetensors", images[550:], labels[550:], train_u8=images[:550])
    assert record["sha256"] == result["sha256"] and record["test_accuracy"] == result["test_accuracy"]
    # Training images of the same two classes sit near the test set; images of one class sit far from it.
    one_class = describe(tmp_path / "c.safetensors", images[550:], labels[550:], train_u8=images[:550][labels[:550] == 1])
    assert 0 <= record["real_train_fid"] < one_class["real_train_fid"] / 4 and "110 random grey training images" in record["real_train_fid_protocol"]
    # Two well-separated classes in equal shares: the real-data IS approaches 2.
    assert 1.5 < record["real_test_is"] <= 2.0 + 1e-6
    ratio = record["real_test_classes_effective"] / record["real_test_classes_per_sample"]  # IS over all items at once
    assert record["real_test_classes_effective"] > 1.5 and ratio == pytest.approx(record["real_test_is"], rel=0.05)


def test_train_classifier_command_keeps_a_record_next_to_the_weights(tmp_path):
    gen = torch.Generator().manual_seed(1)
    for prefix, n in (("train", 330), ("t10k", 100)):
        labels = torch.randint(0, 2, (n,), generator=gen)
        images = (labels[:, None, None] * 200 + torch.randint(0, 40, (n, 28, 28), generator=gen)).to(torch.uint8)
        (tmp_path / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.numpy().tobytes())
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.to(torch.uint8).numpy().tobytes())
    assert main(["train-classifier", "mnist", f"data.root={tmp_path}", "epochs=1", "out=clf/c.safetensors"]) == 0
    record = json.loads(Path("clf/c.json").read_text())
    assert record["sha256"] == file_hash("clf/c.safetensors") and record["epochs"] == 1
    assert 0.0 <= record["test_accuracy"] <= 1.0 and 1.0 <= record["real_test_is"] <= 2.0 + 1e-6
    assert "binarized_test_is" not in record  # no binarized test file here
    # With Larochelle's binarized test file beside the IDX files, record_only re-describes the same weights.
    rows = (torch.rand(50, 784, generator=gen) < 0.3).int().tolist()
    (tmp_path / "binarized_mnist_test.amat").write_text("\n".join(" ".join(map(str, r)) for r in rows) + "\n")
    assert main(["train-classifier", "mnist", f"data.root={tmp_path}", "out=clf/c.safetensors", "record_only=true"]) == 0
    again = json.loads(Path("clf/c.json").read_text())
    assert again["sha256"] == record["sha256"] and again["epochs"] == 1 and again["real_test_is"] == record["real_test_is"]
    assert 1.0 <= again["binarized_test_is"] <= 10.0 and "shuffled (seed 2919)" in again["binarized_test_is_protocol"]


def test_ais_on_grey_mnist_uses_the_binarized_test_set_and_restores_grad_flags(tmp_path):
    from genzoo import factory
    from genzoo.hub import load

    gen = torch.Generator().manual_seed(2)
    for prefix, n in (("train", 128), ("t10k", 64)):
        images = torch.randint(0, 256, (n, 28, 28), generator=gen).to(torch.uint8)
        (tmp_path / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.numpy().tobytes())
    rows = (torch.rand(40, 784, generator=gen) < 0.3).int().tolist()
    (tmp_path / "binarized_mnist_test.amat").write_text("\n".join(" ".join(map(str, r)) for r in rows) + "\n")
    assert main(["train", "objective=vae", "arch=mnist_conv", "data=mnist", f"data.root={tmp_path}", "steps=3", "batch_size=16",
                 "out=run", "train.progress=false", "train.tensorboard=false", "train.picture_every=0"]) == 0
    model = load("run/export")
    mnist = factory.build("datasets", "mnist", {"root": str(tmp_path)})
    first = next(model.decoder.parameters())
    first.requires_grad_(False)
    result = factory.build("metrics", "ais", {"steps": 5, "chains": 2, "items": 4, "progress": False})(model, mnist)
    assert result.protocol["split"].startswith("binarized_mnist test set")
    assert not first.requires_grad and all(p.requires_grad for p in list(model.decoder.parameters())[1:])


def test_eval_on_a_device_that_is_not_there_says_so(capsys):
    assert main(["train", "objective=vae", "steps=5", "out=run", "train.progress=false", "train.tensorboard=false"]) == 0
    if torch.cuda.is_available():
        assert main(["eval", "run", "metrics=mse", "device=cuda"]) == 0
        return
    assert main(["eval", "run", "metrics=mse", "device=cuda"]) == 2
    assert "device asks for CUDA but no GPU is visible" in capsys.readouterr().err
    assert main(["eval", "run", "metrics=mse", "device=cpu"]) == 0
    assert main(["eval", "run", "metrics=mse", "steps=3"]) == 2
    assert "genzoo eval takes no train settings but device=" in capsys.readouterr().err
