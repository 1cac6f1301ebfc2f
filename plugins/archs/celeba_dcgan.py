"""CelebA 64x64 architecture of [sVAE] Table 4 ("sVAE on CelebA"), read as spec 3.3 recommends.

- Data 64x64x3 in [-1, 1]; d_z = 64; prior U(-1, 1)^64 (reference code; matches the tanh head).
- Encoder (table, not the code variant): [x, one U(-1, 1) noise channel] -> conv 4x4 32, 64, 128,
  128, 256, 512 (stride 2, BN, lReLU 0.2; 64 -> 1) -> FC 512 lReLU -> FC 64 tanh. The explicit
  variant (VAE) drops the noise channel and the tanh and gives mean and log-variance.
- Decoder: [z, 20-D U(-1, 1) noise] -> FC 1024 BN lReLU -> FC 8192 BN lReLU -> 4x4x512 -> deconv 5x5
  256, 128, 64 (stride 2, BN, lReLU) -> deconv 5x5 3, stride 2, tanh (no BN on the last layer, as
  in the code).
- Critic: x-branch conv 5x5 64, 128, 256, 512 (stride 2, BN, lReLU; 64 -> 4) then 2x2 average
  pooling (code) -> 2x2x512; z-branch FC 2048 lReLU (the table's "2046" is a typo); concatenated,
  dropout 0.2, linear logit. `critic_batch_norm=false` for WGAN-GP; the other critic switches
  (batch-norm per half, none on the first conv, noise inputs) are in `CriticOptions`.
"""

from torch import nn

from genzoo.interfaces import Needs
from genzoo.nn import xavier_init

from ._blocks import ConvDecoder, DCGANArch, act, conv_stack, deconv, dense


class CelebADCGAN(DCGANArch):
    """Table 4: 6-conv noise-channel encoder, DCGAN decoder with 20-D noise, joint critic; 64x64x3, d_z 64."""

    data_shape = (3, 64, 64)

    def build(self, needs: Needs):
        c = self.config
        d_z, explicit = c.latent_dim, needs.explicit_encoder
        encoder = None
        if needs.encoder:
            encoder = self.noise_channel_encoder([32, 64, 128, 128, 256, 512], 4, 512, explicit)
        fc = nn.Sequential(*dense(d_z + c.decoder_noise, 1024, True, "lrelu"), *dense(1024, 512 * 4 * 4, True, "lrelu"))
        layers = []
        for c_in, c_out in [(512, 256), (256, 128), (128, 64)]:
            layers += [deconv(c_in, c_out), nn.BatchNorm2d(c_out), act("lrelu")]
        decoder = ConvDecoder(fc, (512, 4, 4), nn.Sequential(*layers, deconv(64, 3)), "tanh", noise_dim=c.decoder_noise)
        critic = None
        if needs.critic:
            x_branch = nn.Sequential(conv_stack([3 + c.critic_noise_channels, 64, 128, 256, 512], 5, c.critic_batch_norm, "lrelu", c.critic_first_bn), nn.AvgPool2d(2))
            z_branch = nn.Sequential(nn.Linear(d_z + c.critic_noise_dims, 2048), nn.LeakyReLU(0.2)) if needs.critic == "joint" else None
            critic = c.critic(x_branch, 512 * 2 * 2, z_branch, 2048)
        return tuple(None if net is None else xavier_init(net) for net in (encoder, decoder, critic))
