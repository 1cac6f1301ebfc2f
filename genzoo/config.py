"""Run configuration: attrs classes, YAML recipes and key=value overrides, validated with
one-line errors that name the key and suggest the closest valid one.

A raw config is nested dicts. The three plugin sections (`objective`, `arch`, `data`) hold a
`name` plus that plugin's own options, validated against the plugin's `Config` class. Choosing a
different plugin name for a section starts that section afresh from the new plugin's defaults.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
import types
import typing
from pathlib import Path

import attrs
import yaml
from attrs import validators as v

from genzoo.errors import GenzooError

PLUGIN_SECTIONS = {"objective": "objectives", "arch": "archs", "data": "datasets"}
INT_LIMIT = 2**63  # what torch and numpy take as a seed or a size

# Short keys for the settings people change most often.
ALIASES = {
    "lambda": "objective.lam",
    "lam": "objective.lam",
    "steps": "train.steps",
    "batch_size": "train.batch_size",
    "critic_steps": "train.critic_steps",
    "generator_steps": "train.generator_steps",
    "seed": "train.seed",
    "device": "train.device",
    "lr": "optim.lr",
    "precision": "train.precision",
    "compile": "train.compile",
    "ema": "train.ema",
}

# The embedded default: sVAE-r (lambda = 0.1) on the toy mixture with the reference protocol of
# the toy study (batch 128, 100 epochs of 2,048 points, 1 critic : 5 generator steps, Adam 1e-3).
DEFAULT_RAW = {
    "objective": {"name": "svae_r", "lam": 0.1},
    "arch": {"name": "toy_mlp"},
    "data": {"name": "toy"},
    "train": {"steps": 1600, "batch_size": 128, "generator_steps": 5},
    "optim": {"lr": 1e-3, "beta1": 0.5, "beta2": 0.999},
}


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
        return {"name": self.name, **_plain(self.options)}


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
                raw[field.name] = _plain(value)
            else:
                raw[field.name] = value
        return raw


def _plain(instance) -> dict:
    """attrs instance -> dict of YAML/JSON-safe values (tuples become lists)."""
    return attrs.asdict(instance, value_serializer=lambda _, __, v: list(v) if isinstance(v, tuple) else v)


SECTION_CLASSES = {"train": TrainConfig, "optim": OptimConfig, "eval": EvalConfig, "resume": ResumeConfig, "hub": HubConfig}
TOP_LEVEL_VALUES = {"out": str | None, "overwrite": bool}
# Sections that may be given a plain value as a shorthand for one of their keys.
SHORTHANDS = {"objective": "name", "arch": "name", "data": "name", "resume": "enabled"}


# --- parsing -------------------------------------------------------------------------------

def parse_value(text: str):
    """Typed value of an override: bool, null, int, float, [list], else the string itself."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none", "~"):
        return None
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    if text.startswith("["):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise GenzooError(f"cannot parse list {text!r}: {problem}") from None
    return text


def parse_overrides(items: list[str]) -> dict:
    """`a.b=1 c=x` -> {"a": {"b": 1}, "c": "x"}, with aliases expanded."""
    pairs = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise GenzooError(f"expected key=value, got {item!r} (example: steps=2000)")
        pairs.append((key, parse_value(text)))
    return patch_from_pairs(pairs)


def patch_from_pairs(pairs) -> dict:
    """[("a.b", 1), ("seed", 2)] -> {"a": {"b": 1}, "train": {"seed": 2}}: dotted keys, aliases expanded."""
    patch: dict = {}
    for key, value in pairs:
        key = ALIASES.get(key.strip(), key.strip())
        *parents, leaf = key.split(".")
        node = patch
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise GenzooError(f"{key!r} sets a value inside {part!r}, which is already set to a plain value")
        if leaf in node:
            raise GenzooError(f"{key!r} is given twice")
        if not parents and leaf in SHORTHANDS:
            value = {SHORTHANDS[leaf]: value}
        node[leaf] = value
    return patch


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


MAX_CONFIG_BYTES = 1 << 20  # a recipe, sweep or run config is a few hundred bytes
MAX_CONFIG_VALUES = 100_000  # values in a config once YAML aliases are expanded


def read_text_file(path: Path, what: str, limit: int = MAX_CONFIG_BYTES) -> str:
    """A small UTF-8 text file, or a one-line error saying why not."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise GenzooError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise GenzooError(f"{what} {path} is larger than {limit // 1024} KiB; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GenzooError(f"{what} {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def check_expanded_size(data, where, limit: int = MAX_CONFIG_VALUES) -> None:
    """Refuse a document whose aliases expand it beyond `limit` values (a YAML "billion laughs")."""
    count, stack = 0, [data]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            raise GenzooError(f"{where} expands to more than {limit:,} values (nested YAML aliases?); write the config out plainly")
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)


def load_yaml(path: Path) -> dict:
    text = read_text_file(path, "config")
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise GenzooError(f"malformed YAML in {path}{where}: {short_repr(problem, 120)}") from None
    check_expanded_size(data, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GenzooError(f"{path} must hold a mapping of keys to values, not a {type(data).__name__}")
    for section, key in SHORTHANDS.items():
        if section in data and not isinstance(data[section], dict):
            data[section] = {key: data[section]}
    return data


def merge(base: dict, patch: dict) -> dict:
    """Deep-merge `patch` into a copy of `base`; a plugin section given a new name starts afresh."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if key in PLUGIN_SECTIONS and isinstance(value, dict) and isinstance(out.get(key), dict):
            if "name" in value and value["name"] != out[key].get("name"):
                out[key] = copy.deepcopy(value)
                continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# --- validation ----------------------------------------------------------------------------

