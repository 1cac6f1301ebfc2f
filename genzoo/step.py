"""One training iteration, shared by the trainer, the stacked sweep engine and the contract suite.

An iteration draws one minibatch, runs the critic updates, then the encoder/decoder updates
(spec 2.5). Each update trains one side of the model with the other side frozen whole
(`JointModel.train_side`). The objective's loss weights (e.g. lambda) are passed to its losses
explicitly: a mapping of floats for one run, of per-run values inside a stack of runs.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from genzoo.interfaces import LossOut, StepRatio
from genzoo.model import JointModel
from genzoo.precision import Precision


class SideLoss(nn.Module):
    """One side's loss ("critic", or "generator" = encoder + decoder) as a module over the whole model.

    DistributedDataParallel wraps it with the other side frozen, so it averages exactly this
    side's gradients; the stacked engine calls it through `torch.func.functional_call` with any
    run's weights."""

    def __init__(self, objective, model: JointModel, side: str):
        super().__init__()
        self.objective, self.model, self.side = objective, model, side

    def forward(self, x: torch.Tensor, weights) -> tuple[torch.Tensor, dict]:
        loss_of = self.objective.critic_loss if self.side == "critic" else self.objective.generator_loss
        out = loss_of(self.model, x, weights)
        return out.loss, out.logs


def take_step(model: JointModel, side_loss: nn.Module, optimizer, precision: Precision, side: str, x: torch.Tensor, weights) -> LossOut:
    """One optimizer step of `side` under `precision`, the other side frozen whole."""
    model.train_side(side)
    with precision.autocast():
        loss, logs = side_loss(x, weights)
    optimizer.zero_grad(set_to_none=True)
    precision.backward_and_step(side, loss, optimizer)
    return LossOut(loss.detach(), logs)


def update(model: JointModel, objective, optimizers: dict, side: str, x: torch.Tensor) -> LossOut:
    """One fp32 step of `side` of a plain model with the objective's own loss weights."""
    fp32 = Precision("fp32", x.device, optimizers)
    return take_step(model, SideLoss(objective, model, side), optimizers[side], fp32, side, x, objective.loss_weights())


def alternate(ratio: StepRatio, step: Callable[[str], dict]) -> dict:
    """One iteration: `ratio.critic` calls of `step("critic")`, then `ratio.generator` calls of
    `step("generator")`; returns their logs merged (later steps' values win)."""
    logs: dict = {}
    for _ in range(ratio.critic):
        logs.update(step("critic"))
    for _ in range(ratio.generator):
        logs.update(step("generator"))
    return logs
