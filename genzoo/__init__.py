"""genzoo: a plugin-based zoo of joint (x, z) generative models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genzoo")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"


def load(name, **kwargs):
    """A trained model from a folder, a Hub repo id (org/name[@revision]) or a zoo alias."""
    from genzoo.hub import load as load_model

    return load_model(name, **kwargs)


def log_likelihood(model, x, **options):
    """AIS estimates of log p(x) per item (stochastic lower bounds); see genzoo.marginal.log_likelihood."""
    from genzoo.marginal import log_likelihood as estimate

    return estimate(model, x, **options)


def bdmc(model, x, z, **options):
    """(lower, upper) bounds of log p(x) for items with known latents; see genzoo.marginal.bdmc."""
    from genzoo.marginal import bdmc as bounds

    return bounds(model, x, z, **options)
