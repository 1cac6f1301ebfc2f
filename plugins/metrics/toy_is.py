"""Toy "inception score" with the exact mixture posterior as the classifier (spec 4.5)."""

import attrs
import torch

from genzoo.errors import GenzooError
from genzoo.interfaces import Metric, MetricResult
from ._scores import class_coverage, inception_score


class ToyInceptionScore(Metric):
    """IS of model samples under the true 5-way Bayes classifier: 5 = every mode, evenly; 1 = one mode."""

    key = "is"
    cheap = {"samples": 2000}

    @attrs.frozen(kw_only=True)
    class Config:
        samples: int = attrs.field(default=10_000, validator=attrs.validators.gt(0))
        splits: int = attrs.field(default=10, validator=attrs.validators.gt(0))
        seed: int = 0

    @torch.no_grad()
    def __call__(self, model, dataset):
        posterior = getattr(dataset, "class_posterior", None)
        if posterior is None:
            raise GenzooError(f"metric toy_is needs a dataset with a known class posterior (the toy mixture), not {type(dataset).__name__}")
        c = self.config
        gen = torch.Generator(device=model.device).manual_seed(c.seed)
        samples = model.sample(c.samples, generator=gen)
        finite = torch.isfinite(samples).all(1)
        probs = posterior(samples.nan_to_num(0.0, 0.0, 0.0))
        mean, std = inception_score(probs, c.splits)
        protocol = {"classifier": "exact Bayes posterior of the 5-component mixture", "samples": c.samples, "splits": c.splits, "seed": c.seed}
        return MetricResult(mean, protocol, {"std": std, "nonfinite_samples": int((~finite).sum()), **class_coverage(probs)})
