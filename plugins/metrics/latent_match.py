"""How far the encodings of held-out data are from the prior: the z-marginal of a joint model.

Joint matching (ALI, ALICE, sVAE) should make q(z), the encodings of real data, look like prior
draws. Where it does not, prior samples land where the decoder saw few encodings, and samples can
lose modes while reconstructions stay good. The value is KL(N(m, S) || N(0, I)) of the encodings'
Gaussian moment fit: 0 when their mean and covariance are the prior's.
"""

import math

import attrs
import torch

from genzoo.interfaces import Metric, MetricResult

from .mse import held_out_items


@torch.no_grad()
def encoding_moments(model, x: torch.Tensor, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and covariance (float64, on the CPU) of one stochastic encoding of each item of `x`."""
    gen = torch.Generator(device=model.device).manual_seed(seed)
    z = torch.cat([model.encode(part.to(model.device), generator=gen) for part in x.split(batch_size)]).double().cpu()
    return z.mean(0), torch.atleast_2d(torch.cov(z.T))


class LatentMatch(Metric):
    """KL of the encodings' moment fit from the N(0, I) prior, with the mean variance and mean length."""

    key = "latent_kl"
    cheap = {"items": 1000}

    @attrs.frozen(kw_only=True)
    class Config:
        items: int | None = attrs.field(default=None, validator=attrs.validators.optional(attrs.validators.gt(1)))  # unset: all
        batch_size: int = attrs.field(default=1024, validator=attrs.validators.gt(0))
        seed: int = 0

    @torch.no_grad()
    def __call__(self, model, dataset):
        c = self.config
        x_test = held_out_items(dataset, c.items)
        protocol = {"split": "test", "items": int(x_test.shape[0]), "encodings": "one stochastic pass",
                    "value": "KL(N(mean, covariance) of the encodings || N(0, I))"}
        if model.encoder is None or model.prior.kind != "normal":
            return MetricResult(math.nan, protocol, {"skipped": "needs an encoder and a standard normal prior"})
        mean, covariance = encoding_moments(model, x_test, c.batch_size, c.seed)
        sign, logdet = torch.linalg.slogdet(covariance)
        dims = mean.shape[0]
        kl = 0.5 * (covariance.trace() + mean @ mean - dims - logdet).item() if sign > 0 else math.inf
        return MetricResult(kl, protocol, {"variance_mean": covariance.diagonal().mean().item(), "mean_length": mean.norm().item(), "dims": dims})
