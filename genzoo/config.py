"""Run configuration from recipes, YAML files and key=value overrides, validated with
one-line errors that name the key and suggest the closest valid one.

A raw config is nested dicts. The three plugin sections (`objective`, `arch`, `data`) hold a
`name` plus that plugin's own options, validated against the plugin's `Config` class. Choosing a
different plugin name for a section starts that section afresh from the new plugin's defaults.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from genzoo import factory
from genzoo.errors import GenzooError, did_you_mean
from genzoo.options import convert, short_repr, structure, unknown_key_message
from genzoo.settings import Choice, EvalConfig, HubConfig, OptimConfig, ResumeConfig, RunConfig, TrainConfig
from genzoo.yaml_files import read_mapping

PLUGIN_SECTIONS = {"objective": "objectives", "arch": "archs", "data": "datasets"}

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

# The recipe every run starts from: what a recipe, sweep or override leaves unset comes from it.
DEFAULT_RECIPE = "default"


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


def parse_options(cls, items: list[str], where: str):
    """A command's key=value arguments as the attrs options class `cls` (one-line errors name `where`)."""
    return structure(cls, parse_overrides(items), where)


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
        if not parents and leaf in SHORTHANDS and not isinstance(value, dict):
            value = {SHORTHANDS[leaf]: value}
        node[leaf] = value
    return patch


def load_yaml(path: Path) -> dict:
    """A recipe, sweep or run config as a raw mapping, with section shorthands expanded."""
    data = read_mapping(path)
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

def build(raw: dict, registry) -> RunConfig:
    """Validate a raw config against the installed plugins."""
    known = list(PLUGIN_SECTIONS) + list(SECTION_CLASSES) + list(TOP_LEVEL_VALUES)
    for key in raw:
        if key not in known:
            raise GenzooError(unknown_key_message(key, key, known + list(ALIASES)))
    kwargs = {}
    for section, kind in PLUGIN_SECTIONS.items():
        options = dict(raw.get(section) or {})
        if "name" not in options:
            raise GenzooError(f"{section}.name is not set (example: {section}={registry.names(kind)[:1]})")
        name = options.pop("name")
        if not isinstance(name, str):
            raise GenzooError(f"{section}.name must be a plugin name, got {short_repr(name)} (see genzoo list {kind})")
        kwargs[section] = Choice(name=name, options=factory.validated_options(kind, name, options, registry, f"{section}({name})"))
    for section, cls in SECTION_CLASSES.items():
        kwargs[section] = structure(cls, raw.get(section), section)
    for key, tp in TOP_LEVEL_VALUES.items():
        if key in raw:
            kwargs[key] = convert(tp, raw[key], key)
    return RunConfig(**kwargs)


def resolve(recipe: str | None, overrides: list[str], registry) -> RunConfig:
    """The default recipe, then a named recipe or YAML file, then key=value overrides."""
    raw = default_raw(registry)
    if recipe is not None:
        raw = merge(raw, load_yaml(find_recipe(recipe, registry)))
    return build(merge(raw, parse_overrides(overrides)), registry)


def default_raw(registry) -> dict:
    """The installed `default` recipe as a raw mapping ({} when no plugin provides one)."""
    path = registry.recipes().get(DEFAULT_RECIPE)
    return load_yaml(path) if path is not None else {}


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
        raise GenzooError(f"unknown recipe {recipe!r}: {did_you_mean(recipe, recipes)}see `genzoo list recipes`")
    return recipes[recipe]


def dump(config: RunConfig) -> str:
    return yaml.safe_dump(config.as_raw(), sort_keys=False)
