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
  alone; `critic_batch_norm=false` removes its BN (the WGAN-GP recipe sets it).
- Biases are kept on layers followed by BN; Xavier-uniform weights, zero biases.
"""

import attrs
from torch import nn

from genzoo.interfaces import Arch, Needs, Prior
from genzoo.nn import xavier_init

from ._blocks import ConvCritic, ConvDecoder, ConvEncoder, conv_stack, deconv, dense


class MNISTConv(Arch):
    """Table 3: conv encoder, deconv Bernoulli decoder, conv+FC joint critic; 28x28x1, d_z 64."""

    @attrs.frozen(kw_only=True)
    class Config:
        latent_dim: int = attrs.field(default=64, validator=attrs.validators.in_(range(1, 4097)))
        critic_dropout: float = attrs.field(default=0.2, validator=[attrs.validators.ge(0.0), attrs.validators.lt(1.0)])
        critic_batch_norm: bool = True

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
            x_branch = conv_stack([1, 32, 64, 128], 5, self.config.critic_batch_norm, "relu")
            z_branch = nn.Sequential(nn.Linear(d_z, 1024), nn.ReLU()) if needs.critic == "joint" else None
            critic = ConvCritic(x_branch, 128 * 4 * 4, z_branch, 1024, self.config.critic_dropout)
        return tuple(None if net is None else xavier_init(net) for net in (encoder, decoder, critic))
