"""The toy data of the ALICE/sVAE studies (spec 4.1): a 5-component 2-D Gaussian mixture.

Means (0,0), (+-2,+-2); covariance 0.04 I (the reference code's `std_x = 0.04` is a variance,
so each coordinate has std 0.2); equal weights. 2,048 training and 1,024 test points, each set
drawn once from its own fixed seed (the reference code reused seed 0 for both; spec 4.1 recommends
distinct seeds). Prior samples are drawn fresh at every step rather than from a fixed set.
"""

from pathlib import Path

import attrs
import torch

from genzoo.interfaces import Dataset, Figure

MEANS = torch.tensor([[0.0, 0.0], [2.0, 2.0], [-2.0, -2.0], [2.0, -2.0], [-2.0, 2.0]])
VARIANCE = 0.04


def sample_mixture(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n points and their component labels, reproducible from `seed`."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(len(MEANS), (n,), generator=gen)
    return MEANS[labels] + VARIANCE**0.5 * torch.randn(n, 2, generator=gen), labels


def class_posterior(x: torch.Tensor) -> torch.Tensor:
    """Exact Bayes p(component | x) of the mixture: a perfect 5-way classifier (spec 4.5)."""
    sq = (x[:, None, :] - MEANS.to(x)[None]).pow(2).sum(-1)
    return torch.softmax(-sq / (2 * VARIANCE), dim=1)


class ToyMixture(Dataset):
    """The 5-component 2-D Gaussian mixture of the ALICE/sVAE toy studies."""

    @attrs.frozen(kw_only=True)
    class Config:
        n_train: int = attrs.field(default=2048, validator=attrs.validators.in_(range(1, 10_000_001)))
        n_test: int = attrs.field(default=1024, validator=attrs.validators.in_(range(1, 10_000_001)))
        train_seed: int = 0
        test_seed: int = 1

    data_shape = (2,)
    default_metrics = ("toy_is", "mse")
    class_posterior = staticmethod(class_posterior)

    def read(self, split):
        n, seed = (self.config.n_train, self.config.train_seed) if split == "train" else (self.config.n_test, self.config.test_seed)
        return sample_mixture(n, seed)[0]

    def figures(self, model, out_dir, step=None):
        path = Path(out_dir) / ("toy.png" if step is None else f"pictures/toy-{step:08d}.png")
        return [Figure(toy_figure(model, self.load("test"), path), cover=True)]


def toy_figure(model, x_test: torch.Tensor, path: Path, n_lines: int = 300, seed: int = 0) -> Path:
    """Three panels: real test points, model samples, and reconstructions (x -> x^ lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    gen = torch.Generator(device=model.device).manual_seed(seed)
    x = x_test.to(model.device)
    samples = model.sample(x.shape[0], generator=gen).cpu()
    panels = 3 if model.encoder is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4 * panels, 4), sharex=True, sharey=True)
    axes[0].scatter(*x.cpu().T, s=3, c="tab:blue")
    axes[0].set_title("real (test set)")
    axes[1].scatter(*samples.T, s=3, c="tab:orange")
    axes[1].set_title("samples x ~ G(z), z ~ p(z)")
    if model.encoder is not None:
        rec = model.reconstruct(x, generator=gen).cpu()
        segments = torch.stack([x.cpu(), rec], 1)[:n_lines].numpy()
        axes[2].add_collection(LineCollection(segments, colors="0.6", linewidths=0.5))
        axes[2].scatter(*x.cpu()[:n_lines].T, s=4, c="tab:blue", label="x")
        axes[2].scatter(*rec[:n_lines].T, s=4, c="tab:red", label="G(E(x))")
        axes[2].set_title("reconstructions")
        axes[2].legend(loc="upper right", fontsize=8)
    for ax in axes:
        ax.set_xlim(-4, 4)
        ax.set_ylim(-4, 4)
        ax.set_aspect("equal")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
