"""Every random number generator a run may draw from, captured into and restored from a checkpoint.

genzoo itself draws from torch's generators only; numpy's and Python's global generators are
saved too, so plugins that use them resume exactly as well.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch

# (rank, world) while several processes share one global batch; see `global_batch_rows`.
_rows: tuple[int, int] | None = None


@contextlib.contextmanager
def global_batch_rows(rank: int, world: int):
    """Within the block, training draws (those without an explicit generator) are made for the
    global batch of all `world` processes, and this process keeps its own rows: every rank's
    generator stays in the same state, and results do not depend on the number of processes."""
    global _rows
    _rows = (rank, world) if world > 1 else None
    try:
        yield
    finally:
        _rows = None


def rows_to_draw(n: int) -> tuple[int, slice | None]:
    """How many rows to draw for a local batch of n, and which of them this process keeps."""
    if _rows is None:
        return n, None
    rank, world = _rows
    return n * world, slice(rank * n, (rank + 1) * n)


def capture(tensors: dict, meta: dict, device: torch.device) -> None:
    tensors["rng.torch"] = torch.get_rng_state()
    if device.type == "cuda":
        tensors["rng.cuda"] = torch.cuda.get_rng_state(device)
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    tensors["rng.numpy"] = torch.from_numpy(keys.astype(np.int64))
    meta["rng_numpy"] = [kind, int(pos), int(has_gauss), float(cached)]
    version, state, gauss = random.getstate()
    meta["rng_python"] = [version, list(state), gauss]


def restore(tensors: dict, meta: dict, device: torch.device) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    if "rng.cuda" in tensors and device.type == "cuda":
        torch.cuda.set_rng_state(tensors["rng.cuda"], device)
    if "rng_numpy" in meta:  # absent in checkpoints of genzoo 0.1.0 before numpy/Python state was saved
        kind, pos, has_gauss, cached = meta["rng_numpy"]
        np.random.set_state((kind, tensors["rng.numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
        version, state, gauss = meta["rng_python"]
        random.setstate((version, tuple(state), gauss))
