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
