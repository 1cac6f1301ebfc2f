"""The one door through which plugins are built: any registered objective, arch, dataset or
metric from its name and options, and the model an arch builds for an objective's needs.

The trainer, the sweep engine, the hub loader, the CLI and the contract suite all build through
here, and so can plugin authors: what works for them is what genzoo itself does.
"""

from __future__ import annotations

from genzoo.errors import GenzooError
from genzoo.model import JointModel
from genzoo.options import structure
from genzoo.registry import default_registry


def plugin_class(kind: str, name: str, registry=None) -> type:
    """The class registered as `name` among `kind`, for reading its declared facts (`needs`, `Config`, ...)."""
    return (registry or default_registry()).get(kind, name).cls


def build(kind: str, name: str, options=None, registry=None, where: str | None = None):
    """An instance of plugin `name` of `kind` ("objectives", "archs", "datasets" or "metrics").

    `options` is None (the plugin's defaults), an instance of its `Config`, or a plain mapping
    validated against `Config` (errors name `where`, by default e.g. "arch(toy_mlp)")."""
    cls = plugin_class(kind, name, registry)
    if options is not None and not isinstance(options, cls.Config):
        options = validated_options(kind, name, options, registry, where)
    return cls(options)


def validated_options(kind: str, name: str, raw, registry=None, where: str | None = None):
    """Plugin `name`'s `Config` built from the plain mapping `raw` (one-line errors naming `where`)."""
    return structure(plugin_class(kind, name, registry).Config, raw, where or f"{kind[:-1]}({name})")


def build_nets(arch, needs) -> dict:
    """The nets and prior `arch` builds for `needs`, as the keyword arguments of `JointModel`."""
    encoder, decoder, critic = arch.build(needs)
    return {"encoder": encoder, "decoder": decoder, "critic": critic, "prior": arch.prior}


def build_model(arch, needs) -> JointModel:
    """The model of an objective's `needs` on `arch` (on the default device, in fp32)."""
    return JointModel(**build_nets(arch, needs))


def check_compatible(objective, arch, names: tuple[str, str]) -> None:
    """Refuse an objective whose needs `arch` cannot build; `names` = (objective, arch) for the message."""
    missing = arch.missing(objective.needs)
    if missing:
        raise GenzooError(
            f"objective {names[0]!r} needs {objective.needs.describe()}, but arch {names[1]!r} "
            f"cannot build: {', '.join(m.replace('_', ' ') for m in missing)}; pick another arch (genzoo list archs)"
        )
