"""Registers the `avb` objective and the `toy_silu` architecture with genzoo."""

from genzoo.registry import hookimpl


@hookimpl
def genzoo_objectives():
    from .avb import AVB

    return {"avb": AVB}


@hookimpl
def genzoo_archs():
    from .silu_mlp import ToySiLU

    return {"toy_silu": ToySiLU}
