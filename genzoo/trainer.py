"""The training loop and its state. It knows nets, optimizers and losses, never a specific objective.

`train` validates everything, opens the run folder (genzoo.run_folder) and runs `Trainer.fit`:
`train.steps` iterations of genzoo.step's alternation, with checkpoints, logs, cheap evaluations
during training, and at the end the full metrics, pictures and the exported model.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import attrs
import torch

import genzoo
from genzoo import checkpoint, distributed, factory, precision, rng
from genzoo.assembly import build_parts, make_optimizers, make_stream, step_ratio
from genzoo.budget import check_fits
from genzoo.config import dump
from genzoo.devices import resolve_device
from genzoo.errors import GenzooError, Interrupted, TrainingDiverged, brief
from genzoo.evaluate import evaluate, write_metrics
from genzoo.hub import export
from genzoo.run_folder import fresh_run_folder, resume_point, run_dir_for
from genzoo.runlog import RunLog
from genzoo.settings import RunConfig
from genzoo.step import SideLoss, alternate, take_step


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
            self.device = resolve_device(config.train.device)
        else:
            distributed.check_batch(config.train.batch_size, self.topology)
            self.device = distributed.start(self.topology, config.train.device)
        check_fits(self.arch, self.objective.needs, config.train.batch_size // (self.topology.world if self.topology else 1), self.device)
        torch.manual_seed(config.train.seed)
        self.model = factory.build_model(self.arch, self.objective.needs).to(self.device)
        if precision.use_channels_last(config.train.channels_last, self.model):
            self.model.to(memory_format=torch.channels_last)
        self.ratio = step_ratio(config, self.objective)
        self.optimizers = make_optimizers(self.model, config.optim, with_critic=self.ratio.critic > 0)
        self.weights = self.objective.loss_weights()
        self.sides = {side: SideLoss(self.objective, self.model, side) for side in self.optimizers}
        if self.topology is not None:
            if config.train.sync_batchnorm:
                distributed.sync_batchnorm(self.model)
            self.sides = {side: distributed.wrap(loss, self.device) for side, loss in self.sides.items()}
        if config.train.compile:
            precision.compile_nets(self.model)
        self.precision = precision.Precision(config.train.precision, self.device, self.sides)
        self.ema = precision.decoder_ema(self.model, config.train.ema) if config.train.ema else None
        self.stream = make_stream(self.dataset, config.train, self.device, self.part)
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
        with rng.global_batch_rows(*self.part):
            logs = alternate(self.ratio, lambda side: self._step(side, x))
        distributed.broadcast_buffers(self.model, self.topology)
        if self.ema is not None:
            self.ema.update_parameters(self.model.decoder)
        return logs

    def _step(self, side: str, x: torch.Tensor) -> dict:
        return take_step(self.model, self.sides[side], self.optimizers[side], self.precision, side, x, self.weights).logs

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
        self.load_state(*resume_point(self.run_dir, self.config, self.registry))

    # --- the loop --------------------------------------------------------------------------

    def fit(self) -> dict:
        """Train to `train.steps` iterations, checkpointing and logging; return final metrics."""
        cfg = self.config.train
        start = self.step
        main = self.is_main
        log = RunLog(self.run_dir, cfg.tensorboard and main, resume_step=start if start else None, enabled=main)
        bar = _progress(cfg.steps, start, cfg.progress and main)
        began = time.perf_counter()
        deadline = began + cfg.max_minutes * 60 if cfg.max_minutes else None
        logs: dict = {}
        try:
            if main and self.during and start == 0:
                self.evaluate_cheaply(log)
            while self.step < cfg.steps:
                if deadline and self.step > start and self.step % cfg.log_every == 0 and self.past(deadline):
                    if main and self.step % cfg.checkpoint_every:
                        self.save_checkpoint()
                    break
                logs = self.train_iteration(next(self.stream))
                self.step += 1
                self.elapsed += time.perf_counter() - began
                began = time.perf_counter()
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    values = {k: float(v) for k, v in logs.items()}
                    bad = [k for k, val in values.items() if not math.isfinite(val)]
                    if not distributed.all_true(not bad, self.topology):
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
            if self.step < cfg.steps:
                metrics["stopped_at_max_minutes"] = True
            write_metrics(self.run_dir / "metrics.json", metrics)
            figures = self.pictures(log, None)
            export(self.model, self.config, self.registry, metrics, figures, self.run_dir / "export")
        finally:
            bar.close()
            log.close()
        return {"metrics": metrics, "figures": [str(f.path) for f in figures], "export": str(self.run_dir / "export")}

    def past(self, deadline: float) -> bool:
        """Whether `train.max_minutes` is spent on any process, so that all stop at one step."""
        return not distributed.all_true(time.perf_counter() < deadline, self.topology)

    def evaluate_cheaply(self, log: RunLog) -> None:
        """The cheap protocols of `self.during` on the current weights; draws use the metrics' own
        generators and batch-norm runs in eval mode, so training continues exactly as without it."""
        options = {name: factory.plugin_class("metrics", name, self.registry).cheap for name in self.during}
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
        return tuple(n for n in eval_config.metrics or dataset.default_metrics if factory.plugin_class("metrics", n, registry).cheap)
    for name in eval_config.during:
        if not factory.plugin_class("metrics", name, registry).cheap:
            raise GenzooError(f"eval.during names {name!r}, which has no cheap protocol to run during training; drop it from eval.during")
    return tuple(eval_config.during)


def _progress(total: int, start: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=start, disable=not enabled, unit="it", dynamic_ncols=True, mininterval=0.5)


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
