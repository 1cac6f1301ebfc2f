"""The registry finds the built-ins through entry points, keeps reused names apart, survives broken plugins."""

import importlib.metadata

import pytest

from genzoo.errors import GenzooError
from genzoo.interfaces import Objective
from genzoo.registry import Registry, hookimpl


def test_builtins_come_through_the_entry_point_group(registry):
    groups = {ep.value for ep in importlib.metadata.entry_points(group="genzoo")}
    assert "genzoo_plugins.objectives" in groups
    assert {"ali", "alice", "gan", "svae", "svae_r", "vae", "wgan_gp"} <= set(registry.names("objectives"))
    assert registry.get("objectives", "svae_r").plugin.startswith("genzoo ")
    assert "svae-r-toy" in registry.recipes()


class DuplicatePlugin:
    __name__ = "duplicate-plugin"

    @staticmethod
    @hookimpl
    def genzoo_objectives():
        from genzoo_plugins.objectives.svae import SVAE

        return {"svae": SVAE}


def test_a_reused_name_keeps_the_builtin_and_both_stay_reachable(capsys):
    registry = Registry(extra_plugins=(DuplicatePlugin(),))
    assert registry.get("objectives", "svae").dist == "genzoo"
    assert "objective 'svae' is provided by genzoo" in capsys.readouterr().err
    assert registry.get("objectives", "duplicate-plugin:svae").plugin == "duplicate-plugin"
    assert registry.get("objectives", "genzoo:svae").dist == "genzoo"
    assert not registry.broken and set(registry.clashes("objectives")) == {"svae"}
    with pytest.raises(GenzooError, match="unknown objective 'other:svae'"):
        registry.get("objectives", "other:svae")


class BrokenPlugin:
    __name__ = "broken-plugin"

    @staticmethod
    @hookimpl
    def genzoo_objectives():
        raise RuntimeError("boom")

    @staticmethod
    @hookimpl
    def genzoo_archs():
        return {"not_an_arch": Objective}


def test_broken_plugin_is_reported_and_others_keep_working():
    registry = Registry(extra_plugins=(BrokenPlugin(),))
    reasons = [(b.plugin, b.reason) for b in registry.broken]
    assert ("broken-plugin", "genzoo_objectives raised RuntimeError('boom')") in reasons
    assert ("broken-plugin", "archs 'not_an_arch' is not a subclass of Arch") in reasons
    assert "svae_r" in registry.names("objectives") and "toy_mlp" in registry.names("archs")
