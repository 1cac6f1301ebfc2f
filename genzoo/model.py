"""One model class for every objective x architecture: the nets, their prior, and how to use them."""

from __future__ import annotations

import torch
from torch import nn

from genzoo.interfaces import Critic, Decoder, Encoder, Prior

SIDES = ("critic", "generator")  # the two halves of one training iteration, in their order


class JointModel(nn.Module):
    """Encoder, decoder, optional critic and the prior p(z).

    Every draw (prior, encoder noise, decoder noise) goes through `generator` when one is
    given, else through torch's global RNG, which the trainer seeds and checkpoints.
    """

    def __init__(self, encoder: Encoder | None, decoder: Decoder, critic: Critic | None, prior: Prior):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.critic = critic
        self.prior = prior

    @property
    def device(self) -> torch.device:
        return next(self.decoder.parameters()).device

    def sample_prior(self, n: int, generator=None) -> torch.Tensor:
        return self.prior.sample(n, self.device, generator, next(self.decoder.parameters()).dtype)

    def encode(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        if self.encoder is None:
            raise TypeError("this model has no encoder (its objective trains none)")
        return self.encoder(x, self.encoder.sample_noise(x.shape[0], x.device, generator))

    def decode(self, z: torch.Tensor, generator=None) -> torch.Tensor:
        return self.decoder(z, self.decoder.sample_noise(z.shape[0], z.device, generator))

    def sample(self, n: int, generator=None) -> torch.Tensor:
        return self.decode(self.sample_prior(n, generator), generator)

    def reconstruct(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        return self.decode(self.encode(x, generator), generator)

    def critic_logit(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        if self.critic is None:
            raise TypeError("this model has no critic")
        return self.critic(x, z) if self.critic.joint else self.critic(x)

    def side_nets(self, side: str) -> list[nn.Module]:
        """The nets one side trains: "critic" the critic; "generator" the encoder and decoder."""
        nets = [self.critic] if side == "critic" else [self.encoder, self.decoder]
        return [net for net in nets if net is not None]

    def side_parameters(self, side: str) -> list[nn.Parameter]:
        return [p for net in self.side_nets(side) for p in net.parameters()]

    def side_of(self, parameter_name: str) -> str:
        """The side that trains the parameter named `parameter_name` (a `named_parameters` name)."""
        return "critic" if parameter_name.startswith("critic.") else "generator"

    def train_side(self, side: str) -> None:
        """Let only `side`'s nets take gradients: the other side is frozen as whole modules, so a
        critic step builds no graph through the generators and a generator step sends gradients
        through the critic to its inputs only."""
        for each in SIDES:
            for net in self.side_nets(each):
                net.requires_grad_(each == side)
