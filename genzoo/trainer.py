"""The generic alternating trainer. It knows nets, optimizers and losses, never a specific objective.

One iteration draws one minibatch, runs the critic updates, then the encoder/decoder updates
(spec 2.5). During each update the other side's nets are frozen as whole modules, so the
critic step builds no graph through the generators and the generator step sends gradients
through the critic to its inputs only.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import torch

import genzoo
from genzoo import checkpoint, rng
from genzoo.config import RunConfig, dump
from genzoo.config import build as config_build
from genzoo.data import BatchStream, LoaderStream
from genzoo.errors import GenzooError, TrainingDiverged
from genzoo.evaluate import evaluate, write_metrics
from genzoo.hub import export
from genzoo.interfaces import LossOut, StepRatio
from genzoo.model import JointModel
from genzoo.runlog import RunLog

# Keys that may differ between a run and its resumption: bookkeeping that cannot change the weights.
RESUMABLE_CHANGES = (
    "resume", "overwrite", "out", "eval", "hub", "train.steps", "train.progress", "train.tensorboard", "train.device",
    "train.log_every", "train.checkpoint_every", "train.keep_checkpoints", "train.picture_every",
    "train.divergence_retries", "train.retry_lr_factor",
)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GenzooError(f"train.device {name!r} is not a device name (use auto, cpu, cuda or cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GenzooError("train.device asks for CUDA but no GPU is visible; use device=cpu or device=auto")
    return device


def build_parts(config: RunConfig, registry):
    """Instantiate objective, architecture and dataset, refusing combinations that don't fit."""
    objective = registry.get("objectives", config.objective.name).cls(config.objective.options)
    arch = registry.get("archs", config.arch.name).cls(config.arch.options)
    dataset = registry.get("datasets", config.data.name).cls(config.data.options)
    missing = arch.missing(objective.needs)
    if missing:
        raise GenzooError(
            f"objective {config.objective.name!r} needs {objective.needs.describe()}, but arch {config.arch.name!r} "
            f"cannot build: {', '.join(m.replace('_', ' ') for m in missing)}; pick another arch (genzoo list archs)"
        )
    if tuple(dataset.data_shape) != tuple(arch.data_shape):
        raise GenzooError(
            f"data {config.data.name!r} has items of shape {tuple(dataset.data_shape)} but arch {config.arch.name!r} "
            f"expects {tuple(arch.data_shape)}; pick a matching arch"
        )
    return objective, arch, dataset


def build_model(arch, needs) -> JointModel:
    encoder, decoder, critic = arch.build(needs)
    return JointModel(encoder, decoder, critic, arch.prior)


def step_ratio(config: RunConfig, objective) -> StepRatio:
    default = objective.steps
    critic = default.critic if config.train.critic_steps is None else config.train.critic_steps
    if objective.needs.critic is None:
        critic = 0
    generator = default.generator if config.train.generator_steps is None else config.train.generator_steps
    return StepRatio(critic=critic, generator=generator)


def make_stream(dataset, train_config, device):
    """On-device batches from memory, or DataLoader workers for datasets too large for it."""
    items = dataset.items("train")
    if items is None:
        data = dataset.raw("train").to(device)
        return BatchStream(data, train_config.batch_size, train_config.seed, dataset.to_model)
    workers = getattr(dataset.config, "workers", 2)
    return LoaderStream(items, train_config.batch_size, train_config.seed, device, dataset.to_model, workers)


def make_optimizers(model: JointModel, optim, with_critic: bool) -> dict[str, torch.optim.Optimizer]:
    """Separate Adam optimizers for encoder + decoder and for the critic (spec 2.6)."""
    betas = (optim.beta1, optim.beta2)
    optimizers = {"generator": torch.optim.Adam(model.generator_parameters(), lr=optim.lr, betas=betas)}
    if with_critic:
        optimizers["critic"] = torch.optim.Adam(model.critic_parameters(), lr=optim.critic_lr or optim.lr, betas=betas)
    return optimizers


def update(model: JointModel, objective, optimizers: dict, side: str, x: torch.Tensor) -> LossOut:
    """One optimizer step of `side` ("critic" or "generator"), the other side frozen whole."""
    critic_side = side == "critic"
    for net in (model.encoder, model.decoder):
        if net is not None:
            net.requires_grad_(not critic_side)
    if model.critic is not None:
        model.critic.requires_grad_(critic_side)
    out = objective.critic_loss(model, x) if critic_side else objective.generator_loss(model, x)
    optimizer = optimizers[side]
    optimizer.zero_grad(set_to_none=True)
    out.loss.backward()
    optimizer.step()
    return out


