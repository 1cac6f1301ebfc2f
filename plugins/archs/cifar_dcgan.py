"""CIFAR-10 architecture of [sVAE] Table 5 ("sVAE-r on CIFAR"), read as spec 3.4 recommends.

- Data 32x32x3 in [-1, 1]; d_z = 256; prior U(-1, 1)^256 (the reference code's `sample_Z`).
- Encoder: [x, one U(-1, 1) noise channel] -> conv 5x5 32, 64, 128, 256 (stride 2, BN, lReLU 0.2;
  32 -> 2) -> FC 512 lReLU -> FC 256 tanh. The explicit variant (VAE) drops the noise channel
  and the tanh and gives mean and log-variance.
- Decoder: [z, 20-D U(-1, 1) noise] -> FC 8192 BN lReLU -> 4x4x512 -> deconv 5x5 256, 128 (stride 2,
  BN, ReLU) -> deconv 5x5 3, stride 2, tanh. Implicit (noise input), Gaussian around its output.
- Critic: x-branch conv 5x5 64, 128, 256, 512 (stride 2, BN, lReLU as in the code; 32 -> 2) then
  2x2 average pooling (table); z-branch FC 512 ReLU (table; the code's 2048 lReLU is not used);
  concatenated, dropout 0.2, linear logit. `critic_batch_norm=false` for WGAN-GP; the other critic switches
  (batch-norm per half, none on the first conv, noise inputs) are in `CriticOptions`.
"""

import attrs
from torch import nn

from genzoo.interfaces import Needs
from genzoo.nn import xavier_init

from ._blocks import ConvDecoder, DCGANArch, DCGANOptions, act, conv_stack, deconv, dense


class CIFARDCGAN(DCGANArch):
    """Table 5: noise-channel conv encoder, DCGAN decoder with 20-D noise, joint critic; 32x32x3, d_z 256."""

    @attrs.frozen(kw_only=True)
    class Config(DCGANOptions):
        latent_dim: int = attrs.field(default=256, validator=attrs.validators.in_(range(1, 4097)))

    data_shape = (3, 32, 32)

    def build(self, needs: Needs):
        c = self.config
        d_z, explicit = c.latent_dim, needs.explicit_encoder
        encoder = None
        if needs.encoder:
            encoder = self.noise_channel_encoder([32, 64, 128, 256], 5, 256 * 2 * 2, explicit)
        fc = nn.Sequential(*dense(d_z + c.decoder_noise, 512 * 4 * 4, True, "lrelu"))
        deconvs = nn.Sequential(
            deconv(512, 256), nn.BatchNorm2d(256), act("relu"), deconv(256, 128), nn.BatchNorm2d(128), act("relu"), deconv(128, 3)
        )
        decoder = ConvDecoder(fc, (512, 4, 4), deconvs, "tanh", noise_dim=c.decoder_noise)
        critic = None
        if needs.critic:
            x_branch = nn.Sequential(conv_stack([3 + c.critic_noise_channels, 64, 128, 256, 512], 5, c.critic_batch_norm, "lrelu", c.critic_first_bn), nn.AvgPool2d(2))
            z_branch = nn.Sequential(nn.Linear(d_z + c.critic_noise_dims, 512), nn.ReLU()) if needs.critic == "joint" else None
            critic = c.critic(x_branch, 512, z_branch, 512)
        return tuple(None if net is None else xavier_init(net) for net in (encoder, decoder, critic))
