"""Every random number generator a run may draw from, captured into and restored from a checkpoint.

genzoo itself draws from torch's generators only; numpy's and Python's global generators are
saved too, so plugins that use them resume exactly as well.
"""

from __future__ import annotations

import random

import numpy as np
import torch


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
