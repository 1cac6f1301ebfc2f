"""Fuzzing the CLI's overrides and recipe files: never a traceback, never a hang; exit 0 or 2."""

import itertools
import os

import attrs
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genzoo.assembly
import genzoo.trainer
from genzoo import factory
from genzoo.cli import main
from genzoo.config import ALIASES, SECTION_CLASSES
from genzoo.registry import default_registry

TRIED = itertools.count()
# CI replays the same inputs every run (derandomized); GENZOO_FUZZ_RANDOM=1 GENZOO_FUZZ_EXAMPLES=5000 explores.
EXAMPLES = int(os.environ.get("GENZOO_FUZZ_EXAMPLES", "400"))
RANDOM = os.environ.get("GENZOO_FUZZ_RANDOM") == "1"


def known_keys() -> list[str]:
    keys = list(ALIASES) + ["objective", "arch", "data", "out", "overwrite", "resume"]
    for section, cls in SECTION_CLASSES.items():
        keys += [f"{section}.{f.name}" for f in attrs.fields(cls)]
    registry = default_registry()
    for section, kind in (("objective", "objectives"), ("arch", "archs"), ("data", "datasets")):
        for name in registry.names(kind):
            keys += [f"{section}.{f.name}" for f in attrs.fields(factory.plugin_class(kind, name, registry).Config)]
    return sorted(set(keys))


KEYS = known_keys()
NAMES = default_registry().names("objectives") + default_registry().names("archs") + default_registry().names("datasets")
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
values = st.one_of(
    st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(repr), st.booleans().map(str),
    st.sampled_from(NAMES + ["null", "[]", "[1, 2", "[mse]", "1e-3", "-0", "inf"]), text,
)
override = st.builds(lambda k, v: f"{k}={v}", st.one_of(st.sampled_from(KEYS), text), values)


class ValidateOnly:
    """Stands in for the trainer: validates the objective/arch/data combination, trains nothing."""

    is_main = True

    def __init__(self, config, registry, run_dir):
        genzoo.assembly.build_parts(config, registry)

    def fit(self):
        return {"metrics": {"wall_time_s": 0.0, "device": "cpu"}, "figures": [], "export": "none"}


def check(argv, capsys):
    next(TRIED)
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert err.startswith("genzoo: error: ") and len(err.splitlines()) == 1, (argv, err)


@settings(max_examples=EXAMPLES, deadline=2000, derandomize=not RANDOM, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(overrides=st.lists(override, max_size=5))
def test_fuzzed_overrides(overrides, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(genzoo.trainer, "Trainer", ValidateOnly)
    out = tmp_path / f"run{next(TRIED)}"
    check(["train", *overrides, f"out={out}"], capsys)


@settings(max_examples=EXAMPLES // 2, deadline=2000, derandomize=not RANDOM, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    text,
    st.dictionaries(st.sampled_from(["objective", "arch", "data", "train", "optim", "eval", "resume", "bogus"]),
                    st.one_of(st.dictionaries(st.sampled_from(["name", "steps", "lam", "width", "lr", "x"]), st.one_of(st.integers(), st.text(max_size=5), st.floats())), st.integers(), text),
                    max_size=4).map(yaml.safe_dump),
))
def test_fuzzed_recipe_files(content, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(genzoo.trainer, "Trainer", ValidateOnly)
    path = tmp_path / "recipe.yaml"
    path.write_text(content)
    check(["train", str(path), f"out={tmp_path / f'r{next(TRIED)}'}"], capsys)
