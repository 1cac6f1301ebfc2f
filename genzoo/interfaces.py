"""The contracts every plugin implements, and the small records passed between them.

A model is two joints over (x, z): the encoder joint q(x) q(z|x) and the decoder joint
p(z) p(x|z), with an optional critic f between them. Nets are `torch.nn.Module`s with a
few declared facts so that the trainer, the metrics and the objectives can stay generic.
"""

from __future__ import annotations

import abc
import copy
from typing import ClassVar, Literal

import attrs
import torch
from torch import nn

from genzoo.noise import NoiseKind, Prior, draw  # noqa: F401  (Prior is part of the plugin contract)

class _Noisy(nn.Module):
    """Shared noise bookkeeping: a net with `noise_shape == ()` is deterministic."""

    noise_shape: tuple[int, ...] = ()
    noise_kind: NoiseKind = "normal"

    def sample_noise(self, n: int, device, generator=None) -> torch.Tensor | None:
        if not self.noise_shape:
            return None
        dtype = next((p.dtype for p in self.parameters()), None)
        return draw(self.noise_kind, (n, *self.noise_shape), device, generator, dtype)


class Encoder(_Noisy):
    """x, noise -> z.  An explicit encoder also exposes q(z|x) as a distribution."""

    explicit: ClassVar[bool] = False

    @abc.abstractmethod
    def forward(self, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor: ...

    def posterior(self, x: torch.Tensor) -> torch.distributions.Distribution:
        """q(z|x) with reparameterised samples; only explicit encoders have one."""
        raise TypeError(f"{type(self).__name__} is an implicit encoder: it has no q(z|x) density")


class Decoder(_Noisy):
    """z, noise -> x in data space.

    `observation` says how x is modelled around the output: "gaussian" (the output is a mean;
    squared error is its log-likelihood up to scale) or "bernoulli" (the output is a mean in
    [0, 1]; `logits` gives the pre-sigmoid values for stable cross-entropy). An explicit decoder
    is deterministic given z, so log p(x|z) is a real density (VAE, AIS need it); `variance` is
    the fixed observation variance of an explicit Gaussian decoder.
    """

    explicit: ClassVar[bool] = False
    observation: Literal["gaussian", "bernoulli"] = "gaussian"
    variance: float = 1.0

    @abc.abstractmethod
    def forward(self, z: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor: ...

    def logits(self, z: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        raise TypeError(f"{type(self).__name__} is not a Bernoulli decoder: it has no logits")


class Critic(nn.Module):
    """(x, z) -> one logit per row, or x -> logit for x-only objectives (`joint = False`).

    Sign convention of the paper: sigmoid(f) is the probability that a pair came from the
    decoder joint p(x, z), so the optimal critic is log p(x, z) - log q(x, z).
    """

    joint: bool = True

    @abc.abstractmethod
    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor: ...


@attrs.frozen
class Needs:
    """What an objective asks an architecture to build."""

    encoder: bool = True
    critic: Literal["joint", "x", None] = "joint"
    explicit_encoder: bool = False
    explicit_decoder: bool = False

    def describe(self) -> str:
        parts = []
        if self.explicit_encoder:
            parts.append("an explicit (Gaussian) encoder")
        elif self.encoder:
            parts.append("an encoder")
        if self.explicit_decoder:
            parts.append("an explicit decoder")
        if self.critic:
            parts.append(f"a {self.critic} critic" if self.critic == "x" else "a joint (x, z) critic")
        return ", ".join(parts)


@attrs.frozen
class StepRatio:
    """Critic steps, then generator (encoder + decoder) steps, per training iteration."""

    critic: int = 1
    generator: int = 1


@attrs.define
class LossOut:
    """A scalar loss to minimise, plus detached scalars worth logging."""

    loss: torch.Tensor
    logs: dict[str, torch.Tensor] = attrs.field(factory=dict)


class Objective(abc.ABC):
    """Two loss functions and a few facts; the trainer owns everything else.

    Subclasses set `Config` (an attrs class of their options), `needs` and `steps`,
    and implement `generator_loss` (and `critic_loss` when `needs.critic` is set).
    Losses are computed from the model's nets; the trainer decides which nets are frozen.

    Loss weights: options that enter the losses only as multipliers (e.g. lambda, by convention
    the option `lam`) are named in `stackable`. The losses read them from their `weights`
    argument, never from `self.config`: one run passes `loss_weights()`, a stack of runs
    (genzoo.batched) passes each run's own value, so runs that differ only in them train together.
    Objectives that share one loss code path and differ only in such weights name the same
    `family` (ALI, ALICE, sVAE and sVAE-r: the link function is a one-hot weight), so runs of
    different family members stack too; their `loss_weights()` then return the same keys.
    """

    Config: ClassVar[type] = attrs.make_class("NoOptions", {}, frozen=True)
    needs: ClassVar[Needs] = Needs()
    steps: ClassVar[StepRatio] = StepRatio()
    stackable: ClassVar[tuple[str, ...]] = ()
    family: ClassVar[str | None] = None
    _stack_terms: frozenset[str] | None = None  # set by `for_stack` only

    def __init__(self, config=None):
        self.config = config if config is not None else self.Config()

    def loss_weights(self) -> dict:
        """This run's loss weights: {name: value from the options} for each name in `stackable`
        (an objective with a non-numeric stackable option overrides this to turn it into weights)."""
        return {name: getattr(self.config, name) for name in self.stackable}

    def computes(self, name: str) -> bool:
        """Whether the term weighed by `name` is computed at all: its weight is above zero (in a
        stack, above zero for some run; the runs whose weight is 0 multiply it away)."""
        if self._stack_terms is not None:
            return name in self._stack_terms
        return self.loss_weights()[name] > 0

    def for_stack(self, run_weights: list[dict]) -> "Objective":
        """This objective as a stack of runs with these loss weights uses it: a copy that computes
        every term some run weighs above zero."""
        stacked = copy.copy(self)
        stacked._stack_terms = frozenset(name for name in run_weights[0] if any(w[name] > 0 for w in run_weights))
        return stacked

    def critic_loss(self, model, x: torch.Tensor, weights) -> LossOut:
        raise TypeError(f"{type(self).__name__} trains no critic")

    @abc.abstractmethod
    def generator_loss(self, model, x: torch.Tensor, weights) -> LossOut: ...


class Arch(abc.ABC):
    """An architecture: builds the encoder, decoder and critic for one data shape.

    `supports` lists what it can build among "explicit_encoder", "explicit_decoder",
    "joint_critic" and "x_critic"; the registry refuses objective/arch pairs that don't fit.
    """

    Config: ClassVar[type] = attrs.make_class("NoOptions", {}, frozen=True)
    supports: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config=None):
        self.config = config if config is not None else self.Config()

    @property
    @abc.abstractmethod
    def data_shape(self) -> tuple[int, ...]: ...

    @property
    @abc.abstractmethod
    def prior(self) -> Prior: ...

    @abc.abstractmethod
    def build(self, needs: Needs) -> tuple[Encoder | None, Decoder, Critic | None]: ...

    def missing(self, needs: Needs) -> list[str]:
        """Capabilities `needs` asks for that this architecture lacks."""
        wanted = set()
        if needs.explicit_encoder:
            wanted.add("explicit_encoder")
        if needs.explicit_decoder:
            wanted.add("explicit_decoder")
        if needs.critic:
            wanted.add(f"{needs.critic}_critic")
        return sorted(wanted - self.supports)


@attrs.frozen
class MetricResult:
    """A number and the protocol that produced it (never one without the other)."""

    value: float
    protocol: dict
    extra: dict = attrs.field(factory=dict)


class Metric(abc.ABC):
    """Scores a trained model on a dataset; registered by name like everything else.

    `cheap` holds the options of a protocol cheap enough to run during training (`eval.every`);
    an empty mapping means the metric runs only on finished models."""

    Config: ClassVar[type] = attrs.make_class("NoOptions", {}, frozen=True)
    cheap: ClassVar[dict] = {}

    def __init__(self, config=None):
        self.config = config if config is not None else self.Config()

    @abc.abstractmethod
    def __call__(self, model, dataset: "Dataset") -> MetricResult: ...


class Command(abc.ABC):
    """A `genzoo` subcommand contributed by a plugin (hook `genzoo_commands`), e.g. the MNIST
    plugin's `genzoo train-classifier`. `run` returns the exit code; raise GenzooError for bad input."""

    help: ClassVar[str] = ""

    def add_arguments(self, parser) -> None:
        """Declare the command's arguments on its argparse `parser`."""

    @abc.abstractmethod
    def run(self, args) -> int: ...


@attrs.frozen
class Figure:
    """A picture a run wrote: its file, and the image (C, H, W in [0, 1]) for TensorBoard, if any.
    The `cover` picture of a finished run goes into its export and onto the model card."""

    path: object
    image: torch.Tensor | None = None
    cover: bool = False


class Dataset(abc.ABC):
    """A data source: items decoded once, kept compact (e.g. uint8), mapped to the model's range per batch.

    Plugins implement `read(split)` (compact storage, shape (N, *data_shape)) and, when storage
    differs from the model's range, `to_model(batch)`. `load(split)` gives model-range tensors.
    `default_metrics` names the metric plugins a finished run reports; `figures` draws pictures.
    """

    Config: ClassVar[type] = attrs.make_class("NoOptions", {}, frozen=True)
    default_metrics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config=None):
        self.config = config if config is not None else self.Config()
        self._decoded: dict[str, torch.Tensor] = {}

    @property
    @abc.abstractmethod
    def data_shape(self) -> tuple[int, ...]: ...

    @abc.abstractmethod
    def read(self, split: Literal["train", "test"]) -> torch.Tensor: ...

    def to_model(self, batch: torch.Tensor) -> torch.Tensor:
        return batch

    def raw(self, split: Literal["train", "test"]) -> torch.Tensor:
        """`read(split)`, decoded once per dataset object."""
        if split not in self._decoded:
            self._decoded[split] = self.read(split)
        return self._decoded[split]

    def load(self, split: Literal["train", "test"]) -> torch.Tensor:
        return self.to_model(self.raw(split))

    def likelihood_test_set(self) -> tuple[torch.Tensor, str]:
        """Held-out items for likelihood metrics (AIS), in the model's range, and what they are.
        A dataset whose likelihoods are conventionally measured on other data overrides it
        (grey MNIST: the fixed binarized test set, spec 5.1)."""
        return self.load("test"), "test split"

    def items(self, split: Literal["train", "test"]):
        """A torch Dataset of compact items to decode in DataLoader workers, or None (the default)
        when the split fits in memory and is batched from `raw(split)` on the device."""
        return None

    def figures(self, model, out_dir, step: int | None = None) -> list[Figure]:
        """Pictures of `model` on this data, written under `out_dir` (`step` set during training)."""
        return []
