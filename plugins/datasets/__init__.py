"""Built-in datasets."""

from genzoo.registry import hookimpl


@hookimpl
def genzoo_datasets():
    from . import celeba, cifar10, mnist, toy

    return {
        "toy": toy.ToyMixture,
        "mnist": mnist.MNIST,
        "binarized_mnist": mnist.BinarizedMNIST,
        "cifar10": cifar10.CIFAR10,
        "celeba": celeba.CelebA,
    }
