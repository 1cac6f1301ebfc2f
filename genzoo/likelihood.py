"""Observation models of a decoder: reconstruction errors and exact log-likelihoods."""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F

from genzoo.interfaces import Decoder

ReconKind = Literal["auto", "l2", "l1"]


def reconstruction_error(decoder: Decoder, x: torch.Tensor, z: torch.Tensor, kind: ReconKind = "auto") -> torch.Tensor:
    """Mean over batch and coordinates of the error of G(z, fresh noise) against x.

    "auto" follows the decoder's observation model: binary cross-entropy for a Bernoulli
    decoder, squared error for a Gaussian one (the surrogates of spec 2.4); "l1" is the
    reference code's absolute error.
    """
    noise = decoder.sample_noise(z.shape[0], z.device)
    if kind == "auto" and decoder.observation == "bernoulli":
        return F.binary_cross_entropy_with_logits(decoder.logits(z, noise), x)
    x_hat = decoder(z, noise)
    return (x_hat - x).abs().mean() if kind == "l1" else (x_hat - x).pow(2).mean()


def log_likelihood(decoder: Decoder, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """log p(x|z) summed over data coordinates, one value per row; explicit decoders only."""
    if not decoder.explicit:
        raise TypeError(f"{type(decoder).__name__} is implicit: log p(x|z) is not available")
    dims = tuple(range(1, x.dim()))
    if decoder.observation == "bernoulli":
        return -F.binary_cross_entropy_with_logits(decoder.logits(z, None), x, reduction="none").sum(dims)
    var = decoder.variance
    d = math.prod(x.shape[1:])
    return -(decoder(z, None) - x).pow(2).sum(dims) / (2 * var) - 0.5 * d * math.log(2 * math.pi * var)
