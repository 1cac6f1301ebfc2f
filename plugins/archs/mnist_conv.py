"""MNIST architecture of [sVAE] Table 3 ("sVAE-r on MNIST"), read as spec 3.2 recommends.

Choices where the table is silent or inconsistent (spec 3.2, 8.6, 8.7, 8.16):
- d_z = 64 and prior N(0, I) (not stated; a Gaussian prior is what AIS assumes).
- Encoder and decoder are deterministic, as in the table. The decoder's last layer is a sigmoid
  Bernoulli mean (the table prints "ReLU ... sigmoid"); it is therefore explicit, which is what
  the VAE objective and AIS need. The explicit encoder variant (VAE) doubles the head to give the
  mean and log-variance of q(z|x).
- The critic sees one image (the table's "two 28x28 images" is copied from Triangle-GAN): conv
  32 -> 64 -> 128 (5x5, stride 2, BN, ReLU; 28 -> 14 -> 7 -> 4) plus an FC-1024 ReLU z-branch,
  concatenated, dropout 0.2, linear logit. The x-only critic (GAN, WGAN-GP) is the x-branch
  alone; `critic_batch_norm=false` removes its BN (the WGAN-GP recipe sets it). The switches of
  the authors' code (`CriticOptions`, and `critic_activation=lrelu`) are off by default; the
  recipes set what the ablation in docs/critic-ablation.md chose.
- Biases are kept on layers followed by BN; Xavier-uniform weights, zero biases.
"""

from typing import Literal

import attrs
from torch import nn

from genzoo.interfaces import Arch, Needs, Prior
from genzoo.nn import xavier_init

from ._blocks import ConvDecoder, ConvEncoder, CriticOptions, act, conv_stack, deconv, dense


class MNISTConv(Arch):
    """Table 3: conv encoder, deconv Bernoulli decoder, conv+FC joint critic; 28x28x1, d_z 64."""

    @attrs.frozen(kw_only=True)
    class Config(CriticOptions):
        latent_dim: int = attrs.field(default=64, validator=attrs.validators.in_(range(1, 4097)))
        critic_activation: Literal["relu", "lrelu"] = "relu"  # lrelu: slope 0.2 in both branches, as the authors' code

    supports = frozenset({"explicit_encoder", "explicit_decoder", "joint_critic", "x_critic"})
    data_shape = (1, 28, 28)

    @property
    def prior(self):
        return Prior("normal", self.config.latent_dim)

    def build(self, needs: Needs):
        d_z = self.config.latent_dim
        encoder = None
        if needs.encoder:
            body = nn.Sequential(conv_stack([1, 16, 32], 5, True, "relu"), nn.Flatten(), *dense(32 * 7 * 7, 784, True, "relu"))
            head = nn.Linear(784, 2 * d_z if needs.explicit_encoder else d_z)
            encoder = ConvEncoder(body, head, (d_z,) if needs.explicit_encoder else (), needs.explicit_encoder)
        fc = nn.Sequential(*dense(d_z, 1024, True, "relu"), *dense(1024, 64 * 7 * 7, True, "relu"))
        deconvs = nn.Sequential(deconv(64, 64), nn.BatchNorm2d(64), nn.ReLU(), deconv(64, 1))
        decoder = ConvDecoder(fc, (64, 7, 7), deconvs, "sigmoid")
        critic = None
        if needs.critic:
            c = self.config
            x_branch = conv_stack([1 + c.critic_noise_channels, 32, 64, 128], 5, c.critic_batch_norm, c.critic_activation, c.critic_first_bn)
            z_branch = nn.Sequential(nn.Linear(d_z + c.critic_noise_dims, 1024), act(c.critic_activation)) if needs.critic == "joint" else None
            critic = c.critic(x_branch, 128 * 4 * 4, z_branch, 1024)
        return tuple(None if net is None else xavier_init(net) for net in (encoder, decoder, critic))
