"""Built-in architectures, one file each."""

from genzoo.registry import hookimpl


@hookimpl
def genzoo_archs():
    from . import celeba_dcgan, cifar_dcgan, mnist_conv, toy_mlp

    return {
        "toy_mlp": toy_mlp.ToyMLP,
        "mnist_conv": mnist_conv.MNISTConv,
        "cifar_dcgan": cifar_dcgan.CIFARDCGAN,
        "celeba_dcgan": celeba_dcgan.CelebADCGAN,
    }
