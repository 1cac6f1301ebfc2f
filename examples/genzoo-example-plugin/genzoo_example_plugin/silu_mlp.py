"""A small architecture for the 2-D toy data: SiLU MLPs, a uniform prior, uniform decoder noise.

It shows what an arch declares: `data_shape`, `prior`, `supports` (what it can build), and for
each stochastic net its noise (`noise_shape`, `noise_kind`): genzoo draws that noise and passes it
to `forward`, so a net never draws its own. `build(needs)` returns (encoder, decoder, critic),
with None for what the objective does not need.
"""

import attrs
import torch
from torch import nn

from genzoo.interfaces import Arch, Critic, Decoder, Encoder, Needs, Prior


def silu_mlp(inputs: int, width: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(), nn.Linear(width, outputs))


class SiLUEncoder(Encoder):
    """Deterministic: x -> z (noise_shape stays empty, so genzoo passes noise=None)."""

    def __init__(self, width):
        super().__init__()
        self.net = silu_mlp(2, width, 2)

    def forward(self, x, noise):
        return torch.tanh(self.net(x))  # inside the prior's support, (-1, 1)^2


class SiLUDecoder(Decoder):
    """Stochastic: [z, eps] -> x with eps ~ U(-1, 1)^2 drawn by genzoo; deterministic (and explicit,
    Gaussian with variance 0.01) when an objective needs log p(x|z)."""

    noise_kind = "uniform"
    variance = 0.01

    def __init__(self, width, explicit):
        super().__init__()
        self.explicit = explicit
        self.noise_shape = () if explicit else (2,)
        self.net = silu_mlp(2 + (0 if explicit else 2), width, 2)

    def forward(self, z, noise):
        return self.net(z if noise is None else torch.cat([z, noise], 1))


class SiLUCritic(Critic):
    def __init__(self, width, joint):
        super().__init__()
        self.joint = joint
        self.net = silu_mlp(4 if joint else 2, width, 1)

    def forward(self, x, z=None):
        return self.net(torch.cat([x, z], 1) if self.joint else x).squeeze(1)


class ToySiLU(Arch):
    """SiLU MLPs for the 2-D toy data with a uniform prior on (-1, 1)^2."""

    @attrs.frozen(kw_only=True)
    class Config:
        width: int = attrs.field(default=128, validator=attrs.validators.in_(range(1, 4097)))

    supports = frozenset({"joint_critic", "x_critic", "explicit_decoder"})
    data_shape = (2,)
    prior = Prior("uniform", 2)

    def build(self, needs: Needs):
        width = self.config.width
        encoder = SiLUEncoder(width) if needs.encoder else None
        critic = SiLUCritic(width, needs.critic == "joint") if needs.critic else None
        return encoder, SiLUDecoder(width, needs.explicit_decoder), critic
