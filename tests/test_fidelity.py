"""IS and FID through torch-fidelity with registered feature extractors; no network, no Inception weights."""

import pytest
import torch
import torch_fidelity
from safetensors.torch import save_file
from torch_fidelity.feature_extractor_base import FeatureExtractorBase

from genzoo.errors import GenzooError
from genzoo_plugins.metrics.fidelity import feature_network, fidelity
from genzoo_plugins.metrics.mnist_classifier import MNISTClassifier, register


class BrightnessClass(FeatureExtractorBase):
    """A stand-in classifier: the class is the image's brightness level (0-9), predicted with certainty."""

    def __init__(self, name, features_list, **kwargs):
        super().__init__(name, features_list)

    @staticmethod
    def get_provided_features_list():
        return ("logits",)

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return "logits"

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 1, 8, 8, dtype=torch.uint8)

    def forward(self, x):
        level = (x.float().mean((1, 2, 3)) / 25.6).floor().long().clamp(0, 9)
        return (torch.nn.functional.one_hot(level, 10).float() * 50,)


torch_fidelity.register_feature_extractor("test-brightness", BrightnessClass)


def images_at_levels(levels):
    return torch.stack([torch.full((1, 8, 8), int(25.6 * level + 5), dtype=torch.uint8) for level in levels])


def test_confident_even_predictions_score_the_class_count_and_collapse_scores_one():
    even = fidelity(images_at_levels(list(range(10)) * 20), None, "test-brightness", None, isc=True, fid=False, splits=2)
    assert even["inception_score_mean"] == pytest.approx(10.0, rel=1e-3)
    collapsed = fidelity(images_at_levels([3] * 200), None, "test-brightness", None, isc=True, fid=False, splits=2)
    assert collapsed["inception_score_mean"] == pytest.approx(1.0, rel=1e-3)


def test_fid_of_a_set_with_itself_is_zero_with_the_mnist_extractor(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "clf.safetensors"
    save_file(MNISTClassifier().eval().state_dict(), str(path))
    name = register(path)
    assert name.startswith("genzoo-mnist-")
    images = torch.randint(0, 256, (300, 1, 28, 28), dtype=torch.uint8)
    other = torch.randint(0, 128, (300, 1, 28, 28), dtype=torch.uint8)
    assert fidelity(images, images, name, str(path), isc=False, fid=True, splits=1)["frechet_inception_distance"] == pytest.approx(0.0, abs=1e-3)
    assert fidelity(images, other, name, str(path), isc=False, fid=True, splits=1)["frechet_inception_distance"] > 0.1


def test_missing_weights_fail_at_once(monkeypatch):
    monkeypatch.delenv("GENZOO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.delenv("GENZOO_MNIST_CLASSIFIER", raising=False)
    with pytest.raises(GenzooError, match="genzoo never downloads it"):
        feature_network("auto", None, (3, 32, 32))
    with pytest.raises(GenzooError, match="genzoo train-classifier mnist"):
        feature_network("auto", None, (1, 28, 28))


def test_mnist_is_reports_its_two_factors_and_the_class_shares(tmp_path, monkeypatch):
    """With one split, torch-fidelity's IS equals classes_effective / classes_per_sample computed from the
    classifier's own predictions: the decomposition explains the very number reported."""
    from types import SimpleNamespace

    from genzoo_plugins.metrics.fidelity import InceptionScore

    torch.manual_seed(0)
    path = tmp_path / "clf.safetensors"
    save_file(MNISTClassifier().eval().state_dict(), str(path))
    monkeypatch.setenv("GENZOO_MNIST_CLASSIFIER", str(path))
    images = torch.rand(200, 1, 28, 28)
    model = SimpleNamespace(device=torch.device("cpu"), sample=lambda n, generator=None: images[:n])
    dataset = SimpleNamespace(data_shape=(1, 28, 28), to_unit=lambda x: x)
    result = InceptionScore(InceptionScore.Config(samples=200, splits=1))(model, dataset)
    assert len(result.extra["class_shares"]) == 10 and sum(result.extra["class_shares"]) == pytest.approx(1.0, abs=1e-3)
    assert 1.0 <= result.extra["classes_effective"] <= 10.0 and result.extra["classes_per_sample"] >= 1.0
    assert result.value == pytest.approx(result.extra["classes_effective"] / result.extra["classes_per_sample"], rel=1e-3)


def test_is_encoded_decodes_draws_from_the_moment_fit_of_the_test_encodings(tmp_path, monkeypatch):
    """The encodings sit at mean 1, standard deviation 0.5 per coordinate: what the decoder receives
    must come from that fit, not from the N(0, I) prior, and the protocol must say so."""
    from types import SimpleNamespace

    from genzoo_plugins.metrics.encoded_is import EncodedInceptionScore

    path = tmp_path / "clf.safetensors"
    save_file(MNISTClassifier().eval().state_dict(), str(path))
    monkeypatch.setenv("GENZOO_MNIST_CLASSIFIER", str(path))
    test_images = torch.randn(4000, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    decoded = []

    def decode(z, generator=None):
        decoded.append(z)
        return torch.sigmoid(z[:, :1, None, None].expand(-1, 1, 28, 28))

    decoder = torch.nn.Linear(1, 1)
    model = SimpleNamespace(device=torch.device("cpu"), encoder=object(), decoder=decoder, decode=decode,
                            encode=lambda x, generator=None: 1.0 + 0.5 * x.flatten(1)[:, :3])
    dataset = SimpleNamespace(data_shape=(1, 28, 28), to_unit=lambda x: x, load=lambda split: test_images)
    result = EncodedInceptionScore(EncodedInceptionScore.Config(samples=3000, splits=1))(model, dataset)
    z = torch.cat(decoded)
    assert z.shape == (3000, 3) and z.dtype == decoder.weight.dtype
    assert z.mean(0).tolist() == pytest.approx([1.0] * 3, abs=0.05) and z.std(0).tolist() == pytest.approx([0.5] * 3, abs=0.03)
    assert "4000 test items, not the prior" in result.protocol["latent"] and result.value >= 1.0
    no_encoder = EncodedInceptionScore()(SimpleNamespace(encoder=None), dataset)
    assert "no encoder" in no_encoder.extra["skipped"]


def test_is_reconstructed_decodes_each_test_item_once(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from genzoo_plugins.metrics.encoded_is import ReconstructionInceptionScore

    path = tmp_path / "clf.safetensors"
    save_file(MNISTClassifier().eval().state_dict(), str(path))
    monkeypatch.setenv("GENZOO_MNIST_CLASSIFIER", str(path))
    test_images = torch.arange(300.0)[:, None, None, None].expand(-1, 1, 28, 28) / 300
    seen = []
    model = SimpleNamespace(device=torch.device("cpu"), encoder=object(), reconstruct=lambda x, generator=None: seen.append(x) or x)
    dataset = SimpleNamespace(data_shape=(1, 28, 28), to_unit=lambda x: x, load=lambda split: test_images)
    result = ReconstructionInceptionScore(ReconstructionInceptionScore.Config(samples=200, splits=1))(model, dataset)
    items = torch.cat(seen)[:, 0, 0, 0] * 300
    assert items.shape == (200,) and items.round().unique().numel() == 200  # 200 distinct test items
    assert "(reconstructions)" in result.protocol["latent"]
    with pytest.raises(GenzooError, match="is_reconstructed.samples <= 300"):
        ReconstructionInceptionScore(ReconstructionInceptionScore.Config(samples=400))(model, dataset)
