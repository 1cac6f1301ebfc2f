"""What a registered plugin class must look like, checked when it registers, so that a mistake is
one line on the broken-plugin list instead of a traceback when the class is first used."""

from __future__ import annotations

import inspect

import attrs

from genzoo.interfaces import Arch, Needs, Objective, StepRatio

ARCH_CAPABILITIES = {"explicit_encoder", "explicit_decoder", "joint_critic", "x_critic"}


def shape_problem(cls: type, base: type) -> str | None:
    """Why `cls` cannot serve as a `base` plugin, or None when it can."""
    if not (isinstance(cls, type) and issubclass(cls, base)):
        return f"is not a subclass of {base.__name__}"
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        return f"does not implement {missing}"
    config = getattr(cls, "Config", None)
    if config is not None and not attrs.has(config):
        return "has a Config that is not an attrs class (decorate it with @attrs.frozen(kw_only=True))"
    if issubclass(cls, Objective):
        return _objective_problem(cls)
    if issubclass(cls, Arch) and not set(cls.supports) <= ARCH_CAPABILITIES:
        return f"supports unknown capabilities {sorted(set(cls.supports) - ARCH_CAPABILITIES)}; use {sorted(ARCH_CAPABILITIES)}"
    return None


def _objective_problem(cls: type) -> str | None:
    if not isinstance(cls.needs, Needs):
        return "needs must be a genzoo.interfaces.Needs"
    if not isinstance(cls.steps, StepRatio):
        return "steps must be a genzoo.interfaces.StepRatio"
    fields = {f.name for f in attrs.fields(cls.Config)}
    unknown = [name for name in cls.stackable if name not in fields]
    if unknown:
        return f"declares stackable loss weights {unknown} that are not options of its Config"
    return None
