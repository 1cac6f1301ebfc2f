"""The MNIST classifier behind the MNIST Inception Score (spec 5.2), and its torch-fidelity feature extractor.

Architecture of the reference classifier: conv 5x5 32 (BN, ReLU) -> max-pool 2 -> conv 5x5 64 (ReLU)
-> max-pool 2 -> FC 1024 (BN, ReLU) -> dropout 0.3 -> FC 10, on pixels scaled to [-0.5, 0.5].
Trained with Adam 1e-4 decayed x0.95 per epoch, batch 50, on 55k images (5k held out for
choosing the best epoch; 1/11 of smaller sets); each epoch adds 4 randomly transformed copies of
every image (rotations of up to 15 degrees, shifts of up to 2 pixels).
Weights are saved as safetensors; the extractor's registered name carries their hash so that
torch-fidelity's feature cache can never mix two classifiers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from torch_fidelity.feature_extractor_base import FeatureExtractorBase

from genzoo.errors import GenzooError, brief


class MNISTClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(64 * 7 * 7, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(1024, 10))

    def forward(self, pixels_u8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (N, 1, 28, 28) -> (1024 features, 10 logits)."""
        features = self.body(pixels_u8.float() / 255.0 - 0.5)
        return features, self.head(features)


def _augment(x: torch.Tensor, generator) -> torch.Tensor:
    """Random rotation (+-15 degrees) and shift (+-2 pixels) of a float batch."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * torch.pi / 12
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 / 14)
    theta = torch.stack([torch.cos(angle), -torch.sin(angle), shift[:, 0], torch.sin(angle), torch.cos(angle), shift[:, 1]], 1)
    grid = F.affine_grid(theta.view(n, 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)


def train_classifier(train_u8: torch.Tensor, labels: torch.Tensor, test_u8: torch.Tensor, test_labels: torch.Tensor,
                     out: Path, epochs: int = 10, seed: int = 0, progress: bool = True, augmented_copies: int = 4) -> dict:
    """Train, keep the best epoch on the 5k held-out images, save safetensors; return accuracies and the path."""
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(train_u8.shape[0], generator=gen)
    n_val = min(5000, max(1, train_u8.shape[0] // 11))
    val_idx, fit_idx = order[:n_val], order[n_val:]
    model = MNISTClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, 0.95)
    best, best_state = -1.0, None
    for epoch in range(epochs):
        model.train()
        # Each epoch sees every image once as it is and `augmented_copies` times randomly transformed.
        items = fit_idx.repeat(1 + augmented_copies)
        augmented = torch.arange(items.numel()) >= fit_idx.numel()
        order = torch.randperm(items.numel(), generator=gen)
        for batch in tqdm(order.split(50), desc=f"classifier epoch {epoch + 1}/{epochs}", disable=not progress, leave=False):
            index, flip = items[batch], augmented[batch]
            x = train_u8[index].float()
            x = torch.where(flip[:, None, None, None], _augment(x, gen).round().clamp(0, 255), x)
            loss = F.cross_entropy(model(x)[1], labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
        accuracy = _accuracy(model, train_u8[val_idx], labels[val_idx])
        if accuracy > best:
            best, best_state = accuracy, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    result = {"validation_accuracy": best, "test_accuracy": _accuracy(model, test_u8, test_labels), "epochs": epochs}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out), metadata={k: str(v) for k, v in result.items()})
    return {**result, "path": str(out), "sha256": file_hash(out)}


@torch.no_grad()
def _accuracy(model, x_u8, labels) -> float:
    model.eval()
    predictions = torch.cat([model(x)[1].argmax(1) for x in x_u8.split(1000)])
    return (predictions == labels).double().mean().item()


@torch.no_grad()
def describe(path, test_u8: torch.Tensor, test_labels: torch.Tensor, binarized_u8: torch.Tensor | None = None, seed: int = 2919,
             train_u8: torch.Tensor | None = None) -> dict:
    """What a classifier file scores on real test sets: the record kept next to it, so that
    generated-sample IS/FID can be read against the real data's IS under the same network.
    `binarized_u8` (0/1 values; sorted by class in Larochelle's file) is shuffled with `seed`.
    With `train_u8`, as many random training images as test images give the FID of real data
    against the test set: the floor a model's FID under these features is read against."""
    from ._scores import class_coverage

    classifier = load_classifier(path)
    mean, std = real_inception_score(classifier, test_u8)
    coverage = class_coverage(predictions(classifier, test_u8))
    record = {"sha256": file_hash(path), "test_accuracy": _accuracy(classifier, test_u8, test_labels),
              "real_test_is": mean, "real_test_is_std": std, "real_test_is_protocol": f"{len(test_u8)} grey test images, 10 splits",
              "real_test_classes_effective": coverage["classes_effective"], "real_test_classes_per_sample": coverage["classes_per_sample"]}
    if binarized_u8 is not None:
        order = torch.randperm(len(binarized_u8), generator=torch.Generator().manual_seed(seed))
        mean, std = real_inception_score(classifier, binarized_u8[order] * 255)
        record.update({"binarized_test_is": mean, "binarized_test_is_std": std,
                       "binarized_test_is_protocol": f"{len(binarized_u8)} images of the fixed binarized test set, shuffled (seed {seed}), 10 splits"})
    if train_u8 is not None:
        from .fidelity import fidelity

        items = min(len(train_u8), len(test_u8))
        subset = train_u8[torch.randperm(len(train_u8), generator=torch.Generator().manual_seed(seed))[:items]]
        out = fidelity(subset, test_u8, register(path), str(path), isc=False, fid=True, splits=1)
        record.update({"real_train_fid": out["frechet_inception_distance"],
                       "real_train_fid_protocol": f"{items} random grey training images (seed {seed}) against the {len(test_u8)} test images"})
    return record


def real_inception_score(classifier, images_u8: torch.Tensor) -> tuple[float, float]:
    from ._scores import inception_score

    return inception_score(predictions(classifier, images_u8), 10)


@torch.no_grad()
def predictions(classifier, images_u8: torch.Tensor) -> torch.Tensor:
    """p(y|x) of uint8 images, 1,000 at a time."""
    return torch.cat([classifier(x)[1].softmax(1) for x in images_u8.split(1000)])


def file_hash(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_classifier(path) -> MNISTClassifier:
    model = MNISTClassifier()
    try:
        model.load_state_dict(load_file(str(path)), strict=True)
    except (OSError, RuntimeError, Exception) as exc:  # safetensors raises its own error type
        raise GenzooError(f"{path} is not a genzoo MNIST classifier ({brief(exc)}); train one with genzoo train-classifier") from None
    return model.eval()


class MNISTFeatures(FeatureExtractorBase):
    """torch-fidelity extractor: 1024 penultimate features (FID) and 10 logits (IS)."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        self.classifier = load_classifier(feature_extractor_weights_path)

    @staticmethod
    def get_provided_features_list():
        return "features", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return "logits" if metric == "isc" else "features"

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 1, 28, 28, dtype=torch.uint8)

    def forward(self, x):
        features, logits = self.classifier(x[:, :1])
        named = {"features": features, "logits": logits}
        return tuple(named[name] for name in self.features_list)


_registered: set[str] = set()


def register(path) -> str:
    """Register the classifier at `path` with torch-fidelity under a name that carries its hash."""
    import torch_fidelity

    name = f"genzoo-mnist-{file_hash(path)[:12]}"
    if name not in _registered:
        torch_fidelity.register_feature_extractor(name, MNISTFeatures)
        _registered.add(name)
    return name
