"""The registry finds the built-ins through entry points, refuses duplicates, survives broken plugins."""

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


def test_duplicate_name_names_both_plugins_and_others_keep_working():
    registry = Registry(extra_plugins=(DuplicatePlugin(),))
    with pytest.raises(GenzooError, match=r"objective 'svae' is registered twice: by genzoo .* and by duplicate-plugin"):
        registry.get("objectives", "svae")
    assert registry.get("objectives", "svae_r").name == "svae_r"
    assert any(b.plugin == "duplicate-plugin" and "also registered by genzoo" in b.reason for b in registry.broken)


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
