"""The plugin registry: pluggy hooks, entry-point discovery, and lookup by name.

Plugins (the built-ins included) are modules named in the `genzoo` entry-point group. A module
implements any of the hooks below, each returning {name: class}. A plugin that fails to import,
implements a hook genzoo does not have (pluggy's own check), leaves a hook function unmarked,
raises, or returns a class of the wrong shape is recorded in `broken`; everything else keeps working.

Every entry is reachable by its qualified name `DISTRIBUTION:NAME` (e.g. `genzoo:svae_r`). When
several distributions provide one bare name, the first of $GENZOO_PREFER (a comma-separated list of
distributions) that provides it wins, else the built-in, else the first distribution by name; a
note says so once.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
from pathlib import Path

import attrs
import pluggy

from genzoo.errors import GenzooError, did_you_mean
from genzoo.interfaces import Arch, Command, Dataset, Metric, Objective
from genzoo.plugin_checks import shape_problem

ENTRY_POINT_GROUP = "genzoo"
BUILTIN = "genzoo"  # the distribution of the built-in plugins
hookspec = pluggy.HookspecMarker("genzoo")
hookimpl = pluggy.HookimplMarker("genzoo")


class Hooks:
    """Hook specifications. Each returns a mapping from registry name to plugin class."""

    @hookspec
    def genzoo_objectives(self) -> dict[str, type[Objective]]:
        """Objectives: two losses and a few facts."""

    @hookspec
    def genzoo_archs(self) -> dict[str, type[Arch]]:
        """Architectures: encoder, decoder, critic for one data shape."""

    @hookspec
    def genzoo_datasets(self) -> dict[str, type[Dataset]]:
        """Datasets: decoded tensors plus default metrics and figures."""

    @hookspec
    def genzoo_metrics(self) -> dict[str, type[Metric]]:
        """Metrics: a value and its protocol."""

    @hookspec
    def genzoo_commands(self) -> dict[str, type[Command]]:
        """Extra `genzoo` subcommands (a built-in command's name is never replaced)."""

    @hookspec
    def genzoo_recipe_dirs(self) -> list[Path]:
        """Folders of named recipes (NAME.yaml) that `genzoo train NAME` can load."""


HOOK_NAMES = [name for name in vars(Hooks) if name.startswith("genzoo_")]

KINDS = {
    "objectives": ("genzoo_objectives", Objective),
    "archs": ("genzoo_archs", Arch),
    "datasets": ("genzoo_datasets", Dataset),
    "metrics": ("genzoo_metrics", Metric),
    "commands": ("genzoo_commands", Command),
}


@attrs.frozen
class Entry:
    name: str
    cls: type
    plugin: str  # the distribution and version that provide it, e.g. "genzoo 0.1.0"
    dist: str  # the distribution's name: `dist:name` is the entry's qualified name

    @property
    def qualified(self) -> str:
        return f"{self.dist}:{self.name}"


@attrs.frozen
class BrokenPlugin:
    plugin: str
    reason: str


class Registry:
    """Everything the installed plugins provide, looked up by kind and name."""

    def __init__(self, extra_plugins: tuple = ()):
        self.manager = pluggy.PluginManager("genzoo")
        self.manager.add_hookspecs(Hooks)
        self.broken: list[BrokenPlugin] = []
        self._origin: dict[str, tuple[str, str]] = {}  # pluggy's plugin name -> (distribution, "dist version")
        self._load_entry_points()
        for plugin in extra_plugins:
            name = getattr(plugin, "__name__", repr(plugin))
            self.manager.register(plugin, name=name)
            self._origin[name] = (name, name)
        self._check_hooks()
        self.providers = {kind: self._collect(kind) for kind in KINDS}
        self._noted: set[tuple[str, str]] = set()

    def _load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist, origin = (ep.dist.name, f"{ep.dist.name} {ep.dist.version}") if ep.dist else (ep.value, ep.value)
            try:
                module = ep.load()
                self.manager.register(module, name=f"{origin}:{ep.name}")
            except Exception as exc:  # a broken plugin must not take down the others
                self.broken.append(BrokenPlugin(origin, f"entry point {ep.name!r} failed to load: {exc!r}"))
                continue
            self._origin[f"{origin}:{ep.name}"] = (dist, origin)

    def _check_hooks(self) -> None:
        """pluggy's check of hook names (a misspelled hook takes its plugin off), and unmarked hook functions."""
        while True:
            try:
                self.manager.check_pending()
                break
            except pluggy.PluginValidationError as exc:
                name = self.manager.get_name(exc.plugin)
                self.broken.append(BrokenPlugin(self._origin.get(name, (name, name))[1], f"{exc}; genzoo's hooks are {', '.join(HOOK_NAMES)}"))
                self.manager.unregister(exc.plugin)
        for name, plugin in self.manager.list_name_plugin():
            for attr in dir(plugin):
                if attr.startswith("genzoo_") and callable(getattr(plugin, attr)) and not hasattr(getattr(plugin, attr), "genzoo_impl"):
                    self.broken.append(BrokenPlugin(self._origin.get(name, (name, name))[1], f"{attr} is not marked with @hookimpl, so genzoo ignores it"))

    def _collect(self, kind: str) -> dict[str, list[Entry]]:
        hook_name, base = KINDS[kind]
        found: dict[str, list[Entry]] = {}
        for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
            dist, origin = self._origin.get(impl.plugin_name, (impl.plugin_name, impl.plugin_name))
            try:
                provided = impl.function()
            except Exception as exc:
                self.broken.append(BrokenPlugin(origin, f"{hook_name} raised {exc!r}"))
                continue
            for name, cls in (provided or {}).items():
                problem = shape_problem(cls, base)
                if problem:
                    self.broken.append(BrokenPlugin(origin, f"{kind} {name!r} {problem}"))
                else:
                    found.setdefault(name, []).append(Entry(name, cls, origin, dist))
        for entries in found.values():  # the built-in first, then by distribution: a stable order to list and to name
            entries.sort(key=lambda e: (_normal(e.dist) != BUILTIN, _normal(e.dist)))
        return found

    def names(self, kind: str) -> list[str]:
        """The bare names of `kind`, each once."""
        return sorted(self.providers[kind])

    def clashes(self, kind: str) -> dict[str, list[Entry]]:
        """Bare names that several distributions provide, with every provider."""
        return {name: entries for name, entries in self.providers[kind].items() if len(entries) > 1}

    def has(self, kind: str, name: str) -> bool:
        try:
            self.get(kind, name)
        except GenzooError:
            return False
        return True

    def get(self, kind: str, name: str) -> Entry:
        """The entry `name` (bare or `DIST:NAME`) of `kind`; a bare name that several provide resolves by the rule above."""
        dist, _, bare = name.rpartition(":")
        entries = self.providers[kind].get(bare, [])
        if dist:
            entries = [e for e in entries if _normal(e.dist) == _normal(dist)]
        if not entries:
            raise GenzooError(unknown_name_message(kind[:-1], name, self.names(kind)) + self._broken_hint())
        if len(entries) == 1:
            return entries[0]
        chosen = _preferred(entries)
        if (kind, bare) not in self._noted:
            self._noted.add((kind, bare))
            others = ", ".join(e.qualified for e in entries if e is not chosen)
            print(f"note: {kind[:-1]} {bare!r} is provided by {' and '.join(e.plugin for e in entries)}; using {chosen.qualified} "
                  f"(name {others} to use another, or set GENZOO_PREFER)", file=sys.stderr)
        return chosen

    def _broken_hint(self) -> str:
        if not self.broken:
            return ""
        return f"; plugins that failed to load: {', '.join(sorted({b.plugin for b in self.broken}))} (see genzoo list)"

    def recipe_dirs(self) -> list[Path]:
        dirs = [Path(d) for ds in self.manager.hook.genzoo_recipe_dirs() for d in ds]
        extra = os.environ.get("GENZOO_RECIPES")
        return ([Path(p) for p in extra.split(os.pathsep) if p] if extra else []) + dirs

    def recipes(self) -> dict[str, Path]:
        """Named run configs for `genzoo train NAME`."""
        return {name: path for name, path in self._config_files().items() if not _is_sweep(path)}

    def sweeps(self) -> dict[str, Path]:
        """Named grids of runs for `genzoo sweep NAME`: the files of the recipe folders with a `grid:`."""
        return {name: path for name, path in self._config_files().items() if _is_sweep(path)}

    def _config_files(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for folder in self.recipe_dirs():
            for path in sorted(folder.glob("*.yaml")):
                found.setdefault(path.stem, path)
        return found


def _normal(dist: str) -> str:
    """A distribution name as packaging compares them: case, '-', '_' and '.' do not matter."""
    return re.sub(r"[-_.]+", "-", dist).lower()


def _preferred(entries: list[Entry]) -> Entry:
    """The provider a bare name means: the first of $GENZOO_PREFER, else the built-in, else the first
    by name (`entries` come sorted so)."""
    order = [_normal(d) for d in os.environ.get("GENZOO_PREFER", "").split(",") if d.strip()] + [BUILTIN]
    for dist in order:
        for entry in entries:
            if _normal(entry.dist) == dist:
                return entry
    return entries[0]


def _is_sweep(path: Path) -> bool:
    return any(line.startswith("grid:") for line in path.read_text().splitlines())


def unknown_name_message(what: str, name: str, known: list[str]) -> str:
    return f"unknown {what} {name!r}: {did_you_mean(name, known)}choose one of {', '.join(known) or '(none installed)'}"


_default: Registry | None = None


def default_registry() -> Registry:
    """The registry of installed plugins, built once per process."""
    global _default
    if _default is None:
        _default = Registry()
    return _default
