"""The settings of a run as attrs classes: one class per config section, validated on construction."""

from __future__ import annotations

import re
import typing

import attrs
from attrs import validators as v

from genzoo.options import plain, short_repr


def _positive(instance, attribute, value):
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


def _device_name(instance, attribute, value):
    if not re.fullmatch(r"auto|cpu|cuda(:\d{1,3})?", value):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N (genzoo trains on these only), got {short_repr(value)}")


def _non_negative(instance, attribute, value):
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


@attrs.frozen(kw_only=True)
class TrainConfig:
    """The alternating loop. One iteration = `critic_steps` critic updates, then
    `generator_steps` encoder/decoder updates, all on one data minibatch; unset step counts
    take the objective's default ratio."""

    steps: int = attrs.field(default=1600, validator=_positive)
    batch_size: int = attrs.field(default=128, validator=[_positive, v.le(1 << 20)])
    critic_steps: int | None = attrs.field(default=None, validator=_non_negative)
    generator_steps: int | None = attrs.field(default=None, validator=_positive)
    seed: int = attrs.field(default=0, validator=[v.ge(0), v.lt(2**63)])
    device: str = attrs.field(default="auto", validator=_device_name)
    log_every: int = attrs.field(default=50, validator=_positive)
    checkpoint_every: int = attrs.field(default=500, validator=_positive)
    keep_checkpoints: int = attrs.field(default=2, validator=v.ge(1))
    picture_every: int = attrs.field(default=1000, validator=_non_negative)  # 0: only at the end
    divergence_retries: int = attrs.field(default=0, validator=v.in_(range(0, 11)))
    retry_lr_factor: float = attrs.field(default=0.5, validator=[v.gt(0.0), v.lt(1.0)])
    progress: bool = True
    tensorboard: bool = True
    precision: typing.Literal["fp32", "bf16", "fp16"] = "fp32"  # autocast (+ GradScaler for fp16)
    compile: bool = False  # torch.compile each net; meant for GPUs; on CPU compilation costs more than it gains
    channels_last: typing.Literal["auto", "on", "off"] = "auto"  # auto: on for conv nets
    ema: float = attrs.field(default=0.0, validator=[v.ge(0.0), v.lt(1.0)])  # decoder EMA decay; 0: off
    sync_batchnorm: bool = False  # multi-process (GPU): batch-norm statistics over the global batch
    # CPU threads of this process; 0: torch's default, one per core. Set it (e.g. 1) when several
    # jobs share the machine: N processes of all-core threads each run many times slower than N x 1.
    threads: int = attrs.field(default=0, validator=[v.ge(0), v.le(1024)])
    # Wall-clock minutes this process may train (a GPU slot, a cluster job's limit); 0: no limit. At
    # the limit the run checkpoints, evaluates and exports what it reached; `--resume` goes on to `steps`.
    max_minutes: float = attrs.field(default=0.0, validator=v.ge(0.0))


@attrs.frozen(kw_only=True)
class OptimConfig:
    """Adam for the critic and, separately, for encoder + decoder (spec 2.6)."""

    lr: float = attrs.field(default=1e-4, validator=_positive)
    critic_lr: float | None = attrs.field(default=None, validator=_positive)
    beta1: float = attrs.field(default=0.5, validator=[v.ge(0.0), v.lt(1.0)])
    beta2: float = attrs.field(default=0.999, validator=[v.ge(0.0), v.lt(1.0)])
    fused: bool | None = None  # one fused Adam kernel; unset: on for CUDA, off on CPU (+7% there, other rounding)


@attrs.frozen(kw_only=True)
class EvalConfig:
    """What a finished run measures; `metrics` unset means the dataset's defaults.

    `every` > 0 also measures during training, at the start and every `every` iterations, with
    each metric's cheap protocol (its `cheap` options, e.g. IS on 2,000 samples): logged as
    `cheap/<key>` to metrics.jsonl and TensorBoard and as rows of `eval-curve.jsonl`, never
    mixed with the full-protocol numbers of metrics.json. `during` picks the metrics (unset:
    those of the run that have a cheap protocol)."""

    metrics: tuple[str, ...] | None = None
    every: int = attrs.field(default=0, validator=_non_negative)
    during: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class ResumeConfig:
    """`resume=true` continues the run in `out`; settings that differ from the run's own are refused
    unless listed in `allow_changes` (e.g. resume.allow_changes=[optim.lr])."""

    enabled: bool = False
    allow_changes: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class HubConfig:
    """Where the published weights of a recipe live, so its name works as a `genzoo.load` alias."""

    repo_id: str | None = None
    revision: str | None = None


@attrs.frozen(kw_only=True)
class Choice:
    """A registry entry picked by name, with its validated options."""

    name: str
    options: typing.Any

    def as_raw(self) -> dict:
        return {"name": self.name, **plain(self.options)}


@attrs.frozen(kw_only=True)
class RunConfig:
    objective: Choice
    arch: Choice
    data: Choice
    train: TrainConfig = TrainConfig()
    optim: OptimConfig = OptimConfig()
    eval: EvalConfig = EvalConfig()
    out: str | None = None
    resume: ResumeConfig = ResumeConfig()
    hub: HubConfig = HubConfig()
    overwrite: bool = False

    def as_raw(self) -> dict:
        raw = {}
        for field in attrs.fields(RunConfig):
            value = getattr(self, field.name)
            if isinstance(value, Choice):
                raw[field.name] = value.as_raw()
            elif attrs.has(type(value)):
                raw[field.name] = plain(value)
            else:
                raw[field.name] = value
        return raw
