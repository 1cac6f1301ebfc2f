"""Annealed importance sampling for log p(x) of a decoder with an explicit likelihood (spec 5.3).

Geometric path f_t(z) = p(z) p(x|z)^beta_t on the sigmoid schedule, one HMC transition per
intermediate distribution (unit mass, L leapfrog steps, one shared step size adapted toward 0.65
acceptance), K chains per image, every image x chain in one batch.

Step-size adaptation: "reference" is Wu et al.'s rule (a running acceptance rate, the step
multiplied by 1.02 or 0.98 per transition), under which a step that starts at 0.01 can grow at
most 2% per transition, so a short schedule (T = 100) never reaches a useful step. "fast", the
default, moves log(step) by `adapt_rate` x (this transition's acceptance - target): the step
tracks the changing target from the first transitions on, whatever the schedule's length. The forward direction gives a
stochastic lower bound of log p(x); the reverse direction, started at an exact posterior sample
(simulated data: z* ~ p(z), x ~ p(x|z*)), gives a stochastic upper bound (BDMC).
"""

from __future__ import annotations

import math
from typing import Callable, Literal

import attrs
import torch

from genzoo.noise import Prior

LogLikelihood = Callable[[torch.Tensor], torch.Tensor]  # z (M, d) -> log p(x_m | z_m), shape (M,)


@attrs.frozen(kw_only=True)
class AISConfig:
    steps: int = attrs.field(default=1000, validator=attrs.validators.ge(2))  # T, distributions incl. both ends
    chains: int = attrs.field(default=16, validator=attrs.validators.ge(1))  # K per image
    leapfrog: int = attrs.field(default=10, validator=attrs.validators.ge(1))  # L
    step_size: float = attrs.field(default=0.01, validator=attrs.validators.gt(0.0))  # the initial step
    target_accept: float = attrs.field(default=0.65, validator=[attrs.validators.gt(0.0), attrs.validators.lt(1.0)])
    schedule_r: float = 4.0
    adaptation: Literal["fast", "reference"] = "fast"
    adapt_rate: float = attrs.field(default=1.0, validator=attrs.validators.gt(0.0))  # "fast" only


def sigmoid_schedule(steps: int, r: float = 4.0) -> torch.Tensor:
    """beta_0 = 0 < ... < beta_{T-1} = 1 along a rescaled sigmoid (Wu et al. 2016)."""
    gamma = torch.sigmoid(torch.linspace(-r, r, steps, dtype=torch.float64))
    return (gamma - gamma[0]) / (gamma[-1] - gamma[0])


class _HMC:
    """One Metropolis-corrected HMC transition per call; the step size is shared and adapted."""

    def __init__(self, log_likelihood: LogLikelihood, prior: Prior, config: AISConfig, generator):
        self.log_likelihood, self.prior, self.config, self.generator = log_likelihood, prior, config, generator
        self.step_size, self.accept_rate = config.step_size, config.target_accept

    def energy(self, z: torch.Tensor, beta: float):
        """U = -log p(z) - beta log p(x|z), its gradient, and log p(x|z)."""
        z = z.detach().requires_grad_(True)
        log_lik = self.log_likelihood(z)
        u = -self.prior.log_prob(z) - beta * log_lik
        (grad,) = torch.autograd.grad(u.sum(), z)
        return u.detach(), grad, log_lik.detach()

    def __call__(self, z: torch.Tensor, beta: float) -> torch.Tensor:
        eps = self.step_size
        p0 = torch.randn(z.shape, generator=self.generator, device=z.device, dtype=z.dtype)
        u0, grad, _ = self.energy(z, beta)
        znew, p = z, p0 - 0.5 * eps * grad
        for step in range(self.config.leapfrog):
            znew = znew + eps * p
            u1, grad, _ = self.energy(znew, beta)
            p = p - (eps if step < self.config.leapfrog - 1 else 0.5 * eps) * grad
        log_ratio = (u0 + 0.5 * p0.pow(2).sum(1)) - (u1 + 0.5 * p.pow(2).sum(1))
        uniform = torch.rand(log_ratio.shape, generator=self.generator, device=z.device, dtype=z.dtype)
        accept = torch.isfinite(log_ratio) & (uniform.log() < log_ratio)
        self.adapt(accept.double().mean().item())
        return torch.where(accept[:, None], znew.detach(), z)

    def adapt(self, accepted: float) -> None:
        c = self.config
        if c.adaptation == "reference":
            self.accept_rate = 0.9 * self.accept_rate + 0.1 * accepted
            factor = 1.02 if self.accept_rate > c.target_accept else 0.98
        else:
            self.accept_rate = accepted
            factor = math.exp(c.adapt_rate * (accepted - c.target_accept))
        self.step_size = min(max(self.step_size * factor, 1e-4), 0.5)


def _log_mean_exp(w: torch.Tensor, chains: int) -> torch.Tensor:
    w = w.view(chains, -1)  # chain-major: row k holds chain k of every image
    return torch.logsumexp(w, 0) - math.log(chains)


def ais(log_likelihood: LogLikelihood, prior: Prior, n_items: int, config: AISConfig, *, seed: int = 0,
        device="cpu", start: torch.Tensor | None = None, progress: bool = False) -> torch.Tensor:
    """Per-item AIS estimates of log p(x) under `prior` p(z): forward from the prior, or, given
    `start` (exact posterior samples, one per item), the reverse BDMC upper bound. `log_likelihood`
    sees z for all items x chains at once, ordered chain-major (item i, chain k at row k * n_items + i).
    genzoo.marginal wraps this for models and decoders."""
    generator = torch.Generator(device=device).manual_seed(seed)
    betas = sigmoid_schedule(config.steps, config.schedule_r).tolist()
    kernel = _HMC(log_likelihood, prior, config, generator)
    rows = n_items * config.chains
    if start is None:
        z = prior.sample(rows, device, generator, torch.float64)
        order = range(1, config.steps)
    else:
        z = start.to(device=device, dtype=torch.float64).repeat(config.chains, 1)
        order = range(config.steps - 1, 0, -1)
    log_w = torch.zeros(rows, dtype=torch.float64, device=device)
    from tqdm.auto import tqdm

    bar = tqdm(order, desc="AIS" if start is None else "reverse AIS", disable=not progress, leave=False)
    for t in bar:
        with torch.no_grad():
            log_lik = log_likelihood(z).double()
        if start is None:
            log_w += (betas[t] - betas[t - 1]) * log_lik
            z = kernel(z, betas[t])
        else:
            log_w += (betas[t - 1] - betas[t]) * log_lik
            z = kernel(z, betas[t - 1])
        if progress and t % 50 == 0:
            running = _log_mean_exp(log_w, config.chains).mean().item()
            bar.set_postfix(log_w=f"{running if start is None else -running:.2f}", step_size=f"{kernel.step_size:.3g}", refresh=False)
    estimate = _log_mean_exp(log_w, config.chains)
    return estimate if start is None else -estimate
