"""Image-net building blocks shared by the appendix architectures (Tables 3-5).

Every conv layer uses "SAME"-style padding of the tables: a k x k, stride-2 conv halves the
side (padding (k-1)//2, rounding up as TF does), and a transposed conv doubles it.
"""

from __future__ import annotations

from typing import Literal

import attrs
import torch
from torch import nn

from genzoo.interfaces import Arch, Critic, Decoder, Encoder, Prior


def act(kind: str) -> nn.Module:
    return nn.LeakyReLU(0.2) if kind == "lrelu" else nn.ReLU()


def conv_stack(channels: list[int], kernel: int, batch_norm: bool, activation: str, first_batch_norm: bool = True) -> nn.Sequential:
    """Stride-2 convs from channels[0] to channels[-1], each followed by BN (optional; `first_batch_norm`
    false leaves it off the first conv, as DCGAN discriminators do) and an activation."""
    layers: list[nn.Module] = []
    for index, (c_in, c_out) in enumerate(zip(channels, channels[1:])):
        layers.append(nn.Conv2d(c_in, c_out, kernel, stride=2, padding=(kernel - 1) // 2))
        if batch_norm and (index or first_batch_norm):
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(act(activation))
    return nn.Sequential(*layers)


def deconv(c_in: int, c_out: int, kernel: int = 5) -> nn.ConvTranspose2d:
    """A stride-2 transposed conv that exactly doubles the side."""
    return nn.ConvTranspose2d(c_in, c_out, kernel, stride=2, padding=(kernel - 1) // 2, output_padding=1)


def dense(d_in: int, d_out: int, batch_norm: bool, activation: str) -> list[nn.Module]:
    return [nn.Linear(d_in, d_out), *([nn.BatchNorm1d(d_out)] if batch_norm else []), act(activation)]


class ConvEncoder(Encoder):
    """body([x, noise channel]) -> head.  Explicit variant: the head gives mean and log-variance of
    a Gaussian q(z|x) and the noise is the reparameterisation noise."""

    def __init__(self, body: nn.Module, head: nn.Module, noise_shape: tuple[int, ...] = (), explicit: bool = False):
        super().__init__()
        self.body, self.head = body, head
        self.explicit = explicit
        self.noise_shape = noise_shape
        self.noise_kind = "normal" if explicit else "uniform"

    def posterior(self, x):
        if not self.explicit:
            return super().posterior(x)
        mean, log_var = self.head(self.body(x)).chunk(2, dim=1)
        return torch.distributions.Normal(mean, torch.exp(0.5 * log_var))

    def forward(self, x, noise):
        if self.explicit:
            q = self.posterior(x)
            return q.mean if noise is None else q.mean + q.stddev * noise
        return self.head(self.body(x if noise is None else torch.cat([x, noise], 1)))


class ConvDecoder(Decoder):
    """[z, noise] -> fc -> reshape -> deconvs; the last activation is applied here."""

    def __init__(self, fc: nn.Module, shape: tuple[int, int, int], deconvs: nn.Module, output: str, noise_dim: int = 0):
        super().__init__()
        self.fc, self.shape, self.deconvs = fc, shape, deconvs
        self.output = output
        self.observation = "bernoulli" if output == "sigmoid" else "gaussian"
        self.explicit = noise_dim == 0
        self.noise_shape = (noise_dim,) if noise_dim else ()
        self.noise_kind = "uniform"

    def logits(self, z, noise):
        h = self.fc(z if noise is None else torch.cat([z, noise], 1))
        return self.deconvs(h.view(-1, *self.shape))

    def forward(self, z, noise):
        out = self.logits(z, noise)
        return torch.sigmoid(out) if self.output == "sigmoid" else torch.tanh(out)


CRITIC_NOISE_DIMS = 20  # the reference code's noise vector beside z (spec 3.3)


@attrs.frozen(kw_only=True)
class CriticOptions:
    """The critic switches of the image archs; the non-default values follow the authors' TF code
    (spec 3.3, 3.5) and exist so that an ablation, not a guess, picks a recipe's critic."""

    critic_dropout: float = attrs.field(default=0.2, validator=[attrs.validators.ge(0.0), attrs.validators.lt(1.0)])
    critic_batch_norm: bool = True  # false for WGAN-GP, whose penalty assumes a per-sample critic
    # joint: one batch-norm pass over [encoder pairs; decoder pairs], so f is a function of the pair
    # (spec 3.5); per_half: each half normalised with its own statistics, as the TF code's two calls do.
    critic_bn_stats: Literal["joint", "per_half"] = "joint"
    critic_first_bn: bool = True  # false: no batch-norm after the first conv of the x-branch
    critic_noise: bool = False  # one U(-1, 1) channel beside x and 20 U(-1, 1) values beside z

    @property
    def critic_noise_channels(self) -> int:
        return 1 if self.critic_noise else 0

    @property
    def critic_noise_dims(self) -> int:
        return CRITIC_NOISE_DIMS if self.critic_noise else 0

    def critic(self, x_branch: nn.Module, x_features: int, z_branch: nn.Module | None, z_features: int) -> "ConvCritic":
        return ConvCritic(x_branch, x_features, z_branch, z_features, self.critic_dropout,
                          per_half=self.critic_bn_stats == "per_half", noise=self.critic_noise)


class ConvCritic(Critic):
    """x-branch (convs, flattened) and, for a joint critic, a z-branch; concatenated, dropout, linear logit.

    `per_half`: in training mode every call is split into its two halves, each run on its own, so
    batch-norm normalises them separately (the objectives call the critic on [q-pairs; p-pairs]).
    `noise`: U(-1, 1) inputs beside x (one channel) and z (CRITIC_NOISE_DIMS values), fresh per call.
    """

    def __init__(self, x_branch: nn.Module, x_features: int, z_branch: nn.Module | None, z_features: int, dropout: float,
                 per_half: bool = False, noise: bool = False):
        super().__init__()
        self.joint = z_branch is not None
        self.x_branch, self.z_branch = x_branch, z_branch
        self.per_half, self.noise = per_half, noise
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(x_features + (z_features if self.joint else 0), 1))

    def forward(self, x, z=None):
        if self.per_half and self.training and x.shape[0] % 2 == 0 and x.shape[0] > 2:
            halves = zip(x.chunk(2), z.chunk(2) if self.joint else (None, None))
            return torch.cat([self.logit(xh, zh) for xh, zh in halves])
        return self.logit(x, z)

    def logit(self, x, z=None):
        if self.noise:
            x = torch.cat([x, uniform_noise((x.shape[0], 1, *x.shape[2:]), x)], 1)
        h = self.x_branch(x).flatten(1)
        if self.joint:
            if self.noise:
                z = torch.cat([z, uniform_noise((z.shape[0], CRITIC_NOISE_DIMS), z)], 1)
            h = torch.cat([h, self.z_branch(z)], 1)
        return self.out(h).squeeze(1)


def uniform_noise(shape, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(shape, device=like.device, dtype=like.dtype) * 2 - 1


@attrs.frozen(kw_only=True)
class DCGANOptions(CriticOptions):
    """Options shared by the CIFAR and CelebA architectures (spec 3.3-3.4, 7)."""

    latent_dim: int = attrs.field(default=64, validator=attrs.validators.in_(range(1, 4097)))
    decoder_noise: int = attrs.field(default=20, validator=attrs.validators.ge(0))


class DCGANArch(Arch):
    """Noise-input DCGAN nets with a U(-1, 1) prior: implicit decoder, so no explicit-decoder variant."""

    Config = DCGANOptions
    supports = frozenset({"explicit_encoder", "joint_critic", "x_critic"})

    @property
    def prior(self):
        return Prior("uniform", self.config.latent_dim)

    def noise_channel_encoder(self, channels: list[int], kernel: int, flat: int, explicit: bool) -> ConvEncoder:
        """[x, one U(-1, 1) noise channel] -> stride-2 convs -> FC 512 lReLU -> FC d_z tanh (spec 3.3-3.4).
        The explicit variant (VAE) drops the noise channel and the tanh and gives mean and log-variance."""
        d_z, image = self.config.latent_dim, self.data_shape
        in_channels = image[0] + (0 if explicit else 1)
        body = nn.Sequential(conv_stack([in_channels, *channels], kernel, True, "lrelu"), nn.Flatten(), *dense(flat, 512, False, "lrelu"))
        head = nn.Linear(512, 2 * d_z) if explicit else nn.Sequential(nn.Linear(512, d_z), nn.Tanh())
        return ConvEncoder(body, head, (d_z,) if explicit else (1, *image[1:]), explicit)
