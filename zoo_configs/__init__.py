"""Named recipes: `genzoo train NAME` loads NAME.yaml from this folder."""

from pathlib import Path

from genzoo.registry import hookimpl


@hookimpl
def genzoo_recipe_dirs():
    return [Path(__file__).parent]
