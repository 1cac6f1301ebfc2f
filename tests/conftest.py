"""Test-wide settings: no network, no writes to the user's caches, a fresh registry per test."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest
import torch

import genzoo.registry


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(genzoo.registry, "_default", None)
    torch.manual_seed(0)


@pytest.fixture
def registry():
    return genzoo.registry.default_registry()


@pytest.fixture
def mnist_root(tmp_path):
    """A folder with tiny MNIST files in their original formats: grey IDX images (64 random train and
    test digits) and Larochelle's binarized .amat files (64 random rows each)."""
    import struct

    import numpy as np

    root = tmp_path / "mnist-data"
    root.mkdir()
    rng = np.random.default_rng(0)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        rows = (rng.random((64, 784)) < 0.2).astype(int)
        (root / f"binarized_mnist_{split}.amat").write_text("\n".join(" ".join(map(str, r)) for r in rows) + "\n")
        grey = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8)
        (root / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, 64, 28, 28) + grey.tobytes())
    return root
