"""Inception Scores of images decoded from the encodings of test data instead of from the prior.

Read beside `is` and `latent_kl`. `is_reconstructed` decodes the encodings themselves (the IS of
reconstructions); `is_encoded` decodes draws from their Gaussian moment fit. When prior samples
drop modes but the reconstructions do not, the decoder makes every mode where the encoder puts it
and the loss lies in the z-marginal q(z) missing the prior; `is_encoded` says whether matching
q(z)'s mean and covariance alone would be enough.
"""

import math

import torch

from genzoo.errors import GenzooError
from genzoo.interfaces import MetricResult

from .fidelity import InceptionScore
from .latent_match import encoding_moments
from .mse import held_out_items


class _FromEncodings(InceptionScore):
    """An IS whose latent codes come from the encoder; models without one are skipped."""

    def __call__(self, model, dataset):
        if model.encoder is None:
            return MetricResult(math.nan, {"samples": self.config.samples}, {"skipped": "the model has no encoder"})
        return super().__call__(model, dataset)

    def _in_chunks(self, model, net_call, inputs: torch.Tensor) -> torch.Tensor:
        """`net_call(part, generator=...)` over `inputs`, 500 at a time, with noise seeded by the config."""
        gen = torch.Generator(device=model.device).manual_seed(self.config.seed)
        return torch.cat([net_call(part.to(model.device), generator=gen) for part in inputs.split(500)])


class EncodedInceptionScore(_FromEncodings):
    """IS of G(z), z drawn from N(mean, covariance) of one encoding of each test item."""

    key = "is_encoded"

    @torch.no_grad()
    def _generate(self, model, dataset):
        c = self.config
        x_test = held_out_items(dataset, None)
        mean, covariance = encoding_moments(model, x_test, 500, c.seed)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
        root = eigenvectors * eigenvalues.clamp_min(0).sqrt()  # root @ root.T == covariance, also when singular
        noise = torch.randn(c.samples, mean.shape[0], generator=torch.Generator().manual_seed(c.seed), dtype=torch.float64)
        z = (mean + noise @ root.T).to(model.device, next(model.decoder.parameters()).dtype)
        samples = self._in_chunks(model, model.decode, z)
        return samples, {"latent": f"N(mean, covariance) of one encoding of each of {x_test.shape[0]} test items, not the prior"}


class ReconstructionInceptionScore(_FromEncodings):
    """IS of G(E(x)) for `samples` distinct test items x: the decoder at the encoder's own codes."""

    key = "is_reconstructed"

    @torch.no_grad()
    def _generate(self, model, dataset):
        c = self.config
        x_test = held_out_items(dataset, None)
        if c.samples > x_test.shape[0]:
            raise GenzooError(f"is_reconstructed decodes one encoding per test item: set is_reconstructed.samples <= {x_test.shape[0]}")
        x = x_test[torch.randperm(x_test.shape[0], generator=torch.Generator().manual_seed(c.seed))[: c.samples]]
        samples = self._in_chunks(model, model.reconstruct, x)
        return samples, {"latent": f"one encoding of each of {c.samples} test items (reconstructions), not the prior"}