class Trainer:
    def __init__(self, config: RunConfig, registry, run_dir: Path):
        self.config = config
        self.registry = registry
        self.run_dir = Path(run_dir)
        self.objective, self.arch, self.dataset = build_parts(config, registry)
        self.device = pick_device(config.train.device)
        torch.manual_seed(config.train.seed)
        self.model = build_model(self.arch, self.objective.needs).to(self.device)
        self.ratio = step_ratio(config, self.objective)
        self.optimizers = make_optimizers(self.model, config.optim, with_critic=self.ratio.critic > 0)
        try:
            self.stream = make_stream(self.dataset, config.train, self.device)
        except ValueError as exc:
            raise GenzooError(str(exc)) from None
        self.step = 0
        self.elapsed = 0.0  # training seconds, summed over resumed sessions

    def train_iteration(self, x: torch.Tensor) -> dict:
        logs: dict = {}
        for _ in range(self.ratio.critic):
            logs.update(update(self.model, self.objective, self.optimizers, "critic", x).logs)
        for _ in range(self.ratio.generator):
            logs.update(update(self.model, self.objective, self.optimizers, "generator", x).logs)
        return logs

    # --- state -----------------------------------------------------------------------------

    def state(self) -> tuple[dict, dict]:
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        meta = {"step": self.step, "elapsed_s": self.elapsed, "genzoo_version": genzoo.__version__, "config": self.config.as_raw(), "optimizers": {}}
        for name, optimizer in self.optimizers.items():
            meta["optimizers"][name] = checkpoint.flatten_optimizer(name, optimizer, tensors)
        rng.capture(tensors, meta, self.device)
        stream = self.stream.state_dict()
        tensors["rng.data"] = stream["epoch_start"]
        meta["data_pos"] = stream["pos"]
        return tensors, meta

    def load_state(self, tensors: dict, meta: dict) -> None:
        """Restore everything `state` saved; the current optimizer hyper-parameters are kept."""
        weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
        try:
            self.model.load_state_dict(weights, strict=True)
            for name, optimizer in self.optimizers.items():
                hyper = [{k: group[k] for k in ("lr", "betas")} for group in optimizer.param_groups]
                optimizer.load_state_dict(checkpoint.unflatten_optimizer(name, meta["optimizers"][name], tensors))
                for group, kept in zip(optimizer.param_groups, hyper):
                    group.update(kept)
            rng.restore(tensors, meta, self.device)
            self.stream.load_state_dict({"epoch_start": tensors["rng.data"], "pos": meta["data_pos"]})
        except (RuntimeError, KeyError, ValueError) as exc:
            raise GenzooError(f"checkpoint does not fit this model or is incomplete: {str(exc).splitlines()[0]}") from None
        self.step = int(meta["step"])
        self.elapsed = float(meta.get("elapsed_s", 0.0))

    def _as_current(self, saved: dict) -> dict:
        """A saved config with this version's defaults filled in, so new options don't count as changes."""
        try:
            return config_build(saved, self.registry).as_raw()
        except GenzooError:
            return saved

    def save_checkpoint(self) -> Path:
        for name, param in self.model.named_parameters():
            if not torch.isfinite(param).all():
                raise TrainingDiverged(f"step {self.step}: weights of {name} are not finite; last good checkpoint kept")
        path = checkpoint.checkpoint_path(self.run_dir / "checkpoints", self.step)
        path.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.save(path, *self.state())
        checkpoint.prune(path.parent, self.config.train.keep_checkpoints)
        return path

    def resume(self) -> None:
        """Continue from the newest readable checkpoint; refuse changed hyper-parameters."""
        found = checkpoint.list_checkpoints(self.run_dir / "checkpoints")
        if not found:
            raise GenzooError(f"resume=true but {self.run_dir / 'checkpoints'} holds no checkpoint; drop resume=true to start afresh")
        errors = []
        for path in reversed(found):
            try:
                tensors, meta = checkpoint.load(path)
            except GenzooError as exc:
                errors.append(str(exc))
                continue
            if errors:
                print(f"warning: newest checkpoint unreadable, resuming from {path.name} instead")
            allowed = RESUMABLE_CHANGES + tuple(self.config.resume.allow_changes)
            changed = {k for k in _changed_keys(self._as_current(meta["config"]), self.config.as_raw()) if not _covered(k, allowed)}
            if changed:
                raise GenzooError(
                    f"cannot resume {self.run_dir}: changed settings {', '.join(sorted(changed))}; "
                    f"use the run's own config.yaml, or allow them with resume.allow_changes=[{','.join(sorted(changed))}]"
                )
            self.load_state(tensors, meta)
            return
        raise GenzooError(f"no readable checkpoint in {self.run_dir / 'checkpoints'}: {errors[0]}")

    # --- the loop --------------------------------------------------------------------------

    def fit(self) -> dict:
        """Train to `train.steps` iterations, checkpointing and logging; return final metrics."""
        cfg = self.config.train
        start = self.step
        log = RunLog(self.run_dir, cfg.tensorboard, resume_step=start if start else None)
        bar = _progress(cfg.steps, start, cfg.progress)
        began = time.perf_counter()
        logs: dict = {}
        try:
            while self.step < cfg.steps:
                logs = self.train_iteration(next(self.stream))
                self.step += 1
                self.elapsed += time.perf_counter() - began
                began = time.perf_counter()
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    values = {k: float(v) for k, v in logs.items()}
                    bad = [k for k, val in values.items() if not math.isfinite(val)]
                    if bad:
                        raise TrainingDiverged(f"step {self.step}: loss {bad[0]} = {values[bad[0]]}; the last good checkpoint is kept in {self.run_dir / 'checkpoints'}")
                    log.scalars(self.step, values)
                    bar.set_postfix({k: f"{val:.3g}" for k, val in values.items()}, refresh=False)
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                    self.save_checkpoint()
                if cfg.picture_every and self.step % cfg.picture_every == 0:
                    self.pictures(log, self.step)
                bar.update(1)
            bar.close()
            metrics = evaluate(self.model, self.dataset, self.config.eval.metrics or self.dataset.default_metrics, self.registry)
            metrics.update({"steps": self.step, "wall_time_s": round(self.elapsed, 2), "device": str(self.device)})
            write_metrics(self.run_dir / "metrics.json", metrics)
            figures = self.pictures(log, None)
            export(self.model, self.config, self.registry, metrics, figures, self.run_dir / "export")
        finally:
            bar.close()
            log.close()
        return {"metrics": metrics, "figures": [str(f.path) for f in figures], "export": str(self.run_dir / "export")}

    def pictures(self, log: RunLog, step: int | None) -> list:
        """The dataset's pictures of the current model (eval mode; draws use their own RNG)."""
        self.model.eval()
        try:
            with torch.no_grad():
                figures = self.dataset.figures(self.model, self.run_dir, step)
        finally:
            self.model.train()
        log.images(self.step, figures)
        return figures


