"""Built-in datasets."""

from genzoo.registry import hookimpl


@hookimpl
def genzoo_datasets():
    from . import toy

    return {"toy": toy.ToyMixture}
