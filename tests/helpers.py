"""Small shared pieces for tests: fake data of an arch's shape, run helpers."""

import torch


def fake_batch(arch, n: int, seed: int = 0) -> torch.Tensor:
    """Random items in a plausible data range for `arch` (values in [0, 1) suit every observation model)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand((n, *arch.data_shape), generator=gen)
