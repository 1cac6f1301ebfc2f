"""Assembling a run from its config: the plugins (through the factory), the step schedule, the
data stream and the optimizers. The trainer and the stacked sweep engine assemble alike."""

from __future__ import annotations

import torch

from genzoo import factory
from genzoo.data import BatchStream, LoaderStream
from genzoo.errors import GenzooError
from genzoo.interfaces import StepRatio
from genzoo.model import JointModel
from genzoo.settings import RunConfig


def build_parts(config: RunConfig, registry):
    """Instantiate objective, architecture and dataset, refusing combinations that don't fit."""
    objective = factory.build("objectives", config.objective.name, config.objective.options, registry)
    arch = factory.build("archs", config.arch.name, config.arch.options, registry)
    dataset = factory.build("datasets", config.data.name, config.data.options, registry)
    factory.check_compatible(objective, arch, (config.objective.name, config.arch.name))
    if tuple(dataset.data_shape) != tuple(arch.data_shape):
        raise GenzooError(
            f"data {config.data.name!r} has items of shape {tuple(dataset.data_shape)} but arch {config.arch.name!r} "
            f"expects {tuple(arch.data_shape)}; pick a matching arch"
        )
    return objective, arch, dataset


def step_ratio(config: RunConfig, objective) -> StepRatio:
    """Critic and generator steps per iteration: the config's, else the objective's default."""
    default = objective.steps
    critic = default.critic if config.train.critic_steps is None else config.train.critic_steps
    if objective.needs.critic is None:
        critic = 0
    generator = default.generator if config.train.generator_steps is None else config.train.generator_steps
    return StepRatio(critic=critic, generator=generator)


def make_stream(dataset, train_config, device, part: tuple[int, int] = (0, 1)):
    """On-device batches from memory, or DataLoader workers for datasets too large for it;
    `part` = (rank, world) yields only this process's rows of each global batch."""
    items = dataset.items("train")
    try:
        if items is None:
            data = dataset.raw("train").to(device)
            return BatchStream(data, train_config.batch_size, train_config.seed, dataset.to_model, part)
        workers = getattr(dataset.config, "workers", 2)
        return LoaderStream(items, train_config.batch_size, train_config.seed, device, dataset.to_model, workers, part)
    except ValueError as exc:
        raise GenzooError(str(exc)) from None


def make_optimizers(model: JointModel, optim, with_critic: bool) -> dict[str, torch.optim.Optimizer]:
    """Separate Adam optimizers for encoder + decoder and for the critic (spec 2.6)."""
    betas = (optim.beta1, optim.beta2)
    fused = model.device.type == "cuda" if optim.fused is None else optim.fused
    rates = {"generator": optim.lr, "critic": optim.critic_lr or optim.lr}
    sides = ("generator", "critic") if with_critic else ("generator",)
    return {side: torch.optim.Adam(model.side_parameters(side), lr=rates[side], betas=betas, fused=fused) for side in sides}
