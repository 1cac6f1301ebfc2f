"""CelebA aligned faces, center-cropped and resized to 64x64, scaled to [-1, 1].

The source is a folder of JPEGs or a zip of them: `data.root` pointing at either, or at a folder
holding `celeba/` or `img_align_celeba/` with one of them. The crop is the usual 108x108 center of
the 178x218 aligned images, scaled to the actual image width (so half-size copies get the same
field of view). The last `n_test` images in file-name order are the test split. By default the
images are decoded once (with a progress bar) and kept as uint8; `in_memory=false` decodes them
per batch in DataLoader workers instead, for the full 202k-image set.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import attrs
import numpy as np
import torch

from genzoo.errors import GenzooError, brief

from genzoo.images import open_image

from ._images import ImageDataset

CROP_OF_WIDTH = 108 / 178
HELP = "download img_align_celeba (folder or zip) from the CelebA site and set data.root to it"


class CelebA(ImageDataset):
    """CelebA faces at 64x64 in [-1, 1]; decoded once into memory, or per batch by DataLoader workers."""

    @attrs.frozen(kw_only=True)
    class Config:
        root: str | None = None
        n_test: int = attrs.field(default=1000, validator=attrs.validators.ge(1))
        limit: int | None = attrs.field(default=None, validator=attrs.validators.optional(attrs.validators.ge(2)))
        in_memory: bool = True  # false: decode per batch in DataLoader workers (for the full 202k images)
        workers: int = attrs.field(default=2, validator=attrs.validators.in_(range(0, 65)))

    data_shape = (3, 64, 64)
    value_range = (-1.0, 1.0)

    def _split(self, split) -> "ImageFiles":
        files = self._files()
        if len(files) <= self.config.n_test:
            raise GenzooError(f"celeba: only {len(files)} images, not enough for n_test={self.config.n_test}")
        cut = len(files) - self.config.n_test
        return ImageFiles(files.source, files.names[cut:] if split == "test" else files.names[:cut])

    def read(self, split):
        from tqdm.auto import tqdm

        files = self._split(split)
        # disable=None: no bar when stderr is not a terminal, so an error there stays one clean line
        images = []
        with tqdm(total=len(files), desc=f"decoding celeba {split}", unit="img", leave=False, disable=None) as bar:
            for i in range(len(files)):
                images.append(files[i])
                bar.update(1)
        return torch.stack(images)

    def items(self, split):
        return None if self.config.in_memory else self._split(split)

    def _files(self) -> "ImageFiles":
        if getattr(self, "_listing", None) is None:
            self._listing = _find_images(self.config.root, self.config.limit)
        return self._listing


class ImageFiles(torch.utils.data.Dataset):
    """Images named inside a zip or a folder, decoded to 64x64 uint8 on access (worker-safe)."""

    def __init__(self, source: Path, names: list[str]):
        self.source, self.names = source, names
        self._zip = None

    def __len__(self):
        return len(self.names)

    def __getitem__(self, index):
        name = self.names[index]
        if self.source.suffix == ".zip":
            if self._zip is None:  # opened per worker process
                self._zip = zipfile.ZipFile(self.source)
            return _to_64(self._zip.read(name), name)
        return _to_64((self.source / name).read_bytes(), name)

    def __getstate__(self):
        return {**self.__dict__, "_zip": None}


def _find_images(configured: str | None, limit: int | None) -> ImageFiles:
    base = configured or os.environ.get("GENZOO_DATA")
    if not base:
        raise GenzooError("no data root for celeba: set data.root=PATH (or $GENZOO_DATA) to a JPEG folder or zip")
    root = Path(base).expanduser()
    images = (".jpg", ".jpeg", ".png")
    for place in (root / "celeba", root / "img_align_celeba", root):
        zips = sorted(place.glob("*.zip")) if place.is_dir() else ([place] if place.suffix == ".zip" and place.is_file() else [])
        if zips:
            try:
                with zipfile.ZipFile(zips[0]) as archive:
                    names = sorted(n for n in archive.namelist() if n.lower().endswith(images))
            except (zipfile.BadZipFile, OSError) as exc:
                raise GenzooError(f"celeba: {zips[0]} is not a readable zip ({brief(exc)})") from None
            return ImageFiles(zips[0], names[:limit] if limit else names)
        if place.is_dir():
            names = sorted(p.name for p in place.iterdir() if p.suffix.lower() in images)
            if names:
                return ImageFiles(place, names[:limit] if limit else names)
    raise GenzooError(f"celeba: no JPEG images or zip found in {root}; {HELP}")


def _to_64(blob: bytes, name: str) -> torch.Tensor:
    from PIL import Image

    image = open_image(io.BytesIO(blob), f"celeba: {name}", "RGB")
    width, height = image.size
    side = min(round(width * CROP_OF_WIDTH), width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((64, 64), Image.BICUBIC)
    return torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1)
