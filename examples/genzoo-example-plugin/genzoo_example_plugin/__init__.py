"""Registers the `avb` objective with genzoo."""

from genzoo.registry import hookimpl


@hookimpl
def genzoo_objectives():
    from .avb import AVB

    return {"avb": AVB}