def _type_name(tp) -> str:
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    if tp in names:
        return names[tp]
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (tuple, list):
        return "a list"
    return getattr(tp, "__name__", str(tp))


def convert(tp, value, where: str):
    """Check `value` against the annotation `tp`; ints are accepted where floats are expected."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return convert(option, value, where)
            except GenzooError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is typing.Literal:
        if value in typing.get_args(tp):
            return value
    elif origin in (tuple, list):
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, (list, tuple)):
            (item_tp, *_) = typing.get_args(tp) or (typing.Any,)
            return tuple(convert(item_tp, item, where) for item in items)
    elif tp is typing.Any:
        return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value) if abs(value) < 1e300 else math.inf  # a huge int would overflow float()
            if not math.isfinite(number):
                raise GenzooError(f"{where} expects a finite number, got {short_repr(value)}")
            return number
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if not -INT_LIMIT <= value < INT_LIMIT:
                raise GenzooError(f"{where} expects an integer between -2**63 and 2**63 - 1, got {short_repr(value)}")
            return value
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise GenzooError(f"{where} expects {_type_name(tp)}, got {short_repr(value)}")


def short_repr(value, limit: int = 80) -> str:
    """repr(value) cut to `limit` characters, so that a huge value never floods an error line."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    shortener.maxlist = shortener.maxdict = 6
    shortener.maxlevel = 3
    text = shortener.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def structure(cls, data, where: str):
    """Build attrs class `cls` from a mapping, rejecting unknown keys and wrong types."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise GenzooError(f"{where} must be a mapping of options, got {short_repr(data)}")
    attrs.resolve_types(cls)
    fields = {f.name: f for f in attrs.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise GenzooError(_unknown_key(f"{where}.{key}", key, list(fields)))
        kwargs[key] = convert(fields[key].type, value, f"{where}.{key}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        # attrs validators raise (message, attribute, bound, value): keep the message only
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        raise GenzooError(f"{where}: {message if len(message) <= 200 else message[:197] + '...'}") from None


def _unknown_key(full: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {full!r}: {hint}valid keys here: {', '.join(known) or '(none)'}"


def build(raw: dict, registry) -> RunConfig:
    """Validate a raw config against the installed plugins."""
    known = list(PLUGIN_SECTIONS) + list(SECTION_CLASSES) + list(TOP_LEVEL_VALUES)
    for key in raw:
        if key not in known:
            raise GenzooError(_unknown_key(key, key, known + list(ALIASES)))
    kwargs = {}
    for section, kind in PLUGIN_SECTIONS.items():
        options = dict(raw.get(section) or {})
        if "name" not in options:
            raise GenzooError(f"{section}.name is not set (example: {section}={registry.names(kind)[:1]})")
        name = options.pop("name")
        if not isinstance(name, str):
            raise GenzooError(f"{section}.name must be a plugin name, got {short_repr(name)} (see genzoo list {kind})")
        entry = registry.get(kind, name)
        kwargs[section] = Choice(name=name, options=structure(entry.cls.Config, options, f"{section}({name})"))
    for section, cls in SECTION_CLASSES.items():
        kwargs[section] = structure(cls, raw.get(section), section)
    for key, tp in TOP_LEVEL_VALUES.items():
        if key in raw:
            kwargs[key] = convert(tp, raw[key], key)
    return RunConfig(**kwargs)


def resolve(recipe: str | None, overrides: list[str], registry) -> RunConfig:
    """The embedded default, then a named recipe or YAML file, then key=value overrides."""
    raw = DEFAULT_RAW
    if recipe is not None:
        raw = merge(raw, load_yaml(find_recipe(recipe, registry)))
    return build(merge(raw, parse_overrides(overrides)), registry)


def find_recipe(recipe: str, registry) -> Path:
    path = Path(recipe)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise GenzooError(f"recipe file {recipe} does not exist")
        if "grid" in load_yaml(path):
            raise GenzooError(f"{recipe} is a sweep (a grid of runs), not a recipe: run `genzoo sweep {recipe}`")
        return path
    recipes = registry.recipes()
    if recipe in ALIASES or recipe in SECTION_CLASSES or recipe in PLUGIN_SECTIONS or recipe in TOP_LEVEL_VALUES:
        raise GenzooError(f"{recipe!r} is a setting, not a recipe: write {recipe}=VALUE")
    if recipe in registry.sweeps():
        raise GenzooError(f"{recipe!r} is a sweep (a grid of runs), not a recipe: run `genzoo sweep {recipe}`")
    if recipe not in recipes:
        close = difflib.get_close_matches(recipe, list(recipes), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise GenzooError(f"unknown recipe {recipe!r}: {hint}see `genzoo list recipes`")
    return recipes[recipe]


def dump(config: RunConfig) -> str:
    return yaml.safe_dump(config.as_raw(), sort_keys=False)
