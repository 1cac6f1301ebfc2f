"""AIS log-likelihood of held-out items under an explicit decoder (spec 5.3), optionally with BDMC."""

import attrs
import torch

from genzoo.ais import AISConfig
from genzoo.errors import GenzooError
from genzoo.interfaces import Metric, MetricResult
from genzoo.marginal import bdmc, log_likelihood


class AISLogLikelihood(Metric):
    """Mean AIS estimate of log p(x) over a fixed random subset of the test split (a stochastic lower bound)."""

    @attrs.frozen(kw_only=True)
    class Config(AISConfig):
        items: int = attrs.field(default=100, validator=attrs.validators.ge(1))  # N test items
        seed: int = 2919  # the test-subset permutation of Wu et al.'s code
        bdmc: int = attrs.field(default=0, validator=attrs.validators.ge(0))  # simulated items for the BDMC gap
        progress: bool = True

    def __call__(self, model, dataset):
        c = self.config
        decoder = model.decoder
        if not decoder.explicit or model.prior.kind != "normal":
            raise GenzooError("metric ais needs an explicit decoder (log p(x|z) in closed form) and a standard normal prior")
        test, test_name = dataset.likelihood_test_set()
        order = torch.randperm(test.shape[0], generator=torch.Generator().manual_seed(c.seed))[: c.items]
        x = test[order].to(model.device)
        options = {f.name: getattr(c, f.name) for f in attrs.fields(AISConfig)}
        estimate = log_likelihood(model, x, seed=c.seed, progress=c.progress, **options)
        extra = {"std_over_items": estimate.std().item() if estimate.numel() > 1 else 0.0}
        if c.bdmc:
            extra.update(self._bdmc(model, options, c))
        protocol = {"items": x.shape[0], "split": test_name, "subset_seed": c.seed, "steps_T": c.steps, "chains_K": c.chains,
                    "leapfrog_L": c.leapfrog, "schedule": f"sigmoid r={c.schedule_r}", "step_size": f"{c.step_size} start, {c.adaptation} adaptation",
                    "prior": "N(0, I)", "observation": decoder.observation, "bound": "stochastic lower"}
        return MetricResult(estimate.mean().item(), protocol, extra)

    @torch.no_grad()
    def _bdmc(self, model, options, c):
        """Forward and reverse AIS on data simulated from the model itself: the gap bounds AIS's error."""
        gen = torch.Generator(device=model.device).manual_seed(c.seed + 1)
        z_star = model.sample_prior(c.bdmc, generator=gen)
        mean = model.decoder(z_star, None)
        if model.decoder.observation == "bernoulli":
            x = torch.bernoulli(mean, generator=gen)
        else:
            x = mean + model.decoder.variance**0.5 * torch.randn(mean.shape, generator=gen, device=mean.device)
        lower, upper = bdmc(model, x, z_star.double(), seed=c.seed + 2, **options)
        return {"bdmc_items": c.bdmc, "bdmc_lower": lower.mean().item(), "bdmc_upper": upper.mean().item(),
                "bdmc_gap": (upper - lower).mean().item()}
