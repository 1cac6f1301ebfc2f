"""Toy IS and MSE on inputs whose answers are known."""

import pytest
import torch

from genzoo.interfaces import Prior
from genzoo import factory
from genzoo_plugins.metrics._scores import inception_score
from genzoo_plugins.datasets.toy import MEANS, ToyMixture, class_posterior, sample_mixture


class SamplerModel:
    """Stands in for a trained model: `sample` returns points from a fixed function."""

    encoder = None
    device = torch.device("cpu")
    prior = Prior("normal", 2)

    def __init__(self, draw):
        self.draw = draw

    def sample(self, n, generator=None):
        return self.draw(n)


def toy_is(model):
    return factory.build("metrics", "toy_is")(model, ToyMixture())


def test_true_mixture_samples_score_about_five():
    result = toy_is(SamplerModel(lambda n: sample_mixture(n, seed=5)[0]))
    assert result.value == pytest.approx(4.99, abs=0.02)
    assert result.protocol["samples"] == 10_000 and result.protocol["splits"] == 10


def test_one_mode_scores_one():
    result = toy_is(SamplerModel(lambda n: MEANS[1] + 0.2 * torch.randn(n, 2)))
    assert result.value == pytest.approx(1.0, abs=0.01)


def test_inception_score_of_confident_even_predictions_is_class_count():
    probs = torch.eye(4).repeat(25, 1)
    assert inception_score(probs, splits=1)[0] == pytest.approx(4.0, rel=1e-6)


def test_posterior_is_confident_on_component_means():
    assert torch.allclose(class_posterior(MEANS), torch.eye(5), atol=1e-6)


def test_train_and_test_sets_differ_and_are_reproducible():
    data = ToyMixture()
    assert torch.equal(data.load("train"), data.load("train"))
    assert not torch.equal(data.load("train")[:1024], data.load("test"))
    assert data.load("train").shape == (2048, 2) and data.load("test").shape == (1024, 2)
    assert data.load("train").var(0).mean() == pytest.approx(3.2 + 0.04, rel=0.1)


class EncoderModel:
    """Stands in for a trained model whose encoder scales and shifts its input; data are N(0, I) draws."""

    device = torch.device("cpu")
    prior = Prior("normal", 4)
    encoder = object()

    def __init__(self, scale, shift=0.0):
        self.scale, self.shift = scale, shift

    def encode(self, x, generator=None):
        return x * self.scale + self.shift


class NormalData:
    def load(self, split):
        return torch.randn(20_000, 4, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("scale, shift", [(1.0, 0.0), (0.5, 0.0), (1.0, 0.5)])
def test_latent_kl_is_the_gaussian_kl_of_the_encodings_from_the_prior(scale, shift):
    result = factory.build("metrics", "latent_kl")(EncoderModel(scale, shift), NormalData())
    closed_form = 0.5 * 4 * (scale**2 - 1 - 2 * torch.log(torch.tensor(scale)).item() + shift**2)
    assert result.value == pytest.approx(closed_form, abs=0.01)
    assert result.extra["variance_mean"] == pytest.approx(scale**2, rel=0.03) and result.extra["mean_length"] == pytest.approx(2 * shift, abs=0.05)


def test_latent_kl_of_a_trained_toy_model_is_measured_beside_its_protocol(capsys):
    from genzoo.cli import main

    assert main(["train", "steps=20", "out=run", "train.progress=false", "train.tensorboard=false"]) == 0
    assert main(["eval", "run", "metrics=latent_kl", "latent_kl.items=500"]) == 0
    assert "latent_kl: " in capsys.readouterr().out
    import json
    from pathlib import Path

    detail = json.loads(Path("run/export/metrics.json").read_text())["details"]["latent_kl"]
    assert detail["value"] >= 0 and detail["protocol"]["items"] == 500 and detail["dims"] == 2
