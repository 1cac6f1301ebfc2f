"""MNIST (values in [0, 1]) and binarized MNIST, read from their original files.

- `mnist`: the four IDX files (`train-images-idx3-ubyte[.gz]`, ...), in torchvision's layout
  `ROOT/MNIST/raw/` or directly in ROOT. `data.download=true` lets torchvision fetch them first
  (needs a network).
- `binarized_mnist`: the fixed binarization of Larochelle (`binarized_mnist_{train,valid,test}.amat`
  or `.amat.gz`, 50k/10k/10k, 784 space-separated 0/1 values a line) in `ROOT/binarized_mnist/` or
  ROOT; or, with `data.source=dynamic`, MNIST binarized once by Bernoulli draws from a fixed seed.
"""

from __future__ import annotations

import struct
from typing import Literal

import attrs
import numpy as np
import torch

from genzoo.errors import GenzooError

from ._images import ImageDataset, data_roots, find_file, read_bytes, torchvision_download, uint8_tensor

IDX_FILES = {"train": ("train-images-idx3-ubyte", 60000), "test": ("t10k-images-idx3-ubyte", 10000)}
LABEL_FILES = {"train": "train-labels-idx1-ubyte", "test": "t10k-labels-idx1-ubyte"}
MNIST_HELP = "download the four MNIST IDX files (e.g. with data.download=true when online) into ROOT/MNIST/raw"


def read_idx_images(path) -> torch.Tensor:
    """An IDX image file (magic 2051) as uint8 (N, 1, 28, 28)."""
    data = read_bytes(path)
    if len(data) < 16:
        raise GenzooError(f"{path} is truncated: {len(data)} bytes, no IDX header; download it again")
    magic, n, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 2051:
        raise GenzooError(f"{path} is not an IDX image file (magic {magic}, expected 2051)")
    return uint8_tensor(data, 16, (n, 1, rows, cols), path)


def read_idx_labels(path) -> torch.Tensor:
    """An IDX label file (magic 2049) as int64 (N,)."""
    data = read_bytes(path)
    if len(data) < 8 or struct.unpack(">I", data[:4])[0] != 2049:
        raise GenzooError(f"{path} is not an IDX label file (expected magic 2049); download it again")
    (n,) = struct.unpack(">I", data[4:8])
    return uint8_tensor(data, 8, (n,), path).long()


@attrs.frozen(kw_only=True)
class MNISTConfig:
    root: str | None = None
    download: bool = False


class MNIST(ImageDataset):
    """MNIST digits, 60k train / 10k test, pixel intensities scaled to [0, 1].

    Likelihoods are measured on the fixed binarized test set (spec 5.1): the decoder's means
    are read as Bernoulli probabilities of binary digits, as the paper's Table 1 does.
    """

    Config = MNISTConfig
    data_shape = (1, 28, 28)

    def likelihood_test_set(self):
        binarized = BinarizedMNIST(BinarizedMNIST.Config(root=self.config.root, download=False))
        return binarized.load("test"), "binarized_mnist test set (Larochelle's fixed binarization)"

    def read(self, split):
        roots = data_roots(self.config.root, "MNIST/raw")
        if self.config.download:
            torchvision_download("MNIST", roots[1])
        name, _ = IDX_FILES[split]
        return read_idx_images(find_file(roots, [name], "mnist", MNIST_HELP))

    def labels(self, split) -> torch.Tensor:
        roots = data_roots(self.config.root, "MNIST/raw")
        return read_idx_labels(find_file(roots, [LABEL_FILES[split]], "mnist labels", MNIST_HELP))


def read_amat(path) -> torch.Tensor:
    """A Larochelle .amat file as uint8 (N, 1, 28, 28) of 0/1."""
    data = np.frombuffer(read_bytes(path), dtype=np.uint8)
    line = 784 * 2
    if data.size % line:
        raise GenzooError(f"{path} is truncated or malformed: {data.size} bytes is not a whole number of 784-value lines")
    values = data.reshape(-1, line)[:, ::2] - ord("0")
    separators = data.reshape(-1, line)[:, 1::2]
    if values.max(initial=0) > 1 or not np.isin(separators, (ord(" "), ord("\n"))).all():
        raise GenzooError(f"{path} is malformed: expected lines of 784 space-separated 0/1 values")
    return torch.from_numpy(values.copy()).view(-1, 1, 28, 28)


class BinarizedMNIST(ImageDataset):
    """Binarized MNIST: Larochelle's fixed 50k/10k/10k split, or MNIST binarized once from a seed."""

    @attrs.frozen(kw_only=True)
    class Config(MNISTConfig):
        source: Literal["fixed", "dynamic"] = "fixed"
        seed: int = 0

    data_shape = (1, 28, 28)

    def to_model(self, batch):
        return batch.float()

    def read(self, split):
        if self.config.source == "dynamic":
            grey = MNIST(MNISTConfig(root=self.config.root, download=self.config.download)).load(split)
            gen = torch.Generator().manual_seed(self.config.seed + (split == "test"))
            return torch.bernoulli(grey, generator=gen).to(torch.uint8)
        roots = data_roots(self.config.root, "binarized_mnist")
        how = "get binarized_mnist_{train,valid,test}.amat from Larochelle's site, or use data.source=dynamic"
        return read_amat(find_file(roots, [f"binarized_mnist_{split}.amat"], "binarized_mnist", how))
