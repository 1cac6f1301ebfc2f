"""The toy study's MLPs (spec 3.1, from the ALICE reference toy script).

Encoder [x, eps] -> z, decoder [z, eps] -> x and critic [x, z] -> logit are ReLU MLPs of
`depth` hidden layers of `width` units (2 x 256 in the reference), no batch-norm, no dropout.
Stochastic nets get 2-D N(0, I) noise concatenated to their input; `stochastic_encoder=false`
or `stochastic_decoder=false` makes them deterministic (two factors of the 576-run grid).

Explicit variants (for the VAE): the encoder outputs mean and log-variance of a Gaussian
q(z|x) and its noise is the reparameterisation noise; the decoder is deterministic with a
fixed observation variance `obs_variance`.
"""

import attrs
import torch

from genzoo.interfaces import Arch, Critic, Decoder, Encoder, Needs, Prior
from genzoo.nn import mlp, xavier_init

X_DIM = Z_DIM = NOISE_DIM = 2


class MLPEncoder(Encoder):
    def __init__(self, width, depth, stochastic):
        super().__init__()
        self.noise_shape = (NOISE_DIM,) if stochastic else ()
        self.net = mlp(X_DIM + (NOISE_DIM if stochastic else 0), width, depth, Z_DIM)

    def forward(self, x, noise):
        return self.net(x if noise is None else torch.cat([x, noise], 1))


class GaussianMLPEncoder(Encoder):
    explicit = True
    noise_shape = (Z_DIM,)

    def __init__(self, width, depth):
        super().__init__()
        self.net = mlp(X_DIM, width, depth, 2 * Z_DIM)

    def posterior(self, x):
        mean, log_var = self.net(x).chunk(2, dim=1)
        return torch.distributions.Normal(mean, torch.exp(0.5 * log_var))

    def forward(self, x, noise):
        q = self.posterior(x)
        return q.mean if noise is None else q.mean + q.stddev * noise


class MLPDecoder(Decoder):
    def __init__(self, width, depth, stochastic, explicit, variance):
        super().__init__()
        self.explicit = explicit
        self.variance = variance
        self.noise_shape = (NOISE_DIM,) if stochastic and not explicit else ()
        self.net = mlp(Z_DIM + (NOISE_DIM if self.noise_shape else 0), width, depth, X_DIM)

    def forward(self, z, noise):
        return self.net(z if noise is None else torch.cat([z, noise], 1))


class MLPCritic(Critic):
    def __init__(self, width, depth, joint):
        super().__init__()
        self.joint = joint
        self.net = mlp(X_DIM + (Z_DIM if joint else 0), width, depth, 1)

    def forward(self, x, z=None):
        return self.net(torch.cat([x, z], 1) if self.joint else x).squeeze(1)


class ToyMLP(Arch):
    """Spec 3.1: ReLU MLPs for 2-D x and 2-D z, stochastic by noise concatenation."""

    @attrs.frozen(kw_only=True)
    class Config:
        width: int = attrs.field(default=256, validator=attrs.validators.in_(range(1, 8193)))
        depth: int = attrs.field(default=2, validator=attrs.validators.in_(range(0, 33)))
        stochastic_encoder: bool = True
        stochastic_decoder: bool = True
        obs_variance: float = attrs.field(default=0.01, validator=attrs.validators.gt(0.0))

    supports = frozenset({"explicit_encoder", "explicit_decoder", "joint_critic", "x_critic"})
    data_shape = (X_DIM,)
    prior = Prior("normal", Z_DIM)

    def build(self, needs: Needs):
        c = self.config
        encoder = None
        if needs.explicit_encoder:
            encoder = GaussianMLPEncoder(c.width, c.depth)
        elif needs.encoder:
            encoder = MLPEncoder(c.width, c.depth, c.stochastic_encoder)
        decoder = MLPDecoder(c.width, c.depth, c.stochastic_decoder, needs.explicit_decoder, c.obs_variance)
        critic = MLPCritic(c.width, c.depth, needs.critic == "joint") if needs.critic else None
        return tuple(None if net is None else xavier_init(net) for net in (encoder, decoder, critic))
