"""Built-in architectures, one file each."""

from genzoo.registry import hookimpl


@hookimpl
def genzoo_archs():
    from . import toy_mlp

    return {"toy_mlp": toy_mlp.ToyMLP}