def _covered(key: str, allowed) -> bool:
    return any(key == a or key.startswith(a + ".") for a in allowed)


def _changed_keys(old: dict, new: dict, prefix: str = "") -> set[str]:
    keys = set(old) | set(new)
    changed = set()
    for key in keys:
        a, b = old.get(key), new.get(key)
        name = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            changed |= _changed_keys(a, b, name + ".")
        elif a != b:
            changed.add(name)
    return changed


def _progress(total: int, start: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=start, disable=not enabled, unit="it", dynamic_ncols=True, mininterval=0.5)


def run_dir_for(config: RunConfig) -> Path:
    """The run folder: refuse to reuse one unless resuming or told to overwrite."""
    if config.out:
        run_dir = Path(config.out)
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = Path("runs") / f"{config.objective.name}-{config.arch.name}-{config.data.name}-{stamp}"
    if config.resume.enabled:
        if not (run_dir / "config.yaml").is_file():
            raise GenzooError(f"resume=true but {run_dir} is not a genzoo run folder; set out= to the run to resume")
    elif run_dir.exists() and any(run_dir.iterdir()):
        if not config.overwrite:
            raise GenzooError(f"{run_dir} already exists; pass resume=true to continue it, overwrite=true to replace it, or another out=")
        if not (run_dir / "config.yaml").exists():
            raise GenzooError(f"overwrite=true refuses to delete {run_dir}: it is not a genzoo run folder (no config.yaml)")
    return run_dir


def train(config: RunConfig, registry) -> tuple[Path, dict]:
    """Validate everything, then create (or reopen) the run folder and train.

    A diverging run is retried `train.divergence_retries` times from its last checkpoint with
    learning rates scaled by `train.retry_lr_factor` each time.
    """
    run_dir = run_dir_for(config)
    trainer = Trainer(config, registry, run_dir)
    if config.resume.enabled:
        trainer.resume()
    else:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)
        (run_dir / "config.yaml").write_text(dump(config))
    attempt = 0
    while True:
        try:
            return run_dir, trainer.fit()
        except TrainingDiverged as exc:
            if attempt == config.train.divergence_retries or not checkpoint.list_checkpoints(run_dir / "checkpoints"):
                raise
            attempt += 1
            print(f"warning: {exc}; retrying from the last checkpoint with learning rates x{config.train.retry_lr_factor ** attempt:g}")
            trainer.resume()  # keeps the current (already lowered) learning rates
            for optimizer in trainer.optimizers.values():
                for group in optimizer.param_groups:
                    group["lr"] *= config.train.retry_lr_factor
