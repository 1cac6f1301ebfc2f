"""The one reading of `train.device`, shared by single runs, multi-process runs and sweeps."""

from __future__ import annotations

import torch

from genzoo.errors import GenzooError


def resolve_device(name: str, local_rank: int | None = None, setting: str = "train.device") -> torch.device:
    """`auto` is CUDA when a GPU is visible, else the CPU; under torchrun (`local_rank` set) a
    CUDA device is this process's own GPU, whatever index the name carries."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GenzooError(f"{setting} {name!r} is not a device name (use auto, cpu, cuda or cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GenzooError(f"{setting} asks for CUDA but no GPU is visible; use device=cpu or device=auto")
    if device.type == "cuda" and local_rank is not None:
        device = torch.device("cuda", local_rank)
    return device
