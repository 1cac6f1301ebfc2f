"""Pictures of runs. matplotlib is imported lazily: most commands never draw."""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from genzoo.errors import GenzooError

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".pdf")  # both PIL and matplotlib write these


def picture_path(path) -> Path:
    """Where a picture the user asked for goes: a name without a suffix gets .png; a folder, an
    unknown format or an unwritable place is a one-line error before anything is computed."""
    path = Path(path)
    if path.is_dir():
        raise GenzooError(f"out={path} is a folder; give a file name such as {path / 'samples.png'}")
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    if path.suffix.lower() not in PICTURE_SUFFIXES:
        raise GenzooError(f"cannot write pictures as {path.suffix!r}; use one of {', '.join(PICTURE_SUFFIXES)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenzooError(f"cannot create the folder {path.parent}: {exc.strerror}") from None
    return path


@contextlib.contextmanager
def writing(path: Path):
    """Turn a failed write of `path` into a one-line error."""
    try:
        yield path
    except OSError as exc:
        raise GenzooError(f"cannot write {path}: {exc.strerror}; choose another out=") from None


@torch.no_grad()
@torch.no_grad()
def image_grids(model, x_test: torch.Tensor, to_unit, out_dir: Path, step: int | None, n: int = 64, seed: int = 0) -> list:
    """Fixed-noise samples and originals beside their reconstructions, as PNG grids.

    `to_unit` maps model-range images to [0, 1] for display. Returns [(path, image)] pairs.
    """
    from torchvision.utils import make_grid, save_image

    suffix = "" if step is None else f"-{step:08d}"
    folder = Path(out_dir) if step is None else Path(out_dir) / "pictures"
    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator(device=model.device).manual_seed(seed)
    grids = [("samples", make_grid(to_unit(model.sample(n, generator=gen)).clamp(0, 1).cpu(), nrow=8, padding=1))]
    if model.encoder is not None:
        x = x_test[: n // 2].to(model.device)
        rec = model.reconstruct(x, generator=gen)
        pairs = torch.stack([x, rec], 1).flatten(0, 1)  # original, reconstruction, original, ...
        grids.append(("reconstructions", make_grid(to_unit(pairs).clamp(0, 1).cpu(), nrow=8, padding=1)))
    written = []
    for name, grid in grids:
        path = folder / f"{name}{suffix}.png"
        save_image(grid, path)
        written.append((path, grid))
    return written


def sample_picture(samples: torch.Tensor, dataset, path) -> Path:
    """A grid of image samples (mapped to [0, 1] by the dataset), or a scatter plot of 2-D ones."""
    path = picture_path(path)
    if samples.dim() == 4:
        from torchvision.utils import save_image

        to_unit = getattr(dataset, "to_unit", lambda x: x)
        with writing(path):
            save_image(to_unit(samples).clamp(0, 1), path, nrow=8, padding=1)
        return path
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(*samples[:, :2].T.cpu(), s=3)
    ax.set_aspect("equal")
    with writing(path):
        fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def read_images(paths, shape: tuple[int, int, int]) -> torch.Tensor:
    """Image files as uint8 (N, C, H, W): converted to the model's channels and resized to its size."""
    import numpy as np
    from PIL import Image

    from genzoo.images import open_image

    channels, height, width = shape
    images = []
    for path in paths:
        image = open_image(path, f"image {path}", "L" if channels == 1 else "RGB").resize((width, height), Image.BICUBIC)
        array = np.asarray(image, dtype=np.uint8).reshape(height, width, channels)
        images.append(torch.from_numpy(array.copy()).permute(2, 0, 1))
    return torch.stack(images)


def reconstruction_picture(x: torch.Tensor, rec: torch.Tensor, to_unit, path) -> Path:
    """Originals in the first row, their reconstructions in the second."""
    from torchvision.utils import save_image

    path = picture_path(path)
    with writing(path):
        save_image(to_unit(torch.cat([x, rec])).clamp(0, 1), path, nrow=x.shape[0], padding=1)
    return path
