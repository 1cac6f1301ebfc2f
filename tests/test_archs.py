"""Parameter counts of the appendix architectures against counts derived by hand from the tables."""

import pytest
import torch

from genzoo.arch_info import parameter_counts
from genzoo import factory


def conv(c_in, c_out, k):
    return c_in * c_out * k * k + c_out


def fc(d_in, d_out):
    return d_in * d_out + d_out


def bn(c):
    return 2 * c


# Table 3 (MNIST), d_z = 64
MNIST_ENCODER = conv(1, 16, 5) + bn(16) + conv(16, 32, 5) + bn(32) + fc(32 * 7 * 7, 784) + bn(784) + fc(784, 64)
MNIST_DECODER = fc(64, 1024) + bn(1024) + fc(1024, 3136) + bn(3136) + conv(64, 64, 5) + bn(64) + conv(64, 1, 5)
MNIST_X_BRANCH = conv(1, 32, 5) + bn(32) + conv(32, 64, 5) + bn(64) + conv(64, 128, 5) + bn(128)
MNIST_CRITIC = MNIST_X_BRANCH + fc(64, 1024) + fc(2048 + 1024, 1)

# Table 5 (CIFAR-10), d_z = 256, 20-D decoder noise, one encoder noise channel
CIFAR_ENCODER = conv(4, 32, 5) + bn(32) + conv(32, 64, 5) + bn(64) + conv(64, 128, 5) + bn(128) + conv(128, 256, 5) + bn(256) + fc(1024, 512) + fc(512, 256)
CIFAR_DECODER = fc(276, 8192) + bn(8192) + conv(512, 256, 5) + bn(256) + conv(256, 128, 5) + bn(128) + (128 * 3 * 25 + 3)
CIFAR_X_BRANCH = conv(3, 64, 5) + bn(64) + conv(64, 128, 5) + bn(128) + conv(128, 256, 5) + bn(256) + conv(256, 512, 5) + bn(512)
CIFAR_CRITIC = CIFAR_X_BRANCH + fc(256, 512) + fc(512 + 512, 1)

# Table 4 (CelebA), d_z = 64, 20-D decoder noise, one encoder noise channel
CELEBA_ENCODER = (conv(4, 32, 4) + bn(32) + conv(32, 64, 4) + bn(64) + conv(64, 128, 4) + bn(128) + conv(128, 128, 4) + bn(128)
                  + conv(128, 256, 4) + bn(256) + conv(256, 512, 4) + bn(512) + fc(512, 512) + fc(512, 64))
CELEBA_DECODER = (fc(84, 1024) + bn(1024) + fc(1024, 8192) + bn(8192) + conv(512, 256, 5) + bn(256) + conv(256, 128, 5) + bn(128)
                  + conv(128, 64, 5) + bn(64) + (64 * 3 * 25 + 3))
CELEBA_CRITIC = CIFAR_X_BRANCH + fc(64, 2048) + fc(2048 + 2048, 1)

EXPECTED = {
    "mnist_conv": {"encoder": MNIST_ENCODER, "decoder": MNIST_DECODER, "critic": MNIST_CRITIC, "x_critic": MNIST_X_BRANCH + fc(2048, 1)},
    "cifar_dcgan": {"encoder": CIFAR_ENCODER, "decoder": CIFAR_DECODER, "critic": CIFAR_CRITIC, "x_critic": CIFAR_X_BRANCH + fc(512, 1)},
    "celeba_dcgan": {"encoder": CELEBA_ENCODER, "decoder": CELEBA_DECODER, "critic": CELEBA_CRITIC, "x_critic": CIFAR_X_BRANCH + fc(2048, 1)},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameter_counts_match_the_tables(name):
    counts = parameter_counts(factory.build("archs", name))
    expected = EXPECTED[name]
    assert counts["joint (ALI/sVAE)"] == {k: expected[k] for k in ("encoder", "decoder", "critic")}
    assert counts["x-only (GAN/WGAN-GP)"]["critic"] == expected["x_critic"]


def test_mnist_counts_as_printed_by_the_cli(capsys):
    from genzoo.cli import main

    assert main(["list", "archs", "--details"]) == 0
    assert "encoder 1,295,248, decoder 3,393,473, critic 327,105" in capsys.readouterr().out


@pytest.mark.parametrize("name,side", [("mnist_conv", 28), ("cifar_dcgan", 32), ("celeba_dcgan", 64)])
def test_wgan_gp_critic_has_no_batch_norm_when_asked(name, side):
    cls = factory.plugin_class("archs", name)
    from genzoo.interfaces import Needs

    _, _, critic = cls(cls.Config(critic_batch_norm=False)).build(Needs(encoder=False, critic="x"))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())
    assert critic(torch.zeros(2, cls.data_shape[0], side, side)).shape == (2,)


def mnist_critic(**options):
    from genzoo.options import structure
    from genzoo.interfaces import Needs

    cls = factory.plugin_class("archs", "mnist_conv")
    torch.manual_seed(0)
    return cls(structure(cls.Config, options, "arch")).build(Needs(encoder=True, critic="joint"))[2]


def test_critic_switches_change_the_nets_as_the_authors_code_does():
    base = mnist_critic()
    no_first = mnist_critic(critic_first_bn=False)
    assert sum(p.numel() for p in base.parameters()) - sum(p.numel() for p in no_first.parameters()) == bn(32)
    noisy = mnist_critic(critic_noise=True)
    assert sum(p.numel() for p in noisy.parameters()) - sum(p.numel() for p in base.parameters()) == 32 * 25 + 20 * 1024
    leaky = mnist_critic(critic_activation="lrelu")
    assert any(isinstance(m, torch.nn.LeakyReLU) for m in leaky.modules()) and not any(isinstance(m, torch.nn.ReLU) for m in leaky.modules())
    x, z = torch.rand(8, 1, 28, 28), torch.randn(8, 64)
    noisy.eval()
    assert not torch.equal(noisy(x, z), noisy(x, z))  # fresh noise inputs per call


def test_per_half_batch_norm_normalises_each_half_on_its_own():
    joint, per_half = mnist_critic(critic_dropout=0.0), mnist_critic(critic_dropout=0.0, critic_bn_stats="per_half")
    per_half.load_state_dict(joint.state_dict())
    x, z = torch.rand(16, 1, 28, 28), torch.randn(16, 64)
    x[8:] *= 0.1  # halves with very different statistics
    f_per_half = per_half(x, z)
    assert torch.allclose(f_per_half[:8], joint(x[:8], z[:8]), atol=1e-5)  # each half as if called alone
    assert torch.allclose(f_per_half[8:], joint(x[8:], z[8:]), atol=1e-5)
    assert not torch.allclose(f_per_half, joint(x, z), atol=1e-3)
    per_half.load_state_dict(joint.state_dict())  # the same running statistics
    per_half.eval(), joint.eval()
    assert torch.allclose(per_half(x, z), joint(x, z))  # eval mode: running statistics, nothing split
