"""What the image datasets share: uint8 storage, mapping to the model's range, grids, data roots."""

from __future__ import annotations

import gzip
import math
import os
from pathlib import Path

import torch

from genzoo.errors import GenzooError, brief
from genzoo.interfaces import Dataset, Figure


class ImageDataset(Dataset):
    """Images kept as uint8 (N, C, H, W) and mapped per batch to `value_range` (e.g. [0, 1] or [-1, 1])."""

    value_range: tuple[float, float] = (0.0, 1.0)
    default_metrics = ("mse",)

    def to_model(self, batch):
        lo, hi = self.value_range
        return batch.float() * ((hi - lo) / 255.0) + lo

    def to_unit(self, batch):
        lo, hi = self.value_range
        return (batch - lo) / (hi - lo)

    def figures(self, model, out_dir, step=None):
        from genzoo.plots import image_grids

        images = self.raw("test")
        # Evenly spaced, not the first few: some test sets (binarized MNIST) are sorted by class.
        picked = self.to_model(images[torch.linspace(0, images.shape[0] - 1, min(32, images.shape[0])).long()])
        return [Figure(path, image, cover=path.stem == "samples") for path, image in image_grids(model, picked, self.to_unit, out_dir, step)]
 

def data_roots(configured: str | None, name: str) -> list[Path]:
    """Where to look: `data.root=` if given, else $GENZOO_DATA; each with and without a `name/` subfolder."""
    base = configured or os.environ.get("GENZOO_DATA")
    if not base:
        raise GenzooError(
            f"no data root for {name}: set data.root=PATH (or $GENZOO_DATA) to the folder holding it"
        )
    root = Path(base).expanduser()
    return [root / name, root]


def find_file(roots: list[Path], names: list[str], what: str, how_to_get: str) -> Path:
    """The first of `names` (each also tried with .gz) under any of `roots`."""
    for root in roots:
        for name in names:
            for candidate in (root / name, root / f"{name}.gz"):
                if candidate.is_file():
                    return candidate
    looked = ", ".join(str(r) for r in roots)
    raise GenzooError(f"{what}: no {names[0]}[.gz] found in {looked}; {how_to_get}")


def read_bytes(path: Path) -> bytes:
    """File contents, gunzipped when the name ends in .gz; a damaged file is a one-line error."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise GenzooError(f"cannot read {path}: {brief(exc)} (the file is damaged or truncated; download it again)") from None


def uint8_tensor(data: bytes, offset: int, shape: tuple[int, ...], path: Path) -> torch.Tensor:
    """`shape` uint8 values starting at `offset`; too few bytes is a one-line error."""
    count = math.prod(shape)
    if count == 0:
        raise GenzooError(f"{path} holds no data (its header gives the shape {tuple(shape)}); download it again")
    if len(data) < offset + count:
        raise GenzooError(f"{path} is truncated: {len(data)} bytes, expected {offset + count}; download it again")
    return torch.frombuffer(bytearray(data[offset : offset + count]), dtype=torch.uint8).view(shape)


def torchvision_download(name: str, root: Path) -> None:
    """Let torchvision fetch a dataset into `root` (only when the user asked: data.download=true)."""
    import torchvision.datasets

    try:
        getattr(torchvision.datasets, name)(str(root), download=True)
    except Exception as exc:  # network failures come in many types
        raise GenzooError(f"{name} download into {root} failed ({brief(exc)}); copy the files there by hand") from None
