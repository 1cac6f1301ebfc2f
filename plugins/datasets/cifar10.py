"""CIFAR-10 (32x32x3, scaled to [-1, 1]) from either official format, whole or partial.

- binary: `data_batch_N.bin` / `test_batch.bin` records of 1 label byte + 3072 pixel bytes, in
  ROOT or any `ROOT/cifar-10-batches-bin*/` (every file matching `data_batch_*.bin[.gz]`, so a
  partial set or a subset of records works).
- python: `ROOT/cifar-10-batches-py/data_batch_N` and `test_batch`. These are pickles; they are read
  with an unpickler that only admits plain containers and numpy arrays, so nothing else can run.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import attrs
import numpy as np
import torch

from genzoo.errors import GenzooError, brief

from ._images import ImageDataset, data_roots, read_bytes, torchvision_download

RECORD = 1 + 3 * 32 * 32
HELP = "put cifar-10-batches-bin/ or cifar-10-batches-py/ from https://www.cs.toronto.edu/~kriz/cifar.html there"


class ArraysOnlyUnpickler(pickle.Unpickler):
    """Admits only what CIFAR's python batches contain: numpy arrays in dicts and lists."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_binary_batch(path: Path) -> torch.Tensor:
    data = np.frombuffer(read_bytes(path), dtype=np.uint8)
    if data.size == 0 or data.size % RECORD:
        raise GenzooError(f"{path} is truncated or not a CIFAR-10 binary batch ({data.size} bytes is not a multiple of {RECORD})")
    return torch.from_numpy(data.reshape(-1, RECORD)[:, 1:].copy()).view(-1, 3, 32, 32)


def read_python_batch(path: Path) -> torch.Tensor:
    try:
        batch = ArraysOnlyUnpickler(io.BytesIO(read_bytes(path)), encoding="bytes").load()
        pixels = np.asarray(batch[b"data"], dtype=np.uint8)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise GenzooError(f"{path} is not a readable CIFAR-10 python batch ({brief(exc)}); download it again") from None
    if pixels.ndim != 2 or pixels.shape[1] != 3072:
        raise GenzooError(f"{path} holds data of shape {pixels.shape}, expected (N, 3072)")
    return torch.from_numpy(pixels.copy()).view(-1, 3, 32, 32)


class CIFAR10(ImageDataset):
    """CIFAR-10 images in [-1, 1]; every batch file found for the split is used."""

    @attrs.frozen(kw_only=True)
    class Config:
        root: str | None = None
        download: bool = False  # let torchvision fetch cifar-10-batches-py (needs a network)

    data_shape = (3, 32, 32)
    value_range = (-1.0, 1.0)

    def read(self, split):
        roots = data_roots(self.config.root, "cifar10")
        if self.config.download:
            torchvision_download("CIFAR10", roots[0])
        stem = "data_batch_" if split == "train" else "test_batch"
        for root in roots:
            folders = [root, *sorted(root.glob("cifar-10-batches-bin*"))]
            binary = [p for folder in folders for p in sorted(folder.glob(f"{stem}*.bin*"))]
            if binary:
                return torch.cat([read_binary_batch(p) for p in binary])
            python = sorted(p for p in (root / "cifar-10-batches-py").glob(f"{stem}*") if p.is_file())
            if python:
                return torch.cat([read_python_batch(p) for p in python])
        raise GenzooError(f"cifar10: no {stem}* batch files in {', '.join(str(r) for r in roots)} (looked for -bin and -py layouts); {HELP}")
