"""An outside distribution that reuses a built-in name never disables it; hooks and plugin classes
are checked when they register, and a failed plugin is named where its absence shows."""

import json
import os
import subprocess
import sys
import types

import attrs
import pytest

from genzoo.errors import GenzooError
from genzoo.interfaces import LossOut, Objective
from genzoo.registry import Registry, hookimpl

OUTSIDE = '''
from genzoo.registry import hookimpl
from genzoo_plugins.objectives.svae_r import SVAER


class OutsideSVAER(SVAER):
    """An outside sVAE-r that logs a marker of its own."""

    def generator_loss(self, model, x, weights):
        out = super().generator_loss(model, x, weights)
        out.logs["outside"] = out.loss.detach() * 0 + 1
        return out


@hookimpl
def genzoo_objectives():
    return {"svae_r": OutsideSVAER}
'''


@pytest.fixture
def outside_dist(tmp_path):
    """A real installed distribution `genzoo-lsali` (a dist-info folder on the path) whose plugin
    registers `svae_r`; returns the environment that makes it visible."""
    site = tmp_path / "site"
    (site / "genzoo_lsali-0.1.dist-info").mkdir(parents=True)
    (site / "lsali_plugin.py").write_text(OUTSIDE)
    (site / "genzoo_lsali-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: genzoo-lsali\nVersion: 0.1\n")
    (site / "genzoo_lsali-0.1.dist-info" / "entry_points.txt").write_text("[genzoo]\nlsali = lsali_plugin\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def genzoo(env, *args):
    return subprocess.run([sys.executable, "-m", "genzoo", *args], env=env, capture_output=True, text=True, timeout=600)


def trained(folder):
    config = json.loads((folder / "export" / "config.json").read_text())
    logged = json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])
    return config["plugins"]["objective"], "outside" in logged


def test_a_clashing_outside_plugin_keeps_the_builtin_and_is_reachable_by_its_qualified_name(outside_dist, tmp_path):
    quick = ["steps=4", "train.log_every=2", "train.progress=false", "train.tensorboard=false"]
    plain = genzoo(outside_dist, "train", *quick, f"out={tmp_path / 'plain'}")
    assert plain.returncode == 0, plain.stderr
    assert "objective 'svae_r' is provided by genzoo 0.1.0 and genzoo-lsali 0.1; using genzoo:svae_r" in plain.stderr
    assert trained(tmp_path / "plain") == ("genzoo 0.1.0", False)

    outside = genzoo(outside_dist, "train", "objective=genzoo-lsali:svae_r", *quick, f"out={tmp_path / 'outside'}")
    assert outside.returncode == 0, outside.stderr
    assert trained(tmp_path / "outside") == ("genzoo-lsali 0.1", True)

    preferred = genzoo({**outside_dist, "GENZOO_PREFER": "genzoo_lsali"}, "train", *quick, f"out={tmp_path / 'preferred'}")
    assert preferred.returncode == 0, preferred.stderr
    assert trained(tmp_path / "preferred") == ("genzoo-lsali 0.1", True)

    listed = genzoo(outside_dist, "list", "objectives")
    assert listed.returncode == 0 and "broken" not in listed.stdout
    line = next(row for row in listed.stdout.splitlines() if row.strip().startswith("genzoo-lsali:svae_r"))
    assert "[genzoo-lsali 0.1]" in line and "bare 'svae_r' means genzoo:svae_r" in line

    loaded = genzoo(outside_dist, "sample", str(tmp_path / "outside" / "export"), "n=4", f"out={tmp_path / 's.png'}")
    assert loaded.returncode == 0, loaded.stderr


def plugin_module(name, **functions):
    module = types.ModuleType(name)
    for attr, function in functions.items():
        setattr(module, attr, function)
    return module


def test_a_misspelled_hook_is_a_broken_plugin_named_by_pluggy():
    @hookimpl
    def genzoo_objective():  # one letter short of genzoo_objectives
        return {}

    registry = Registry(extra_plugins=(plugin_module("typo_plugin", genzoo_objective=genzoo_objective),))
    (broken,) = [b for b in registry.broken if b.plugin == "typo_plugin"]
    assert "unknown hook 'genzoo_objective'" in broken.reason and "genzoo_objectives" in broken.reason
    with pytest.raises(GenzooError, match=r"plugins that failed to load: typo_plugin \(see genzoo list\)"):
        registry.get("objectives", "hinge")


def test_an_unmarked_hook_function_is_reported():
    def genzoo_objectives():  # no @hookimpl: pluggy would ignore it without a word
        return {}

    registry = Registry(extra_plugins=(plugin_module("unmarked_plugin", genzoo_objectives=genzoo_objectives),))
    assert any(b.plugin == "unmarked_plugin" and "genzoo_objectives is not marked with @hookimpl" in b.reason for b in registry.broken)


class PlainConfigObjective(Objective):
    """Options as a plain class, not attrs."""

    class Config:
        margin = 1.0

    def generator_loss(self, model, x, weights):
        return LossOut(x.sum())


class UndeclaredWeight(Objective):
    @attrs.frozen(kw_only=True)
    class Config:
        gamma: float = 1.0

    stackable = ("lam",)

    def generator_loss(self, model, x, weights):
        return LossOut(x.sum())


class NoLoss(Objective):
    pass


@pytest.mark.parametrize("cls,reason", [
    (PlainConfigObjective, "has a Config that is not an attrs class"),
    (UndeclaredWeight, "declares stackable loss weights ['lam'] that are not options of its Config"),
    (NoLoss, "does not implement generator_loss"),
])
def test_a_plugin_class_of_the_wrong_shape_is_refused_at_registration(cls, reason):
    @hookimpl
    def genzoo_objectives():
        return {"odd": cls}

    registry = Registry(extra_plugins=(plugin_module("odd_plugin", genzoo_objectives=genzoo_objectives),))
    assert any(b.plugin == "odd_plugin" and b.reason.startswith(f"objectives 'odd' {reason}") for b in registry.broken)
    assert "odd" not in registry.names("objectives") and "svae_r" in registry.names("objectives")
