"""The two noise laws of the paper's nets, and the prior p(z) built from them."""

from __future__ import annotations

import math
from typing import Literal

import attrs
import torch

from genzoo import rng

NoiseKind = Literal["normal", "uniform"]


def draw(kind: NoiseKind, shape: tuple[int, ...], device, generator=None, dtype=None) -> torch.Tensor:
    """Standard normal or U(-1, 1) samples: the two noise laws the paper's nets use.

    The first axis is the batch; in multi-process training a draw without an explicit generator
    covers the global batch and keeps this process's rows (genzoo.rng.global_batch_rows)."""
    rows, keep = (shape[0], None) if generator is not None else rng.rows_to_draw(shape[0])
    full = (rows, *shape[1:])
    if kind == "normal":
        out = torch.randn(full, device=device, generator=generator, dtype=dtype)
    else:
        out = torch.rand(full, device=device, generator=generator, dtype=dtype) * 2 - 1
    return out if keep is None else out[keep]


@attrs.frozen
class Prior:
    """p(z): a factorised standard normal or uniform on (-1, 1)^d."""

    kind: NoiseKind
    dim: int

    def sample(self, n: int, device="cpu", generator=None, dtype=None) -> torch.Tensor:
        return draw(self.kind, (n, self.dim), device, generator, dtype)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density summed over latent dimensions (one value per row)."""
        if self.kind == "normal":
            return -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
        inside = (z.abs() <= 1).all(-1)
        return torch.where(inside, -self.dim * math.log(2.0), -math.inf)
