"""log p(x) of a trained model, the public API over genzoo.ais: `genzoo.log_likelihood` (forward
AIS, a stochastic lower bound per item) and `genzoo.bdmc` (forward and reverse AIS on items whose
latents are known, whose gap bounds AIS's error).

Callers pass data as [N, ...]; the chains, their row order, float64 latents, eval mode and frozen
weights are handled here, and the decoder's requires_grad flags and train/eval mode are restored.
"""

from __future__ import annotations

import contextlib

import torch

from genzoo.ais import AISConfig, ais
from genzoo.errors import GenzooError
from genzoo.likelihood import log_likelihood as log_p_x_given_z
from genzoo.noise import Prior


def log_likelihood(model, x: torch.Tensor, *, steps: int = 1000, chains: int = 16, leapfrog: int = 10,
                   prior: Prior | None = None, seed: int = 0, progress: bool = False, **options) -> torch.Tensor:
    """AIS estimates of log p(x) in nats, one per item of `x` (shape [N]).

    `model` is a genzoo model (its decoder and its prior are used) or an explicit decoder together
    with `prior=`. `x` is in the model's range: binary for a Bernoulli decoder. `options` are
    further `genzoo.ais.AISConfig` fields (step_size, adaptation, target_accept, ...)."""
    decoder, prior = _decoder_and_prior(model, prior)
    config = AISConfig(steps=steps, chains=chains, leapfrog=leapfrog, **options)
    with _evaluating(decoder) as device:
        x = x.to(device)
        return ais(_chain_log_likelihood(decoder, x, chains), prior, x.shape[0], config, seed=seed, device=device, progress=progress)


def bdmc(model, x: torch.Tensor, z: torch.Tensor, *, steps: int = 1000, chains: int = 16, leapfrog: int = 10,
         prior: Prior | None = None, seed: int = 0, **options) -> tuple[torch.Tensor, torch.Tensor]:
    """Bidirectional Monte Carlo on items `x` whose latents `z` (one row per item) are exact posterior
    samples, as when z ~ p(z) and x ~ p(x|z) are simulated from the model: (lower, upper) bounds of
    log p(x) per item, from forward AIS (seed `seed`) and reverse AIS started at `z` (seed `seed + 1`)."""
    decoder, prior = _decoder_and_prior(model, prior)
    if z.shape != (x.shape[0], prior.dim):
        raise GenzooError(f"bdmc needs one latent of dimension {prior.dim} per item: z has shape {tuple(z.shape)} for {x.shape[0]} items")
    config = AISConfig(steps=steps, chains=chains, leapfrog=leapfrog, **options)
    with _evaluating(decoder) as device:
        x = x.to(device)
        log_lik = _chain_log_likelihood(decoder, x, chains)
        lower = ais(log_lik, prior, x.shape[0], config, seed=seed, device=device)
        upper = ais(log_lik, prior, x.shape[0], config, seed=seed + 1, device=device, start=z.to(device))
    return lower, upper


def _decoder_and_prior(model, prior: Prior | None):
    decoder = getattr(model, "decoder", model)
    prior = prior or getattr(model, "prior", None)
    if prior is None:
        raise GenzooError("a bare decoder needs prior= (e.g. genzoo.interfaces.Prior('normal', 64))")
    if not getattr(decoder, "explicit", False):
        raise GenzooError(f"{type(decoder).__name__} is an implicit decoder: log p(x|z) has no closed form, so AIS cannot run on it")
    return decoder, prior


def _chain_log_likelihood(decoder, x: torch.Tensor, chains: int):
    """log p(x|z) for the chain-major rows AIS uses (chain k of item i at row k * N + i)."""
    rows = x.repeat(chains, *([1] * (x.dim() - 1)))
    dtype = next(decoder.parameters()).dtype
    return lambda z: log_p_x_given_z(decoder, rows.to(dtype), z.to(dtype)).double()


@contextlib.contextmanager
def frozen(module):
    """No parameter of `module` requires grad inside the block; each flag is restored after it."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for param, flag in flags:
            param.requires_grad_(flag)


@contextlib.contextmanager
def _evaluating(decoder):
    """The decoder frozen and in eval mode (AIS differentiates with respect to z only); yields its device."""
    was_training = decoder.training
    decoder.eval()
    try:
        with frozen(decoder), torch.enable_grad():
            yield next(decoder.parameters()).device
    finally:
        decoder.train(was_training)
