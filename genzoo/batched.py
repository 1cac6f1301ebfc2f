"""Train many same-shape runs as one stacked model: the sweep engine for small nets.

Runs that share objective (or its `family`), arch, data and step schedule and differ only in seed,
learning rates and the objective's loss weights (`Objective.stackable`, e.g. lambda, or the link
that tells ALICE from sVAE-r) are stacked: every parameter gets a leading run axis, `torch.func.vmap` turns one run's
loss into all runs' losses in one pass, and a stacked Adam updates every run at once with its
own learning rate. Run r starts from the same weights and sees the same data order as
`genzoo train seed=r`; only its noise draws differ (vmap draws them per run). Narrow nets are
dominated by per-step Python overhead, which stacking divides by the number of runs.
"""

from __future__ import annotations

import functools
import json
import math

import torch
from torch.func import functional_call, stack_module_state, vmap

from genzoo import factory
from genzoo.assembly import build_parts, make_stream, step_ratio
from genzoo.budget import check_fits
from genzoo.errors import GenzooError
from genzoo.evaluate import evaluate
from genzoo.settings import RunConfig
from genzoo.step import SideLoss, alternate

# The settings runs of one stack may vary, besides the objective's `stackable` loss weights.
STACKABLE = ("train.seed", "optim.lr", "optim.critic_lr")


class StackedAdam:
    """Adam (as torch.optim.Adam, no weight decay) on tensors whose first axis is the run,
    with one learning rate per run: torch's Adam takes one scalar rate per parameter group."""

    def __init__(self, params: list[torch.Tensor], lr: torch.Tensor, betas: tuple[float, float], eps: float = 1e-8):
        self.params, self.betas, self.eps = params, betas, eps
        self.lr = [lr.to(p).view(-1, *([1] * (p.dim() - 1))) for p in params]
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        correction1, correction2 = 1 - beta1**self.t, math.sqrt(1 - beta2**self.t)
        for p, g, m, v, lr in zip(self.params, grads, self.exp_avg, self.exp_avg_sq, self.lr):
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            p.sub_(lr / correction1 * m / (v.sqrt() / correction2 + self.eps))


def stack_key(config: RunConfig, registry) -> str:
    """Runs with equal keys can be stacked: everything but the stackable settings agrees, and the
    objectives are one, or members of one `family`."""
    raw = config.as_raw()
    cls = factory.plugin_class("objectives", config.objective.name, registry)
    for dotted in STACKABLE + tuple(f"objective.{name}" for name in cls.stackable):
        section, key = dotted.split(".")
        raw.get(section, {}).pop(key, None)
    if cls.family is not None:
        raw["objective"]["name"] = f"family:{cls.family}"
    for key in ("out", "overwrite", "resume"):
        raw.pop(key, None)
    return json.dumps(raw, sort_keys=True, default=str)


class StackedRuns:
    """R runs of one objective x arch x data, trained together; `fit` returns each run's metrics."""

    def __init__(self, configs: list[RunConfig], registry, device: torch.device, randomness: str = "different"):
        if len({stack_key(c, registry) for c in configs}) != 1:
            raise GenzooError("stacked runs must agree on every setting but seed, learning rates and loss weights")
        self.configs, self.registry, self.device = configs, registry, device
        first = configs[0]
        # Each run's loss weights, as a single run reads them (`Objective.loss_weights`), one
        # value per run; the stack's objective computes every term some run weighs (`for_stack`).
        per_run = [factory.build("objectives", c.objective.name, c.objective.options, registry).loss_weights() for c in configs]
        self.loss_weights = {n: torch.tensor([float(w[n]) for w in per_run], device=device) for n in per_run[0]}
        objective, self.arch, self.dataset = build_parts(first, registry)
        self.objective = objective.for_stack(per_run)
        self.ratio = step_ratio(first, self.objective)
        check_fits(self.arch, self.objective.needs, first.train.batch_size, device, copies=len(configs))
        models = []
        for config in configs:
            torch.manual_seed(config.train.seed)  # the single-run trainer's initialisation
            models.append(factory.build_model(self.arch, self.objective.needs).to(device))
        if any(True for _ in models[0].buffers()):
            raise GenzooError(f"arch {first.arch.name!r} keeps buffers (batch-norm statistics), which stacked runs do not support; use sweep engine=trainer")
        self.model = models[0]
        params, _ = stack_module_state(models)
        self.params = {f"model.{k}": v for k, v in params.items()}
        sides = ("generator", "critic") if self.ratio.critic > 0 else ("generator",)
        self.sides = {side: [f"model.{k}" for k in params if self.model.side_of(k) == side] for side in sides}
        betas = (first.optim.beta1, first.optim.beta2)
        rates = {
            "generator": torch.tensor([c.optim.lr for c in configs]),
            "critic": torch.tensor([c.optim.critic_lr or c.optim.lr for c in configs]),
        }
        self.optimizers = {side: StackedAdam([self.params[k] for k in keys], rates[side], betas) for side, keys in self.sides.items()}
        self.streams = [make_stream(self.dataset, c.train, device) for c in configs]
        self.losses = {side: SideLoss(self.objective, self.model, side) for side in self.sides}
        self.diverged_at: list[int | None] = [None] * len(configs)
        # "different": each run draws its own noise. "same": every run draws what a single run
        # would, so a stack of equal seeds reproduces `genzoo train` exactly (used by the tests).
        self.randomness = randomness

    def _update(self, side: str, x: torch.Tensor) -> dict:
        trained = self.sides[side]
        weights = {k: (v if k in trained else v.detach()) for k, v in self.params.items()}
        losses, logs = vmap(functools.partial(self._one_run, side=side), randomness=self.randomness)(weights, x, self.loss_weights)
        grads = torch.autograd.grad(losses.sum(), [self.params[k] for k in trained])
        self.optimizers[side].step(grads)
        return logs

    def _one_run(self, weights: dict, x: torch.Tensor, loss_weights: dict, side: str):
        return functional_call(self.losses[side], weights, (x, loss_weights))

    def iteration(self) -> dict:
        x = torch.stack([next(stream) for stream in self.streams])
        return alternate(self.ratio, lambda side: self._update(side, x))

    def fit(self, steps: int, progress=None, check_every: int = 50) -> list[dict]:
        """Train every run `steps` iterations; `progress(n)` is called with iterations done."""
        for param in self.params.values():
            param.requires_grad_(True)
        for step in range(1, steps + 1):
            logs = self.iteration()
            if step % check_every == 0 or step == steps:
                self._note_divergence(step, logs)
                if progress is not None:
                    progress(check_every if step % check_every == 0 else step % check_every)
        return [self.evaluate_run(r) for r in range(len(self.configs))]

    def _note_divergence(self, step: int, logs: dict) -> None:
        finite = torch.stack([torch.isfinite(v).reshape(len(self.configs), -1).all(1) for v in logs.values()]).all(0)
        for r, ok in enumerate(finite.tolist()):
            if not ok and self.diverged_at[r] is None:
                self.diverged_at[r] = step

    def run_weights(self, r: int) -> dict[str, torch.Tensor]:
        return {k[len("model."):]: v[r].detach() for k, v in self.params.items()}

    def evaluate_run(self, r: int) -> dict:
        """Run r's metrics, measured on an ordinary single-run model holding its weights."""
        self.model.load_state_dict(self.run_weights(r))
        config = self.configs[r]
        metrics = evaluate(self.model, self.dataset, config.eval.metrics or self.dataset.default_metrics, self.registry)
        if self.diverged_at[r] is not None:
            metrics["diverged"] = True
            metrics["diverged_at_step"] = self.diverged_at[r]
        return metrics
