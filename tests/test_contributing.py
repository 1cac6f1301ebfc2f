"""Every code block of CONTRIBUTING.md works: Python blocks run, TOML/YAML blocks load, shell blocks parse."""

import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

import genzoo.registry
from genzoo.config import resolve

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", (ROOT / "CONTRIBUTING.md").read_text(), re.S)


def blocks(language):
    return [code for lang, code in BLOCKS if lang == language]


@pytest.fixture
def snippet_module(monkeypatch):
    """The Python blocks, run in order as one importable module (as a plugin module would be)."""
    module = types.ModuleType("contributing_snippets")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for code in blocks("python"):
        exec(compile(code, "CONTRIBUTING.md", "exec"), module.__dict__)
    return module


def test_python_blocks_register_train_and_pass_the_contract_suite(snippet_module, monkeypatch, tmp_path):
    assert Path("runs/hinge-try/metrics.json").exists()  # the try-it block trained a run
    monkeypatch.setattr(genzoo.registry, "_default", genzoo.registry.Registry(extra_plugins=(snippet_module,)))
    suite = snippet_module.TestHingeALI()
    checks = [name for name in dir(suite) if name.startswith("test_")]
    assert len(checks) == 9
    for name in checks:
        method = getattr(suite, name)
        method(tmp_path) if name == "test_save_load_exact" else method()


def test_toml_block_declares_the_entry_point_group():
    (toml,) = blocks("toml")
    assert tomllib.loads(toml)["project"]["entry-points"]["genzoo"] == {"my_plugins": "my_package.genzoo_plugin"}


def test_yaml_recipe_block_resolves(registry, tmp_path):
    recipe, _ = blocks("yaml")
    path = tmp_path / "my-recipe.yaml"
    path.write_text(recipe)
    config = resolve(str(path), [], registry)
    assert config.arch.options.width == 128 and config.train.steps == 800


def test_yaml_sweep_block_loads_with_a_nested_base(registry, tmp_path):
    from genzoo.sweep import load_sweep

    _, spec = blocks("yaml")
    path = tmp_path / "my-sweep.yaml"
    path.write_text(spec)
    sweep = load_sweep(str(path), [], registry)
    assert len(sweep.runs) == 8 and sweep.options.engine == "stacked"
    assert {(r.raw["objective"]["name"], r.raw["objective"]["lam"], r.raw["train"]["steps"]) for r in sweep.runs} == {("alice", 0.1, 400), ("alice", 1.0, 400)}


def test_shell_blocks_parse_and_name_real_files():
    for code in blocks("bash"):
        assert subprocess.run(["bash", "-n"], input=code, text=True).returncode == 0
        for path in re.findall(r"(?:bench|examples)/[\w./-]+", code):
            assert (ROOT / path).exists(), path
