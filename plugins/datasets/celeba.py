"""CelebA aligned faces, center-cropped and resized to 64x64, scaled to [-1, 1].

The source is a folder of JPEGs or a zip of them: `data.root` pointing at either, or at a folder
holding `celeba/` or `img_align_celeba/` with one of them. The crop is the usual 108x108 center of the 178x218 aligned images, scaled
to the actual image width (so half-size copies get the same field of view). The last `n_test`
images in file-name order are the test split. Images are decoded once, with a progress bar,
and kept as uint8.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import attrs
import numpy as np
import torch

from genzoo.errors import GenzooError

from ._images import ImageDataset

CROP_OF_WIDTH = 108 / 178
HELP = "download img_align_celeba (folder or zip) from the CelebA site and set data.root to it"


class CelebA(ImageDataset):
    """CelebA faces at 64x64 in [-1, 1], decoded once into memory."""

    @attrs.frozen(kw_only=True)
    class Config:
        root: str | None = None
        n_test: int = attrs.field(default=1000, validator=attrs.validators.ge(1))
        limit: int | None = attrs.field(default=None, validator=attrs.validators.optional(attrs.validators.ge(2)))

    data_shape = (3, 64, 64)
    value_range = (-1.0, 1.0)

    def read(self, split):
        images = self._all()
        if images.shape[0] <= self.config.n_test:
            raise GenzooError(f"celeba: only {images.shape[0]} images, not enough for n_test={self.config.n_test}")
        return images[-self.config.n_test :] if split == "test" else images[: -self.config.n_test]

    def _all(self) -> torch.Tensor:
        if "all" not in self._decoded:
            self._decoded["all"] = torch.stack([_to_64(blob, name) for name, blob in self._sources()])
        return self._decoded["all"]

    def _sources(self):
        from tqdm.auto import tqdm

        base = self.config.root or os.environ.get("GENZOO_DATA")
        if not base:
            raise GenzooError("no data root for celeba: set data.root=PATH (or $GENZOO_DATA) to a JPEG folder or zip")
        root = Path(base).expanduser()
        candidates = [root / "celeba", root / "img_align_celeba", root]
        for place in candidates:
            zips = sorted(place.glob("*.zip")) if place.is_dir() else ([place] if place.suffix == ".zip" else [])
            if zips:
                try:
                    archive = zipfile.ZipFile(zips[0])
                except (zipfile.BadZipFile, OSError) as exc:
                    raise GenzooError(f"celeba: {zips[0]} is not a readable zip ({exc})") from None
                names = sorted(n for n in archive.namelist() if n.lower().endswith((".jpg", ".jpeg", ".png")))
                names = names[: self.config.limit] if self.config.limit else names
                return ((n, archive.read(n)) for n in tqdm(names, desc="decoding celeba", unit="img", leave=False))
            files = sorted(p for p in place.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")) if place.is_dir() else []
            if files:
                files = files[: self.config.limit] if self.config.limit else files
                return ((str(p), p.read_bytes()) for p in tqdm(files, desc="decoding celeba", unit="img", leave=False))
        raise GenzooError(f"celeba: no JPEG images or zip found in {root}; {HELP}")


def _to_64(blob: bytes, name: str) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(blob)).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise GenzooError(f"celeba: {name} is not a readable image ({exc})") from None
    width, height = image.size
    side = min(round(width * CROP_OF_WIDTH), width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((64, 64), Image.BICUBIC)
    return torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1)
