"""Reconstruction MSE on the held-out split: one stochastic pass x -> E -> G (spec 4.5, 8.14)."""

import math

import attrs
import torch

from genzoo.interfaces import Metric, MetricResult


def held_out_items(dataset, items: int | None) -> torch.Tensor:
    """The test split, or `items` of it evenly spaced (some test sets are sorted by class)."""
    x_test = dataset.load("test")
    if items is None:
        return x_test
    return x_test[torch.linspace(0, x_test.shape[0] - 1, min(items, x_test.shape[0])).long()]


class ReconstructionMSE(Metric):
    """Mean over test items and coordinates of (x - G(E(x)))^2, in the data's own range.

    Values above `cap` (or non-finite) are reported as `cap` and flagged diverged, as the
    ALICE study did for runs that blew up.
    """

    @attrs.frozen(kw_only=True)
    class Config:
        cap: float = attrs.field(default=10.0, validator=attrs.validators.gt(0.0))
        batch_size: int = attrs.field(default=1024, validator=attrs.validators.gt(0))
        seed: int = 0
        items: int | None = attrs.field(default=None, validator=attrs.validators.optional(attrs.validators.gt(0)))  # unset: all

    cheap = {"items": 1000}

    @torch.no_grad()
    def __call__(self, model, dataset):
        c = self.config
        x_test = held_out_items(dataset, c.items)
        protocol = {"split": "test", "items": int(x_test.shape[0]), "reconstructions": "one stochastic pass", "reduction": "mean over items and coordinates", "cap": c.cap}
        if model.encoder is None:
            return MetricResult(math.nan, protocol, {"skipped": "the model has no encoder"})
        gen = torch.Generator(device=model.device).manual_seed(c.seed)
        total = 0.0
        for x in x_test.split(c.batch_size):
            x = x.to(model.device)
            total += (model.reconstruct(x, generator=gen) - x).pow(2).sum().item()
        mse = total / x_test.numel()
        diverged = not math.isfinite(mse) or mse > c.cap
        return MetricResult(c.cap if diverged else mse, protocol, {"diverged": diverged})
