"""genzoo.log_likelihood and genzoo.bdmc against exact answers: a linear-Gaussian decoder under a
normal prior (closed form) and under a uniform prior (quadrature)."""

import math

import pytest
import torch
from torch import nn

import genzoo
from genzoo.errors import GenzooError
from genzoo.interfaces import Decoder, Prior
from genzoo.model import JointModel


class LinearGaussian(Decoder):
    """x = W z + b + noise of variance 0.5: log p(x|z) is exact, and so is log p(x) under N(0, I)."""

    explicit = True
    variance = 0.5

    def __init__(self, d, D, seed):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.lin = nn.Linear(d, D).double()
        with torch.no_grad():
            self.lin.weight.copy_(torch.randn(D, d, generator=gen, dtype=torch.float64))
            self.lin.bias.copy_(torch.randn(D, generator=gen, dtype=torch.float64))

    def forward(self, z, noise):
        return self.lin(z)


def model_and_data(prior, n=4, D=5, seed=0):
    decoder = LinearGaussian(prior.dim, D, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    z = prior.sample(n, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        x = decoder(z, None) + math.sqrt(decoder.variance) * torch.randn(n, D, generator=gen, dtype=torch.float64)
    return JointModel(None, decoder, None, prior), x, z


def exact_normal(model, x):
    W, b, s = model.decoder.lin.weight.detach(), model.decoder.lin.bias.detach(), model.decoder.variance
    return torch.distributions.MultivariateNormal(b, W @ W.T + s * torch.eye(W.shape[0], dtype=torch.float64)).log_prob(x)


def test_matches_the_closed_form_restores_the_callers_flags_and_takes_items_as_rows():
    model, x, _ = model_and_data(Prior("normal", 2))
    first = model.decoder.lin.weight
    first.requires_grad_(False)
    model.decoder.train()
    estimate = genzoo.log_likelihood(model, x, steps=1000, chains=16, seed=1)
    exact = exact_normal(model, x)
    # Measured (seed 1): estimate - exact = -0.082, 0.007, 0.071, -0.082 nats.
    assert estimate.shape == (4,) and (estimate - exact).abs().max() < 0.15
    assert not first.requires_grad and model.decoder.lin.bias.requires_grad and model.decoder.training
    alone = genzoo.log_likelihood(model, x[2:3], steps=1000, chains=16, seed=1)
    assert (alone - exact[2:3]).abs().max() < 0.15  # an item's estimate does not depend on its neighbours


def test_bdmc_brackets_the_truth_for_items_with_known_latents():
    model, x, z = model_and_data(Prior("normal", 2), seed=3)
    lower, upper = genzoo.bdmc(model, x, z, steps=500, chains=8, seed=2)
    exact = exact_normal(model, x)
    assert lower.mean() <= exact.mean() + 0.1 and upper.mean() >= exact.mean() - 0.1
    assert (upper - lower).mean() < 0.5  # measured: lower - exact 0.076, upper - exact 0.082 (means over 4 items)


def test_any_prior_the_model_declares_uniform_against_quadrature():
    prior = Prior("uniform", 1)
    model, x, _ = model_and_data(prior, D=3, seed=5)
    grid = torch.linspace(-1, 1, 20001, dtype=torch.float64)[:, None]
    with torch.no_grad():
        mean = model.decoder(grid, None)
    s = model.decoder.variance
    log_joint = (-(x[:, None, :] - mean[None]).pow(2).sum(-1) / (2 * s) - 1.5 * math.log(2 * math.pi * s)) + math.log(0.5)
    exact = torch.logsumexp(log_joint, 1) + math.log(grid[1, 0] - grid[0, 0])
    estimate = genzoo.log_likelihood(model, x, steps=1000, chains=16, seed=4)
    assert (estimate - exact).abs().max() < 0.15


def test_a_bare_decoder_needs_its_prior_and_an_implicit_one_is_refused():
    model, x, _ = model_and_data(Prior("normal", 2))
    with pytest.raises(GenzooError, match="needs prior="):
        genzoo.log_likelihood(model.decoder, x, steps=10)
    assert genzoo.log_likelihood(model.decoder, x, steps=10, prior=Prior("normal", 2)).shape == (4,)
    model.decoder.explicit = False
    with pytest.raises(GenzooError, match="implicit decoder"):
        genzoo.log_likelihood(model, x, steps=10)
