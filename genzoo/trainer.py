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

import attrs
import torch
from torch import nn

import genzoo
from genzoo import checkpoint, distributed, precision, rng
from genzoo.budget import check_fits
from genzoo.config import dump
from genzoo.settings import RunConfig
from genzoo.config import build as config_build
from genzoo.data import BatchStream, LoaderStream
from genzoo.errors import GenzooError, Interrupted, TrainingDiverged, brief
from genzoo.evaluate import evaluate, write_metrics
from genzoo.hub import export
from genzoo.interfaces import LossOut, StepRatio
from genzoo.model import JointModel
from genzoo.runlog import RunLog

# Keys that may differ between a run and its resumption: bookkeeping that cannot change the weights.
RESUMABLE_CHANGES = (
    "resume", "overwrite", "out", "eval", "hub", "train.steps", "train.progress", "train.tensorboard", "train.device",
    "train.log_every", "train.checkpoint_every", "train.keep_checkpoints", "train.picture_every",
    "train.divergence_retries", "train.retry_lr_factor", "train.compile", "train.channels_last", "train.threads",
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


def make_stream(dataset, train_config, device, part: tuple[int, int] = (0, 1)):
    """On-device batches from memory, or DataLoader workers for datasets too large for it;
    `part` = (rank, world) yields only this process's rows of each global batch."""
    items = dataset.items("train")
    if items is None:
        data = dataset.raw("train").to(device)
        return BatchStream(data, train_config.batch_size, train_config.seed, dataset.to_model, part)
    workers = getattr(dataset.config, "workers", 2)
    return LoaderStream(items, train_config.batch_size, train_config.seed, device, dataset.to_model, workers, part)


def make_optimizers(model: JointModel, optim, with_critic: bool) -> dict[str, torch.optim.Optimizer]:
    """Separate Adam optimizers for encoder + decoder and for the critic (spec 2.6)."""
    betas = (optim.beta1, optim.beta2)
    fused = model.device.type == "cuda" if optim.fused is None else optim.fused
    optimizers = {"generator": torch.optim.Adam(model.generator_parameters(), lr=optim.lr, betas=betas, fused=fused)}
    if with_critic:
        optimizers["critic"] = torch.optim.Adam(model.critic_parameters(), lr=optim.critic_lr or optim.lr, betas=betas, fused=fused)
    return optimizers


class SideLoss(nn.Module):
    """One side's loss ("critic", or "generator" = encoder + decoder) as a module that owns only
    that side's nets, so a DistributedDataParallel wrapper averages exactly their gradients.
    The other side's nets are frozen whole while it runs."""

    def __init__(self, objective, model: JointModel, side: str):
        super().__init__()
        self.objective, self.side = objective, side
        nets = [model.critic] if side == "critic" else [model.encoder, model.decoder]
        self.nets = nn.ModuleList([net for net in nets if net is not None])
        self.__dict__["model"] = model  # not registered: the other side's weights are not this module's

    def forward(self, x: torch.Tensor):
        critic_side = self.side == "critic"
        for net in (self.model.encoder, self.model.decoder):
            if net is not None:
                net.requires_grad_(not critic_side)
        if self.model.critic is not None:
            self.model.critic.requires_grad_(critic_side)
        out = self.objective.critic_loss(self.model, x) if critic_side else self.objective.generator_loss(self.model, x)
        return out.loss, out.logs


def update(model: JointModel, objective, optimizers: dict, side: str, x: torch.Tensor) -> LossOut:
    """One fp32 step of `side` ("critic" or "generator") of a plain model, the other side frozen whole."""
    loss, logs = SideLoss(objective, model, side)(x)
    optimizers[side].zero_grad(set_to_none=True)
    loss.backward()
    optimizers[side].step()
    return LossOut(loss, logs)


def train_step(side_loss: nn.Module, optimizer, precision_: precision.Precision, side: str, x: torch.Tensor) -> dict:
    """One optimizer step of one side under the run's precision; returns the loss's logs."""
    with precision_.autocast():
        loss, logs = side_loss(x)
    optimizer.zero_grad(set_to_none=True)
    precision_.backward_and_step(side, loss, optimizer)
    return logs


class Trainer:
    def __init__(self, config: RunConfig, registry, run_dir: Path):
        self.config = config
        self.registry = registry
        self.run_dir = Path(run_dir)
        if config.train.threads:
            torch.set_num_threads(config.train.threads)
        self.objective, self.arch, self.dataset = build_parts(config, registry)
        self.topology = distributed.topology_from_env()
        if self.topology is None:
            self.device = pick_device(config.train.device)
        else:
            distributed.check_batch(config.train.batch_size, self.topology)
            self.device = distributed.start(self.topology, config.train.device)
        check_fits(self.arch, self.objective.needs, config.train.batch_size // (self.topology.world if self.topology else 1), self.device)
        torch.manual_seed(config.train.seed)
        self.model = build_model(self.arch, self.objective.needs).to(self.device)
        if precision.use_channels_last(config.train.channels_last, self.model):
            self.model.to(memory_format=torch.channels_last)
        self.ratio = step_ratio(config, self.objective)
        self.optimizers = make_optimizers(self.model, config.optim, with_critic=self.ratio.critic > 0)
        self.sides = {side: SideLoss(self.objective, self.model, side) for side in self.optimizers}
        if self.topology is not None:
            self.sides = {side: distributed.wrap(loss, self.device, config.train.sync_batchnorm) for side, loss in self.sides.items()}
        if config.train.compile:
            precision.compile_nets(self.model)
        self.precision = precision.Precision(config.train.precision, self.device, self.sides)
        self.ema = precision.decoder_ema(self.model, config.train.ema) if config.train.ema else None
        try:
            self.stream = make_stream(self.dataset, config.train, self.device, self.part)
        except ValueError as exc:
            raise GenzooError(str(exc)) from None
        self.step = 0
        self.elapsed = 0.0  # training seconds, summed over resumed sessions
        self.during = during_training_metrics(config.eval, self.dataset, registry)

    @property
    def is_main(self) -> bool:
        """Only this process logs, draws pictures and writes files (rank 0, or the only process)."""
        return self.topology is None or self.topology.is_main

    @property
    def part(self) -> tuple[int, int]:
        """(rank, world): which rows of each global batch this process computes."""
        return (self.topology.rank, self.topology.world) if self.topology else (0, 1)

    def train_iteration(self, x: torch.Tensor) -> dict:
        """One iteration on this process's rows `x` of the global batch (what `self.stream` yields)."""
        logs: dict = {}
        with rng.global_batch_rows(*self.part):
            for _ in range(self.ratio.critic):
                logs.update(self._step("critic", x))
            for _ in range(self.ratio.generator):
                logs.update(self._step("generator", x))
        distributed.broadcast_buffers(self.model, self.topology)
        if self.ema is not None:
            self.ema.update_parameters(self.model.decoder)
        return logs

    def _step(self, side: str, x: torch.Tensor) -> dict:
        return train_step(self.sides[side], self.optimizers[side], self.precision, side, x)

    # --- state -----------------------------------------------------------------------------

    def state(self) -> tuple[dict, dict]:
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        meta = {"step": self.step, "elapsed_s": self.elapsed, "genzoo_version": genzoo.__version__, "config": self.config.as_raw(), "optimizers": {}}
        for name, optimizer in self.optimizers.items():
            meta["optimizers"][name] = checkpoint.flatten_optimizer(name, optimizer, tensors)
        if self.ema is not None:
            tensors.update({f"ema.{k}": v for k, v in self.ema.state_dict().items()})
        meta["grad_scalers"] = self.precision.state()
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
            if self.ema is not None:
                self.ema.load_state_dict({k[len("ema."):]: v for k, v in tensors.items() if k.startswith("ema.")})
            self.precision.load_state(meta.get("grad_scalers", {}))
            rng.restore(tensors, meta, self.device)
            self.stream.load_state_dict({"epoch_start": tensors["rng.data"], "pos": meta["data_pos"]})
        except (RuntimeError, KeyError, ValueError) as exc:
            raise GenzooError(f"checkpoint does not fit this model or is incomplete: {brief(exc)}") from None
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
        main = self.is_main
        log = RunLog(self.run_dir, cfg.tensorboard and main, resume_step=start if start else None, enabled=main)
        bar = _progress(cfg.steps, start, cfg.progress and main)
        began = time.perf_counter()
        logs: dict = {}
        try:
            if main and self.during and start == 0:
                self.evaluate_cheaply(log)
            while self.step < cfg.steps:
                logs = self.train_iteration(next(self.stream))
                self.step += 1
                self.elapsed += time.perf_counter() - began
                began = time.perf_counter()
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    values = {k: float(v) for k, v in logs.items()}
                    bad = [k for k, val in values.items() if not math.isfinite(val)]
                    if not distributed.all_finite(not bad, self.topology):
                        bad = bad or ["on another process"]
                    if bad:
                        raise TrainingDiverged(f"step {self.step}: loss {bad[0]} = {values[bad[0]]}; the last good checkpoint is kept in {self.run_dir / 'checkpoints'}")
                    log.scalars(self.step, values)
                    bar.set_postfix({k: f"{val:.3g}" for k, val in values.items()}, refresh=False)
                if main and (self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps):
                    self.save_checkpoint()
                if main and cfg.picture_every and self.step % cfg.picture_every == 0:
                    self.pictures(log, self.step)
                if main and self.during and self.step % self.config.eval.every == 0:
                    self.evaluate_cheaply(log)
                bar.update(1)
            bar.close()
            if not main:
                return {}
            if self.ema is not None:  # samples, metrics and the exported model use the averaged decoder
                self.model.decoder.load_state_dict(self.ema.module.state_dict())
            metrics = evaluate(self.model, self.dataset, self.config.eval.metrics or self.dataset.default_metrics, self.registry)
            metrics.update({"steps": self.step, "wall_time_s": round(self.elapsed, 2), "device": str(self.device)})
            write_metrics(self.run_dir / "metrics.json", metrics)
            figures = self.pictures(log, None)
            export(self.model, self.config, self.registry, metrics, figures, self.run_dir / "export")
        finally:
            bar.close()
            log.close()
        return {"metrics": metrics, "figures": [str(f.path) for f in figures], "export": str(self.run_dir / "export")}

    def evaluate_cheaply(self, log: RunLog) -> None:
        """The cheap protocols of `self.during` on the current weights; draws use the metrics' own
        generators and batch-norm runs in eval mode, so training continues exactly as without it."""
        options = {name: self.registry.get("metrics", name).cls.cheap for name in self.during}
        results = evaluate(self.model, self.dataset, self.during, self.registry, options)
        log.evaluation(self.step, self.step * self.config.train.batch_size / self.stream.order.size, results)

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


def during_training_metrics(eval_config, dataset, registry) -> tuple[str, ...]:
    """The metrics `eval.every` runs: `eval.during`, else the run's metrics that have a cheap protocol."""
    if not eval_config.every:
        return ()
    if eval_config.during is None:
        return tuple(n for n in eval_config.metrics or dataset.default_metrics if registry.get("metrics", n).cls.cheap)
    for name in eval_config.during:
        if not registry.get("metrics", name).cls.cheap:
            raise GenzooError(f"eval.during names {name!r}, which has no cheap protocol to run during training; drop it from eval.during")
    return tuple(eval_config.during)


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
    """The run folder: refuse to reuse one unless resuming or told to overwrite. A folder of a run
    that stopped before its first checkpoint holds nothing to lose and is started afresh."""
    if config.out:
        run_dir = Path(config.out)
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = Path("runs") / f"{config.objective.name}-{config.arch.name}-{config.data.name}-{stamp}"
    if run_dir.exists() and not run_dir.is_dir():
        raise GenzooError(f"out={run_dir} is a file, not a folder; choose another out=")
    if config.resume.enabled:
        if not (run_dir / "config.yaml").is_file():
            raise GenzooError(f"resume=true but {run_dir} is not a genzoo run folder; set out= to the run to resume")
    elif run_dir.exists() and any(run_dir.iterdir()) and not never_started(run_dir):
        if not config.overwrite:
            raise GenzooError(f"{run_dir} already exists; pass resume=true to continue it, overwrite=true to replace it, or another out=")
        if not (run_dir / "config.yaml").exists():
            raise GenzooError(f"overwrite=true refuses to delete {run_dir}: it is not a genzoo run folder (no config.yaml)")
    return run_dir


def never_started(run_dir: Path) -> bool:
    """A run folder with a config but no checkpoint and no results: it stopped before saving anything."""
    return ((run_dir / "config.yaml").is_file() and not checkpoint.list_checkpoints(run_dir / "checkpoints")
            and not (run_dir / "metrics.json").exists() and not (run_dir / "export").exists())


def fresh_run_folder(run_dir: Path, config: RunConfig) -> None:
    """Empty `run_dir` (or make it) and write the config the run trains with."""
    try:
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)
        (run_dir / "config.yaml").write_text(dump(config))
    except OSError as exc:
        raise GenzooError(f"cannot create the run folder {run_dir}: {exc.strerror}; choose a writable out=") from None


def train(config: RunConfig, registry) -> tuple[Path, dict]:
    """Validate everything, then create (or reopen) the run folder and train.

    A diverging run is retried `train.divergence_retries` times from its last checkpoint with
    learning rates scaled by `train.retry_lr_factor` each time.
    """
    topology = distributed.topology_from_env()
    if topology is None or topology.is_main:
        run_dir = run_dir_for(config)
    else:
        run_dir = Path(config.out) if config.out else None
    trainer = Trainer(config, registry, run_dir or Path("."))  # joins the process group when launched by torchrun
    if run_dir is None:  # the folder name carries rank 0's clock: take it from rank 0
        names = [None]
        torch.distributed.broadcast_object_list(names, src=0)
        run_dir = trainer.run_dir = Path(names[0])
    elif topology is not None and topology.is_main and not config.out:
        torch.distributed.broadcast_object_list([str(run_dir)], src=0)
    # The folder's config.yaml repeats the run elsewhere (`genzoo train RUN/config.yaml`): it names no folder.
    settled = attrs.evolve(config, resume=attrs.evolve(config.resume, enabled=False), out=None, overwrite=False)
    if config.resume.enabled and checkpoint.list_checkpoints(run_dir / "checkpoints"):
        trainer.resume()
        if trainer.is_main:  # the folder's config is what the run now trains with (e.g. more train.steps)
            checkpoint.write_text_atomically(run_dir / "config.yaml", dump(settled))
    elif trainer.is_main:
        if config.resume.enabled:
            print(f"note: {run_dir} has no checkpoint yet; starting it afresh there")
        fresh_run_folder(run_dir, settled)
    distributed.barrier(topology)
    attempt = 0
    while True:
        try:
            return run_dir, trainer.fit()
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted; continue the run with: genzoo train --resume {run_dir}") from None
        except TrainingDiverged as exc:
            if attempt == config.train.divergence_retries or not checkpoint.list_checkpoints(run_dir / "checkpoints"):
                raise
            attempt += 1
            print(f"warning: {exc}; retrying from the last checkpoint with learning rates x{config.train.retry_lr_factor ** attempt:g}")
            trainer.resume()  # keeps the current (already lowered) learning rates
            for optimizer in trainer.optimizers.values():
                for group in optimizer.param_groups:
                    group["lr"] *= config.train.retry_lr_factor
