"""The plugin registry: pluggy hooks, entry-point discovery, and lookup by name.

Plugins (the built-ins included) are modules named in the `genzoo` entry-point group. A module
implements any of the hooks below, each returning {name: class}. A plugin that fails to import,
raises, returns something of the wrong kind or reuses a name is recorded in `broken` (a reused name
refuses lookups, naming both plugins); everything else keeps working.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import attrs
import pluggy

from genzoo.errors import GenzooError, did_you_mean
from genzoo.interfaces import Arch, Command, Dataset, Metric, Objective

ENTRY_POINT_GROUP = "genzoo"
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
    plugin: str  # the distribution (and version) that provides it


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
        self.conflicts: dict[str, dict[str, list[str]]] = {kind: {} for kind in KINDS}
        self._origin: dict[str, str] = {}
        self._load_entry_points()
        for plugin in extra_plugins:
            self.manager.register(plugin, name=getattr(plugin, "__name__", repr(plugin)))
            self._origin[self.manager.get_name(plugin)] = getattr(plugin, "__name__", repr(plugin))
        self.entries = {kind: self._collect(kind) for kind in KINDS}

    def _load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            origin = f"{ep.dist.name} {ep.dist.version}" if ep.dist else ep.value
            try:
                module = ep.load()
                self.manager.register(module, name=f"{origin}:{ep.name}")
            except Exception as exc:  # a broken plugin must not take down the others
                self.broken.append(BrokenPlugin(origin, f"entry point {ep.name!r} failed to load: {exc!r}"))
                continue
            self._origin[f"{origin}:{ep.name}"] = origin

    def _collect(self, kind: str) -> dict[str, Entry]:
        hook_name, base = KINDS[kind]
        found: dict[str, Entry] = {}
        for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
            origin = self._origin.get(impl.plugin_name, impl.plugin_name)
            try:
                provided = impl.function()
            except Exception as exc:
                self.broken.append(BrokenPlugin(origin, f"{hook_name} raised {exc!r}"))
                continue
            for name, cls in (provided or {}).items():
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    self.broken.append(BrokenPlugin(origin, f"{kind} {name!r} is not a subclass of {base.__name__}"))
                elif name in found or name in self.conflicts[kind]:
                    first = found.pop(name).plugin if name in found else self.conflicts[kind][name][0]
                    self.conflicts[kind].setdefault(name, [first]).append(origin)
                    self.broken.append(BrokenPlugin(origin, f"{kind[:-1]} {name!r} is also registered by {first}"))
                else:
                    found[name] = Entry(name, cls, origin)
        return found

    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])

    def get(self, kind: str, name: str) -> Entry:
        if name in self.conflicts[kind]:
            raise GenzooError(
                f"{kind[:-1]} {name!r} is registered twice: by {' and by '.join(self.conflicts[kind][name])}; uninstall one of them"
            )
        try:
            return self.entries[kind][name]
        except KeyError:
            raise GenzooError(unknown_name_message(kind[:-1], name, self.names(kind))) from None

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
