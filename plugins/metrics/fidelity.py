"""Inception Score and FID through torch-fidelity, on Inception-v3 or on the MNIST classifier.

The feature network is never downloaded: Inception-v3 weights come from `weights=` or
$GENZOO_INCEPTION_WEIGHTS (torch-fidelity's `weights-inception-2015-12-05-6726825d.pth`), the MNIST
classifier from `weights=` or $GENZOO_MNIST_CLASSIFIER (made by `genzoo train-classifier mnist`).
Without the file the metric fails at once and says where to put it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import attrs
import torch

from genzoo.errors import GenzooError
from genzoo.interfaces import Metric, MetricResult

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"


class UInt8Images(torch.utils.data.Dataset):
    """The form torch-fidelity reads: uint8 (C, H, W) tensors."""

    def __init__(self, images: torch.Tensor):
        self.images = images

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, index):
        return self.images[index]


def to_uint8(images: torch.Tensor, to_unit, channels: int) -> torch.Tensor:
    u8 = (to_unit(images).clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    return u8.repeat(1, channels // u8.shape[1], 1, 1) if u8.shape[1] != channels else u8


def feature_network(kind: str, weights: str | None, data_shape) -> tuple[str, str, int, str]:
    """(torch-fidelity extractor name, weights path, input channels, description) for `kind`."""
    if kind == "auto":
        kind = "mnist" if tuple(data_shape) == (1, 28, 28) else "inception"
    if kind == "mnist":
        from .mnist_classifier import file_hash, register

        path = weights or os.environ.get("GENZOO_MNIST_CLASSIFIER")
        if not path or not Path(path).is_file():
            raise GenzooError("MNIST IS/FID need the classifier: run `genzoo train-classifier mnist data.root=...` and pass weights=PATH or set "
                              "$GENZOO_MNIST_CLASSIFIER (or measure without them: eval.metrics=[mse] eval.every=0)")
        return register(path), path, 1, f"genzoo MNIST classifier sha256:{file_hash(path)[:12]}"
    path = weights or os.environ.get("GENZOO_INCEPTION_WEIGHTS")
    if not path or not Path(path).is_file():
        raise GenzooError(
            f"IS/FID on Inception-v3 need its weights file {INCEPTION_FILE} (from torch-fidelity's releases); "
            "pass weights=PATH or set $GENZOO_INCEPTION_WEIGHTS; genzoo never downloads it"
        )
    return "inception-v3-compat", path, 3, f"Inception-v3 2015-12-05 (torch-fidelity inception-v3-compat), {Path(path).name}"


def fidelity(samples_u8, reference_u8, extractor: str, weights: str, isc: bool, fid: bool, splits: int) -> dict:
    import torch_fidelity

    return torch_fidelity.calculate_metrics(
        input1=UInt8Images(samples_u8), input2=None if reference_u8 is None else UInt8Images(reference_u8),
        isc=isc, fid=fid, isc_splits=splits, feature_extractor=extractor, feature_extractor_weights_path=weights,
        cuda=torch.cuda.is_available(), batch_size=100, save_cpu_ram=True, cache=False, verbose=False,
        samples_shuffle=False,  # splits in generation order, as the reference IS code did
    )


@attrs.frozen(kw_only=True)
class FidelityConfig:
    network: Literal["auto", "inception", "mnist"] = "auto"  # auto: the MNIST classifier for 28x28x1 data
    weights: str | None = None
    samples: int = attrs.field(default=10_000, validator=attrs.validators.ge(10))
    splits: int = attrs.field(default=10, validator=attrs.validators.ge(1))
    seed: int = 0


class _FidelityMetric(Metric):
    Config = FidelityConfig

    def _inputs(self, model, dataset):
        c = self.config
        extractor, weights, channels, description = feature_network(c.network, c.weights, dataset.data_shape)
        samples, source = self._generate(model, dataset)
        to_unit = getattr(dataset, "to_unit", lambda x: x)
        protocol = {"feature_network": description, "samples": c.samples, "seed": c.seed, **source}
        return extractor, weights, to_uint8(samples, to_unit, channels), to_unit, channels, protocol

    @torch.no_grad()
    def _generate(self, model, dataset) -> tuple[torch.Tensor, dict]:
        """`samples` model samples, 500 at a time, and what to add to the protocol about where they came from."""
        c = self.config
        gen = torch.Generator(device=model.device).manual_seed(c.seed)
        return torch.cat([model.sample(min(500, c.samples - i), generator=gen) for i in range(0, c.samples, 500)]), {}


class InceptionScore(_FidelityMetric):
    """exp(E KL(p(y|x) || p(y))) of generated samples, mean over splits (torch-fidelity's isc)."""

    key = "is"
    cheap = {"samples": 2000}

    def __call__(self, model, dataset):
        extractor, weights, samples, _, _, protocol = self._inputs(model, dataset)
        out = fidelity(samples, None, extractor, weights, isc=True, fid=False, splits=self.config.splits)
        protocol["splits"] = self.config.splits
        extra = {"std": out["inception_score_std"]}
        if extractor.startswith("genzoo-mnist-"):  # which digits the samples are: mode dropping shows here
            from ._scores import class_coverage
            from .mnist_classifier import load_classifier, predictions

            extra.update(class_coverage(predictions(load_classifier(weights), samples)))
        return MetricResult(out["inception_score_mean"], protocol, extra)


class FID(_FidelityMetric):
    """Frechet distance between feature statistics of generated samples and the test split."""

    key = "fid"

    def __call__(self, model, dataset):
        extractor, weights, samples, to_unit, channels, protocol = self._inputs(model, dataset)
        reference = to_uint8(dataset.load("test"), to_unit, channels)
        out = fidelity(samples, reference, extractor, weights, isc=False, fid=True, splits=1)
        protocol["reference"] = f"test split, {reference.shape[0]} items"
        return MetricResult(out["frechet_inception_distance"], protocol)
